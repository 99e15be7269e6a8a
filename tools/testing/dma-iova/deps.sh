#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing the series needs, from Debian's
# packages, if it is missing: the base kernel source at the version in
# ./base-version, the toolchain, QEMU, busybox-static, fio, iproute2, the
# NFS server and client tools (for the NFS over RDMA guest), the
# lint tools, and for the arm64 setups a cross compiler, QEMU's arm64
# machine and the device tree tools.  Quiet when everything is there.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
version=$(grep -v '^#' "$here/base-version" | head -1)

# package:file-or-command that shows it is installed
needs=(
	bc:bc bison:bison busybox-static:/bin/busybox ccache:ccache
	cpio:cpio flex:flex fio:fio gcc:gcc git:git iproute2:rdma kmod:depmod
	libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a
	libc6-dev-arm64-cross:/usr/aarch64-linux-gnu/lib/libc.a
	libelf-dev:/usr/include/gelf.h libssl-dev:/usr/include/openssl/ssl.h
	make:make perl:perl python3:python3 python3-ply:/usr/lib/python3/dist-packages/ply
	python3-git:/usr/lib/python3/dist-packages/git
	qemu-system-x86:qemu-system-x86_64
	qemu-system-arm:qemu-system-aarch64 gcc-aarch64-linux-gnu:aarch64-linux-gnu-gcc
	device-tree-compiler:fdtput
	quilt:quilt sparse:sparse xz-utils:xz
	nfs-kernel-server:/usr/sbin/rpc.nfsd nfs-common:/sbin/mount.nfs4
	libtirpc-common:/etc/netconfig
	python3-sphinx:/usr/bin/sphinx-build
	python3-sphinx-rtd-theme:/usr/lib/python3/dist-packages/sphinx_rtd_theme
)
missing=()
for n in "${needs[@]}"; do
	pkg=${n%%:*} what=${n#*:}
	if [[ $what == /* ]]; then
		[ -e "$what" ] || missing+=("$pkg")
	else
		command -v "$what" > /dev/null || missing+=("$pkg")
	fi
done
# busybox-static and busybox conflict; only the static one works in an
# initramfs without its libraries.
if [ -e /bin/busybox ] && ldd /bin/busybox > /dev/null 2>&1; then
	missing+=(busybox-static)
fi
have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ "$have" = "$version" ] || missing+=("linux-source-6.12=$version")

# The arm64 setups' initramfs is made of Debian's arm64 packages
# (apt-get download): apt must know the architecture.
foreign=
dpkg --print-foreign-architectures | grep -qx arm64 || foreign=arm64

[ ${#missing[@]} -eq 0 ] && [ -z "$foreign" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
[ -n "$foreign" ] && $sudo dpkg --add-architecture arm64
echo "  DEPS    installing: ${missing[*]}${foreign:+ (and the arm64 package lists)}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
[ ${#missing[@]} -eq 0 ] && exit 0
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /tmp/dma-iova-apt.log 2>&1; then
	cat /tmp/dma-iova-apt.log >&2
	if ! apt-cache madison linux-source-6.12 | grep -qF " $version "; then
		echo "deps.sh: linux-source-6.12 $version is no longer offered;" \
		     "rebase the series and update $here/base-version" >&2
	fi
	exit 1
fi
