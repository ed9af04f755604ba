# SPDX-License-Identifier: GPL-2.0
# A buffer's kernel mapping is its range of the linear map only when the
# buffer is one run of contiguous pages; a buffer of several chunks must be
# vmap()ed. Here the one-run test is gone: a system-heap buffer of 1 MiB +
# 64 KiB + 4 KiB is "mapped" as the 1 MiB + 68 KiB of the linear map from
# its first chunk on. heap-vmap fills the buffer through mmap and has the
# test importer read it through vmap:
#     check_ok(ret == 0, "%s: the kernel's vmap (taken twice, one address) sees what mmap wrote (%d)", ...)
# sees the 68 KiB past the first chunk hold someone else's memory (the
# importer stops at the first wrong word, before writing there).
DESCRIPTION="vmap maps a buffer of several runs through the linear map"
PROGRAMS='heap-vmap|sh ./heap-vmap.sh system|300|5'
EXPECT="heap-vmap: system: the kernel's vmap \(taken twice, one address\) sees what mmap wrote"
mutate() {
	edit exporter/vmap.rs \
		's|^        if runs.next().is_some() {$|        if false \&\& runs.next().is_some() {|'
}
