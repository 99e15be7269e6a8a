#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel under QEMU (TCG) in one DMA setup with the test
# initramfs over an emulated NVMe disk, and judge the run from the log.
#
# Usage: boot.sh INITRAMFS SETUP MODE LOGDIR
#   SETUP  a name from the "setups" file of this directory; the kernel
#          is the setup's kernel of matrix.py, as built
#   MODE   verify: fio verify jobs with PRPs, with SGLs and across a
#          controller reset, on a plain and a metadata namespace;
#          vectored O_DIRECT of every size; then on the plain one
#          verified I/O across a reset to shallower queues and one
#          back, a PCI remove and rescan, and a PCI function reset
#          run:    a short workload whose fio summary is shown
#          rdma:   NVMe over RDMA in loopback inside the guest (Soft-RoCE
#                  on a dummy netdev, the nvmet-rdma target over
#                  null_blk): fio verify jobs on the connected namespace;
#                  needs a kernel with the options of rdma.config
#          rdma-mr: as rdma, with every RDMA READ/WRITE buffer of the
#                  target registered with MRs (ib_core.force_mr=1), as
#                  on iWARP
#          nfs:    NFS over RDMA in loopback inside the guest (the NFS
#                  server exporting a tmpfs over Soft-RoCE, the NFS
#                  client mounting it with proto=rdma6): fio verify jobs
#                  on the mount, O_DIRECT and buffered, read back again
#                  after a fresh mount; the server's RDMA READ/WRITE
#                  contexts must all come from bio_vecs; needs a kernel
#                  with the options of rdma.config
#          nfs-mr: as nfs, with the server's buffers registered with MRs
#
# The case fails on a missing disk, a fio error, a verify run in which
# the device read no SGL (QEMU traces the commands it maps from SGLs), a
# kernel warning, BUG, KASAN, UBSAN or lockdep report (but for the base
# kernel's that known-reports lists), a DMA-API debug error, a kmemleak
# report, an IOMMU fault or a QEMU guest error.
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
initramfs=$1 setup=$2 mode=$3 logdir=$4
timeout=${DMA_IOVA_BOOT_TIMEOUT:-900}

# The setup's machine, kernel and command line, from matrix.py.
mapfile -t machine < <("$here/matrix.py" qemu "$setup")
[ ${#machine[@]} -gt 0 ] || exit 2
kernel=$("$here/matrix.py" field "$setup" kernel)
image=$("$here/matrix.py" kernel "$kernel" image)
console=$("$here/matrix.py" kernel "$kernel" console)
cmdline=$("$here/matrix.py" field "$setup" cmdline)
case $mode in
*-mr) cmdline="$cmdline ib_core.force_mr=1" ;;
esac
# The seed of fio's offsets and sizes: fixed, so that a failing case can
# be run again as it ran (DMA_IOVA_SEED=N picks another).
cmdline="$cmdline dma_iova_seed=${DMA_IOVA_SEED:-1}"
expect=$("$here/matrix.py" field "$setup" expect)

mkdir -p "$logdir"
log=$logdir/$setup.log
qlog=$logdir/$setup.qemu.log
disk=$logdir/$setup.disk
mdisk=$logdir/$setup.meta.disk
rm -f "$disk" "$mdisk" "$qlog"
truncate -s 256M "$disk" "$mdisk"

start=$(date +%s)
timeout --foreground "$timeout" "${machine[@]}" \
	-nodefaults -nographic -no-reboot -serial stdio \
	-device nvme,id=nvme0,serial=dmaiova,mdts=10 \
	-drive file="$disk",if=none,id=disk0,format=raw,cache=unsafe \
	-device nvme-ns,bus=nvme0,drive=disk0,nsid=1 \
	-drive file="$mdisk",if=none,id=disk1,format=raw,cache=unsafe \
	-device nvme-ns,bus=nvme0,drive=disk1,nsid=2,ms=8,pi=1 \
	-d guest_errors -D "$qlog" -trace enable=pci_nvme_map_sgl \
	-kernel "$image" -initrd "$initramfs" \
	-append "console=$console panic=-1 oops=panic kunit.enable=0 dma_iova.stats=1 dmatest=$mode $cmdline" \
	< /dev/null > "$log" 2>&1
qrc=$?
secs=$(( $(date +%s) - start ))
sed -i 's/\r$//' "$log"
# A kernel message printed while init writes a result line can land
# between "DMA-IOVA-RESULT " and its key=value, which then starts the
# next line: put the two back together, the message after them.
perl -0pi -e 's/^(DMA-IOVA-RESULT )(?![a-z_0-9]+=)(.*)\n([a-z_0-9]+=\S*)\n/$1$3\n$2\n/mg' "$log"
rm -f "$disk" "$mdisk"

problems=()
[ $qrc -eq 124 ] && problems+=("timed out after ${timeout}s")
grep -q '^DMA-IOVA-DONE' "$log" || problems+=("did not finish")
wants="nvme=present fio=0 unbind=0 counters=balanced"
[ "$mode" = verify ] &&
	wants="$wants reset=0 shallow=0 shallow_sqsize=15 restore=0 pci_reset=0 remove=0 rescan=0 counters_rescan=balanced premap_fio=0 premap_churn=0 premap_balanced=yes premap_reset=0 premap_revoked=yes counters_unbind=balanced"
label=$setup
# Only the verify run premaps io_uring buffers (init's premap_checks).
[ "$mode" = verify ] || expect=$(echo "$expect" | sed 's/ *premap=[^ ]*//')
# Soft-RoCE maps nothing for DMA (ib_uses_virt_dma()): of what the
# setup expects, only the NVMe PCI disk's IOMMU domain applies.
case $mode in
rdma*)	wants="$wants rdma=connected disconnect=0" ;;
nfs*)	wants="$wants nfs=mounted reread=all nfs_connects=1 unmount=0" ;;
esac
case $mode in
rdma*|nfs*)
	wants="$wants rdma_errors=0 teardown=0 rdma_rw=used"
	[[ $mode == *-mr ]] && wants="$wants rdma_rw_mr=used"
	expect=$(echo "$expect" | grep -o 'domain=[^ ]*')
	label=$mode/$setup
	;;
esac
for want in $wants kmemleak=0 dma_api_errors=0 $expect; do
	grep -q "^DMA-IOVA-RESULT $want\$" "$log" ||
		problems+=("$(grep -o "^DMA-IOVA-RESULT ${want%%=*}=.*" "$log" |
			      cut -d' ' -f2 | head -1 || true)")
done
# Reports of the base kernel that known-reports lists exactly do not
# count; the ok line names them.  Each is a lockdep report, after which
# lockdep checks nothing more in that boot: the ok line says so.
checked=$logdir/$setup.checked.log
"$here/known-reports.sh" "$log" > "$checked"
known=$(grep '^DMA-IOVA-KNOWN ' "$checked" | cut -d' ' -f2 | sort -u |
	paste -sd, -)
bad=$(grep -m1 -E -f "$here/log-errors" "$checked")
[ -n "$bad" ] && problems+=("log: $bad")
# The QEMU log holds guest errors and the device's trace of the commands
# it read SGLs for: nvme-pci sends SGLs only in the pass with
# sgl_threshold=1, so a verify run without any did not test them.
sgls=$(grep -c '^pci_nvme_map_sgl ' "$qlog")
if [ "$mode" = verify ] && [ "$sgls" -eq 0 ]; then
	problems+=("sgl=unused (the device read no SGL)")
fi
qerr=$(grep -v -m1 '^pci_nvme_map_sgl ' "$qlog")
[ -n "$qerr" ] && problems+=("qemu: $qerr")

if [ "$mode" = run ]; then
	sed -n '/^rand-4k-qd16\|^seq-1m-qd4\|^Run status/,/^DMA-IOVA-RESULT fio/p' \
		"$log" | grep -v '^DMA-IOVA-RESULT'
	sed -n '/^DMA-IOVA-STATS-BEGIN/,/^DMA-IOVA-STATS-END/p' "$log" |
		grep -v '^DMA-IOVA-STATS'
fi

# Remove empty entries (a check whose line was missing altogether).
msgs=()
for p in "${problems[@]}"; do
	[ -n "$p" ] && msgs+=("$p")
done
[ ${#problems[@]} -gt ${#msgs[@]} ] && msgs+=("missing result lines")
jobs=$(grep -c '^DMA-IOVA-JOB' "$log")
if [ ${#msgs[@]} -eq 0 ]; then
	sglnote=
	[ "$sgls" -gt 0 ] && sglnote=", $sgls commands with SGLs"
	printf 'ok    %-14s %3ds  %s fio jobs verified%s%s\n' "$label" \
		"$secs" "$jobs" "$sglnote" "${known:+ (known base-kernel report: $known; lockdep was off after it, for the rest of the boot)}"
	exit 0
fi
printf 'FAIL  %-14s %3ds  %s (log: %s)\n' "$label" "$secs" \
	"$(IFS=';'; echo "${msgs[*]}")" "$log"
"$here/log-report.sh" "$checked"
exit 1
