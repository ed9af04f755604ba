# SPDX-License-Identifier: GPL-2.0
#
# The harness's own tests, sourced by tools/testing/check: every way a run
# can fail must turn it red, with the cause quoted. Each test records one
# PASS (quoting the cause the harness gave) or one FAIL.
#
#   parser_selftests    made-up logs through vm/parse-results, vm/verdict
#                       and vm/scan-console: no VM (x86_64 flavour)
#   harness_selftests   VMs on the x86_64 kernel: misbehaving programs, a
#                       VM that cannot boot, a kernel WARNING
#   detector_selftests  VMs on the debug kernel: a test-only module
#                       (detector-modules/) fires KASAN, kmemleak, lockdep,
#                       DMA-API debugging, a silent taint; kmemleak off

# expect_red WHAT FILE REGEX: the harness's output FILE must report REGEX.
expect_red() {
	local what=$1 file=$2 re=$3 quote
	quote=$(grep -E -m1 -- "$re" "$file" 2>/dev/null | cut -c1-160)
	if [ -n "$quote" ]; then
		record PASS "harness: $what turns the run red: \"$quote\""
	else
		record FAIL "harness: $what was not caught (no /$re/ in $file)"
	fi
}

# expect_status WHAT GOT WANT
expect_status() {
	if [ "$2" = "$3" ]; then
		record PASS "harness: $1 (status $2)"
	else
		record FAIL "harness: $1: status $2, expected $3"
	fi
}

parser_selftests() {
	local d=$RESULTS_DIR/harness-units out
	rm -rf "$d"; mkdir -p "$d"
	local pr=$TESTING_DIR/vm/parse-results vd=$TESTING_DIR/vm/verdict

	# A program's run as run-program writes it: NAME STATUS [TAP lines...]
	prog() {
		local name=$1 status=$2
		shift 2
		echo "@@@ TEST $name"
		printf '%s\n' "$@"
		echo "@@@ RESULT $name $status"
		echo "@@@ LEFT $name 0"
	}
	printf 'a|./a|10|2\nb|./b x|10|1\n' >"$d/list"
	{ echo "@@@ BOOTED 6.12 x86_64"; prog a 0 "ok 1 one" "ok 2 two" "1..2";
	  prog b 0 "ok 1 three"; echo "@@@ JOB EXIT 0"; } >"$d/good"
	"$pr" s "$d/good" "$d/list" >"$d/good.out"
	if [ "$(tail -1 "$d/good.out")" = "TOTAL 3 0 0" ]; then
		record PASS "harness: a clean made-up run parses as 3 passed, 0 failed (control)"
	else
		record FAIL "harness: a clean made-up run does not parse clean: $(paste -sd';' "$d/good.out")"
	fi

	# Each case: a made-up test channel, and the cause parse-results must give.
	unit() { # NAME REGEX (log on stdin)
		cat >"$d/$1.log"
		"$pr" s "$d/$1.log" "$d/list" >"$d/$1.out"
		if grep -q '^TOTAL [0-9]* 0 [0-9]*$' "$d/$1.out"; then
			record FAIL "harness: $1 was counted as a pass: $(tail -1 "$d/$1.out")"
		else
			expect_red "$1 (made-up log)" "$d/$1.out" "$2"
		fi
	}
	{ prog a 0 "ok 1 one" "not ok 2 two"; prog b 0 "ok 1 x"; } |
		unit "a failing TAP line" '^FAIL s: a: two$'
	{ prog a 2 "ok 1 one" "ok 2 two"; prog b 0 "ok 1 x"; } |
		unit "a non-zero exit without a failing line" 'a: exit status 2 without a failing check'
	{ prog a 139 "ok 1 one" "ok 2 two"; prog b 0 "ok 1 x"; } |
		unit "a crash (SIGSEGV)" 'a: killed by SIGSEGV'
	{ echo "@@@ TEST a"; echo "ok 1 one"; echo "ok 2 two"; echo "@@@ TIMEOUT a 10";
	  echo "@@@ RESULT a 137"; echo "@@@ LEFT a 0"; prog b 0 "ok 1 x"; } |
		unit "a hang past the timeout" 'a: killed after its 10 s timeout'
	{ prog a 0 "ok 1 one" "ok 2 two"; } |
		unit "a missing program" 'b: did not run'
	{ prog a 0 "ok 1 one" "ok 2 two # SKIP no heap"; prog b 0 "ok 1 x"; } |
		unit "a SKIP" 'a: skipped'
	# A program the list lets skip ("N+skip"): its skip is counted as
	# skipped, neither passed nor failed.
	printf 'a|./a|10|1+skip\nb|./b x|10|1\n' >"$d/list-skip"
	{ prog a 0 "ok 1 one" "ok 2 two # SKIP no such feature here"; prog b 0 "ok 1 x"; } >"$d/skip.log"
	"$pr" s "$d/skip.log" "$d/list-skip" >"$d/skip.out"
	if [ "$(tail -1 "$d/skip.out")" = "TOTAL 2 0 1" ] && grep -q '^SKIP s: a: two # SKIP' "$d/skip.out"; then
		record PASS "harness: a skip the list allows is counted as skipped, not passed (TOTAL 2 0 1)"
	else
		record FAIL "harness: an allowed skip is not counted as skipped: $(paste -sd';' "$d/skip.out" | cut -c1-200)"
	fi
	# A program that skips as a whole (kselftest's ksft_exit_skip(): the
	# plan "1..0 # SKIP", exit status KSFT_SKIP) where its list does not
	# allow it, then where it does: one skip, and no minimum.
	{ prog a 4 "1..0 # SKIP no such heap"; prog b 0 "ok 1 x"; } |
		unit "a program that skips as a whole (KSFT_SKIP)" 'a: exit status 4 \(KSFT_SKIP\): the program skipped'
	{ prog a 4 "1..0 # SKIP no such heap"; prog b 0 "ok 1 x"; } >"$d/skip-all.log"
	"$pr" s "$d/skip-all.log" "$d/list-skip" >"$d/skip-all.out"
	if [ "$(tail -1 "$d/skip-all.out")" = "TOTAL 1 0 1" ] &&
	   grep -q '^SKIP s: a: skipped as a whole (exit status 4, KSFT_SKIP): 1\.\.0 # SKIP no such heap$' "$d/skip-all.out"; then
		record PASS "harness: a whole-program skip the list allows is one skip, its minimum waived (TOTAL 1 0 1)"
	else
		record FAIL "harness: an allowed whole-program skip is not counted as one skip: $(paste -sd';' "$d/skip-all.out" | cut -c1-200)"
	fi
	{ prog a 0 "ok 1 one"; prog b 0 "ok 1 x"; } |
		unit "too few checks" 'a: ran 1 checks \(0 skipped\), fewer than the 2'
	{ prog a 0 "ok 1 one" "ok 2 two" "1..3"; prog b 0 "ok 1 x"; } |
		unit "fewer checks than the TAP plan" 'a: ran 2 checks, fewer than its TAP plan'
	{ prog a 0 "ok 1 one" "ok 2 two" | sed 's/^@@@ RESULT a 0$/@@@ RESULT a/'; prog b 0 "ok 1 x"; } |
		unit "a garbled result marker" 'a: (garbled|no result marker)'
	{ prog a 0 "ok 1 one" "ok 2 two" | sed 's/^@@@ TEST a$/@@@ TE[   3.1] xST a/'; prog b 0 "ok 1 x"; } |
		unit "a garbled start marker" '(garbled|a: did not run)'
	{ prog a 0 "ok 1 one" "ok 2 two" | sed 's/^@@@ LEFT a 0$/@@@ LEFT a 65536/'; prog b 0 "ok 1 x"; } |
		unit "dma-buf bytes left after a program" 'a: 65536 bytes of dma-bufs still allocated'
	{ prog a 0 "ok 1 one" "ok 2 two" | sed 's/^@@@ LEFT a 0$/@@@ LEFT a /'; prog b 0 "ok 1 x"; } |
		unit "unreadable dma-buf accounting" 'a: the dma-buf bytes left after it could not be read'
	{ echo "@@@ TEST a"; echo "ok 1 one"; echo "ok 2 two"; } |
		unit "a program that never finished" 'a: never finished'
	{ prog a 0 "ok 1 one" "ok 2 two"; prog b 0 "ok 1 x"; prog c 0 "ok 1 y"; } |
		unit "a program not in the list" 'c: ran but is not in'
	{ prog a 0 "ok 1 one" "ok 2 two"; prog a 0 "ok 1 one" "ok 2 two"; prog b 0 "ok 1 x"; } |
		unit "a program run twice" 'a: started 2 times'
	rm -f "$d/missing.log"
	"$pr" s "$d/missing.log" "$d/list" >"$d/missing.out"
	expect_red "a missing test log (a VM that never ran)" "$d/missing.out" 'no test log .*: the VM did not run'
	# A parser that crashes (here: called without its program list, as
	# make mutants once did) counts as a failure, not as nothing.
	out=$(record() { echo "$1 $2"; }; record_results s "$d/good" 2>&1)
	if grep -q '^FAIL s: the results could not be counted (parse-results status [1-9]' <<<"$out"; then
		record PASS "harness: a crash of parse-results turns the run red: \"$(grep -m1 '^FAIL' <<<"$out" | cut -c1-120)\""
	else
		record FAIL "harness: a crash of parse-results was not counted as a failure: $(paste -sd';' <<<"$out" | cut -c1-200)"
	fi
	printf 'a|./a|10\n' >"$d/list3"
	"$pr" s "$d/good" "$d/list3" >"$d/list3.out"
	expect_red "a suite entry without a minimum" "$d/list3.out" 'a: the suite list gives no minimum'

	# vm/verdict on made-up runs: a console, a test channel, a .config.
	printf 'CONFIG_LOCKDEP=y\nCONFIG_DMA_API_DEBUG=y\nCONFIG_DEBUG_KMEMLEAK=y\n' >"$d/config"
	{ echo "[    0.000000] Linux version 6.12"; echo "@@@ BOOTED 6.12 x86_64";
	  echo "@@@ JOB EXIT 0"; echo "@@@ DMESG BEGIN"; echo "[    0.000000] Linux version 6.12";
	  echo "@@@ DMESG END"; echo "@@@ DONE"; } >"$d/console"
	{ echo "@@@ BOOTED 6.12 x86_64"; echo "ok 1 x"; echo "@@@ JOB EXIT 0";
	  echo "@@@ UNLOAD rust_dma_heap 0"; echo "@@@ KMEMLEAK SCAN 0"; echo "@@@ KMEMLEAK BEGIN";
	  echo "@@@ KMEMLEAK END"; echo "@@@ TAINTED 4096"; echo "@@@ LOCKDEP debug_locks 1";
	  echo "@@@ DMA-API disabled N error_count 0"; echo "@@@ DONE"; } >"$d/tests"
	local st=0
	"$vd" "$d/console" "$d/tests" "$d/config" 0 60 rust_dma_heap >"$d/verdict.out" 2>&1 || st=$?
	if [ "$st" = 0 ]; then
		record PASS "harness: a clean made-up VM run (module O-tainted) is judged clean (control)"
	else
		record FAIL "harness: a clean made-up VM run is judged $st: $(paste -sd';' "$d/verdict.out")"
	fi
	# vunit NAME WANT-STATUS REGEX SED-ON-TESTS [SED-ON-CONSOLE] [QEMU-STATUS]
	local n=0
	vunit() {
		local name=$1 want=$2 re=$3 st=0 out
		n=$((n + 1)) out=$d/verdict-$n.out
		sed "$4" "$d/tests" >"$d/v.tests"
		sed "${5:-}" "$d/console" >"$d/v.console"
		"$vd" "$d/v.console" "$d/v.tests" "$d/config" "${6:-0}" 60 rust_dma_heap \
			>"$out" 2>&1 || st=$?
		if [ "$st" != "$want" ]; then
			record FAIL "harness: $name: verdict status $st, expected $want: $(paste -sd';' "$out" | cut -c1-200)"
		elif [ -z "$re" ]; then
			record PASS "harness: $name turns the run red (status $st)"
		else
			expect_red "$name (made-up run)" "$out" "$re"
		fi
	}
	vunit "a VM that did not boot" 126 'did not boot' '/BOOTED/d' '/BOOTED/d'
	vunit "a VM without its test channel" 126 'test channel' '1,$d' \
		's/^@@@ BOOTED.*/&\n@@@ NO TEST CHANNEL (\/dev\/hvc0 did not appear)/'
	vunit "a VM that did not finish" 126 'did not finish' '/DONE/d'
	vunit "a VM that timed out" 124 'timed out' '/DONE/d' '' 124
	vunit "a module that did not load" 126 'module did not load' 's/^@@@ JOB EXIT 0/@@@ INSMOD FAILED\n&/'
	vunit "a job that failed" 3 '' 's/JOB EXIT 0/JOB EXIT 3/'
	vunit "a module that did not unload" 125 'rmmod rust_dma_heap failed' 's/UNLOAD rust_dma_heap 0/UNLOAD rust_dma_heap 1/'
	vunit "a module no longer loaded at the end" 125 'no longer loaded' 's/UNLOAD rust_dma_heap 0/UNLOAD rust_dma_heap not-loaded/'
	local t
	for t in "512 W" "32 B" "128 D" "16384 L"; do
		vunit "a kernel tainted ${t#* }" 125 "tainted $((${t% *} + 4096)): ${t#* }" \
			"s/TAINTED 4096/TAINTED $((${t% *} + 4096))/"
	done
	vunit "lockdep switched off" 125 'lockdep is off' 's/debug_locks 1/debug_locks 0/'
	vunit "DMA-API debugging switched off" 125 'DMA-API debugging switched itself off' 's/disabled N/disabled Y/'
	vunit "a DMA-API error count" 125 'DMA-API debugging counted 2 errors' 's/error_count 0/error_count 2/'
	vunit "a failed kmemleak scan" 125 'kmemleak scan failed' 's/KMEMLEAK SCAN 0/KMEMLEAK SCAN 1/'
	vunit "a kmemleak report" 125 'unreferenced object' \
		's/^@@@ KMEMLEAK BEGIN$/&\nunreferenced object 0xffff888004000000 (size 192):/'
	vunit "a wrapped kernel log" 125 'log wrapped' 's/x/x/' '5s/Linux version/(a later line)/'
	local r
	for r in "BUG: KASAN: slab-use-after-free in foo_enabled+0x10/0x20" \
		 "DMA-API: debugging out of memory - disabling" \
		 "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:" \
		 "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: {" \
		 "INFO: rcu_tasks detected stalls on tasks:" \
		 "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [heap-fuzz:77]" \
		 "kmemleak: Cannot allocate a kmemleak_object structure" \
		 "kmemleak: Cannot allocate a scan area, scanning the full object" \
		 "kernel BUG at mm/slub.c:100!" \
		 "heap-memory invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=1000" \
		 "Out of memory: Killed process 77 (heap-memory) total-vm:1000kB, anon-rss:0kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:1000" \
		 "Memory cgroup out of memory: Killed process 80 (heap-memcg) total-vm:1000kB, anon-rss:0kB" \
		 "heap-fuzz: page allocation failure: order:0, mode:0x140dc2(GFP_HIGHUSER), nodemask=(null)" \
		 "x86/PAT: heap-uncached:91 conflicting memory types 20000000-20001000 write-combining<->write-back" \
		 "x86/PAT: heap-uncached:91 map pfn expected mapping type write-combining for [mem 0x20000000-0x20000fff], got write-back" \
		 "x86/PAT: heap-uncached:91 freeing invalid memtype [mem 0x20000000-0x20000fff]" \
		 "rust_dma_heap: pages never given back: buddy 1, cma 0, carveout 0" \
		 "rust_dma_heap: system-uncached: 3 chunks leaked (their memory type could not be restored)" \
		 "refcount_t: underflow; use-after-free." \
		 "list_del corruption. next->prev should be ffff888004000000, but was ffff888004000100" \
		 "x86/PAT: heap-uncached:91 map pfn RAM range req write-combining for [mem 0x20000000-0x20000fff], got write-back" \
		 "x86/PAT: memtype_reserve failed [mem 0x20000000-0x20000fff], track write-back, req write-combining" \
		 "x86/PAT: reserve_ram_pages_type failed [mem 0x20000000-0x20000fff], track 0x0, req 0x1" \
		 "x86/PAT: heap-uncached:91 ioremap_change_attr failed write-combining for [mem 0x20000000-0x20000fff]"; do
		vunit "the kernel report '${r%% *}...${r: -12}'" 125 "kernel report.*$(printf '%s' "${r:0:12}" | sed 's/[][\.*^$]/\\&/g')" \
			's/x/x/' "3s|^|[    5.000000] $r\\n|"
	done
	# scan-console --allow lets through exactly the report it names (and
	# the "cut here" line before it), nothing else that mentions it.
	local vmap_warning='WARNING: CPU: \d+ PID: \d+ at (\S+:\d+ )?dma_buf_vmap\+0x'
	{ echo "[    3.0] ------------[ cut here ]------------"
	  echo "[    3.0] WARNING: CPU: 1 PID: 77 at drivers/dma-buf/dma-buf.c:1580 dma_buf_vmap+0x1a2/0x1c0"
	  echo "[    3.1] Modules linked in: rust_dma_heap(O)"; } >"$d/allowed"
	if "$TESTING_DIR/vm/scan-console" --allow "$vmap_warning" "$d/allowed" >"$d/allowed.out"; then
		record PASS "harness: scan-console --allow lets the named report through (control)"
	else
		record FAIL "harness: scan-console --allow did not let the named report through: $(head -3 "$d/allowed.out" | paste -sd';')"
	fi
	{ cat "$d/allowed"; echo "[    4.0] BUG: KASAN: slab-use-after-free in dma_buf_vmap+0x10/0x20"; } >"$d/allowed2"
	"$TESTING_DIR/vm/scan-console" --allow "$vmap_warning" "$d/allowed2" >"$d/allowed2.out"
	expect_red "another report inside dma_buf_vmap, next to the allowed WARNING" "$d/allowed2.out" \
		'BUG: KASAN: slab-use-after-free in dma_buf_vmap'
	# scan-console --allow-trace: the known report on its known path only
	# (zram's swap-out allocation on 6.12, see zram_allowance in check).
	local zram zframes
	zram_allowance x86_64
	zram=${zram_allow[1]} zframes=${zram_allow[2]}
	zram_trace() { # INNERMOST-FRAME
		echo "[   93.7] kswapd0: page allocation failure: order:0, mode:0xc0a(GFP_NOIO|__GFP_HIGHMEM|__GFP_MOVABLE), nodemask=(null)"
		echo "[   93.7] Call Trace:"
		echo "[   93.7]  <TASK>"
		echo "[   93.7]  warn_alloc+0xeb/0x164"
		echo "[   93.7]  __alloc_pages_noprof+0xec/0x16d"
		echo "[   93.7]  $1+0x15f/0x3ae"
		echo "[   93.7]  zram_submit_bio+0x414/0x66c"
		echo "[   93.7]  ? lruvec_stat_mod_folio+0x9/0x12"
		echo "[   93.7]  swap_writepage+0x14f/0x1ee"
		echo "[   93.7]  kswapd+0x26e/0x298"
		echo "[   93.7]  </TASK>"
		echo "[   93.7] Mem-Info:"
	}
	zram_trace zs_malloc >"$d/zram"
	if "$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram" >"$d/zram.out"; then
		record PASS "harness: scan-console --allow-trace lets the named report on its path through (control)"
	else
		record FAIL "harness: scan-console --allow-trace did not let the named report through: $(head -3 "$d/zram.out" | paste -sd';')"
	fi
	zram_trace rdh_alloc_pages >"$d/zram2"
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram2" >"$d/zram2.out"
	expect_red "the allowed allocation failure on another path" "$d/zram2.out" 'page allocation failure'
	sed 's/ zs_malloc+/ ? zs_malloc+/' "$d/zram" >"$d/zram3"
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram3" >"$d/zram3.out"
	expect_red "the allowed allocation failure with its frame only guessed (?)" "$d/zram3.out" 'page allocation failure'
	sed 's/mode:0xc0a(GFP_NOIO|/mode:0xcc0(GFP_KERNEL|/' "$d/zram" >"$d/zram4"
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram4" >"$d/zram4.out"
	expect_red "an allocation failure of another mode on the allowed path" "$d/zram4.out" 'page allocation failure'
	sed 's/mode:0xc0a(GFP_NOIO|__GFP_HIGHMEM|__GFP_MOVABLE)/mode:0x40c00(GFP_NOIO|__GFP_COMP)/' \
		"$d/zram" >"$d/zram5"
	if "$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram5" >"$d/zram5.out"; then
		record PASS "harness: scan-console --allow-trace lets zsmalloc's slab page failure on that path through (control)"
	else
		record FAIL "harness: zsmalloc's slab page failure on the allowed path is not let through: $(head -3 "$d/zram5.out" | paste -sd';')"
	fi
	sed -e 's/ zs_malloc+/ TMP+/' -e 's/ swap_writepage+/ zs_malloc+/' -e 's/ TMP+/ swap_writepage+/' \
		"$d/zram" >"$d/zram6"
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram6" >"$d/zram6.out"
	expect_red "the allowed allocation failure with its frames out of order" "$d/zram6.out" 'page allocation failure'
	{ zram_trace rdh_alloc_pages; zram_trace zs_malloc | sed 1d; } >"$d/zram7"
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "$zframes" "$d/zram7" >"$d/zram7.out"
	expect_red "the allowed allocation failure whose frames follow only after its trace ended" \
		"$d/zram7.out" 'page allocation failure'
	st=0
	"$TESTING_DIR/vm/scan-console" --allow-trace "$zram" "" "$d/zram" >"$d/zram8.out" 2>&1 || st=$?
	expect_status "scan-console --allow-trace with no frames is refused" "$st" 2
	# ... and the verdict takes the same allowance (run-vm passes it on).
	local st=0
	sed "3r $d/zram" "$d/console" >"$d/v.console"
	"$vd" --allow-trace "$zram" "$zframes" "$d/v.console" "$d/tests" "$d/config" 0 60 rust_dma_heap \
		>"$d/zram-verdict.out" 2>&1 || st=$?
	expect_status "a run whose one report is the allowed one on its path (control)" "$st" 0
	st=0
	sed "3r $d/zram2" "$d/console" >"$d/v.console"
	"$vd" --allow-trace "$zram" "$zframes" "$d/v.console" "$d/tests" "$d/config" 0 60 rust_dma_heap \
		>"$d/zram-verdict2.out" 2>&1 || st=$?
	expect_status "a run with the allowed report on another path" "$st" 125
	st=0
	"$vd" --allow-trace '(' "$zframes" "$d/console" "$d/tests" "$d/config" 0 60 rust_dma_heap \
		>"$d/zram-verdict3.out" 2>&1 || st=$?
	expect_status "a verdict given a bad --allow-trace cannot judge" "$st" 126
	# The boot banners are not reports.
	{ echo "[    0.1] DMA-API: preallocated 65536 debug entries"
	  echo "[    0.1] DMA-API: debugging enabled by kernel config"
	  echo "[    0.2] kmemleak: Kernel memory leak detector initialized (mem pool available: 15770)"
	  echo "[    0.2] kasan: KernelAddressSanitizer initialized (generic)"; } >"$d/banners"
	if "$TESTING_DIR/vm/scan-console" "$d/banners" >"$d/banners.out"; then
		record PASS "harness: the KASAN, kmemleak and DMA-API boot banners are not reports (control)"
	else
		record FAIL "harness: a boot banner is taken for a report: $(head -3 "$d/banners.out" | paste -sd';')"
	fi
}

# The x86_64 VM tests. Needs KDIR, MODULE, MODDIR, TESTS (prepare x86_64).
# Two checkouts sharing RDH_CACHE share each kernel's build directory: a
# run must test what its own prepare built. prepare copies what the tests
# use into this checkout's results/ while it holds the kernel's lock
# exclusively, and every other build in that directory (kdir_shared) holds
# it shared. With the lock held exclusively elsewhere, both must wait.
shared_cache_selftests() {
	local lock=$KDIR.prepare.lock holder st
	local own=$RESULTS_DIR/prepared/x86_64/
	case "$MODULE:$MODDIR:$TESTS" in
	"$own"*:"$own"*:"$own"*)
		record PASS "harness: the module, modules and tests a run uses are its own copies (under $own)" ;;
	*)	record FAIL "harness: a run uses files outside its own results/ ($MODULE, $MODDIR, $TESTS)" ;;
	esac
	# (The holder is the process that holds the lock: killing it frees it.)
	( exec 7>"$lock"; flock -x 7; exec sleep 30 ) &
	holder=$!
	sleep 1
	# (Waiting, not building: its build log is not touched.)
	local buildlog=$RESULTS_DIR/build/x86_64-modules.log before
	before=$(stat -c %Y "$buildlog" 2>/dev/null)
	st=0
	timeout 5 "$TESTING_DIR/prepare" x86_64 >/dev/null 2>&1 || st=$?
	[ "$(stat -c %Y "$buildlog" 2>/dev/null)" = "$before" ] || st="$st (and it built)"
	expect_status "a second checkout's prepare waits while the kernel's build directory is locked" "$st" 124
	st=0
	timeout 3 bash -c '. "$1/lib.sh"; . "$1/vm/suite.sh"; KDIR=$2 kdir_shared true' - \
		"$TESTING_DIR" "$KDIR" || st=$?
	expect_status "a build in a shared kernel directory waits for its prepare to finish" "$st" 124
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	st=0
	timeout 10 bash -c '. "$1/lib.sh"; . "$1/vm/suite.sh"; KDIR=$2 kdir_shared true' - \
		"$TESTING_DIR" "$KDIR" || st=$?
	expect_status "and goes ahead once it has" "$st" 0
}

harness_selftests() {
	local d=$RESULTS_DIR/harness log flavour=x86_64
	rm -rf "$d"; mkdir -p "$d"
	parser_selftests
	shared_cache_selftests

	# A run whose program list names a module that will not unload.
	local dm
	if ! dm=$(build_test_module "$flavour" detector-modules); then
		record FAIL "harness: building the detector test module failed (see $RESULTS_DIR/build/)"
		return
	fi

	# One VM, many misbehaving programs, each judged on its own by
	# parse-results; "notrun" is in the list but not in the job.
	cat >"$d/list" <<'LIST'
tap|./harness-must-fail tap|60|1
exit|./harness-must-fail exit|60|1
segv|./harness-must-fail segv|60|1
hang|./harness-must-fail hang /tmp/hang-child|4|1
after-hang|./harness-must-fail check-dead /tmp/hang-child|60|2
skip|./harness-must-fail skip|60|1
skip-all|./harness-must-fail skip-all|60|1
skip-all-allowed|./harness-must-fail skip-all|60|1+skip
few|./harness-must-fail few|60|5
garbled|./harness-must-fail garbled|60|1
nobinary|./no-such-program|60|1
left|setsid ./heap-util hold system 65536 /tmp/held & while [ ! -e /tmp/held ]; do sleep 0.1; done; echo 'ok 1 a buffer held by a process outside the group'|60|1
LIST
	grep -v '^left|' "$d/list" >"$d/job-list"
	cat "$d/job-list" >"$d/run-list"
	grep '^left|' "$d/list" >>"$d/run-list"
	echo 'notrun|./harness-must-fail tap|60|1' >>"$d/list"
	log=$d/misbehaving.console.log
	say "harness: booting a VM of misbehaving programs (console: $log)"
	vm_suite "$log" "$d/run-list" 300 --module "$MODULE" --cmdline "$(flavour_cmdline x86_64)"
	"$TESTING_DIR/vm/parse-results" harness "$log.tests" "$d/list" >"$d/misbehaving.out"
	expect_red "a failing TAP line" "$d/misbehaving.out" '^FAIL harness: tap: a check that fails on purpose$'
	expect_red "a non-zero exit with no failing line" "$d/misbehaving.out" '^FAIL harness: exit: exit status 3 without'
	expect_red "a crash (SIGSEGV)" "$d/misbehaving.out" '^FAIL harness: segv: killed by SIGSEGV'
	expect_red "a hang past the timeout" "$d/misbehaving.out" '^FAIL harness: hang: killed after its 4 s timeout'
	if grep -q '^FAIL harness: after-hang' "$d/misbehaving.out" ||
	   [ "$(grep -c '^PASS harness: after-hang' "$d/misbehaving.out")" != 2 ]; then
		record FAIL "harness: the hung program's child survived its timeout (see $d/misbehaving.out)"
	else
		record PASS "harness: a timeout kills the program's whole process group, children included"
	fi
	expect_red "a SKIP" "$d/misbehaving.out" '^FAIL harness: skip: skipped'
	expect_red "a program that skips as a whole (KSFT_SKIP)" "$d/misbehaving.out" \
		'^FAIL harness: skip-all: exit status 4 \(KSFT_SKIP\)'
	if grep -q '^SKIP harness: skip-all-allowed: skipped as a whole' "$d/misbehaving.out" &&
	   ! grep -q '^FAIL harness: skip-all-allowed' "$d/misbehaving.out"; then
		record PASS "harness: a whole-program skip its list allows (N+skip) is counted as a skip"
	else
		record FAIL "harness: a whole-program skip its list allows is not a skip (see $d/misbehaving.out)"
	fi
	expect_red "too few checks" "$d/misbehaving.out" '^FAIL harness: few: ran 1 checks \(0 skipped\), fewer than the 5'
	expect_red "a garbled marker" "$d/misbehaving.out" '^FAIL harness: garbled: garbled'
	expect_red "a missing program binary" "$d/misbehaving.out" '^FAIL harness: nobinary: exit status 127'
	expect_red "a program of the list that did not run" "$d/misbehaving.out" '^FAIL harness: notrun: did not run'
	expect_red "dma-buf bytes left after a program" "$d/misbehaving.out" '^FAIL harness: left: 65536 bytes of dma-bufs'
	expect_red "a module that cannot unload at the end" "$log.verdict" 'rmmod rust_dma_heap failed'
	expect_status "the misbehaving programs' VM run is not clean" "$vmstatus" 125

	# A VM that cannot boot (no init), over a stale log that a previous run
	# left at the same path: it must not be read again.
	log=$d/noboot.console.log
	prog_list=$d/noboot.list
	echo 'stale|./harness-must-fail few|60|1' >"$prog_list"
	say "harness: booting a VM that cannot boot (console: $log)"
	printf '@@@ BOOTED x\n@@@ TEST stale\nok 1 stale\n@@@ RESULT stale 0\n@@@ LEFT stale 0\n@@@ JOB EXIT 0\n@@@ DONE\n' \
		>"$log.tests"
	vm_suite "$log" "$prog_list" 120 --module "$MODULE" --cmdline "rdinit=/nonexistent"
	"$TESTING_DIR/vm/parse-results" harness "$log.tests" "$prog_list" >"$d/noboot.out"
	expect_status "a VM that cannot boot is not clean" "$vmstatus" 126
	expect_red "a VM that cannot boot" "$log.verdict" 'did not boot'
	expect_red "a VM that cannot boot, over a stale log" "$d/noboot.out" '(no test log|stale: did not run)'
	if grep -q '^PASS' "$d/noboot.out"; then
		record FAIL "harness: a stale log's passes were counted again"
	fi
	# run-vm failing before QEMU runs (here: no kernel image).
	local st=0
	"$TESTING_DIR/vm/run-vm" --kernel "$d/no-kernel" --log "$d/nokernel.log" -- true \
		2>"$d/nokernel.verdict" || st=$?
	expect_status "run-vm without a kernel image fails as a VM that did not run" "$st" 126

	# A kernel WARNING (the module's load works; the run must still fail).
	printf 'warn|insmod ./rdh_detectors.ko trigger=warn; echo "ok 1 - loaded"|60|1\n' >"$d/warn.list"
	log=$d/warn.console.log
	say "harness: booting a VM with a kernel WARNING (console: $log)"
	vm_suite "$log" "$d/warn.list" 120 --module "$MODULE" --add "$dm/rdh_detectors.ko" \
		--cmdline "$(flavour_cmdline x86_64)"
	expect_status "a kernel WARNING: the VM run is not clean" "$vmstatus" 125
	expect_red "a kernel WARNING" "$log.verdict" 'kernel report.*WARNING'
	expect_red "a kernel WARNING's taint" "$log.verdict" 'tainted [0-9]*: W'
}

# The debug kernel's detectors, one VM each (a detector that fired, or a
# taint, would otherwise mask the next). Needs KDIR, MODULE, MODDIR, TESTS.
detector_selftests() {
	local d=$RESULTS_DIR/detectors dm log t re flavour=debug
	rm -rf "$d"; mkdir -p "$d"
	if ! dm=$(build_test_module "$flavour" detector-modules); then
		record FAIL "detectors: building the detector test module failed (see $RESULTS_DIR/build/)"
		return
	fi
	# (The cases come on fd 3: nothing in the loop may eat them from stdin;
	# fields are split at '|', so no regex below may contain one.)
	while IFS='|' read -r -u 3 t what re re2; do
		case $t in
		kmemleak-off)
			printf 'job|echo off >/sys/kernel/debug/kmemleak; echo "ok 1 - kmemleak off"|60|1\n' ;;
		*)
			printf 'job|insmod ./rdh_detectors.ko trigger=%s && echo "ok 1 - loaded"|60|1\n' "$t" ;;
		esac >"$d/$t.list"
		log=$d/$t.console.log
		say "detectors: booting a debug VM with $what (console: $log)"
		vm_suite "$log" "$d/$t.list" 300 --module "$MODULE" --add "$dm/rdh_detectors.ko" \
			--cmdline "$(flavour_cmdline debug)"
		expect_status "debug: $what: the VM run is not clean" "$vmstatus" 125
		expect_red "debug: $what" "$log.verdict" "$re"
		[ -z "$re2" ] || expect_red "debug: $what" "$log.verdict" "$re2"
	done 3<<'CASES'
kasan|a KASAN use-after-free|kernel report.*BUG: KASAN: slab-use-after-free|
leak|a kmemleak leak|kmemleak: unreferenced object|
lockdep|a lockdep inversion|kernel report.*possible circular locking dependency|lockdep is off at the end
dma|a DMA-API misuse|kernel report.*DMA-API: .*different size|DMA-API debugging counted [1-9]
taint|a silent taint|the kernel is tainted [0-9]*: .*D \(the kernel died|
kmemleak-off|kmemleak switched off|the final kmemleak scan|
CASES
}
