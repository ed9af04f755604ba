#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run a program with rust_dma_heap loaded with other parameters, then load
# it again with its defaults: a failing load or unload fails the program.
#   with-module.sh "PARAMETERS" PROGRAM [ARGS...]
params=$1
shift
# shellcheck disable=SC2086
{ rmmod rust_dma_heap && insmod /rust_dma_heap.ko $params; } ||
	{ echo "not ok 900 rust_dma_heap loads with $params"; exit 1; }
"$@"
status=$?
{ rmmod rust_dma_heap && insmod /rust_dma_heap.ko; } ||
	{ echo "not ok 901 rust_dma_heap loads again with its defaults"; status=1; }
exit $status
