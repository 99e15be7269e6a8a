#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build an initramfs: busybox-static, fio, iproute2's ip and rdma and the
# NFS server's and client's tools with every library they link, the fio
# jobs and an /init.
#
# Usage: mkinitramfs.sh OUTPUT.cpio [TREE]
#   without TREE: the test initramfs, /init is "init" of this directory,
#                 plus vecio (vecio.c) and premap (premap.c), built
#                 static;
#   with TREE:    the benchmark initramfs, /init is "bench-init", plus
#                 the DMA map benchmark tool built from TREE.
# ARCH=arm64 in the environment builds the test initramfs for arm64
# guests: Debian's arm64 busybox-static and fio, with the arm64 builds of
# the libraries the host's fio links (apt-get download, kept in
# build/arm64-debs), and no iproute2 (the RDMA cases run on x86_64 only).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
out=$(readlink -f "$1")
tree=${2:+$(readlink -f "$2")}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,etc/fio,proc,sys,tmp,lib64}
if [ "${ARCH:-x86_64}" = arm64 ]; then
	[ -z "$tree" ] || { echo "mkinitramfs.sh: no arm64 benchmark initramfs" >&2; exit 2; }
	debs=$(dirname "$out")/arm64-debs
	mkdir -p "$debs"
	if [ ! -e "$debs/complete" ]; then
		# The host's packages of fio's libraries, by the same names.
		pkgs=$(ldd "$(command -v fio)" |
		       awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' |
		       while read -r lib; do
			real=$(readlink -f "$lib")
			for c in "$lib" "$real" "${real#/usr}" "/usr$lib"; do
				if p=$(dpkg -S "$c" 2> /dev/null); then
					echo "${p%%:*}"
					break
				fi
			done
		       done | sort -u)
		# shellcheck disable=SC2086 # a list of package names
		(cd "$debs" && apt-get download -q fio:arm64 busybox-static:arm64 \
			$(printf '%s:arm64 ' $pkgs)) > "$debs/download.log" 2>&1 ||
			{ cat "$debs/download.log" >&2; exit 1; }
		touch "$debs/complete"
	fi
	arm=$root/tmp/arm64
	for d in "$debs"/*.deb; do
		dpkg-deb -x "$d" "$arm"
	done
	cp "$arm/bin/busybox" "$root/bin/busybox"
	cp "$arm/usr/bin/fio" "$root/bin/fio"
	# fio's libraries, found by their DT_NEEDED entries, where the arm64
	# loader looks.
	mkdir -p "$root/lib/aarch64-linux-gnu"
	cp -L "$arm/lib/ld-linux-aarch64.so.1" "$root/lib/"
	todo=("$root/bin/fio")
	while [ ${#todo[@]} -gt 0 ]; do
		for lib in $(aarch64-linux-gnu-readelf -d "${todo[0]}" |
			     sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
			[ -e "$root/lib/aarch64-linux-gnu/$lib" ] && continue
			path=$(find "$arm" -name "$lib" -print -quit)
			[ -n "$path" ] || { echo "mkinitramfs.sh: no arm64 $lib" >&2; exit 1; }
			cp -L "$path" "$root/lib/aarch64-linux-gnu/$lib"
			todo+=("$root/lib/aarch64-linux-gnu/$lib")
		done
		todo=("${todo[@]:1}")
	done
	rm -rf "$arm"
else
	cp /bin/busybox "$root/bin/busybox"
fi
cp "$here"/*.fio "$root/etc/fio/"
if [ -z "$tree" ]; then
	cp "$here/init" "$root/init"
	cc=gcc
	[ "${ARCH:-x86_64}" = arm64 ] && cc=aarch64-linux-gnu-gcc
	$cc -static -O2 -Wall -o "$root/bin/vecio" "$here/vecio.c"
	$cc -static -O2 -Wall -o "$root/bin/premap" "$here/premap.c"
else
	cp "$here/bench-init" "$root/init"
	# The tool includes <linux/map_benchmark.h>, which is not UAPI:
	# give it that one header beside the system's.
	mkdir -p "$root/tmp/inc/linux"
	cp "$tree/include/linux/map_benchmark.h" "$root/tmp/inc/linux/"
	gcc -static -O2 -Wall -I"$root/tmp/inc" -o "$root/bin/dma_map_benchmark" \
		"$tree/tools/testing/selftests/dma/dma_map_benchmark.c"
	rm -rf "$root/tmp/inc"
fi
chmod 755 "$root/init"

# fio, iproute2's ip and rdma for the NVMe and NFS over RDMA cases, and
# for the NFS one nfs-kernel-server's exportfs, rpc.mountd and rpc.nfsd
# and nfs-common's mount.nfs4, each with every library it links, at the
# path the loader looks for it.  In /bin they take the place of
# busybox's applets of the same name.  The RPC library reads the
# transports it may use from /etc/netconfig.
# (The arm64 initramfs has its fio already.)
if [ "${ARCH:-x86_64}" != arm64 ]; then
	cp /etc/netconfig "$root/etc/netconfig"
fi
[ "${ARCH:-x86_64}" = arm64 ] ||
for prog in fio ip rdma exportfs rpc.mountd rpc.nfsd mount.nfs4; do
	path=$(PATH=$PATH:/usr/sbin:/sbin command -v "$prog")
	cp "$path" "$root/bin/$prog"
	ldd "$path" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' |
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
