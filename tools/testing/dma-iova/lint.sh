#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make lint": the reviewer's gates on the exported series (out/series).
#  - scripts/checkpatch.pl --strict: no error, warning or check per patch;
#  - scripts/kernel-doc -none -Wall: no warning in the files the series
#    adds, and none more than the base has in the files it edits;
#  - W=1 and sparse (C=2): no warning in the C files the series touches,
#    but those of lint-known-warnings, which the base has already;
#  - every patch builds: the series is built commit by commit,
#    incrementally, with the configuration of "make build" without
#    rdma.config (kernel/configs/dma-iova-test.config alone, which keeps
#    the build of each patch in ccache across runs); the tip also with
#    CONFIG_DMA_IOVA=n and with CONFIG_IOMMU_SUPPORT=n; and each patch
#    that touches the RDMA core or its tests builds drivers/infiniband/,
#    drivers/nvme/ and lib/tests/ with the full configuration and mlx5.
# One line per gate, then "N passed, N failed".
#
# Usage: lint.sh TREE KBUILD
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
tree=$(readlink -f "$1") kbuild=$(readlink -f "$2")
root=$(dirname "$(dirname "$(dirname "$here")")")
series=$root/out/series
logs=$root/build/logs
mkdir -p "$logs"
base=$("$here/dma_iova_tree.py" base)
passed=0 failed=0
cc=gcc
command -v ccache > /dev/null && cc="ccache gcc"

report() {		# report RC WHAT [DETAIL]
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok    %s\n' "$2"
	else
		failed=$((failed + 1))
		printf 'FAIL  %s\n' "$2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/      /'
	fi
}

cd "$tree" || exit 1
# checkpatch's SPDX check needs ply from Debian's python3-ply: use Debian's
# python3, not another one earlier in PATH.
export PATH=/usr/bin:$PATH

# checkpatch, one line per patch.
# git format-patch names them NNNN-*.patch, or vN-NNNN-*.patch from v2 on.
for p in "$series"/*.patch; do
	case ${p##*/} in *0000-cover-letter.patch) continue ;; esac
	out=$(./scripts/checkpatch.pl --strict --showfile -q "$p" 2>&1)
	sum=$(./scripts/checkpatch.pl --strict "$p" 2>&1 | grep '^total:')
	[ -z "$out" ]
	report $? "checkpatch ${p##*/} ($sum)" "$out"
done

# The files the series adds, and the upstream files it edits.
added=$(git diff --name-only --diff-filter=A "$base" HEAD)
edited=$(git diff --name-only --diff-filter=M "$base" HEAD)

# kernel-doc
for f in $added $edited; do
	case $f in *.c|*.h) ;; *) continue ;; esac
	now=$(./scripts/kernel-doc -none -Wall "$f" 2>&1)
	before=0
	if echo "$edited" | grep -qx "$f"; then
		before=$(git show "$base:$f" > "$logs/kdoc.tmp" &&
			 ./scripts/kernel-doc -none -Wall "$logs/kdoc.tmp" 2>&1 | wc -l)
	fi
	[ "$(printf '%s' "$now" | grep -c .)" -le "$before" ]
	report $? "kernel-doc $f" "$now"
done

# The documentation renders: make htmldocs of core-api (where dma-iova.rst
# pulls in the kernel-doc of the header and of kernel/dma/dma-iova.c)
# without a warning about the series' files.  The base's own warnings in
# core-api (a toctree entry outside SPHINXDIRS) are not the series'.
rm -rf "$logs/htmldocs"
PATH=/usr/bin:$PATH make -s O="$logs/htmldocs" htmldocs SPHINXDIRS=core-api \
	> "$logs/htmldocs.log" 2>&1
rc=$?
out=$(grep -E 'WARNING|ERROR' "$logs/htmldocs.log" | grep -E 'dma-iova|dma_iova')
[ $rc -eq 0 ] && [ -z "$out" ]
report $? "htmldocs core-api (dma-iova.rst)" "${out:-$(tail -5 "$logs/htmldocs.log")}"

# Drop the warnings of lint-known-warnings: the base has them already.
filter_known() {
	awk -v tree="$tree/" -v known="$here/lint-known-warnings" '
		BEGIN {
			while ((getline l < known) > 0)
				if (l !~ /^#/ && l != "")
					k[l] = 1
		}
		{
			s = $0
			if (index(s, tree) == 1)
				s = substr(s, length(tree) + 1)
			sub(/:[0-9]+:[0-9]+: /, ": ", s)
			if (!(s in k))
				print
		}'
}

# W=1 and sparse on each touched C file that the test configuration builds.
for f in $added $edited; do
	case $f in *.c) ;; *) continue ;; esac
	obj=${f%.c}.o
	[ -e "$kbuild/$obj" ] || continue
	out=$(make -s O="$kbuild" CC="$cc" W=1 C=2 "$obj" 2>&1 |
	      grep -E 'warning:|error:' | filter_known)
	[ -z "$out" ]
	report $? "W=1 C=2 $obj" "$out"
done

# Every patch builds: check the series out commit by commit in the tree
# and build each incrementally in the build directory of "make build",
# then come back to the tip.
build_at() {		# build_at COMMIT CONFIG WHAT TARGETS...
	local c=$1 config=$2 what=$3 out
	shift 3
	git checkout -q --detach "$c"
	cp "$config" "$kbuild/.config"
	out=$(make -s O="$kbuild" CC="$cc" olddefconfig 2>&1 &&
	      make -s O="$kbuild" CC="$cc" -j"$(nproc)" "$@" 2>&1 |
	      grep -E 'warning:|error:|Error [0-9]')
	[ -z "$out" ]
	report $? "$what $(git log -1 --format='%h %s' "$c")" "$out"
}

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	report 1 "build per patch" "build/linux has uncommitted edits"
else
	tip=$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)
	cp "$kbuild/.config" "$logs/tip.config"
	# The test configuration without rdma.config, as kunit.py makes it.
	rm -rf "$logs/config"
	(./tools/testing/kunit/kunit.py config --build_dir="$logs/config" \
		--kunitconfig=kernel/configs/dma-iova-test.config \
		--qemu_config="$here/qemu_configs/x86_64_dma.py" \
		--make_options CC="$cc") > "$logs/config.log" 2>&1
	report $? "configuration without rdma.config" "$(tail -5 "$logs/config.log")"
	cp "$logs/config/.config" "$logs/base.config"

	for c in $(git rev-list --reverse "$base..HEAD"); do
		build_at "$c" "$logs/base.config" build bzImage
	done

	# The tip also builds without CONFIG_DMA_IOVA (every range is then
	# mapped per piece) and without the IOMMU DMA layer at all.
	git checkout -q "$tip"
	for off in DMA_IOVA IOMMU_SUPPORT; do
		cp "$logs/base.config" "$logs/off.config"
		./scripts/config --file "$logs/off.config" -d "$off"
		build_at HEAD "$logs/off.config" "build with CONFIG_$off=n:" \
			bzImage
	done

	# The RDMA core and its tests, at each patch that touches them, with
	# mlx5, whose ODP code the series edits and which no test
	# configuration enables.
	cp "$logs/tip.config" "$logs/rdma.config"
	./scripts/config --file "$logs/rdma.config" -e NET_VENDOR_MELLANOX \
		-e MLX5_CORE -e MLX5_INFINIBAND
	for c in $(git rev-list --reverse "$base..HEAD" -- drivers/infiniband \
		   include/rdma lib/tests/dma_iova_edu.c \
		   lib/tests/dma_iova_rdma_kunit.c); do
		build_at "$c" "$logs/rdma.config" \
			"build RDMA (mlx5 too), NVMe and tests of" \
			drivers/infiniband/ drivers/nvme/ lib/tests/
	done
	git checkout -q "$tip"
	cp "$logs/tip.config" "$kbuild/.config"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
