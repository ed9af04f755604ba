#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module load/unload: 20 cycles, each allocating after the load; unload is
# refused while a buffer or a heap fd is alive, and works once it is gone;
# the module parameters switch heaps and names on and off.
#   module-cycle.sh MODULE.ko [CYCLES]
mod=$1
cycles=${2:-20}
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header

# Every fourth cycle a process holds a buffer across the unload attempt,
# which must then be refused; it is released and the cycle goes on.
good=0 i=0 refused=0
while [ $i -lt "$cycles" ]; do
	if [ $((i % 4)) -eq 3 ]; then
		rm -f /tmp/held
		./heap-util hold system 65536 /tmp/held &
		holder=$!
		while [ ! -e /tmp/held ]; do sleep 0.05; done
		rmmod rust_dma_heap 2>/dev/null || refused=$((refused + 1))
		kill $holder; wait $holder 2>/dev/null
	fi
	if rmmod rust_dma_heap && [ ! -e /dev/dma_heap/system ] &&
	   insmod "$mod" && [ -c /dev/dma_heap/system ] &&
	   ./heap-util alloc system 1048576; then
		good=$((good + 1))
	fi
	i=$((i + 1))
done
[ $good -eq "$cycles" ]; check $? "$cycles unload/load cycles, each allocating after the load ($good good)"
[ $refused -eq $((cycles / 4)) ]; check $? "every unload attempted while a buffer lived was refused ($refused)"

rm -f /tmp/held
./heap-util hold system 65536 /tmp/held &
holder=$!
i=0
while [ ! -e /tmp/held ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /tmp/held ]; check $? "a process holds a buffer"
! rmmod rust_dma_heap 2>/dev/null; check $? "unload is refused while a buffer is alive"
[ -c /dev/dma_heap/system ]; check $? "the heap is still there after the refused unload"
./heap-util alloc system 4096; check $? "the heap still allocates after the refused unload"
kill $holder; wait $holder 2>/dev/null
rmmod rust_dma_heap; check $? "unload works once the buffer is gone"
insmod "$mod"; check $? "load works again"

exec 3</dev/dma_heap/system
! rmmod rust_dma_heap 2>/dev/null; check $? "unload is refused while a heap fd is open"
exec 3<&-
rmmod rust_dma_heap; check $? "unload works once the heap fd is closed"
insmod "$mod"; check $? "load works again at the end"
# Module parameters. Each variant: reload, look at the nodes, allocate.
all=$(ls /dev/dma_heap | wc -l)
reload() {
	rmmod rust_dma_heap && insmod "$mod" "$@"
}
alloc_all() {
	for h in $(ls /dev/dma_heap); do ./heap-util alloc "$h" 65536 || return 1; done
}
reload system=0 && [ ! -e /dev/dma_heap/system ] &&
	[ "$(ls /dev/dma_heap | wc -l)" -eq $((all - 1)) ] && alloc_all
check $? "system=0: no system heap, every other heap still allocates"
reload cma=0 && [ "$(ls /dev/dma_heap | tr '\n' ' ')" = "system system-uncached " ] && alloc_all
check $? "cma=0: the system heaps alone"
reload system_uncached=0 && [ ! -e /dev/dma_heap/system-uncached ] &&
	[ "$(ls /dev/dma_heap | wc -l)" -eq $((all - 1)) ] && alloc_all
check $? "system_uncached=0: no system-uncached heap, every other heap still allocates"
reload cma_aliases=gralloc-fb
[ ! -e /dev/dma_heap/default_cma_region ] && [ -c /dev/dma_heap/gralloc-fb ] && alloc_all
check $? "cma_aliases=gralloc-fb: the default area answers to that name instead"
reload cma_aliases=system:linux,cma && [ -c /dev/dma_heap/system ] && alloc_all &&
	dmesg | grep -q "alias system already names a heap"
check $? "an alias that is already a heap's name is skipped with a warning"
reload cma_aliases=bad/name:linux,cma && [ -c /dev/dma_heap/linux,cma ] &&
	[ "$(ls /dev/dma_heap | wc -l)" -eq $((all - 1)) ] && alloc_all &&
	dmesg | grep -q "alias bad/name not registered (error -22); the heap has its other names"
check $? "an alias that cannot be registered is skipped with a warning naming it; the others are registered"
reload cma_regions=none && [ ! -e /dev/dma_heap/camera@60000000 ] && alloc_all
check $? "cma_regions=none: no heap for the other CMA areas"
reload && [ "$(ls /dev/dma_heap | wc -l)" -eq "$all" ]
check $? "default parameters again: all $all heaps"
echo "# figures: operations=$((cycles * 2 + 12))"
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
