#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, once, everything the build and the test VMs need on Debian 12.
# Idempotent: a second run checks and does nothing.  Both `make demo` and
# `make check` call this first, so a fresh machine needs no manual step.
#
#   tools/setup.sh [perf]
#
# With perf, also Debian 12's perf for the x86_64 VMs (see below), which
# only tools/testing/bench/profile asks for: make check never fetches it.
set -euo pipefail

want_perf=
for a in "$@"; do
	case $a in
	perf) want_perf=1 ;;
	*) echo "setup: unknown argument $a (usage: tools/setup.sh [perf])" >&2; exit 1 ;;
	esac
done

BINDGEN_VERSION=0.70.1
STAMP_DIR="${RDH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust-dma-heaps}"
mkdir -p "$STAMP_DIR"

say() { echo "setup: $*" >&2; }

# The Debian archive the machine's own apt configuration uses for its
# release (the repository that carries the codename's main suite), so that
# the suites added below come from the same mirror and no host name is
# written into this tree.
# apt knows its index targets once it has package lists; without any (an
# image that dropped them) it is asked again after an update.
debian_archive() {
	local codename found
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	found() {
		apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
			awk -v c="$codename" '$1 == c && !f { sub("/$", "", $2); print $2; f = 1 }'
	}
	found=$(found || true)
	if [ -z "$found" ]; then
		$SUDO apt-get update -qq >&2 || true
		found=$(found || true)
	fi
	echo "$found"
}

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

PKGS=(make gcc flex bison bc libelf-dev libssl-dev cpio xz-utils kmod
      clang libclang-dev lld llvm python3
      qemu-system-x86 qemu-system-arm busybox-static device-tree-compiler
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-source-6.12
      gcc-12-multilib libc6-dev-i386 gnuplot-nox)
# (gcc-12-multilib and libc6-dev-i386 build heap-ioctl -m32; the
# gcc-multilib metapackage would remove gcc-aarch64-linux-gnu: they conflict.
# gnuplot-nox draws make bench's plot.)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing Debian packages: ${missing[*]}"
	target=()
	# Some images carry qemu-utils from bookworm-backports; QEMU's system
	# emulators must then come from there too, or apt refuses the mix.
	if dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q bpo12; then
		if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
			archive=$(debian_archive)
			[ -n "$archive" ] || { say "no Debian archive for bookworm in the apt configuration"; exit 1; }
			say "adding bookworm-backports from $archive (to match the installed qemu-utils)"
			printf '%s\n' 'Types: deb' "URIs: $archive" \
				'Suites: bookworm-backports' 'Components: main' \
				'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
				| $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
		fi
		target=(-t bookworm-backports)
	fi
	$SUDO apt-get update -qq
	qemu=() rest=()
	for p in "${missing[@]}"; do
		case $p in qemu-*) qemu+=("$p") ;; *) rest+=("$p") ;; esac
	done
	[ ${#rest[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive \
		$SUDO apt-get install -y -qq "${rest[@]}" >/dev/null
	[ ${#qemu[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive \
		$SUDO apt-get install -y -qq "${target[@]}" "${qemu[@]}" >/dev/null
fi

# busybox for arm64 guests: only the static binary is needed, unpacked
# into the cache, so the host's own busybox stays untouched.
BB_ARM64="$STAMP_DIR/busybox-arm64/bin/busybox"
if [ ! -x "$BB_ARM64" ]; then
	say "fetching busybox-static:arm64"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		$SUDO dpkg --add-architecture arm64
		$SUDO apt-get update -qq
	fi
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null)
	rm -rf "$STAMP_DIR/busybox-arm64"
	dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$STAMP_DIR/busybox-arm64"
	rm -rf "$tmp"
fi

# Rust: the kernel builds `core` from source, so rust-src is required.
if ! command -v rustup >/dev/null; then
	say "rustup is required (the machine's Rust toolchain)"; exit 1
fi
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	say "adding rust-src"
	rustup component add rust-src >/dev/null
fi
# The standard library for arm64 userspace: the published Rust crates'
# client (tools/testing/crates-client) runs on the arm64 flavour too.
if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
	say "adding the aarch64-unknown-linux-gnu target"
	rustup target add aarch64-unknown-linux-gnu >/dev/null
fi

if ! command -v bindgen >/dev/null || \
   [ "$(bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
	say "installing bindgen-cli $BINDGEN_VERSION (about 1.5 minutes)"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi

# ---- the mainline flavour: Linux 7.3 and the newer tools it needs ----
#
# Its source comes from Debian's trixie-backports suite (architecture all).
# Nothing is added to the machine's package sources: a one-off sources list
# with its own state directory downloads just that package, and dpkg-deb
# unpacks it into the cache. RDH_NO_MAINLINE=1 skips this part.
MAINLINE_DIR="$STAMP_DIR/linux-source-7.3"

# download_from_suite SUITE ARCH DIR PACKAGE...: downloads PACKAGEs
# (Debian architecture ARCH, or "all") from Debian's SUITE (main) into DIR.
# A one-off sources list with its own state directory: nothing is added to
# the machine's package sources, nothing is installed, and the archive is
# the one the machine's apt configuration already uses.
download_from_suite() {
	local suite=$1 arch=$2 dir=$3 archive state
	shift 3
	archive=$(debian_archive)
	[ -n "$archive" ] || { say "no Debian archive in the apt configuration"; exit 1; }
	state=$(mktemp -d)
	mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $archive $suite main" \
		>"$state/sources.list"
	local aptopts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
		 -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
		 -o Dir::State::status=/dev/null -o APT::Sandbox::User=root
		 -o "APT::Architectures::=$(dpkg --print-architecture)")
	[ "$arch" = all ] || [ "$arch" = "$(dpkg --print-architecture)" ] ||
		aptopts+=(-o "APT::Architectures::=$arch")
	apt-get "${aptopts[@]}" update -qq
	local pkgs=("$@")
	[ "$arch" = all ] || pkgs=("${pkgs[@]/%/:$arch}")
	(cd "$dir" && apt-get "${aptopts[@]}" download -qq "${pkgs[@]}" >/dev/null)
	rm -rf "$state"
}

if [ -z "${RDH_NO_MAINLINE:-}" ] && [ ! -f "$MAINLINE_DIR/.done" ]; then
	say "fetching linux-source-7.3 from trixie-backports (into $MAINLINE_DIR)"
	tmp=$(mktemp -d)
	download_from_suite trixie-backports all "$tmp" linux-source-7.3
	deb=$(ls "$tmp"/linux-source-7.3_*_all.deb)
	rm -rf "$MAINLINE_DIR"; mkdir -p "$MAINLINE_DIR"
	dpkg-deb -x "$deb" "$MAINLINE_DIR"
	dpkg-deb -f "$deb" Version >"$MAINLINE_DIR/.version"
	rm -rf "$tmp"
	touch "$MAINLINE_DIR/.done"
fi

# ---- libcamera's lc-compliance, a third-party client of the heaps ----
#
# Debian's binaries from the trixie suite (libcamera-tools and the
# libraries it needs), for x86_64 and arm64, downloaded and unpacked, not
# installed: the x86_64 and arm64 flavours run them in their VMs through
# the bundled dynamic loader (the lc-compliance suites in
# tools/testing/check). What goes into the guest is lc-compliance and the
# closure of its NEEDED libraries, in $LCC_DIR/<flavour arch>/lcc/{bin,lib}.
LCC_DIR="$STAMP_DIR/lc-compliance"
LCC_PACKAGES=(libcamera-tools libcamera0.4 libc6 libgcc-s1 libstdc++6 libbz2-1.0
	libzstd1 zlib1g libelf1t64 liblzma5 libdw1t64 libgmp10 libnettle8t64
	libhogweed6t64 libunistring5 libidn2-0 libffi8 libp11-kit0 libtasn1-6
	libgnutls30t64 liblttng-ust-common1t64 libnuma1 liblttng-ust-ctl5t64
	liblttng-ust1t64 libcap2 libudev1 libyaml-0-2 libjpeg62-turbo libyuv0
	libevent-2.1-7t64 libevent-core-2.1-7t64 libevent-pthreads-2.1-7t64)
# bundle BINARY OUT LOADER LIBDIR...: BINARY in OUT/bin and the closure of
# its NEEDED libraries, with the dynamic loader, in OUT/lib, to be run
# as OUT/lib/LOADER --library-path OUT/lib OUT/bin/BINARY. Breadth first;
# a library none of LIBDIRS has (a dependency a newer package added) stops
# here, by name.
bundle() {
	local bin=$1 out=$2 loader=$3 f n d p seen=" " todo
	shift 3
	mkdir -p "$out/bin" "$out/lib"
	cp "$bin" "$out/bin/"
	todo=("$bin")
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]} todo=("${todo[@]:1}")
		for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case $seen in *" $n "*) continue ;; esac
			seen+="$n "
			p=
			for d in "$@"; do [ -e "$d/$n" ] && { p=$d/$n; break; }; done
			[ -n "$p" ] || { say "$(basename "$bin") needs $n, which no package fetched for it has"; exit 1; }
			cp -L "$p" "$out/lib/"
			todo+=("$p")
		done
	done
	for d in "$@"; do
		[ -e "$d/$loader" ] && { cp -L "$d/$loader" "$out/lib/"; return; }
	done
	say "no $loader for $(basename "$bin")"; exit 1
}

# fetch_lc_compliance ARCH DEBIAN-ARCH MULTIARCH-TRIPLE LOADER
fetch_lc_compliance() {
	local arch=$1 darch=$2 triple=$3 loader=$4 tmp libs out
	local dest=$LCC_DIR/$arch
	[ ! -f "$dest/.done" ] || return 0
	say "fetching libcamera's lc-compliance ($darch) from trixie (into $dest)"
	tmp=$(mktemp -d)
	mkdir -p "$tmp/debs" "$tmp/root"
	download_from_suite trixie "$darch" "$tmp/debs" "${LCC_PACKAGES[@]}"
	for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
	libs=$tmp/root/usr/lib/$triple out=$tmp/lcc
	bundle "$tmp/root/usr/bin/lc-compliance" "$out" "$loader" "$libs"
	dpkg-deb -f "$tmp"/debs/libcamera-tools_*.deb Version >"$out/.version"
	rm -rf "$dest"; mkdir -p "$dest"
	mv "$out" "$dest/lcc"
	rm -rf "$tmp"
	touch "$dest/.done"
}
if [ "$(dpkg --print-architecture)" = amd64 ]; then
	fetch_lc_compliance x86_64 amd64 x86_64-linux-gnu ld-linux-x86-64.so.2
	fetch_lc_compliance arm64 arm64 aarch64-linux-gnu ld-linux-aarch64.so.1
fi

# ---- Debian 12's udevadm, to test tools/udev/70-dma-heap.rules ----
#
# udev's own matching of the rule a distribution would ship, run in the
# x86_64 VMs (heap nodes of the module's, the module's parameters): the
# udevadm of Debian 12 (bookworm) and its libraries, downloaded and
# unpacked, not installed, into $UDEV_DIR/udev/{bin,lib}.
UDEV_DIR="$STAMP_DIR/udev-bookworm"
UDEV_PACKAGES=(udev libc6 libkmod2 libacl1 libblkid1 libcap2 libselinux1 liblzma5
	libzstd1 libssl3 libpcre2-8-0)
# fetch_bookworm_tool DEST NAME BINARY PACKAGE PACKAGES...: BINARY (a path
# in the unpacked packages) with the closure of its NEEDED libraries,
# bundled from PACKAGES of Debian 12 (amd64) into DEST/NAME/{bin,lib}, the
# version of PACKAGE in DEST/NAME/.version; DEST/.done when complete.
fetch_bookworm_tool() {
	local dest=$1 name=$2 bin=$3 vpkg=$4 tmp deb
	shift 4
	tmp=$(mktemp -d)
	mkdir -p "$tmp/debs" "$tmp/root"
	download_from_suite bookworm amd64 "$tmp/debs" "$@"
	for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
	bundle "$tmp/root/$bin" "$tmp/$name" ld-linux-x86-64.so.2 \
		"$tmp/root/lib/x86_64-linux-gnu" "$tmp/root/usr/lib/x86_64-linux-gnu" \
		"$tmp/root/lib64"
	dpkg-deb -f "$tmp"/debs/"$vpkg"_*.deb Version >"$tmp/$name/.version"
	rm -rf "$dest"; mkdir -p "$dest"
	mv "$tmp/$name" "$dest/$name"
	rm -rf "$tmp"
	touch "$dest/.done"
}
if [ "$(dpkg --print-architecture)" = amd64 ] && [ ! -f "$UDEV_DIR/.done" ]; then
	say "fetching udevadm from Debian 12 (into $UDEV_DIR)"
	fetch_bookworm_tool "$UDEV_DIR" udev bin/udevadm udev "${UDEV_PACKAGES[@]}"
fi

# ---- Debian 12's perf, for profiling heap-bench in the x86_64 VMs ----
#
# On request only (tools/setup.sh perf, as tools/testing/bench/profile
# asks): nothing make check or make bench runs needs it. linux-perf of
# Debian 12 (bookworm) and its libraries, downloaded and unpacked, not
# installed, and perf with the closure of its NEEDED libraries bundled as
# lc-compliance is, into $PERF_DIR/x86_64/perf/{bin,lib}, to be run in
# the guest as perf/lib/ld-linux-x86-64.so.2 --library-path perf/lib
# perf/bin/perf.
PERF_DIR="$STAMP_DIR/perf"
PERF_PACKAGES=(linux-perf libc6 libbabeltrace1 libbz2-1.0 libcap2 libcrypt1 libdw1
	libelf1 libexpat1 libgcc-s1 libglib2.0-0 liblzma5 libnuma1 libopencsd1
	libpcre2-8-0 libperl5.36 libpython3.11 libslang2 libstdc++6 libunwind8
	libuuid1 libzstd1 zlib1g)
fetch_perf() {
	[ ! -f "$PERF_DIR/x86_64/.done" ] || return 0
	say "fetching perf (linux-perf) from Debian 12 (into $PERF_DIR/x86_64)"
	fetch_bookworm_tool "$PERF_DIR/x86_64" perf usr/bin/perf linux-perf "${PERF_PACKAGES[@]}"
}
if [ -n "$want_perf" ]; then
	[ "$(dpkg --print-architecture)" = amd64 ] || { say "perf for the VMs: amd64 hosts only"; exit 1; }
	fetch_perf
fi

# 7.3's minimum bindgen is 0.71.1, and its libclang must be at least LLVM
# 17. bindgen-cli 0.71.1 goes side by side with the 0.70.1 above, under the
# cache. libclang 19 comes from Debian 12's own suite, but is NOT installed:
# bindgen finds the newest libclang on the system by itself, so an installed
# libclang 19 would also become the 6.12 kernels' one, and their clang 14
# builds (LLVM=1) then fail. Its packages are unpacked into the cache
# instead, and a wrapper, the BINDGEN= of the 7.3 builds only
# (tools/testing/lib.sh), points bindgen at them.
BINDGEN_MAINLINE_VERSION=0.71.1
BINDGEN_MAINLINE_ROOT="$STAMP_DIR/bindgen-$BINDGEN_MAINLINE_VERSION"
LLVM_MAINLINE_DIR="$STAMP_DIR/llvm-19"
if [ -z "${RDH_NO_MAINLINE:-}" ]; then
	# (.done-clang: clang, lld and the LLVM tools as well, for the 7.3
	# kernel with KASAN, which Rust allows with Clang only: the
	# mainline-debug flavour. The same version as the libclang, so the
	# mainline flavours' cache key, which names that version, stays.)
	if [ ! -f "$LLVM_MAINLINE_DIR/.done-clang" ]; then
		say "unpacking LLVM 19 (Debian 12's libclang1-19, clang-19, lld-19, llvm-19) into $LLVM_MAINLINE_DIR"
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
			libclang1-19 libllvm19 libclang-common-19-dev \
			clang-19 libclang-cpp19 lld-19 liblld-19 llvm-19 >/dev/null)
		rm -rf "$LLVM_MAINLINE_DIR"; mkdir -p "$LLVM_MAINLINE_DIR/bin"
		for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$LLVM_MAINLINE_DIR"; done
		dpkg-deb -f "$tmp"/libclang1-19_*.deb Version >"$LLVM_MAINLINE_DIR/.version"
		rm -rf "$tmp"
		# LLVM=$LLVM_MAINLINE_DIR/bin/ selects these: each finds its
		# libraries here, not on the machine.
		for tool in clang ld.lld llvm-ar llvm-nm llvm-objcopy llvm-objdump \
			llvm-readelf llvm-strip llvm-ranlib llvm-size; do
			printf '%s\n' '#!/bin/sh' \
				"LD_LIBRARY_PATH='$LLVM_MAINLINE_DIR/usr/lib/x86_64-linux-gnu' exec '$LLVM_MAINLINE_DIR/usr/lib/llvm-19/bin/$tool' \"\$@\"" \
				>"$LLVM_MAINLINE_DIR/bin/$tool"
			chmod +x "$LLVM_MAINLINE_DIR/bin/$tool"
		done
		"$LLVM_MAINLINE_DIR/bin/clang" --version >/dev/null ||
			{ say "the unpacked clang 19 does not run"; exit 1; }
		touch "$LLVM_MAINLINE_DIR/.done" "$LLVM_MAINLINE_DIR/.done-clang"
	fi
	if [ "$("$BINDGEN_MAINLINE_ROOT/bin/bindgen" --version 2>/dev/null | awk '{print $2}')" \
	     != "$BINDGEN_MAINLINE_VERSION" ]; then
		say "installing bindgen-cli $BINDGEN_MAINLINE_VERSION into $BINDGEN_MAINLINE_ROOT (about 1.5 minutes)"
		cargo install --locked --quiet --root "$BINDGEN_MAINLINE_ROOT" \
			bindgen-cli --version "$BINDGEN_MAINLINE_VERSION"
	fi
	wrapper="$BINDGEN_MAINLINE_ROOT/bindgen-llvm19"
	want=$(printf '%s\n' '#!/bin/sh' \
		'# bindgen 0.71.1 with the libclang 19 unpacked by tools/setup.sh' \
		"export LIBCLANG_PATH='$LLVM_MAINLINE_DIR/usr/lib/llvm-19/lib'" \
		"export LD_LIBRARY_PATH='$LLVM_MAINLINE_DIR/usr/lib/x86_64-linux-gnu'" \
		"exec '$BINDGEN_MAINLINE_ROOT/bin/bindgen' \"\$@\"")
	if [ "$(cat "$wrapper" 2>/dev/null)" != "$want" ]; then
		echo "$want" >"$wrapper"
		chmod +x "$wrapper"
	fi
fi
say "ok"
