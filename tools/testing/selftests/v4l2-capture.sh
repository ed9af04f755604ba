#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Load vivid, one instance on videobuf2 dma-contig and one on vmalloc, and
# capture into heap buffers (DMABUF on the first, USERPTR on the second).
#   v4l2-capture.sh CMA_HEAP
# vivid stays loaded once loaded: its platform device is a static object
# of the module, and with DEBUG_KOBJECT_RELEASE (the debug kernel) its
# release runs 1-4 s after rmmod, from a timer in the freed module (6.12's
# vivid; the debug kernel panicked in run_timer_softirq).
grep -q '^vivid ' /proc/modules ||
	modprobe vivid n_devs=2 node_types=0x1,0x1 allocators=1,0 || { echo "not ok 1 modprobe vivid"; exit 1; }
./v4l2-capture "$1"
status=$?
exit $status
