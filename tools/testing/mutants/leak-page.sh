# SPDX-License-Identifier: GPL-2.0
# The system heap leaks one 4 KiB page on every allocation: alloc_chunks()
# (memory/chunks.rs, shared with system-uncached) allocates a page and
# forgets it. kmemleak does not see pages and dma-buf counts do not
# either: the free-page comparison at the end of heap-fuzz must,
#     check_ok(pages_missing(pages0, PAGE_LEAK_TOLERANCE) == 0,
#              "every page comes back (a leak of one 64 KiB chunk would show)");
# with a tolerance of 12 pages, against one page for each of the roughly
# 200 allocations that get their chunks in 3000 operations on the system
# heap alone (seed 1: the control replays the same run). Where the module
# keeps its page ledger (/sys/kernel/debug/rust_dma_heap/pages), the
# forgotten page also stays counted in it, and heap-fuzz's "every page the
# module still holds is pooled, exactly" turns red as well.
DESCRIPTION="system heap leaks one page per allocation"
FLAVOUR=x86_64
PROGRAMS='heap-fuzz-system|./heap-fuzz -s 1 -n 3000 system|600|8'
EXPECT='heap-fuzz-system: every page comes back'
mutate() {
	edit memory/chunks.rs \
		's|^    let mut chunks = kvvec_may_fail(len / PAGE_SIZE)?;$|&\n    core::mem::forget(BuddyPages::alloc_zeroed(0, Retry::MayFail, memcg, zone));|'
}
