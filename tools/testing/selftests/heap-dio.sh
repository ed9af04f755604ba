#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# heap-dio on the boot's zram0, made a 16 MiB block device and reset
# afterwards (heap-memory-swap.sh swaps on it; it is not in use between).
# Not a device of its own (hot_add, hot_remove): 7.3 frees a removed zram
# disk's gendisk while the release of the queue kobject inside it is
# still pending, which DEBUG_KOBJECT_RELEASE (the debug kernels) delays:
# KASAN saw the timer of that pending release run on freed memory
# (slab-use-after-free in run_timer_softirq, mainline-debug, 2026-12-06).
#   heap-dio.sh SYSTEM CMA
z=/sys/block/zram0
swapoff /dev/zram0 2>/dev/null
if ! { echo 1 >$z/reset && echo 16M >$z/disksize; }; then
	echo "not ok 900 zram0 as a block device for direct I/O"
	exit 1
fi
[ -b /dev/zram0 ] || mknod /dev/zram0 b "$(cut -d: -f1 $z/dev)" "$(cut -d: -f2 $z/dev)"
./heap-dio /dev/zram0 "$@"
status=$?
echo 1 >$z/reset || { echo "not ok 901 zram0 is reset"; status=1; }
exit $status
