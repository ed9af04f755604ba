#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# On a kernel with the C heap core (CONFIG_DMABUF_HEAPS=y) that does not
# export dma_heap_add() to modules (upstream 6.12): loading rust_dma_heap
# fails with one clear message and changes nothing.
#   coexist.sh MODULE.ko
mod=$1
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
before=$(ls /dev/dma_heap | tr '\n' ' ')
[ -n "$before" ]; check $? "the C heaps are there: $before"
! insmod "$mod" 2>/dev/null; check $? "loading rust_dma_heap fails"
dmesg | grep -q "rust_dma_heap: .*heap core (CONFIG_DMABUF_HEAPS=y) .*does not export dma_heap_add() to modules"
check $? "the kernel log says why, in one line"
# (busybox insmod may try twice: once per load syscall.)
[ "$(dmesg | grep rust_dma_heap | grep -v -e 'taints kernel' -e 'does not export dma_heap_add' | wc -l)" -eq 0 ]
check $? "and nothing else (no half-registered state to clean up)"
! grep -q rust_dma_heap /proc/modules; check $? "the module is not left loaded"
[ "$(ls /dev/dma_heap | tr '\n' ' ')" = "$before" ]; check $? "the C heaps' nodes are untouched"
./heap-util alloc system 1048576; check $? "the C system heap still allocates"
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
