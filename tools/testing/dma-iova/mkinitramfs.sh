#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test initramfs: busybox-static, fio with every library it
# links, the /init of this directory and the fio jobs.
#
# Usage: mkinitramfs.sh OUTPUT.cpio
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
out=$(readlink -f "$1")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,etc/fio,proc,sys,tmp,lib64}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
cp "$here/verify.fio" "$here/run.fio" "$root/etc/fio/"

fio=$(command -v fio)
cp "$fio" "$root/bin/fio"
# Every library fio links, at the path the loader looks for it.
ldd "$fio" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' |
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
