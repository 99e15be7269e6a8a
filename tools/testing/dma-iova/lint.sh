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
#    incrementally, with the configuration of "make build" (the SMP test
#    kernel) and with that of the arm64 test kernel (vmlinux.o); the tip
#    also with CONFIG_DMA_IOVA=n, with CONFIG_IOMMU_SUPPORT=n and for
#    arm64 with 64 KiB pages; and each patch that touches the RDMA core
#    or its tests builds drivers/infiniband/, drivers/nvme/ and
#    lib/tests/ with mlx5 too.
#    CI sets LINT_KERNELS="" (no other kernel, no mlx5) and
#    LINT_PATCH_TARGET=touched: each patch compiles the objects of the
#    C files the series adds or edits (those the test kernel builds),
#    which a header the patch changes rebuilds too, and only the tip
#    is built whole and linked into a bzImage.  (vmlinux_o compiles
#    every object of each patch into vmlinux.o, without the link.)
# DMA_IOVA_DEADLINE=T (seconds since the epoch; CI sets it) starts no
# build after T: those left are reported as skipped, with the reason.
# One line per gate, then "N passed, N failed" (", N skipped").
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
passed=0 failed=0 skipped=0
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

# late WHAT: true, with WHAT reported as skipped, past DMA_IOVA_DEADLINE.
late() {
	[ -n "${DMA_IOVA_DEADLINE:-}" ] &&
		[ "$(date +%s)" -ge "$DMA_IOVA_DEADLINE" ] || return 1
	skipped=$((skipped + 1))
	printf 'SKIP  %s (out of CI time)\n' "$1"
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
if ! late "htmldocs core-api (dma-iova.rst)"; then
	rm -rf "$logs/htmldocs"
	PATH=/usr/bin:$PATH make -s O="$logs/htmldocs" htmldocs \
		SPHINXDIRS=core-api > "$logs/htmldocs.log" 2>&1
	rc=$?
	out=$(grep -E 'WARNING|ERROR' "$logs/htmldocs.log" |
	      grep -E 'dma-iova|dma_iova')
	[ $rc -eq 0 ] && [ -z "$out" ]
	report $? "htmldocs core-api (dma-iova.rst)" \
		"${out:-$(tail -5 "$logs/htmldocs.log")}"
fi

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
	late "W=1 C=2 $obj" && continue
	out=$(make -s O="$kbuild" CC="$cc" W=1 C=2 "$obj" 2>&1 |
	      grep -E 'warning:|error:' | filter_known)
	[ -z "$out" ]
	report $? "W=1 C=2 $obj" "$out"
done

# Every patch builds: check the series out commit by commit in the tree
# and build each incrementally, then come back to the tip.
# The make variables of the build: $cc for x86_64, or those set_arch
# sets.
kmake=(CC="$cc")
set_arch() {		# set_arch ARCH CROSS_COMPILE
	kmake=(ARCH="$1" CROSS_COMPILE="$2")
	command -v ccache > /dev/null && kmake+=(CC="ccache ${2}gcc")
}

build_at() {		# build_at COMMIT CONFIG KBUILD WHAT TARGETS...
	local c=$1 config=$2 dir=$3 what=$4 out
	shift 4
	late "$what $(git log -1 --format='%h %s' "$c")" && return
	git checkout -q --detach "$c"
	mkdir -p "$dir"
	cp "$config" "$dir/.config"
	out=$(make -s O="$dir" "${kmake[@]}" olddefconfig 2>&1 &&
	      make -s O="$dir" "${kmake[@]}" -j"$(nproc)" "$@" 2>&1 |
	      grep -E 'warning:|error:|Error [0-9]')
	[ -z "$out" ]
	report $? "$what $(git log -1 --format='%h %s' "$c")" "$out"
}

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	report 1 "build per patch" "build/linux has uncommitted edits"
else
	tip=$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)
	# The configuration of the x86_64 test kernel, in its build
	# directory: its objects, in ccache from "make build", serve the
	# first and the last patch, and each build of a patch serves the
	# next run.
	# LINT_PATCH_TARGET=vmlinux_o compiles every object of each patch
	# into vmlinux.o without the final link (kallsyms, bzImage);
	# LINT_PATCH_TARGET=touched (what CI does) only the objects of the
	# series' C files that the tip builds and the patch has.  The tip
	# is built whole and linked in any case.
	cp "$kbuild/.config" "$logs/tip.config"
	touched=
	for f in $added $edited; do
		case $f in *.c) ;; *) continue ;; esac
		[ -e "$kbuild/${f%.c}.o" ] && touched="$touched $f"
	done
	mode=${LINT_PATCH_TARGET:-bzImage}
	for c in $(git rev-list --reverse "$base..HEAD"); do
		targets=("$mode")
		[ "$c" = "$(git rev-parse "$tip")" ] && mode=bzImage targets=(bzImage)
		if [ "$mode" = touched ]; then
			targets=()
			for f in $touched; do
				git cat-file -e "$c:$f" 2> /dev/null &&
					targets+=("${f%.c}.o")
			done
			# A patch of none of these files: make's
			# preparation of the tree is still checked.
			[ ${#targets[@]} -gt 0 ] || targets=(prepare)
		fi
		build_at "$c" "$logs/tip.config" "$kbuild" "build ($mode)" \
			"${targets[@]}"
	done
	git checkout -q "$tip"

	# The tip also builds without CONFIG_DMA_IOVA (every range is then
	# mapped per piece: the noiova setup's kernel, which make check
	# boots, so the two share their objects) and without the IOMMU DMA
	# layer at all, on arm64 (the SMMUv3 setups' kernel), and on arm64
	# with 64 KiB pages.
	# LINT_KERNELS="" (what CI does) skips these builds, and those with
	# mlx5 below.
	kernels=${LINT_KERNELS-x86_64-noiova arm64 arm64-64k noiommu mlx5}
	for k in $kernels; do
		[ "$k" = mlx5 ] && continue
		if [ "$k" = arm64 ]; then
			# Every patch for arm64 too, with the arm64 test
			# kernel's configuration, in its build directory.
			out=$("$here/matrix.py" build arm64 2>&1)
			report $? "build the arm64 kernel of matrix.py" "$out"
			akbuild=$("$here/matrix.py" kernel arm64 kbuild)
			cp "$akbuild/.config" "$logs/arm64.config"
			set_arch arm64 aarch64-linux-gnu-
			for c in $(git rev-list --reverse "$base..HEAD"); do
				build_at "$c" "$logs/arm64.config" "$akbuild" \
					"build arm64 (vmlinux_o)" vmlinux_o
			done
			kmake=(CC="$cc")
			git checkout -q "$tip"
		fi
		if [ "$k" = noiommu ]; then
			cp "$logs/tip.config" "$logs/off.config"
			./scripts/config --file "$logs/off.config" -d IOMMU_SUPPORT
			build_at HEAD "$logs/off.config" "$root/build/kernel-noiommu" \
				"build with CONFIG_IOMMU_SUPPORT=n:" bzImage
			continue
		fi
		out=$("$here/matrix.py" build "$k" 2>&1)
		report $? "build the $k kernel of matrix.py at the tip" "$out"
	done

	# Without CONFIG_DMA_IOVA the series' files take their other
	# branches: when the noiova kernel is not built above (CI), its
	# objects of the series' C files are, at the tip (a helper of the
	# tests once built only with the option, and the noiova kernel of
	# make check did not build).
	case " $kernels " in
	*" x86_64-noiova "*) ;;
	*)
		cp "$logs/tip.config" "$logs/noiova.config"
		./scripts/config --file "$logs/noiova.config" -d DMA_IOVA
		targets=()
		for f in $touched; do
			targets+=("${f%.c}.o")
		done
		build_at HEAD "$logs/noiova.config" \
			"$root/build/kernel-noiova-objects" \
			"build the series' objects without CONFIG_DMA_IOVA:" \
			"${targets[@]}"
		git checkout -q "$tip"
		;;
	esac

	# The RDMA core and its tests, at each patch that touches them, with
	# mlx5, whose ODP code the series edits and which no test
	# configuration enables.
	cp "$logs/tip.config" "$logs/rdma.config"
	./scripts/config --file "$logs/rdma.config" -e NET_VENDOR_MELLANOX \
		-e MLX5_CORE -e MLX5_INFINIBAND
	case " $kernels " in *" mlx5 "*) ;; *) commits= ;; esac
	for c in ${commits-$(git rev-list --reverse "$base..HEAD" -- \
		   drivers/infiniband include/rdma lib/tests/dma_iova_edu.c \
		   lib/tests/dma_iova_rdma_kunit.c)}; do
		build_at "$c" "$logs/rdma.config" "$root/build/kernel-mlx5" \
			"build RDMA (mlx5 too), NVMe and tests of" \
			drivers/infiniband/ drivers/nvme/ lib/tests/
	done
	git checkout -q "$tip"
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped (out of CI time)"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
