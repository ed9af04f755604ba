#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The DMA calls behind each map and CPU-access sync (see dma-sync-trace.c).
insmod ./rdh_dmadir.ko || { echo "not ok 1 insmod rdh_dmadir.ko"; exit 1; }
./dma-sync-trace "$@"
status=$?
rmmod rdh_dmadir
exit $status
