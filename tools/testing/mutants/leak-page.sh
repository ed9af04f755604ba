# SPDX-License-Identifier: GPL-2.0
# The system heap leaks one 4 KiB page on every allocation (the page is
# allocated and forgotten). kmemleak does not see pages and dma-buf counts
# do not either: the free-page comparisons after heap-fuzz and
# heap-faults must.
DESCRIPTION="system heap leaks one page per allocation"
PROGRAMS='heap-fuzz|./heap-fuzz -s 1 -n 3000|600
heap-faults|sh ./heap-faults.sh 300 2 system|600'
mutate() {
	edit heaps/system.rs \
		's|^    let mut chunks = KVVec::new();$|&\n    core::mem::forget(BuddyPages::alloc_zeroed(0, Effort::MayFail));|'
}
