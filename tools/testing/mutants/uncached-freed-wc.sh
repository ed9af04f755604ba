# SPDX-License-Identifier: GPL-2.0
# A released system-uncached buffer hands its pages straight to the page
# allocator, without switching their linear map back to write-back
# (WriteCombined::drop calls drop() instead of release()): whoever gets a
# page next has a cached mapping of it next to the kernel's write-combined
# one. On 6.12 nothing fails for it: freeing a page clears the PAT memtype
# bits in its flags (free_pages_prepare clears PAGE_FLAGS_CHECK_AT_PREP,
# PG_arch_1/2 among them), so the next set_pages_array_wc() of that page
# succeeds, and RAM is never listed in x86/pat_memtype_list. The linear
# map keeps the evidence: heap-uncached sums the bytes of the "Low Kernel
# Mapping" section of /sys/kernel/debug/page_tables/kernel marked PWT or
# PCD before its 200 rounds of 4 MiB buffers and after them,
#     check_ok(not_wb0 >= 0 && not_wb >= 0 && not_wb <= not_wb0,
#              "and it is write-back again once the buffers are freed ...")
# which here is at least 4 MiB over (the check just before it proves the
# sum sees a live buffer's 4 MiB).
DESCRIPTION="system-uncached pages freed with a write-combined linear map"
FLAVOUR=x86_64
PROGRAMS='heap-uncached|sh ./with-importer.sh ./heap-uncached|300|28'
EXPECT='heap-uncached: and it is write-back again once the buffers are freed'
mutate() {
	edit core/uncached.rs \
		'/^impl Drop for WriteCombined {$/,/^}$/s|^            release(chunks);$|            drop(chunks);|'
}
