# SPDX-License-Identifier: GPL-2.0
# LiveBuffers::remove (core/live.rs) looks for the released buffer by its
# dma-buf pointer instead of its priv, finds nothing, and leaves the entry
# on the debugfs buffer list: a freed buffer stays listed, and the next
# read of /sys/kernel/debug/rust_dma_heap/buffers describes it through
# dangling pointers (its freed object and its freed struct dma_buf).
# heap-bufinfo reads the list right after freeing its first buffer:
#     close(fd);
#     n = find(size, 0, NULL);
#     tap_ok(fd >= 0 && n == 0, "%s: a freed buffer has no line (%d)", name, n);
# That read is the first to meet a stale entry (the program is alone in
# the VM, and every earlier read only lists live buffers). Its first step,
# rdh_dma_buf_mmaps(), reads dmabuf->file from the freed struct dma_buf:
# KASAN reports the use after free on the spot (the freed object is held
# in quarantine, so the report does not depend on reuse), hence the debug
# flavour. After the report the read goes on with KASAN's free metadata
# where the file pointer was and usually oopses, killing heap-bufinfo
# with the list's mutex and the debugfs file's active reference held: an
# rmmod at the end would then wait for them for ever, so the module is
# not unloaded (--no-unload). On x86_64 (no KASAN) the outcome would
# depend on what SLUB wrote into the freed objects (a clean "has no line"
# failure, or an oops in the attachments list of the freed buffer).
DESCRIPTION="a released buffer is left on the debugfs buffer list"
FLAVOUR=debug
PROGRAMS='heap-bufinfo-system|sh ./with-importer.sh ./heap-bufinfo system|300|21'
VMARGS=(--no-unload)
EXPECT='heap-bufinfo-system: system: a freed buffer has no line|VM run not clean \(status \d+\): .*KASAN: [\w-]*use-after-free in (rdh_|__get_file_rcu)'
mutate() {
	edit core/live.rs \
		's#is_some_and(|e| e\.buf == buf)#is_some_and(|e| e.dmabuf.as_ptr().cast_const().cast::<c_void>() == buf)#'
}
