# SPDX-License-Identifier: GPL-2.0
#
# libcamera's lc-compliance, Debian's binary, unmodified, on each heap in
# turn, with udmabuf (the kernel's own dma-buf provider) as the control in
# the same VM:
#
#   sh ./lc-compliance.sh LCC-DIR REPS PROVIDER[=HEAP]...
#
# LCC-DIR holds bin/lc-compliance and lib/ (its libraries and the dynamic
# loader; tools/setup.sh unpacks them). PROVIDER is a heap's node or
# udmabuf; HEAP, the heap's own name where the node is an alias of it (as
# linux,cma is of the default CMA area's heap), which its tracepoint shows.
# libcamera's DmaBufAllocator tries /dev/dma_heap/linux,cma, reserved and
# system, in that order, then /dev/udmabuf: every other node is moved aside
# for a provider's runs, and a heap libcamera does not know by name is
# offered under the name "system" (a symlink, as a udev rule would make
# one). The camera is libcamera's virtual pipeline (a software camera whose
# frames the CPU draws into the buffers through their mappings).
#
# Each run must pass every test of the deterministic set below, and every
# buffer must have come from that heap (none from any other, none at all
# for the control; see sources() below for how that is told).
#
# The deterministic set: lc-compliance 0.4.0's 120 tests on the virtual
# camera, less the 30 Raw ones (the virtual camera has no raw stream; they
# skip) and less Capture and CaptureStartStop with 1 to 3 requests (these
# balanced tests skip with fewer requests than the camera's 4 buffers).
#
# GLIBC_TUNABLES: libcamera 0.4.0's FrameBuffer leaves its metadata's
# status uninitialised and the virtual pipeline never sets it on success,
# so a buffer object that malloc places where a cancelled one lay
# completes "cancelled", on every provider, the control included
# (Documentation/testing.rst has the details). glibc.malloc.perturb=255
# fills what malloc hands out with zeroes, which read as FrameSuccess (what
# newer libcamera sets explicitly), and tcache_count=0 sends every small
# allocation through the path that fills (the per-thread cache skips it).
#
# run-fifo: lc-compliance 0.4.0 creates the event loop a capture's
# completions stop only after it has queued the capture's first requests,
# and a completion that comes first stops a loop that is not there yet
# (SIGSEGV, writing to address 8). On one CPU under SCHED_FIFO the camera's
# thread runs only when the test thread sleeps, which between those two
# points it does only if it has to wait (for a lock another thread holds,
# say): the order is fixed but for that (run-fifo.c).
#
# Checks: 2 per run, 1 per provider, and 1.
. ./ktap_helpers.sh
# check STATUS WHAT: one check, passed if STATUS (the last command's) is 0.
check() { if [ "$1" -eq 0 ]; then ktap_test_pass "$2"; else ktap_test_fail "$2"; fi; }
ktap_print_header

lcc=$1 reps=$2
shift 2
TESTS_EXPECTED=72
FILTER='*-*Raw_*:*.Capture/*_1:*.Capture/*_2:*.Capture/*_3:*.CaptureStartStop/*_1:*.CaptureStartStop/*_2:*.CaptureStartStop/*_3'
T=/sys/kernel/tracing
HEAPS=/dev/dma_heap
ASIDE=/dev/dma_heap.aside

# libcamera 0.4.0 reads its virtual cameras from a file in its compiled-in
# data directory (there is no environment override).
mkdir -p /usr/share/libcamera/pipeline/virtual
cat >/usr/share/libcamera/pipeline/virtual/virtual.yaml <<'YAML'
%YAML 1.1
---
"Virtual0":
  supported_formats:
  - width: 640
    height: 480
    frame_rates:
    - 30
  test_pattern: "bars"
  location: "CameraLocationFront"
  model: "Virtual Video Device"
YAML
export LIBCAMERA_PIPELINES_MATCH_LIST=virtual LIBCAMERA_LOG_LEVELS='*:WARN'
export LIBCAMERA_IPA_MODULE_PATH=/nonexistent LIBCAMERA_LOG_NO_COLOR=1

mkdir -p $ASIDE
restore() {
	[ -L $HEAPS/system ] && rm -f $HEAPS/system
	for node in $ASIDE/*; do [ -e "$node" ] && mv "$node" $HEAPS/; done
}
trap restore EXIT

# Lets only PROVIDER be found by libcamera's allocator.
steer() {
	restore
	for node in $HEAPS/*; do [ -e "$node" ] && mv "$node" $ASIDE/; done
	case $1 in
	udmabuf) ;;
	linux,cma|reserved|system) mv "$ASIDE/$1" $HEAPS/ ;;
	*) ln -s "$ASIDE/$1" $HEAPS/system ;;
	esac
}

# Where the buffers came from: the module's heap_alloc tracepoint where the
# kernel has ftrace (one line per allocation, with the heap's own name);
# elsewhere (the arm64 kernel) the heaps' peak_bytes, which rise only for a
# heap that allocated more than it ever held before: exact for heaps that
# held nothing yet in this boot, so there every provider must be one no
# earlier provider used, and the control must come first.
traced() {
	sed -n 's/.* heap_alloc: heap=\([^ ]*\) .*/\1/p' $T/trace
}
peaks() {
	for f in /sys/class/dma_heap/*/peak_bytes /sys/kernel/rust_dma_heap/*/peak_bytes; do
		[ -r "$f" ] || continue
		d=${f%/peak_bytes}
		echo "${d##*/} $(cat "$f")"
	done | sort
}
# The heaps that allocated since mark_sources: one name a line (once
# per allocation when traced, once per heap otherwise).
mark_sources() {
	if [ -n "$tracing" ]; then : >$T/trace; else peaks >/tmp/lcc.peaks; fi
}
sources() {
	if [ -n "$tracing" ]; then
		traced
	else
		peaks | awk 'NR == FNR { p[$1] = $2; next } p[$1] != $2 { print $1 }' /tmp/lcc.peaks -
	fi
}

[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null
tracing=
if [ -d $T/events ]; then
	echo 1 >$T/events/rust_dma_heap/heap_alloc/enable
	check $? "the module's heap_alloc tracepoint is on"
	tracing=1
else
	[ -n "$(peaks)" ]
	check $? "no ftrace here: the heaps' peak_bytes tell where buffers came from"
fi
loader=$(ls "$lcc"/lib/ld-linux-*.so.*)
for spec in "$@"; do
	prov=${spec%%=*} heap=${spec#*=}
	steer "$prov"
	[ "$prov" = udmabuf ] || [ -e "$HEAPS/$prov" ] || [ -e "$ASIDE/$prov" ] ||
		ktap_print_msg "$prov: no such heap"
	ktap_print_msg "$prov: the allocator sees: $(ls $HEAPS | tr '\n' ' ')"
	mark_sources
	r=1
	while [ "$r" -le "$reps" ]; do
		GLIBC_TUNABLES=glibc.malloc.perturb=255:glibc.malloc.tcache_count=0 timeout 600 ./run-fifo \
			"$loader" --library-path "$lcc/lib" \
			"$lcc/bin/lc-compliance" -c Virtual0 -f "$FILTER" >/tmp/lcc.out 2>&1
		st=$?
		ok=$(grep -c '^\[ *OK *\] ' /tmp/lcc.out)
		bad=$(grep -c '^\[ *FAILED *\] .*ms)$' /tmp/lcc.out)
		skip=$(grep -c '^\[ *SKIPPED *\] .*ms)$' /tmp/lcc.out)
		check "$st" "$prov (run $r): lc-compliance exits 0 (status $st)"
		[ "$ok" = $TESTS_EXPECTED ] && [ "$bad" = 0 ] && [ "$skip" = 0 ]
		check $? "$prov (run $r): its $TESTS_EXPECTED deterministic tests pass ($ok passed, $bad failed, $skip skipped)"
		if [ "$st" != 0 ] || [ "$ok" != $TESTS_EXPECTED ]; then
			grep -E '^\[  FAILED  \].*ms\)$|Failure|Which is|Expected|Segmentation|Aborted|FATAL|ERROR' \
				/tmp/lcc.out | head -20 | sed 's/^/# /'
			tail -5 /tmp/lcc.out | sed 's/^/# /'
		fi
		r=$((r + 1))
	done
	sources >/tmp/lcc.sources
	n=$(wc -l </tmp/lcc.sources)
	from=$(sort -u /tmp/lcc.sources | tr '\n' ' ')
	how="peak_bytes rose"
	[ -z "$tracing" ] || how="$n allocations traced"
	if [ "$prov" = udmabuf ]; then
		[ "$n" = 0 ]
		check $? "udmabuf: no buffer came from the module's heaps ($how: $from)"
	else
		[ "$n" -gt 0 ] && ! grep -vxF -e "$heap" /tmp/lcc.sources >/dev/null
		check $? "$prov: every buffer came from the heap $heap ($how, from: $from)"
	fi
done
[ -z "$tracing" ] || echo 0 >$T/events/rust_dma_heap/heap_alloc/enable
# The plan comes last: the number of checks is known only now.
ktap_set_plan "$((KTAP_TESTNO - 1))"
ktap_finished
