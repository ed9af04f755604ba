#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# heap-stress while another of its processes keeps unloading and reloading
# the module (see heap-stress.c).
#   heap-stress.sh MODULE.ko PROCESSES THREADS SECONDS
exec ./heap-stress "$2" "$3" "$4" "$1"
