# SPDX-License-Identifier: GPL-2.0
# With cgroup_dmem=1 a buffer's charge on its heap's dmem region is given
# back at once instead of when the buffer is released (stats/accounting.rs,
# HeapStats::charge): no cgroup's dmem.max could ever hold. heap-dmem, on
# 7.3 (the only flavour whose kernel has the dmem controller), reads the
# cgroup's dmem.current while the buffer lives:
#     check_ok(fd >= 0 && dmem_read(CG_A "/dmem.current", limited) == 8 * MiB && ...
#              "a buffer of %s allocated in A adds 8 MiB to A's dmem.current for it alone ...
DESCRIPTION="dmem charges given back as soon as they are taken"
FLAVOUR=mainline
PROGRAMS='heap-dmem|./heap-dmem reserved system|300|13'
VMARGS=(--no-unload --modargs cgroup_dmem=1)
EXPECT="heap-dmem: a buffer of reserved allocated in A adds 8 MiB to A's dmem.current for it alone"
mutate() {
	edit stats/accounting.rs 's|^                    _dmem: dmem,$|                    _dmem: dmem.and(None),|'
}
