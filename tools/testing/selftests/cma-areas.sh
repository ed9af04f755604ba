#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Which CMA areas become heaps (as in mainline 6.19): the default area and
# the device tree's reusable shared-dma-pool regions, never the areas the
# kernel makes for itself; cma_regions= selects among the regions.
#   cma-areas.sh hugetlb   (x86_64 booted with hugetlb_cma=: area hugetlb0)
#   cma-areas.sh dt        (arm64: linux,cma and camera@60000000)
mode=$1
mod=/rust_dma_heap.ko
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
reload() {
	rmmod rust_dma_heap && insmod "$mod" "$@"
}
nodes() {
	ls /dev/dma_heap | sort | tr '\n' ' '
}
case $mode in
hugetlb)
	[ -d /sys/kernel/debug/cma/hugetlb0 ]
	check $? "hugetlb_cma= made a CMA area hugetlb0 ($(ls /sys/kernel/debug/cma | tr '\n' ' '))"
	[ ! -e /dev/dma_heap/hugetlb0 ] && [ -c /dev/dma_heap/reserved ]
	check $? "the default area is a heap, hugetlb0 is not: $(nodes)"
	dmesg | grep -q "CMA area hugetlb0: not a device-tree dma pool, no heap"
	check $? "the kernel log says why hugetlb0 is no heap"
	reload cma_regions=hugetlb0 && [ ! -e /dev/dma_heap/hugetlb0 ] &&
		dmesg | grep -q "cma_regions: CMA area hugetlb0 is not a reusable shared-dma-pool region"
	check $? "cma_regions=hugetlb0: refused with a log line: $(nodes)"
	reload cma_regions=nosuch && dmesg | grep -q "cma_regions: there is no CMA area nosuch"
	check $? "cma_regions=nosuch: the log says there is no such area"
	;;
dt)
	[ "$(nodes)" = "camera@60000000 default_cma_region linux,cma system system-uncached " ]
	check $? "by default: the default area, the camera region, the system heaps: $(nodes)"
	# The README's example.
	reload cma_regions=camera@60000000 cma_aliases=linux,cma &&
		[ "$(nodes)" = "camera@60000000 linux,cma system system-uncached " ] &&
		./heap-util alloc camera@60000000 1048576
	check $? "cma_regions=camera@60000000 cma_aliases=linux,cma: $(nodes)"
	reload cma_regions=none && [ "$(nodes)" = "default_cma_region linux,cma system system-uncached " ]
	check $? "cma_regions=none: no camera heap: $(nodes)"
	reload cma_regions=linux,cma && [ ! -e /dev/dma_heap/camera@60000000 ]
	check $? "cma_regions=linux,cma (the default area only): no camera heap: $(nodes)"
	reload cma_regions=gpu@70000000:camera@60000000 && [ -c /dev/dma_heap/camera@60000000 ] &&
		dmesg | grep -q "cma_regions: there is no CMA area gpu@70000000"
	check $? "cma_regions=gpu@70000000:camera@60000000: the camera heap, and a log line for the other"
	;;
*)
	echo "usage: cma-areas.sh hugetlb|dt" >&2
	exit 2
	;;
esac
reload
check $? "the module loads again with its defaults: $(nodes)"
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
