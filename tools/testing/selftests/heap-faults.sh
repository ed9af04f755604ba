#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Set up failslab and fail_page_alloc for heap-faults, run it, report how
# many faults were injected, and turn injection off again.
#   heap-faults.sh [OPS] [PROBABILITY%]
ops=${1:-2000}
prob=${2:-2}
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
./heap-faults "$ops"
status=$?
injected=0
for a in failslab fail_page_alloc; do
	injected=$((injected + TIMES - $(cat $D/$a/times)))
	echo 0 >$D/$a/probability
done
echo "# figures: faults=$injected"
exit $status
