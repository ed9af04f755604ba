# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts under tools/testing/: paths, the cache, messages.

TESTING_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$TESTING_DIR/../.." && pwd)

# Everything built (kernel sources, kernels, busybox, test programs) lives
# in a cache outside the clone, keyed by what went into it.
RDH_CACHE=${RDH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust-dma-heaps}
RESULTS_DIR=${RESULTS_DIR:-$REPO_DIR/results}

# The first steps of the job of a boot that times (make bench, bench/ab,
# bench/profile): the tests' tsc=unstable leaves these kernels (no HPET,
# no ACPI timer) only jiffies (4 ms steps), and the kernel moves from
# tsc-early to tsc from a worker a second or two after init starts, so
# wait for that (10 s at most), then name the clocksource kept
# ("BENCH-CLOCK tsc"), which the host checks. Single-quoted: it expands
# in the guest.
BENCH_CLOCK_JOB='cs=/sys/devices/system/clocksource/clocksource0/current_clocksource; i=0;
while [ "$(cat $cs)" != tsc ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done;
echo BENCH-CLOCK $(cat $cs);'

# until_tsc WHAT LOG COMMAND...: runs COMMAND, a boot whose job began with
# BENCH_CLOCK_JOB, until it keeps time with the TSC, three times at most.
# COMMAND returns 0 if its boot ran on the TSC, 2 if it ran on another
# clocksource (under TCG the PIT calibration sometimes fails, and the
# kernel then keeps jiffies: the boot's figures are never used), anything
# else if it failed; LOG.tests is the boot's test channel. Dies unless a
# boot ran on the TSC; WHAT names the boot in the messages.
until_tsc() {
	local what=$1 log=$2 try st
	shift 2
	for try in 1 2 3; do
		st=0
		"$@" || st=$?
		[ "$st" != 0 ] || return 0
		[ "$st" = 2 ] || die "$what failed (status $st; console $log, test channel $log.tests)"
		say "$what kept time with $(sed -n 's/^BENCH-CLOCK //p' "$log.tests"), not the TSC: booting again"
	done
	die "$what did not keep time with the TSC in three boots"
}
JOBS=${JOBS:-$(($(nproc) + 1))}
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
# The libclang bindgen uses for 6.12 kernels: Debian 12's own clang 14.
RDH_LIBCLANG_612=${RDH_LIBCLANG_612:-/usr/lib/llvm-14/lib}
# The newest mainline (the mainline flavours), as tools/setup.sh unpacks
# Debian's linux-source-7.3 into the cache, and the tools only it uses.
MAINLINE_DIR=${MAINLINE_DIR:-$RDH_CACHE/linux-source-7.3}
MAINLINE_TARBALL=${MAINLINE_TARBALL:-$MAINLINE_DIR/usr/src/linux-source-7.3.tar.xz}
# (bindgen 0.71.1 with Debian 12's libclang 19, unpacked in the cache: see
# tools/setup.sh for why it is not installed.)
MAINLINE_BINDGEN=${MAINLINE_BINDGEN:-$RDH_CACHE/bindgen-0.71.1/bindgen-llvm19}
# (LLVM 19's clang, lld and tools, unpacked there too, for the 7.3 kernel
# with KASAN: LLVM= names this directory.)
MAINLINE_LLVM=${MAINLINE_LLVM:-$RDH_CACHE/llvm-19/bin/}

say() { echo ">>> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

hash_of() { sha256sum | cut -c1-16; }

# Version strings of every tool whose output ends up in a kernel or module.
toolchain_id() {
	{
		gcc --version | head -1
		clang --version | head -1
		rustc --version
		bindgen --version
		aarch64-linux-gnu-gcc --version | head -1
	} 2>/dev/null
}

# Whether a flavour is built from the newest mainline rather than 6.12.
flavour_is_mainline() {
	case $1 in mainline|mainline-standalone|mainline-debug) return 0 ;; *) return 1 ;; esac
}

# The source tarball of a flavour, and the directory it unpacks to.
flavour_tarball() {
	if flavour_is_mainline "$1"; then echo "$MAINLINE_TARBALL"; else echo "$KSRC_TARBALL"; fi
}
flavour_source_name() {
	if flavour_is_mainline "$1"; then echo linux-source-7.3; else echo linux-source-6.12; fi
}

# The Debian version of a flavour's kernel source (6.12 unless given a
# mainline flavour).
kernel_version_of_tarball() {
	if flavour_is_mainline "${1:-}"; then
		cat "$MAINLINE_DIR/.version" 2>/dev/null || echo unknown
	else
		dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
	fi
}

# The tools only the mainline flavours use, for their cache key (the
# 6.12 flavours' keys stay as toolchain_id makes them).
mainline_toolchain_id() {
	{
		"$MAINLINE_BINDGEN" --version
		cat "$RDH_CACHE/llvm-19/.version"
	} 2>/dev/null
}

# The make flags that select a flavour's architecture and compiler.
kernel_make_flags() {
	case $1 in
	x86_64|x86_64-c|upstream) echo "ARCH=x86_64" ;;
	debug)	echo "ARCH=x86_64 LLVM=1" ;;
	arm64|gki) echo "ARCH=arm64 LLVM=1" ;;
	# 7.3 needs bindgen >= 0.71.1 with a libclang >= 17.
	mainline|mainline-standalone) echo "ARCH=x86_64 BINDGEN=$MAINLINE_BINDGEN" ;;
	# Rust with KASAN needs Clang, and 7.3 a newer one than Debian 12's.
	mainline-debug) echo "ARCH=x86_64 LLVM=$MAINLINE_LLVM BINDGEN=$MAINLINE_BINDGEN" ;;
	*)	die "unknown kernel flavour '$1' (x86_64, x86_64-c, arm64, debug, upstream, gki, mainline, mainline-standalone, mainline-debug)" ;;
	esac
}

flavour_arch() {
	case $1 in x86_64|x86_64-c|debug|upstream|mainline*) echo x86_64 ;; arm64|gki) echo arm64 ;; esac
}

# The kernel command line a flavour's VMs boot with: x86_64 kernels get
# their default CMA area from cma= (arm64 from the device tree).
flavour_cmdline() {
	case $1 in
	arm64|gki) echo "" ;;
	# memmap=: 48 MiB at 512 MiB taken out of RAM for the carveout heap's
	# tests, which name it with carveout_base/size (upstream's kselftest
	# holds 32 one-MiB buffers at once while its first test's buffer is
	# still open: 33 MiB).
	*) echo 'cma=64M memmap=48M$0x20000000 tsc=unstable' ;;
	esac
}

flavour_fragments() {
	local k=$TESTING_DIR/kernel
	case $1 in
	x86_64)	echo "$k/base.config $k/x86_64.config $k/intree.config $k/memcg.config $k/uncached.config" ;;
	debug)	echo "$k/base.config $k/x86_64.config $k/debug.config" ;;
	arm64)	echo "$k/base.config $k/arm64.config" ;;
	upstream) echo "$k/base.config $k/x86_64.config $k/upstream.config" ;;
	# make bench's paired design on 6.12: the x86_64 kernel (same fragments,
	# same patches) with upstream's C heaps built in, ours hosted beside them.
	x86_64-c) echo "$k/base.config $k/x86_64.config $k/intree.config $k/memcg.config $k/uncached.config $k/upstream.config" ;;
	gki)	echo "$k/base.config $k/arm64.config $k/gki.config" ;;
	mainline) echo "$k/base.config $k/x86_64.config $k/mainline.config $k/memcg.config $k/dmem.config $k/kunit.config" ;;
	mainline-standalone) echo "$k/base.config $k/x86_64.config $k/memcg.config" ;;
	mainline-debug) echo "$k/base.config $k/x86_64.config $k/mainline.config $k/debug.config" ;;
	esac
}

# The kernel patches a flavour is built with: all of them, except for the
# upstream reference kernel, which is 6.12 as released, and the mainline
# flavours (7.3 as released).
flavour_patches() {
	case $1 in
	upstream|mainline*) ;;
	*) ls "$TESTING_DIR"/kernel/patches/*.patch ;;
	esac
}

# TCG, unless a probe shows KVM really boots this x86_64 kernel here: on
# nested virtualisation /dev/kvm can exist and guests still hang. The result
# is cached per host boot. RDH_ACCEL=tcg|kvm overrides.
vm_accel() {
	local image=$1
	if [ -n "${RDH_ACCEL:-}" ]; then echo "$RDH_ACCEL"; return; fi
	local cache
	cache=/tmp/rdh-kvm-probe.$(cut -c1-8 /proc/sys/kernel/random/boot_id)
	if [ ! -f "$cache" ]; then
		local result=tcg tmp
		if [ -w /dev/kvm ]; then
			tmp=$(mktemp -d)
			mkdir -p "$tmp/root/bin"
			cp /bin/busybox "$tmp/root/bin/"
			printf '#!/bin/busybox sh\n/bin/busybox echo KVM-PROBE-OK\n/bin/busybox reboot -f\n' \
				>"$tmp/root/init"
			chmod +x "$tmp/root/init"
			(cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd"
			if timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic \
				-no-reboot -monitor none -kernel "$image" -initrd "$tmp/initrd" \
				-append "console=ttyS0 panic=-1" </dev/null 2>&1 | grep -q KVM-PROBE-OK; then
				result=kvm
			fi
			rm -rf "$tmp"
		fi
		echo "$result" >"$cache"
		say "VM acceleration: $result (probed)"
	fi
	cat "$cache"
}

# QEMU's own device tree for `-M virt` with the memory size given, plus a
# reserved-memory node: the default CMA area (linux,cma, 64 MiB anywhere)
# and a 48 MiB region reserved for the camera at 0x60000000 (upstream's
# kselftest needs a little over 32 MiB in every heap it tests), and the
# carveout heap's 48 MiB at 0x68000000 (tools/testing/vm/reserved-memory.dtsi).
vm_arm64_dtb() {
	local mem=$1
	local key
	key=$( { qemu-system-aarch64 --version | head -1; echo "$mem";
		 cat "$TESTING_DIR/vm/reserved-memory.dtsi"; } | hash_of)
	local out=$RDH_CACHE/dtb/virt-$key.dtb
	if [ ! -f "$out" ]; then
		mkdir -p "$RDH_CACHE/dtb"
		local tmp
		tmp=$(mktemp -d)
		qemu-system-aarch64 -M "virt,dumpdtb=$tmp/virt.dtb" -cpu cortex-a57 \
			-smp 2 -m "$mem" -nographic >/dev/null 2>&1
		dtc -q -I dtb -O dts -o "$tmp/virt.dts" "$tmp/virt.dtb"
		# Add the node as the root's last child (properties come first).
		awk -v inc="$TESTING_DIR/vm/reserved-memory.dtsi" '
			{ line[NR] = $0 } /^};/ { last = NR }
			END { for (i = 1; i <= NR; i++) {
				if (i == last) while ((getline l < inc) > 0) print l
				print line[i] } }' "$tmp/virt.dts" >"$tmp/full.dts"
		dtc -q -I dts -O dtb -o "$out.tmp" "$tmp/full.dts" || { rm -rf "$tmp"; return 1; }
		mv "$out.tmp" "$out"
		rm -rf "$tmp"
	fi
	echo "$out"
}

# Copy the module's sources (Kconfig, Kbuild, the crate root and the
# folders of its layers, the C glue, uapi/) to DEST,
# touching only files whose content changed so kbuild rebuilds no more than
# it must, and dropping files the repo no longer has.
copy_module_sources() {
	local dest=$1 f
	mkdir -p "$dest"
	(cd "$REPO_DIR" && find Kconfig Kbuild ./*.rs compat exporter frontend glue heaps memory stats uapi -type f \
		\( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name Kconfig -o -name Kbuild \)) |
	while read -r f; do
		mkdir -p "$dest/$(dirname "$f")"
		cmp -s "$REPO_DIR/$f" "$dest/$f" || cp "$REPO_DIR/$f" "$dest/$f"
	done
	(cd "$dest" && find . -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \)) |
	while read -r f; do
		[ -e "$REPO_DIR/$f" ] || rm -f "$dest/$f"
	done
}
