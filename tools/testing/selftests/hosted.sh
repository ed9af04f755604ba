#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hosted mode, on a kernel whose own heap core exports dma_heap_add() (the
# gki and mainline flavours), with rust_dma_heap loaded by the VM's init:
# - the module runs hosted and added exactly OURS to the kernel's heap core
#   (its dma_heap class and char device region; the module has neither);
# - /dev/dma_heap lists the kernel's heaps (KERNEL) and ours, nothing else;
# - each name in CLASHES, which the kernel already had, is reported once and
#   left to the kernel;
# - buffers of our heaps are exported by this module (each holds a module
#   reference), the kernel's are not;
# - rmmod is refused, cleanly: the module, its heaps and the log are as
#   they were, and allocations still work.
#   hosted.sh "KERNEL..." "OURS..." "CLASHES..."
# (KERNEL may be empty: on 7.3 the kernel's heaps are modules the tests
# leave unloaded.)
kernel=$1 ours=$2 clashes=$3
. ./ktap_helpers.sh	# (its variables: KTAP_*, KSFT_*, result, description, directive)
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header

log() { dmesg | grep 'rust_dma_heap:'; }
refcnt() { cat /sys/module/rust_dma_heap/refcnt; }
major() { cut -d: -f1 "/sys/class/dma_heap/$1/dev"; }

grep -q '^rust_dma_heap ' /proc/modules; check $? "the module is loaded"
log | grep -q "hosted mode: adding heaps to the kernel's dma-buf heap core"
check $? "it runs in hosted mode"
count=$(echo $ours | wc -w)
log | grep -q "hosted mode: $count heap(s) added to the kernel's heap core"
check $? "it says it added $count heap(s) and that it stays loaded"

expected=$(for h in $kernel $ours; do echo "$h"; done | sort | tr '\n' ' ')
listed=$(ls /dev/dma_heap | sort | tr '\n' ' ')
[ "$listed" = "$expected" ]; check $? "/dev/dma_heap lists the kernel's heaps and ours: $listed"
# The kernel's heap core registered the one dma_heap char device region.
core=$(awk '$2 == "dma_heap" { print $1 }' /proc/devices)
for h in $ours; do
	[ -c "/dev/dma_heap/$h" ] && [ "$(major "$h")" = "$core" ]
	check $? "$h is a node of the kernel's heap core (class dma_heap, major $core)"
done
[ "$(grep -cw dma_heap /proc/devices)" -eq 1 ]
check $? "one dma_heap char device region: the kernel's"

for c in $clashes; do
	[ "$(log | grep -c "heap name $c is already registered")" -eq 1 ]
	check $? "the clash on $c is reported once"
done
! dmesg | grep -q -e 'cannot create duplicate filename' -e 'dma_heap: Already registered' \
	-e 'dma_heap: Unable to'
check $? "no duplicate registration reached the heap core"
[ "$(log | grep -c -e ': not added (' -e 'failed to initialise')" -eq 0 ]
check $? "no heap failed to be added"

base=$(refcnt)
[ "$base" -ge "$count" ]; check $? "each added heap pins the module (refcnt $base)"
for h in $ours $kernel; do
	rm -f /tmp/held
	./heap-util hold "$h" 65536 /tmp/held &
	holder=$!
	i=0
	while [ ! -e /tmp/held ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	held=$(refcnt)
	kill $holder; wait $holder 2>/dev/null
	case " $ours " in
	*" $h "*) [ "$held" -eq $((base + 1)) ]
		  check $? "$h: a live buffer is exported by this module (refcnt $base -> $held)" ;;
	*)	  [ -e /tmp/held ] && [ "$held" -eq "$base" ]
		  check $? "$h: the kernel's heap exports its own buffers (refcnt $base -> $held)" ;;
	esac
done
[ "$(refcnt)" -eq "$base" ]; check $? "released buffers give their references back"

before=$(log | wc -l)
! rmmod rust_dma_heap 2>/tmp/rmmod.err; check $? "rmmod is refused"
grep -q -e 'in use' -e 'temporarily unavailable' /tmp/rmmod.err
check $? "as a module in use: $(cat /tmp/rmmod.err)"
grep -q '^rust_dma_heap ' /proc/modules && [ "$(refcnt)" -eq "$base" ]
check $? "the module stays, with its references"
[ "$(ls /dev/dma_heap | sort | tr '\n' ' ')" = "$expected" ]; check $? "every heap stays"
[ "$(log | wc -l)" -eq "$before" ]; check $? "the refused rmmod logs nothing"
for h in $ours $kernel; do
	./heap-util alloc "$h" 1048576; check $? "$h still allocates"
done
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
