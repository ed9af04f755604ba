#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, once, everything the build and the test VMs need on Debian 12.
# Idempotent: a second run checks and does nothing.  Both `make demo` and
# `make check` call this first, so a fresh machine needs no manual step.
set -euo pipefail

BINDGEN_VERSION=0.70.1
STAMP_DIR="${RDH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust-dma-heaps}"
mkdir -p "$STAMP_DIR"

say() { echo "setup: $*" >&2; }

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

PKGS=(make gcc flex bison bc libelf-dev libssl-dev cpio xz-utils kmod
      clang libclang-dev lld llvm python3
      qemu-system-x86 qemu-system-arm busybox-static device-tree-compiler
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-source-6.12
      gcc-12-multilib libc6-dev-i386)
# (gcc-12-multilib and libc6-dev-i386 build heap-ioctl -m32; the
# gcc-multilib metapackage would remove gcc-aarch64-linux-gnu: they conflict.)

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
			say "adding bookworm-backports (to match the installed qemu-utils)"
			printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
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

if ! command -v bindgen >/dev/null || \
   [ "$(bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
	say "installing bindgen-cli $BINDGEN_VERSION (about 1.5 minutes)"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
say "ok"
