#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rust_dma_heap built for a kernel that does not export the CMA allocator
# (RDH_CMA=n): it loads with the system heap alone and says so.
#   no-cma.sh MODULE.ko
mod=$1
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
rmmod rust_dma_heap 2>/dev/null
insmod "$mod"; check $? "the module without CMA support loads"
[ "$(ls /dev/dma_heap | tr '\n' ' ')" = "system system-uncached " ]
check $? "the system heaps alone: $(ls /dev/dma_heap | tr '\n' ' ')"
dmesg | grep -q "no CMA heaps: this kernel does not export the CMA allocator"
check $? "the kernel log says why there are no CMA heaps"
./heap-util alloc system 1048576; check $? "the system heap allocates"
rmmod rust_dma_heap; check $? "and unloads"
insmod /rust_dma_heap.ko; check $? "the full module loads again"
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
