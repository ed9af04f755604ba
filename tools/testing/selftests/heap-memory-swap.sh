#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# heap-memory --swap with swap on zram, a quarter of RAM, as Android
# devices have it; swap is switched off again at the end.
#   heap-memory-swap.sh [HEAP]
swapoff /dev/zram0 2>/dev/null
echo 1 >/sys/block/zram0/reset 2>/dev/null
total=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
if ! { echo "$((total / 4))K" >/sys/block/zram0/disksize &&
       mkswap /dev/zram0 >/dev/null && swapon /dev/zram0; }; then
	echo "TAP version 13"
	echo "not ok 1 swap on zram0 could be set up"
	echo "1..1"
	exit 1
fi
./heap-memory --swap "${1:-system}"
rc=$?
swapoff /dev/zram0 && echo 1 >/sys/block/zram0/reset
exit $rc
