# SPDX-License-Identifier: GPL-2.0
# TAP for the shell tests: `. ./tap.sh`, then `check STATUS "what"` after
# each check and `tap_end` at the end.
n=0
echo "TAP version 13"
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi
}
tap_end() {
	echo "1..$n"
}
