#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Kernel mappings of every heap's buffers (or the named heaps') through the
# test importer.
#   heap-vmap.sh [HEAP...]
insmod ./rdh_importer.ko || { echo "not ok 1 insmod rdh_importer.ko"; exit 1; }
[ $# -gt 0 ] || set -- $(ls /dev/dma_heap)
./heap-vmap "$@"
status=$?
rmmod rdh_importer
exit $status
