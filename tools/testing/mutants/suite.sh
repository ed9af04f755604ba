# SPDX-License-Identifier: GPL-2.0
#
# Mutants: deliberately broken builds of the module, each of which must
# turn red the very check that claims to catch its kind of bug. Sourced by
# tools/testing/check (which runs every mutant of a flavour right after
# that flavour's suites) and by tools/testing/mutants/run (make mutants).
# Needs lib.sh, vm/suite.sh, record() and a prepared flavour (KDIR, MODULE,
# MODDIR, TESTS from tools/testing/prepare).
#
# Each tools/testing/mutants/NAME.sh describes one mutant:
#   DESCRIPTION  what is broken
#   FLAVOUR      the kernel it runs on (x86_64 when not set)
#   PROGRAMS     the programs that must catch it, one a line, as in the
#                suite lists of tools/testing/check
#                (name|command|timeout|minimum checks)
#   VMARGS       extra run-vm arguments (an array; optional)
#   EXPECT       a Perl regular expression that one of the mutant's FAIL
#                lines must match ("FAIL mutant-NAME: PROGRAM: CHECK", or
#                "FAIL mutant-NAME: VM run not clean (status N): CAUSES"):
#                the mutant counts as caught only by the check meant to
#                catch it, not by whatever else it happens to break
#   mutate()     the edit, made with `edit FILE SED-EXPRESSION` in a copy
#                of the module's sources; edit fails if the expression
#                changed nothing (the code it targets has moved)
#
# For each flavour: first the control, the unmodified module running every
# mutant's programs (one boot per set of VM arguments), which must be green,
# or a red mutant proves nothing; then each mutant, built once out of tree
# and booted once with its own programs. A mutant that survives, is caught
# by another check than its EXPECT, does not apply or does not build is a
# failure.

MUTANTS_DIR=$TESTING_DIR/mutants

# edit FILE SED-EXPRESSION: in the current mutant's source copy. A failed
# edit also leaves .edit-failed behind, so that a mutate() of several edits
# fails when any of them does, not only the last.
edit() {
	local f=$1 expr=$2
	[ -f "$f" ] || { echo "edit: $f does not exist" >&2; touch .edit-failed; return 1; }
	cp "$f" "$f.orig"
	sed -i -e "$expr" "$f"
	if cmp -s "$f" "$f.orig"; then
		echo "edit: '$expr' changed nothing in $f" >&2
		touch .edit-failed
		return 1
	fi
	rm -f "$f.orig"
}

# load_mutant NAME: its variables and mutate(), in the current shell.
load_mutant() {
	unset DESCRIPTION FLAVOUR PROGRAMS EXPECT
	unset -f mutate
	VMARGS=()
	# shellcheck disable=SC1090
	. "$MUTANTS_DIR/$1.sh"
	FLAVOUR=${FLAVOUR:-x86_64}
}

# mutants_all: the name of every mutant.
mutants_all() {
	local f
	for f in "$MUTANTS_DIR"/*.sh; do
		case ${f##*/} in suite.sh) continue ;; esac
		f=${f##*/}; echo "${f%.sh}"
	done
}

# mutant_flavour NAME: the flavour it runs on.
mutant_flavour() {
	( load_mutant "$1" >/dev/null 2>&1; echo "$FLAVOUR" )
}

# mutants_of FLAVOUR: the names of the mutants that run on FLAVOUR.
mutants_of() {
	local m
	for m in $(mutants_all); do
		[ "$(mutant_flavour "$m")" != "$1" ] || echo "$m"
	done
}

# build_mutant_module SRC LOG: builds the module in SRC out of tree against
# $KDIR, as every mutant and the control are built.
build_mutant_module() {
	kdir_shared make -C "$KDIR" "${mflags[@]}" M="$1" CONFIG_RUST_DMA_HEAPS=m -j"$JOBS" modules \
		>"$2" 2>&1
}

# mutants_suite FLAVOUR [NAME...]: the control and every mutant of FLAVOUR
# (or the NAMEs given); records one PASS or FAIL per mutant.
mutants_suite() {
	local flavour=$1 out=$RESULTS_DIR/mutants/$1 m names=() mflags
	shift
	if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <(mutants_of "$flavour"); fi
	[ ${#names[@]} -gt 0 ] || return 0
	read -r -a mflags <<<"$(kernel_make_flags "$flavour")"
	rm -rf "$out"; mkdir -p "$out/control.ko"
	# The control is built exactly as the mutants are (out of tree, from
	# an unmodified copy), so that it differs from each only by the edit.
	copy_module_sources "$out/control.src"
	if ! build_mutant_module "$out/control.src" "$out/control.build.log"; then
		record FAIL "$flavour/mutants: the unmodified module does not build out of tree (see $out/control.build.log)"
		return
	fi
	cp "$out/control.src/rust_dma_heap.ko" "$out/control.ko/"

	# The control: every mutant's programs, grouped by VM arguments.
	local groups=() key g i line
	declare -A group_of=()
	for m in "${names[@]}"; do
		load_mutant "$m"
		key=-
		[ ${#VMARGS[@]} = 0 ] || key=$(printf '%q ' "${VMARGS[@]}")
		if [ -z "${group_of[$key]+x}" ]; then
			group_of[$key]=${#groups[@]}
			groups+=("$key")
			: >"$out/control-${group_of[$key]}.list"
		fi
		g=${group_of[$key]}
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			grep -qxF -- "$line" "$out/control-$g.list" || echo "$line" >>"$out/control-$g.list"
		done <<<"$PROGRAMS"
	done
	for i in "${!groups[@]}"; do
		local dup
		dup=$(cut -d'|' -f1 "$out/control-$i.list" | sort | uniq -d | head -1)
		if [ -n "$dup" ]; then
			record FAIL "$flavour/mutants: two mutants run a program named $dup with different commands"
			continue
		fi
		local vmargs=()
		[ "${groups[$i]}" = - ] || eval "vmargs=(${groups[$i]})"
		say "$flavour/mutants: control $i (the unmodified module, VM arguments: ${groups[$i]})"
		mutant_boot "$out/control-$i" "$out/control.ko" "$out/control-$i.list" "${vmargs[@]}"
		record_results "$flavour/mutants-control-$i" "$out/control-$i.console.log.tests" "$out/control-$i.list"
		if [ "$vmstatus" = 0 ]; then
			record PASS "$flavour/mutants-control-$i: the unmodified module's VM run is clean"
		else
			record FAIL "$flavour/mutants-control-$i: the unmodified module's VM run is not clean (status $vmstatus): $(verdict_causes "$out/control-$i.console.log")"
		fi
	done

	local judged=0
	for m in "${names[@]}"; do
		judged=$((judged + 1))
		load_mutant "$m"
		local src=$out/$m.src list=$out/$m.list log=$out/$m.console.log quote
		rm -rf "$src"
		copy_module_sources "$src"
		if ! (cd "$src" && mutate) 2>"$out/$m.edit.log" || [ -e "$src/.edit-failed" ]; then
			record FAIL "mutant $m: the mutation does not apply: $(head -1 "$out/$m.edit.log") (re-target tools/testing/mutants/$m.sh)"
			continue
		fi
		if [ -z "${EXPECT:-}" ]; then
			record FAIL "mutant $m: no EXPECT: which check must catch it?"
			continue
		fi
		say "$flavour/mutants: building $m ($DESCRIPTION)"
		if ! build_mutant_module "$src" "$out/$m.build.log"; then
			record FAIL "mutant $m: does not build: $(grep -m1 -E 'error' "$out/$m.build.log" | cut -c1-200) (see $out/$m.build.log)"
			continue
		fi
		mkdir -p "$out/$m.ko"
		cp "$src/rust_dma_heap.ko" "$out/$m.ko/"
		printf '%s\n' "$PROGRAMS" >"$list"
		say "$flavour/mutants: booting $m"
		mutant_boot "$out/$m" "$out/$m.ko" "$list" "${VMARGS[@]}"
		{
			"$TESTING_DIR/vm/parse-results" "mutant-$m" "$log.tests" "$list" | grep '^FAIL'
			[ "$vmstatus" = 0 ] ||
				echo "FAIL mutant-$m: VM run not clean (status $vmstatus): $(verdict_causes "$log")"
		} >"$out/$m.fails" 2>&1
		quote=$(grep -m1 -P -- "$EXPECT" "$out/$m.fails" | cut -c1-220)
		if [ -n "$quote" ]; then
			record PASS "mutant $m ($DESCRIPTION): caught: \"$quote\""
		elif [ -s "$out/$m.fails" ]; then
			record FAIL "mutant $m ($DESCRIPTION): red, but not by the check meant to catch it (/$EXPECT/): $(head -1 "$out/$m.fails" | cut -c1-200)"
		else
			record FAIL "mutant $m ($DESCRIPTION): SURVIVED, its programs stayed green"
		fi
	done
	# A loop cut short (a shell error) must not look like fewer mutants.
	[ "$judged" = ${#names[@]} ] ||
		record FAIL "$flavour/mutants: $judged of ${#names[@]} mutants were judged"
}

# mutant_boot BASE KO-DIR LIST [run-vm args...]: one VM with KO-DIR's
# rust_dma_heap.ko loaded (and in /work, for programs that load it
# themselves); the console in BASE.console.log; sets vmstatus.
mutant_boot() {
	local base=$1 kodir=$2 list=$3
	shift 3
	vm_suite "$base.console.log" "$list" 1200 --module "$kodir/rust_dma_heap.ko" \
		--add "$kodir/." --cmdline "$(flavour_cmdline "$flavour")" "$@"
}
