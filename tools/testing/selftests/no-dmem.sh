#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cgroup_dmem=1 on a kernel without the dmem cgroup controller (6.12 has
# none, nor 7.3 built without it): the module refuses to load, saying why, rather than load with
# limits that could never hold.
#   no-dmem.sh MODULE.ko
mod=$1
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
rmmod rust_dma_heap 2>/dev/null
out=$(insmod "$mod" cgroup_dmem=1 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "Invalid argument" && [ ! -d /sys/module/rust_dma_heap ]
check $? "with cgroup_dmem=1 the module refuses to load, EINVAL ($out)"
dmesg | grep -q "cgroup_dmem=1, but this kernel has no dmem cgroup controller"
check $? "the kernel log says why"
insmod "$mod"; check $? "without it, the module loads"
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
