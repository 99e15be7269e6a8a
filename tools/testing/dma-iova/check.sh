#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": run the project's KUnit suites, then boot the kernel in
# every DMA setup with verified NVMe I/O, in two with NVMe over RDMA and
# in one with NFS over RDMA.
# One line per case, then "N passed, N failed"; non-zero exit on any
# failure.  For CI systems the same results go to build/logs/check.tap
# (TAP, one test point per case) and each KUnit run's results to
# build/logs/kunit-SETUP.json (kunit.py's JSON).
#
# Each setup runs on a kernel of matrix.py: the x86_64 test kernel,
# which "make build" has built, or another one (the option off, arm64,
# arm64 with 64 KiB pages), which is built here when a setup first
# needs it.
#
# Usage: check.sh TREE
# SETUPS="name ..." in the environment limits the run to those setups,
# RDMA_SETUPS="name ..." the NVMe over RDMA case ("" skips it),
# NFS_SETUPS="name ..." the NFS over RDMA case ("" skips it), and
# INJECT=1 adds the inject setup (on a kernel built with harness.config).
# DMA_IOVA_DEADLINE=T (seconds since the epoch; CI sets it) starts no
# case after T: the cases left are reported as skipped, not failed, with
# the reason, so that a CI run on a machine whose ccache is cold (the
# test kernel alone then takes most of CI's time) ends in time and says
# what it did not run.
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
tree=$(readlink -f "$1")
matrix=$here/matrix.py
initramfs=$(dirname "$tree")/initramfs.cpio
logs=$(dirname "$tree")/logs
kunitconfig=kernel/configs/dma-iova-test.config
mkdir -p "$logs"
passed=0 failed=0 skipped=0
tap=$logs/check.tap
echo 'TAP version 13' > "$tap"
# One line of names separated by single spaces.
# shellcheck disable=SC2086 # splitting the list is the point
setups=$(echo ${SETUPS:-$("$matrix" names)})
# The inject setup runs only when asked for (make check INJECT=1), and
# then on a kernel with fault injection: a build directory left from
# another configuration must not decide it.
case " $setups " in
*" inject "*)
	if [ -z "${INJECT:-}" ]; then
		echo "inject: not run (make check INJECT=1 runs it)"
		setups=$(echo "$setups" | tr ' ' '\n' | grep -vx inject | paste -sd' ')
	elif ! grep -q '^CONFIG_FAULT_INJECTION_DEBUG_FS=y' \
		"$("$matrix" kernel x86_64 config)"; then
		echo "inject: INJECT=1 but the x86_64 kernel lacks CONFIG_FAULT_INJECTION_DEBUG_FS" >&2
		exit 1
	fi
	;;
esac

# over_budget NAME: true, with the case reported as skipped, if it would
# start after DMA_IOVA_DEADLINE.
over_budget() {
	local now

	now=$(date +%s)
	[ -n "${DMA_IOVA_DEADLINE:-}" ] && [ "$now" -ge "$DMA_IOVA_DEADLINE" ] ||
		return 1
	skipped=$((skipped + 1))
	printf 'SKIP  %-20s out of CI time (%ss past the deadline)\n' "$1" \
		$((now - DMA_IOVA_DEADLINE))
	echo "ok $((passed + failed + skipped)) - $1 # SKIP out of CI time" >> "$tap"
}

# count RC NAME: tally a case and write its TAP test point.
count() {
	local n=$((passed + failed + skipped + 1))

	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2" >> "$tap"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2" >> "$tap"
	fi
}

# kernel_of SETUP: set $kernel to the name of the setup's kernel and
# $kbuild to its build directory, building it if this run has not yet
# ("make build" built x86_64); fail, and so do the setup's cases, if it
# does not build.
built=" x86_64 " broken=" "
kernel_of() {
	local k

	kernel= kbuild=
	k=$("$matrix" field "$1" kernel) || return 1
	case $broken in *" $k "*) return 1 ;; esac
	case $built in
	*" $k "*) ;;
	*)
		echo "  BUILD   the $k kernel, for $1"
		if ! "$matrix" build "$k"; then
			broken="$broken$k "
			return 1
		fi
		built="$built$k "
		;;
	esac
	kernel=$k
	kbuild=$("$matrix" kernel "$k" kbuild)
}

# KUnit: every suite the test config enables, in every DMA setup.  The
# suites' names start with dma_iova.
if grep -q '^CONFIG_.*KUNIT_TEST=y' "$tree/$kunitconfig"; then
	for s in $setups; do
		log=$logs/kunit-$s.log raw=$logs/kunit-$s.raw.log
		over_budget "kunit/$s" && continue
		if ! kernel_of "$s"; then
			printf 'FAIL  kunit/%-14s its kernel did not build\n' "$s"
			count 1 "kunit/$s"
			continue
		fi
		(cd "$tree" && DMA_IOVA_SETUP=$s ./tools/testing/kunit/kunit.py exec \
			--build_dir="$kbuild" \
			--qemu_config="$here/qemu_configs/dma.py" \
			--timeout=900 --raw_output=all 'dma_iova*') > "$raw" 2>&1
		(cd "$tree" && ./tools/testing/kunit/kunit.py parse \
			--json="$logs/kunit-$s.json" "$raw") > "$log" 2>&1
		rc=$?
		grep -E '^\[[0-9:]+\] +(\[(PASSED|FAILED|SKIPPED|CRASHED)\]|=+ .* =+|(# )?Testing complete|ok|not ok)' \
			"$log" | sed "s/^/  [$s] /"
		summary=$(grep -o 'Testing complete\..*' "$log" | tail -1)
		# The contract cases trip WARN_ON_ONCE() in kernel/dma/dma-iova.c
		# on purpose, between the lines "dma_iova_kunit: expected
		# warnings begin" and "... end" that each such case prints; the
		# DMA-after-unmap case makes the IOMMU report faults between
		# "expected IOMMU faults begin" and "... end", and must see one
		# there: a fault the guest's IOMMU driver reports, or a DMA that
		# QEMU's IOMMU rejected (QEMU 7.2's amd-iommu blocks it but logs
		# no event).  Any other warning, fault or report fails the run.
		# log-errors lists what no kernel log may hold.
		skip='kernel/dma/dma-iova.c:[0-9]|Call Trace:'
		faults='DMAR: DRHD: handling fault|AMD-Vi: Event logged|fault from EP'
		rejected='Invalid (read|write) at addr .*reason: rejected'
		checked=$logs/kunit-$s.checked.log
		# One pass: the lines that count go to $checked, and the number
		# of fault reports inside the fault region is printed at the end.
		seen=$(awk -v skip="$skip" -v faults="$faults" \
			   -v rejected="$rejected" -v out="$checked" '
			/dma_iova_kunit: expected warnings begin/ { w = 1 }
			/dma_iova_kunit: expected warnings end/ { w = 0 }
			/dma_iova_kunit: expected IOMMU faults begin/ { f = 1 }
			/dma_iova_kunit: expected IOMMU faults end/ { f = 0 }
			f && ($0 ~ faults || $0 ~ rejected) { n++ }
			(w && $0 ~ skip) || (f && $0 ~ faults) { next }
			{ print > out }
			END { print n + 0 }' "$raw")
		bad=$(grep -m1 -E -f "$here/log-errors" "$checked")
		if [ $rc -eq 0 ] && [ -n "$bad" ]; then
			rc=1 summary="$summary; log: $bad"
		fi
		if [ $rc -eq 0 ] && [ "$seen" -eq 0 ] &&
		   grep -q '\[PASSED\] dma_iova_test_dma_after_unmap' "$log"; then
			rc=1 summary="$summary; DMA after unmap: the IOMMU reported no fault"
		fi
		# A skip that kunit-skips does not expect in this setup fails.
		if [ $rc -eq 0 ] &&
		   ! unexpected=$("$here/kunit-skips.py" "$logs/kunit-$s.json" "$s"); then
			rc=1 summary="$summary; $(echo "$unexpected" | head -1)"
		fi
		if [ $rc -eq 0 ]; then
			printf 'ok    kunit/%-14s %s\n' "$s" "$summary"
		else
			printf 'FAIL  kunit/%-14s %s (log: %s)\n' "$s" \
				"${summary:-no result}" "$raw"
			"$here/log-report.sh" "$checked"
		fi
		count $rc "kunit/$s"
	done
else
	echo "KUnit: $kunitconfig enables no suite of the project yet"
fi

# Boot matrix: verified O_DIRECT NVMe I/O in each DMA setup.  The arm64
# setups boot an initramfs of Debian's arm64 busybox and fio, made here.
arm64_initramfs=
for s in $setups; do
	over_budget "$s" && continue
	if ! kernel_of "$s"; then
		printf 'FAIL  %-14s its kernel did not build\n' "$s"
		count 1 "$s"
		continue
	fi
	ramfs=$initramfs
	if [[ $kernel == arm64* ]]; then
		ramfs=$(dirname "$tree")/initramfs-arm64.cpio
		if [ -z "$arm64_initramfs" ] &&
		   ! ARCH=arm64 "$here/mkinitramfs.sh" "$ramfs"; then
			printf 'FAIL  %-14s no arm64 initramfs\n' "$s"
			count 1 "$s"
			continue
		fi
		arm64_initramfs=$ramfs
	fi
	"$here/boot.sh" "$ramfs" "$s" verify "$logs"
	count $? "$s"
done

# NVMe over RDMA in loopback, if the kernel has rdma.config's options:
# in the setups of RDMA_SETUPS (default: none and intel-strict), with
# and without MRs for the target's buffers; NFS over RDMA the same way
# in the setups of NFS_SETUPS (default: none; Soft-RoCE maps nothing
# through the IOMMU, so one setup is enough).
if grep -q '^CONFIG_NVME_TARGET_RDMA=y' "$("$matrix" kernel x86_64 config)"; then
	for s in ${RDMA_SETUPS-none intel-strict}; do
		for m in rdma rdma-mr; do
			over_budget "$m/$s" && continue
			"$here/boot.sh" "$initramfs" "$s" $m "$logs/$m"
			count $? "$m/$s"
		done
	done
	nfs_setups=${NFS_SETUPS-none}
	if ! grep -q '^CONFIG_SUNRPC_XPRT_RDMA=y' "$("$matrix" kernel x86_64 config)"; then
		echo "nfs: the kernel lacks the NFS options of rdma.config; not run"
		nfs_setups=
	fi
	for s in $nfs_setups; do
		for m in nfs nfs-mr; do
			over_budget "$m/$s" && continue
			"$here/boot.sh" "$initramfs" "$s" $m "$logs/$m"
			count $? "$m/$s"
		done
	done
else
	echo "rdma: the kernel lacks the options of rdma.config; not run"
fi

echo "1..$((passed + failed + skipped))" >> "$tap"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped (out of CI time)"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
