#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A parameter the module cannot honour on this kernel or in this mode makes
# it refuse to load, saying why, rather than load and do less than asked:
# cgroup_dmem=1 without the dmem cgroup controller (6.12 has none, nor 7.3
# built without it), charge_pid_fd=1 in hosted mode (the kernel's heap
# core reads the allocation's argument). With --then-load, the module then
# loads without it.
#   refused-load.sh [--then-load] MODULE.ko PARAM=VALUE LOG-TEXT
then_load=
[ "$1" = --then-load ] && then_load=1 && shift
mod=$1 arg=$2 why=$3
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
rmmod rust_dma_heap 2>/dev/null
out=$(insmod "$mod" "$arg" 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "Invalid argument" && [ ! -d /sys/module/rust_dma_heap ]
check $? "with $arg the module refuses to load, EINVAL ($out)"
dmesg | grep -qF "$why"
check $? "the kernel log says why ($why)"
if [ -n "$then_load" ]; then
	insmod "$mod"; check $? "without it, the module loads"
fi
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
