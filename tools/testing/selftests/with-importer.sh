#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run a program with the test importer (importer-module/) loaded, then
# unload it: a failing load or unload fails the program.
#   with-importer.sh PROGRAM [ARGS...]
insmod ./rdh_importer.ko || { echo "not ok 900 insmod rdh_importer.ko"; exit 1; }
"$@"
status=$?
rmmod rdh_importer || { echo "not ok 901 rmmod rdh_importer"; status=1; }
exit $status
