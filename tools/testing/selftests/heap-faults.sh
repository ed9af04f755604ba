#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Set up failslab and fail_page_alloc for heap-faults, run it at random
# (OPS calls, PROBABILITY%) and then step by step with fail-nth on each
# HEAP (default: system and linux,cma), report how many faults were
# injected, and turn injection off again.
#   heap-faults.sh [OPS] [PROBABILITY%] [HEAP...]
#   heap-faults.sh --vmap HEAP      (only: step through a vmap, which WARNs)
mode=step
if [ "${1:-}" = --vmap ]; then
	mode=step-vmap
	set -- 0 0 "$2"
fi
ops=${1:-2000}
prob=${2:-2}
[ $# -ge 2 ] && shift 2
heaps=${*:-system linux,cma}
D=/sys/kernel/debug
TIMES=100000000
for a in failslab fail_page_alloc; do
	echo Y >$D/$a/task-filter
	echo "$prob" >$D/$a/probability
	echo 1 >$D/$a/interval
	echo $TIMES >$D/$a/times
	echo 0 >$D/$a/space
	echo 0 >$D/$a/verbose
	echo N >$D/$a/ignore-gfp-wait
done
echo N >$D/fail_page_alloc/ignore-gfp-highmem
echo 0 >$D/fail_page_alloc/min-order
# On a kernel with kmemleak, failslab fails only kmalloc's caches
# (cache-filter): the module's own allocations come from them, while
# kmemleak's bookkeeping (its object and scan-area caches) has caches of
# its own and never fails by injection, so kmemleak does not run degraded
# by chance. A cache merged with others cannot be marked, so there every
# kmalloc cache must be (the debug kernel merges none). Elsewhere (no
# kmemleak; 7.3 merges kmalloc caches) every cache stays eligible.
if [ -e $D/kmemleak ]; then
	marked=0 total=0
	for c in /sys/kernel/slab/kmalloc-*; do
		[ -e "$c/failslab" ] || continue
		total=$((total + 1))
		echo 1 2>/dev/null >"$c/failslab" && marked=$((marked + 1))
	done
	echo Y >$D/failslab/cache-filter
	if [ "$total" -gt 0 ] && [ "$marked" = "$total" ]; then
		echo "ok 901 failslab aimed at the kmalloc caches only (all $total marked)"
	else
		echo "not ok 901 failslab aimed at the kmalloc caches only ($marked of $total marked)"
	fi
else
	echo N >$D/failslab/cache-filter
	echo "ok 901 failslab on every cache (no kmemleak here)"
fi
status=0
[ "$mode" = step-vmap ] || { ./heap-faults random "$ops"; status=$?; }
# fail-nth takes precedence over the probability, but only the sites the
# filters above let through count.
for a in failslab fail_page_alloc; do echo 0 >$D/$a/probability; done
if insmod ./rdh_importer.ko; then
	for h in $heaps; do
		./heap-faults $mode "$h" || status=1
	done
	rmmod rdh_importer || { echo "not ok 900 rmmod rdh_importer"; status=1; }
else
	echo "not ok 900 insmod rdh_importer.ko"
	status=1
fi
injected=0
for a in failslab fail_page_alloc; do
	injected=$((injected + TIMES - $(cat $D/$a/times)))
	echo 0 >$D/$a/verbose
done
echo "# figures: faults=$injected"
exit $status
