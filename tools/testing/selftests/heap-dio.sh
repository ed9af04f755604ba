#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# heap-dio on a 16 MiB zram block device of its own, removed afterwards.
#   heap-dio.sh SYSTEM CMA
id=$(cat /sys/class/zram-control/hot_add 2>/dev/null)
if [ -z "$id" ] || ! echo 16M >"/sys/block/zram$id/disksize"; then
	echo "not ok 900 a zram block device for direct I/O (hot_add: '$id')"
	exit 1
fi
[ -b "/dev/zram$id" ] || mknod "/dev/zram$id" b "$(cut -d: -f1 "/sys/block/zram$id/dev")" \
	"$(cut -d: -f2 "/sys/block/zram$id/dev")"
./heap-dio "/dev/zram$id" "$@"
status=$?
echo "$id" >/sys/class/zram-control/hot_remove ||
	{ echo "not ok 901 the zram device goes away"; status=1; }
exit $status
