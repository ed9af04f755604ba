# SPDX-License-Identifier: GPL-2.0
# TAP for the shell tests: `. ./tap.sh`, then `check STATUS "what"` after
# each check and `tap_end` at the end, which prints the plan and exits: 0 if
# every check passed, 1 if any failed.
n=0
tap_failed=0
echo "TAP version 13"
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		tap_failed=$((tap_failed + 1))
	fi
}
tap_end() {
	echo "1..$n"
	echo "# $((n - tap_failed)) passed, $tap_failed failed"
	[ "$tap_failed" -eq 0 ] && exit 0
	exit 1
}
