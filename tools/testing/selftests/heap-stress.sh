#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# heap-stress while another process keeps unloading and reloading the module.
#   heap-stress.sh MODULE.ko PROCESSES THREADS SECONDS
mod=$1
./heap-stress "$2" "$3" "$4" &
stress=$!
sleep 1		# let it find the heaps first
unloads=0
while kill -0 $stress 2>/dev/null; do
	if rmmod rust_dma_heap 2>/dev/null; then
		unloads=$((unloads + 1))
		insmod "$mod"
	fi
	sleep 0.05
done
wait $stress
status=$?
grep -q rust_dma_heap /proc/modules || insmod "$mod"
echo "# figures: unloads=$unloads"
if [ -c /dev/dma_heap/system ] && ./heap-util alloc system 1048576; then
	echo "ok 100 the module is loaded and allocates after the stress"
else
	echo "not ok 100 the module is loaded and allocates after the stress"
	status=1
fi
exit $status
