# SPDX-License-Identifier: GPL-2.0
# LiveBuffers::remove (stats/live.rs) does nothing: a released buffer's
# link stays on the debugfs buffer list, inside its freed object, and the
# next read of /sys/kernel/debug/rust_dma_heap/buffers describes the
# freed buffer (and walks on through its freed link). heap-bufinfo reads
# the list right after freeing its first buffer:
#     close(fd);
#     n = find(size, 0, NULL);
#     check_ok(fd >= 0 && n == 0, "%s: a freed buffer has no line (%d)", name, n);
# That read is the first to meet the stale link (the program is alone in
# the VM, and every earlier read only lists live buffers): KASAN reports
# the use after free on the spot (the freed object is held in quarantine,
# so the report does not depend on reuse), hence the debug flavour. After
# the report the read may oops, killing heap-bufinfo with the list's
# mutex and the debugfs file's active reference held: an rmmod at the end
# would then wait for them for ever, so the module is not unloaded
# (--no-unload).
DESCRIPTION="a released buffer is left on the debugfs buffer list"
FLAVOUR=debug
PROGRAMS='heap-bufinfo-system|sh ./with-importer.sh ./heap-bufinfo system|300|21'
VMARGS=(--no-unload)
EXPECT='heap-bufinfo-system: system: a freed buffer has no line|VM run not clean \(status \d+\): .*KASAN: [\w-]*use-after-free in '
mutate() {
	edit stats/live.rs \
		's#^    pub(crate) unsafe fn remove(&self, link: NonNull<LiveLink>) {$#&\n        let _ = link;\n        return;#'
}
