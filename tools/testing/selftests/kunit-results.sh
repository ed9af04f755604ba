#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module's KUnit suites (#[kunit_tests] in the crate, on a 7.x kernel
# with CONFIG_KUNIT): KUnit runs them when the module loads and keeps each
# suite's KTAP results in debugfs until it unloads. Each suite named must
# be there and have passed, and each of its test cases becomes one check
# here (a skipped case fails: these need nothing a VM might lack).
#   kunit-results.sh SUITE...
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header
dir=/sys/kernel/debug/kunit
for suite in "$@"; do
	results=$dir/$suite/results
	if [ ! -r "$results" ]; then
		ktap_test_fail "$suite: the suite ran at module load ($results is there)"
		continue
	fi
	# The cases: indented result lines; the suite's own: unindented.
	cases=$(grep -E '^[[:space:]]+(not )?ok [0-9]+ ' "$results")
	[ -n "$cases" ]
	check $? "$suite: the suite has test cases"
	echo "$cases" | while read -r line; do
		case $line in
		"ok "*"# SKIP"*) echo "SKIPPED ${line#ok }" ;;
		"ok "*) echo "PASSED ${line#ok [0-9]* }" ;;
		*) echo "FAILED ${line#not ok [0-9]* }" ;;
		esac
	done >/tmp/kunit-cases
	while read -r verdict name; do
		[ "$verdict" = PASSED ]
		check $? "$suite: $name"
	done </tmp/kunit-cases
	grep -qE '^ok [0-9]+ '"$suite"'$' "$results"
	check $? "$suite: the suite passed as a whole"
done
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
