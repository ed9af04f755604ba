#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Kernel mappings of every heap's buffers through the test importer.
insmod ./rdh_importer.ko || { echo "not ok 1 insmod rdh_importer.ko"; exit 1; }
./heap-vmap $(ls /dev/dma_heap)
status=$?
rmmod rdh_importer
exit $status
