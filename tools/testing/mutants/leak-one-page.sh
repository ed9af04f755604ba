# SPDX-License-Identifier: GPL-2.0
# The system heap leaks a single 4 KiB page, once in the module's life:
# far below the free-page comparison's tolerance (12 pages), so only the
# exact check of the page ledger can see it. heap-fuzz's "every page the
# module still holds is pooled, exactly" must turn red: tolerance zero,
# shown by a mutant (leak-page leaks a page per allocation and is caught by
# the free-page comparison, the outer check).
DESCRIPTION="system heap leaks one page, once"
FLAVOUR=x86_64
PROGRAMS='heap-fuzz-system|./heap-fuzz -s 1 -n 3000 system|600|8'
EXPECT='heap-fuzz-system: every page the module still holds is pooled'
mutate() {
	edit memory/chunks.rs \
		's|^    let mut chunks = kvvec_may_fail(len / PAGE_SIZE)?;$|&\n    static LEAKED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);\n    if !LEAKED.swap(true, core::sync::atomic::Ordering::Relaxed) {\n        core::mem::forget(BuddyPages::alloc_zeroed(0, Retry::MayFail, memcg, zone));\n    }|'
}
