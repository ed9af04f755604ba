# SPDX-License-Identifier: GPL-2.0
#
# Booting a suite of test programs in a VM and counting its results, shared
# by tools/testing/check and tools/testing/mutants/run. Sourced after
# lib.sh; the caller sets summary (the file every check is written to),
# KDIR, MODDIR and TESTS (tools/testing/prepare).

passed=0 failed=0 skipped=0

# record PASS|FAIL|SKIP TEXT: one check, counted and written to $summary;
# a FAIL or SKIP is shown at once on stderr (every check with
# RECORD_VERBOSE set).
record() {
	echo "$1 $2" >>"$summary"
	case $1 in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	[ "$1" = PASS ] && [ -z "${RECORD_VERBOSE:-}" ] || echo "$1 $2" >&2
}

# record_results SUITE TEST-LOG PROGRAM-LIST: records the PASS/FAIL lines
# parse-results makes of a run's test channel. A parser that crashes, or
# ends without its TOTAL line, is a failure: a run nobody counted did not
# pass.
record_results() {
	local line st=0 out total=
	out=$(mktemp)
	"$TESTING_DIR/vm/parse-results" "$@" >"$out" 2>"$out.err" || st=$?
	while read -r line; do
		case $line in
		PASS*) record PASS "${line#PASS }" ;;
		FAIL*) record FAIL "${line#FAIL }" ;;
		SKIP*) record SKIP "${line#SKIP }" ;;
		TOTAL*) total=$line ;;
		esac
	done <"$out"
	if [ "$st" != 0 ] || [ -z "$total" ]; then
		record FAIL "$1: the results could not be counted (parse-results status $st, ${total:-no TOTAL line}): $(tail -1 "$out.err" | cut -c1-200)"
	fi
	rm -f "$out" "$out.err"
}

# kdir_shared COMMAND...: runs COMMAND (a build against $KDIR) while no
# prepare of another checkout rebuilds that kernel's tree (prepare holds
# the same lock exclusively).
kdir_shared() {
	flock -s "$KDIR.prepare.lock" "$@"
}

shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

# The job script of a suite: each program through vm/run-program (own
# process group, timeout, markers, dma-buf bytes left).
suite_script() { # PROGRAM-LIST
	local line name rest cmd t
	echo '#!/bin/sh'
	while IFS= read -r line; do
		case $line in ''|'#'*) continue ;; esac
		name=${line%%|*} rest=${line#*|}
		rest=${rest%|*}		# command|timeout
		t=${rest##*|} cmd=${rest%|*}
		echo "sh ./run-program $(shq "$name") $(shq "$t") $(shq "$cmd")"
	done <"$1"
	echo 'exit 0'
}

# vm_suite LOG PROGRAM-LIST VM-TIMEOUT [run-vm args...]: boot a VM that
# runs the suite; the console goes to LOG, the test channel to LOG.tests,
# run-vm's verdict (one cause a line) to LOG.verdict; sets vmstatus.
vm_suite() {
	local log=$1 list=$2 vmtimeout=$3
	shift 3
	local job
	job=$(mktemp -d)
	suite_script "$list" >"$job/run-suite.sh"
	cp "$TESTING_DIR/vm/run-program" "$job/"
	rm -f "$log" "$log.tests" "$log.verdict"
	vmstatus=0
	"$TESTING_DIR/vm/run-vm" --kernel "$KDIR" --moddir "$MODDIR" --timeout "$vmtimeout" \
		--log "$log" --add "$TESTS/." --add "$job/run-suite.sh" --add "$job/run-program" \
		"$@" -- sh ./run-suite.sh 2>"$log.verdict" || vmstatus=$?
	rm -rf "$job"
}

# The causes run-vm gave for a run that was not clean, on one line.
verdict_causes() { # LOG
	grep '^run-vm: ' "$1.verdict" 2>/dev/null | sed 's/^run-vm: //' | head -4 | paste -sd ';' | cut -c1-400
}
