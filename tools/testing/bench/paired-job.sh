#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The job of one paired boot of make bench (in the guest): upstream's C
# heaps and ours, hosted beside them under other names, measured in turns
# in the same boot, REPS times each, alternating which goes first, so that
# whatever differs between boots cancels.
#
#   paired-job.sh REPS "HEAP-BENCH ARGS" C_SYSTEM C_CMA OURS_SYSTEM OURS_CMA
#
# Prints heap-bench's BENCH lines with the side after BENCH ("c" or
# "ours"), and after each of ours a worker-cpu line: the CPU time our
# pools' workers (threads rdh-pool-*) used during that run, in ms.
reps=$1 args=$2 c_sys=$3 c_cma=$4 our_sys=$5 our_cma=$6

# worker_ticks: user + system time of every rdh-pool-* thread, in ticks.
worker_ticks() {
	t=0
	for d in /proc/[0-9]*; do
		read -r comm <"$d/comm" 2>/dev/null || continue
		case $comm in rdh-pool-*) ;; *) continue ;; esac
		# shellcheck disable=SC2046
		set -- $(cat "$d/stat")
		t=$((t + ${14} + ${15}))
	done
	echo $t
}

# /proc reports times in USER_HZ, 100 on every architecture we boot.
hz=100
r=0
while [ $r -lt "$reps" ]; do
	r=$((r + 1))
	order='c ours'
	[ $((r % 2)) = 0 ] && order='ours c'
	for side in $order; do
		if [ $side = c ]; then
			# shellcheck disable=SC2086
			./heap-bench $args "$c_sys" "$c_cma" >out.txt || exit 1
		else
			before=$(worker_ticks)
			# shellcheck disable=SC2086
			./heap-bench $args "$our_sys" "$our_cma" >out.txt || exit 1
			after=$(worker_ticks)
			echo "BENCH-WORKER $(((after - before) * 1000 / hz))"
		fi
		grep -q '^BENCH-DONE' out.txt || exit 1
		sed -n "s/^BENCH /BENCH $side /p" out.txt
	done
done
echo PAIRED-DONE
