#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/udev/70-dma-heap.rules, as Debian 12's udevadm matches it against
# the module's heap devices: with charging on (the module's mem_accounting=1,
# or, hosted, the heap core's dma_heap.mem_accounting=1) the system heaps
# get the "uaccess" tag and a CMA heap does not; with it off, none does (nor
# system-dma32, where it exists). udevadm and its libraries come from
# tools/setup.sh (run-vm --add).
#   udev-rule.sh on|off UDEV-DIR RULES-FILE [CMA-HEAP]
want=$1 udev=$2 rules=$3 cma=${4:-linux,cma}
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
mkdir -p /etc/udev/rules.d /run/udev
cp "$rules" /etc/udev/rules.d/ && [ -x "$udev/bin/udevadm" ]
check $? "Debian $(cat "$udev/.version" 2>/dev/null)'s udevadm and the rule are in place"

# tagged NODE: whether udevadm test gives NODE's device the uaccess tag.
tagged() {
	out=$("$udev"/lib/ld-linux-x86-64.so.2 --library-path "$udev/lib" "$udev/bin/udevadm" \
		test --action=add "/sys/class/dma_heap/$1" 2>&1)
	st=$?
	echo "$out" | grep -E '^(TAGS|CURRENT_TAGS)=' | sed "s/^/# $1: /"
	[ $st -eq 0 ] || { echo "$out" | tail -5 | sed 's/^/# /'; return 2; }
	echo "$out" | grep -qE '^(CURRENT_)?TAGS=.*:uaccess:'
}

# Hosted, the heap core's switch charges the module's heaps too.
own=$(cat /sys/module/rust_dma_heap/parameters/mem_accounting)
core=$(cat /sys/module/dma_heap/parameters/mem_accounting 2>/dev/null || echo none)
charging=N
if [ "$own" = Y ] || [ "$core" = Y ]; then charging=Y; fi
if [ "$want" = on ]; then
	[ "$charging" = Y ]
	check $? "the module charges its pages (mem_accounting=$own, dma_heap.mem_accounting=$core)"
	for h in system system-uncached; do
		tagged "$h"; check $? "$h is opened to the seat's user (uaccess)"
	done
	tagged "$cma"; [ $? -eq 1 ]; check $? "$cma is not: a CMA area is charged to no memory cgroup"
else
	[ "$charging" = N ]
	check $? "the module does not charge its pages (mem_accounting=$own, dma_heap.mem_accounting=$core)"
	for h in system system-uncached "$cma"; do
		tagged "$h"; [ $? -eq 1 ]; check $? "$h is not opened to anyone: its memory would be no one's"
	done
	if [ -e /sys/class/dma_heap/system-dma32 ]; then
		tagged system-dma32; [ $? -eq 1 ]
		check $? "system-dma32 is not either (the rule never opens it)"
	fi
fi
rm -f /etc/udev/rules.d/70-dma-heap.rules
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
