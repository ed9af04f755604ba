#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Load vivid with videobuf2 dma-contig and capture into CMA-heap buffers.
#   v4l2-capture.sh CMA_HEAP
modprobe vivid n_devs=1 node_types=0x1 allocators=1 || { echo "not ok 1 modprobe vivid"; exit 1; }
./v4l2-capture "$1"
status=$?
rmmod vivid
exit $status
