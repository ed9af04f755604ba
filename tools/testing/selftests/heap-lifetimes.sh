#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Buffers whose last reference is a vgem handle or a V4L2 queue (vivid
# with videobuf2 dma-contig, on CMA_HEAP), then rmmod.
#   heap-lifetimes.sh MODULE.ko CMA_HEAP
# vivid stays loaded once loaded: its platform device is a static object
# of the module, and with DEBUG_KOBJECT_RELEASE (the debug kernel) its
# release runs 1-4 s after rmmod, from a timer in the freed module (6.12's
# vivid; the debug kernel panicked in run_timer_softirq).
grep -q '^vivid ' /proc/modules ||
	modprobe vivid n_devs=1 node_types=0x1 allocators=1 || { echo "not ok 1 modprobe vivid"; exit 1; }
./heap-lifetimes "$1" "$2"
status=$?
exit $status
