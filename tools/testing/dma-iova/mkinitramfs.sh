#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build an initramfs: busybox-static, fio and iproute2's ip and rdma with
# every library they link, the fio jobs and an /init.
#
# Usage: mkinitramfs.sh OUTPUT.cpio [TREE]
#   without TREE: the test initramfs, /init is "init" of this directory;
#   with TREE:    the benchmark initramfs, /init is "bench-init", plus
#                 the DMA map benchmark tool built from TREE.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
out=$(readlink -f "$1")
tree=${2:+$(readlink -f "$2")}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,etc/fio,proc,sys,tmp,lib64}
cp /bin/busybox "$root/bin/busybox"
cp "$here"/*.fio "$root/etc/fio/"
if [ -z "$tree" ]; then
	cp "$here/init" "$root/init"
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

# fio, and iproute2's ip and rdma for the NVMe over RDMA case, each with
# every library it links, at the path the loader looks for it.  In /bin
# they take the place of busybox's applets of the same name.
for prog in fio ip rdma; do
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
