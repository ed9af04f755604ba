# SPDX-License-Identifier: GPL-2.0
# When dma_buf_export() fails, DmaBuf::export forgets the object it made
# for the buffer instead of dropping it: the buffer's pages (and its
# bookkeeping) are never freed. dma_buf_export() fails only for want of
# memory (its inode, dentry, file and struct dma_buf allocations), which
# in practice only fault injection brings about, and pages are no slab
# object that kmemleak would see. heap-faults' fail-nth stepping fails
# each allocation site of a 1 MiB + 64 KiB + 4 KiB system-heap ALLOC in
# turn, the kmalloc of struct dma_buf among them (failslab fails only
# kmalloc's caches: inode, dentry and file have caches of their own), and
# the call then fails with ENOMEM, as it should; it compares the system's
# free pages before and after with a tolerance of 12 pages:
#     check_ok(pages_missing(pages0, vmap ? 128 : PAGE_LEAK_TOLERANCE) == 0,
#              "%s: no page is missing after every step%s", heap_name, ...)
# Each failed export leaks 273 pages. (That site comes after the buffer's
# page allocations, whose number depends on what the pools hold at each
# step, 0 to 3 on a fresh VM: the stepping goes past every count, so one
# step lands on it. The random phase before, on every heap, usually
# loses pages the same way: "every page comes back".) Runs on x86_64 for
# speed; on the debug kernel the same check catches it (there the stepping
# covers ALLOC only: 15 checks).
DESCRIPTION="a buffer's pages leaked when dma_buf_export() fails"
FLAVOUR=x86_64
PROGRAMS='heap-faults-system|sh ./heap-faults.sh 300 2 system|600|30'
EXPECT='heap-faults-system: (system: no page is missing after every step|every page comes back)'
mutate() {
	edit exporter/dma_buf.rs \
		's|^            drop(unsafe { compat::from_foreign::<ExportedBox<E>>(buf) });$|            let _ = buf;|'
}
