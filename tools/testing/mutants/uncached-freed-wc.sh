# SPDX-License-Identifier: GPL-2.0
# A system-uncached chunk hands its pages to the page allocator without
# switching their linear map back to write-back (WcChunk::drop frees them
# as if they had never been switched): whoever gets a page next has a
# cached mapping of it next to the kernel's write-combined one. The pools
# keep freed chunks write-combined, so this shows when the shrinker frees
# them. On 6.12 nothing fails for it: freeing a page clears the PAT memtype
# bits in its flags (free_pages_prepare clears PAGE_FLAGS_CHECK_AT_PREP,
# PG_arch_1/2 among them), so the next set_pages_array_wc() of that page
# succeeds, and RAM is never listed in x86/pat_memtype_list. The linear
# map keeps the evidence: heap-uncached sums the bytes of the "Low Kernel
# Mapping" section of /sys/kernel/debug/page_tables/kernel marked PWT or
# PCD before its 200 rounds of 4 MiB buffers and after them, once
# drop_caches has had the shrinker empty the pools,
#     check_ok(not_wb0 >= 0 && not_wb >= 0 && not_wb <= not_wb0 && ...,
#              "and it is write-back again once the buffers are freed and ...")
# which here is at least 4 MiB over (the checks before it prove the sum
# sees a live buffer's 4 MiB, and the pooled chunks').
DESCRIPTION="system-uncached pages freed with a write-combined linear map"
FLAVOUR=x86_64
PROGRAMS='heap-uncached|sh ./with-importer.sh ./heap-uncached|300|31'
EXPECT='heap-uncached: and it is write-back again once the buffers are freed'
mutate() {
	edit memory/uncached.rs \
		's|^        let freeable = !self\.switched$|        let freeable = true|'
}
