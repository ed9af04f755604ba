#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Buffers whose last reference is a vgem handle or a V4L2 queue (vivid
# with videobuf2 dma-contig, on CMA_HEAP), then rmmod.
#   heap-lifetimes.sh MODULE.ko CMA_HEAP
modprobe vivid n_devs=1 node_types=0x1 allocators=1 || { echo "not ok 1 modprobe vivid"; exit 1; }
./heap-lifetimes "$1" "$2"
status=$?
rmmod vivid
exit $status
