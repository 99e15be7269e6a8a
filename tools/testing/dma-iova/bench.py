#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: build non-debug kernels, boot them under QEMU in several DMA
setups and print what the benchmarks measured, one table each.

map: the guest runs kernel/dma/map_benchmark.c through its tool on the edu
PCI device (bench-init): for each request size N (scattered 4 KiB
pages) and each mode it maps and unmaps a fixed number of requests,
several times; the table shows the median.  A second pass with the
IOMMU's trace events on counts the map calls, unmap calls and IOTLB
invalidation descriptors of each mode per request.

nvme: the base kernel and the patched one, built from the same (SMP)
configuration, run the same fio jobs (bench.fio) on the same emulated
NVMe disk; the table puts IOPS, completion latency, guest CPU time per
I/O, and requests, interrupts, context switches and idle entries per
I/O side by side, and IOTLB invalidations per request (VT-d, counted on
a short second run of each job with the trace event on).  The fixed-*
jobs use io_uring registered buffers, which the patched kernel premaps
for the disk (kernel.io_uring_premap=1).  Each kernel boots twice per setup: with one CPU
online for the one-thread jobs, and with two for the 2x jobs, one fio
thread and one NVMe I/O queue per CPU.  In setups where nvme-pci keeps
IOVA space per tag for transfers too large for the IOVA allocator's
caches, the patched kernel runs a third time without it
(nvme.iova_reserve_mb=0), and a second table compares the two.

By default QEMU runs with -icount shift=0: while the guest runs, its
clock counts guest instructions (one per ns), so CPU figures do not
depend on how busy the host is.  Work QEMU does outside the guest, such
as emulating an IOTLB invalidation, costs nothing in that clock: the
counts show it.  The map benchmark never idles and runs with sleep=off.
The nvme one waits for the emulated disk, and runs with sleep=on: idle
time then passes as on the host, so IOPS and latency are those the guest
sees (noisy, as the host is), while the guest's busy time, measured to
the nanosecond from NO_HZ idle accounting, is still its instructions.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import matrix

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.path.join(ROOT, 'build')
TREE = os.path.join(BUILD, 'linux')
MODES = ['sg', 'page', 'iova', 'iova-bvecs', 'iova-unlink', 'floor']


def log(msg):
    print(msg, flush=True)


def build_kernel(tree, kbuild, jobs):
    """Build a bzImage of @tree in @kbuild from bench.config."""
    config = os.path.join(HERE, 'bench.config')
    os.makedirs(kbuild, exist_ok=True)
    cc = 'ccache gcc' if shutil.which('ccache') else 'gcc'
    make = ['make', '-C', tree, f'O={kbuild}', f'CC={cc}', 'ARCH=x86_64']
    shutil.copy(config, os.path.join(kbuild, '.config'))
    logfile = os.path.join(BUILD, 'bench-build.log')
    with open(logfile, 'w') as out:
        for args in (['olddefconfig'], [f'-j{jobs}', 'bzImage']):
            if subprocess.run(make + args, stdout=out,
                              stderr=subprocess.STDOUT).returncode:
                sys.exit(f'bench: building {tree} failed, see {logfile}')
    # Like kunit.py: every option of the fragment the tree knows must be
    # set as asked.
    with open(os.path.join(kbuild, '.config')) as f:
        have = set(f.read().splitlines())
    with open(config) as f:
        want = [x.strip() for x in f if x.startswith('CONFIG_')]
    missing = [w for w in want if w not in have and
               not w.startswith('CONFIG_DMA_IOVA')]
    if missing:
        sys.exit(f'bench: {kbuild}/.config lacks {" ".join(missing)}')
    return os.path.join(kbuild, 'arch', 'x86', 'boot', 'bzImage')


def boot(kernel, initramfs, setup, cmdline, logfile, icount, disk=None):
    """Boot @kernel in @setup with @cmdline added; return its log lines.
    With @icount the guest clock counts instructions, and idle time
    passes as on the host unless @disk is None (nothing to wait for)."""
    s = matrix.setup(setup)
    if s.kernel.name != 'x86_64':
        sys.exit(f'bench: {setup}: the benchmarks run on x86_64 setups only')
    cmd = matrix.qemu(setup) + [
        '-nodefaults', '-nographic', '-no-reboot', '-serial', 'stdio',
        '-device', 'edu,dma_mask=0xffffffffffffffff',
        '-kernel', kernel, '-initrd', initramfs,
        # loglevel=3: no late kernel message (TSC calibration) in fio's JSON
        '-append', f'console=ttyS0 loglevel=3 panic=-1 {s.cmdline} {cmdline}']
    if disk:
        cmd += ['-device', 'nvme,id=nvme0,serial=dmaiova,mdts=10',
                '-drive', f'file={disk},if=none,id=disk0,format=raw,cache=unsafe',
                '-device', 'nvme-ns,bus=nvme0,drive=disk0,nsid=1']
    if icount:
        cmd += ['-icount', 'shift=0,sleep=' + ('on' if disk else 'off')]
    with open(logfile, 'w') as out:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                       stderr=subprocess.STDOUT, timeout=3600)
    with open(logfile, errors='replace') as f:
        lines = [x.rstrip('\r\n') for x in f]
    if not any(x.startswith('DMA-IOVA-BENCH-DONE') for x in lines):
        sys.exit(f'bench: {setup}: the guest did not finish, see {logfile}')
    for x in lines:
        if x.startswith('DMA-IOVA-BENCH-ERROR'):
            sys.exit(f'bench: {setup}: {x}')
    return lines


FIELDS = re.compile(r'(?:^|\s)([a-z][a-z/ ]*?)[:=](\S+)')


def parse(line):
    """'BENCH n=4 rep=1 mode:sg requests:.. map ns/request:..' -> dict."""
    return {k.strip(): v for k, v in FIELDS.findall(line)}


def map_results(lines):
    """{(n, mode): median ns per request} and {(n, mode): counts}."""
    times, counts = {}, {}
    for x in lines:
        if x.startswith('BENCH ') and 'error' not in x:
            d = parse(x)
            key = (int(d['n']), d['mode'])
            ns = int(d['map ns/request']) + int(d['unmap ns/request'])
            times.setdefault(key, []).append(ns)
        elif x.startswith('COUNT ') and 'error' not in x:
            d = parse(x)
            req = int(d['requests'])
            counts[(int(d['n']), d['mode'])] = tuple(
                int(d[k]) / req for k in ('maps', 'unmaps', 'invals'))
    return {k: statistics.median(v) for k, v in times.items()}, counts


def fmt_ns(v):
    return '-' if v is None else f'{v:,.0f}'


def fmt_ratio(a, b):
    return '-' if a is None or b is None or not b else f'{a / b:.2f}'


def map_table(results, ns, unit):
    head = (f'{"setup":<13} {"N":>4} ' +
            ' '.join(f'{m:>11}' for m in MODES) +
            f' {"sg/iova":>8} {"page/iova":>9} {"iova/floor":>10}'
            f' {"bvecs/sg":>8} {"bvecs/floor":>11}')
    out = [f'map + unmap per request ({unit}, median)', head,
           '-' * len(head)]
    for setup, (times, _) in results.items():
        for n in ns:
            t = {m: times.get((n, m)) for m in MODES}
            out.append(f'{setup:<13} {n:>4} ' +
                       ' '.join(f'{fmt_ns(t[m]):>11}' for m in MODES) +
                       f' {fmt_ratio(t["sg"], t["iova"]):>8}'
                       f' {fmt_ratio(t["page"], t["iova"]):>9}'
                       f' {fmt_ratio(t["iova"], t["floor"]):>10}'
                       f' {fmt_ratio(t["iova-bvecs"], t["sg"]):>8}'
                       f' {fmt_ratio(t["iova-bvecs"], t["floor"]):>11}')
    out.append('')
    head = (f'{"setup":<13} {"N":>4} ' +
            ' '.join(f'{m:>17}' for m in MODES))
    out += ['IOMMU map calls / unmap calls / IOTLB invalidation descriptors'
            ' per request', head, '-' * len(head)]
    for setup, (_, counts) in results.items():
        if not counts or not any(sum(c) for c in counts.values()):
            continue
        for n in ns:
            cells = []
            for m in MODES:
                c = counts.get((n, m))
                cells.append('-' if c is None else
                             '/'.join(f'{x:.4g}' for x in c))
            out.append(f'{setup:<13} {n:>4} ' +
                       ' '.join(f'{c:>17}' for c in cells))
    return '\n'.join(out)


def disk_requests(stat):
    """Reads and writes completed, from /sys/block/<disk>/stat."""
    f = [int(x) for x in stat.split()]
    return f[0] + f[4]


def nvme_results(lines):
    """{job: dict of figures} from the NVME-BENCH blocks of a guest log."""
    results, job, body = {}, None, []
    for x in lines:
        if x.startswith('NVME-BENCH-BEGIN '):
            job, body = x.split()[1], []
        elif x.startswith('NVME-BENCH-END ') and job:
            stat = {y.split()[0]: y for y in body if y.startswith('STAT')}
            text = '\n'.join(y for y in body if not y.startswith('STAT'))
            fio = json.loads(text[text.index('{'):])['jobs'][0]
            # "STATn <busy ns> IRQ <n> CS <n> IDLE <n> DISK <the disk's
            # stat file>"
            s0, d0 = stat['STAT0'].split(' ', 1)[1].split(' DISK ')
            s1, d1 = stat['STAT1'].split(' ', 1)[1].split(' DISK ')
            s0, _, i0, _, c0, _, n0 = s0.split()
            s1, _, i1, _, c1, _, n1 = s1.split()
            rw = fio['read'] if fio['read']['total_ios'] else fio['write']
            ios = rw['total_ios']
            pct = rw['clat_ns'].get('percentile', {})
            results[job] = {
                'iops': rw['iops'],
                'p50': pct.get('50.000000', 0) / 1000,
                'p99': pct.get('99.000000', 0) / 1000,
                'cpu': (int(s1) - int(s0)) / 1000 / ios,
                'reqs': (disk_requests(d1) - disk_requests(d0)) / ios,
                'irqs': (int(i1) - int(i0)) / ios,
                'cs': (int(c1) - int(c0)) / ios,
                'idle': (int(n1) - int(n0)) / ios,
            }
            job = None
        elif job:
            body.append(x)
        elif x.startswith('NVME-INVALS '):
            # "NVME-INVALS <job> <invalidations> <requests>", from a
            # second, short run of the job
            _, name, invals, reqs = x.split()
            if int(reqs) and name in results:
                results[name]['invals'] = int(invals) / int(reqs)
    return results


def nvme_table(results, unit):
    cols = [('IOPS', 'iops', '{:,.0f}'), ('p50 us', 'p50', '{:,.1f}'),
            ('p99 us', 'p99', '{:,.1f}'), ('CPU/IO us', 'cpu', '{:,.2f}'),
            ('req/IO', 'reqs', '{:.2f}'), ('irq/IO', 'irqs', '{:.2f}'),
            ('cs/IO', 'cs', '{:.2f}'), ('idle/IO', 'idle', '{:.2f}'),
            ('inval/req', 'invals', '{:.2f}')]
    head = f'{"setup":<13} {"job":<16}' + ''.join(
        f' {c[0] + " base":>14} {c[0] + " new":>13} {"new/base":>8}'
        for c in cols)
    out = [f'NVMe, base kernel vs patched ({unit})', head, '-' * len(head)]
    for setup, kernels in results.items():
        base, new = kernels['base'], kernels['new']
        for job in base:
            row = f'{setup:<13} {job:<16}'
            for _, key, f in cols:
                b, n = base[job].get(key), new.get(job, {}).get(key)
                row += (f' {"-" if b is None else f.format(b):>14}'
                        f' {"-" if n is None else f.format(n):>13}'
                        f' {fmt_ratio(n, b):>8}')
            out.append(row)
    return '\n'.join(out)


def resv_table(results, unit):
    """The patched kernel with and without the per-tag IOVA space."""
    cols = [('IOPS', 'iops', '{:,.0f}'), ('p99 us', 'p99', '{:,.1f}'),
            ('CPU/IO us', 'cpu', '{:,.2f}')]
    head = f'{"setup":<13} {"job":<15}' + ''.join(
        f' {c[0] + " resv":>14} {c[0] + " none":>14} {"resv/none":>9}'
        for c in cols)
    out = [f'Per-tag IOVA space of nvme-pci, patched kernel with and without'
           f' it ({unit})', head, '-' * len(head)]
    for setup, kernels in results.items():
        if 'nores' not in kernels:
            continue
        new, nores = kernels['new'], kernels['nores']
        for job in new:
            row = f'{setup:<13} {job:<15}'
            for _, key, f in cols:
                a, b = new[job][key], nores.get(job, {}).get(key)
                row += (f' {f.format(a):>14} {"-" if b is None else f.format(b):>14}'
                        f' {fmt_ratio(a, b):>9}')
            out.append(row)
    return '\n'.join(out)


def work_tree(name, rev):
    """build/NAME: a work tree of build/linux at REV, so that what the
    benchmark builds does not change under it (make lint checks out
    older commits in build/linux)."""
    path = os.path.join(BUILD, name)
    rev = subprocess.run(['git', '-C', TREE, 'rev-parse', rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    if not os.path.isdir(path):
        subprocess.run(['git', '-C', TREE, 'worktree', 'add', '--detach',
                        path, rev], check=True, stdout=subprocess.DEVNULL)
    else:
        subprocess.run(['git', '-C', path, 'checkout', '-q', '--detach',
                        rev], check=True)
    return path


def map_profiles(lines):
    """{mode: [(function, hits, self time)]} from the PROFILE blocks, the
    figures of a function on several CPUs added up, most time first."""
    sums, mode = {}, None
    for x in lines:
        if x.startswith('PROFILE-BEGIN '):
            mode = parse(x).get('mode')
            sums[mode] = {}
        elif x.startswith('PROFILE-END'):
            mode = None
        elif mode:
            f = x.split()
            if len(f) >= 4 and f[1].isdigit():
                hits, time = sums[mode].get(f[0], (0, 0.0))
                sums[mode][f[0]] = (hits + int(f[1]), time + float(f[2]))
    return {m: sorted(((f, h, f'{t:.3f} us') for f, (h, t) in d.items()),
                      key=lambda r: -float(r[2].split()[0]))
            for m, d in sums.items()}


def profile_table(profiles, what, top=12):
    out = [f'Function profile, {what}, self time (function profiler;'
           ' instrumented, so only the ranking means anything)']
    for setup, modes in profiles.items():
        for mode in ('iova', 'iova-bvecs', 'floor', 'sg', f'nvme-{what}'):
            rows = modes.get(mode)
            if not rows:
                continue
            out.append(f'  {setup} {mode}:')
            out += [f'    {f:<40} {h:>9} {t:>16}' for f, h, t in rows[:top]]
    return '\n'.join(out)


def bench_map(args, kernel, initramfs, logs):
    ns = [int(x) for x in args.n.split(',')]
    results, profiles = {}, {}
    for setup in args.setups.split(','):
        log(f'  BENCH   map, {setup}')
        lines = boot(kernel, initramfs, setup,
                     f'dmabench=map bench_n={args.n} bench_reps={args.reps}'
                     f' bench_profile={args.profile}',
                     os.path.join(logs, f'bench-map-{setup}.log'),
                     args.icount)
        results[setup] = map_results(lines)
        profiles[setup] = map_profiles(lines)
    unit = 'guest instructions (icount)' if args.icount else 'ns'
    print()
    print(map_table(results, ns, unit))
    print(f'\n{args.reps} repetitions of {args.n} pages under QEMU TCG; '
          'only ratios within one run mean anything.\n')
    if args.profile:
        print(profile_table(profiles, f'{args.profile} pages'))


def bench_nvme(args, kernel, initramfs, logs):
    base = build_kernel(work_tree('base', args.base),
                        os.path.join(BUILD, 'bench-base'),
                        args.jobs)
    disk = os.path.join(BUILD, 'bench.disk')
    results, profiles = {}, {}
    for setup in args.setups.split(','):
        results[setup] = {}
        runs = [('base', base, ''), ('new', kernel, '')]
        if args.resv and 'resv=used' in matrix.setup(setup).expect:
            runs.append(('nores', kernel, 'nvme.iova_reserve_mb=0'))
        for name, k, opt in runs:
            results[setup][name] = {}
            # The one-thread jobs with one CPU online: under TCG a vCPU
            # that waits for the other spins through its time slice,
            # which makes the busy time of a two-CPU guest vary by
            # several times from run to run.  The 2x jobs need both.
            for cpus, extra in ((1, 'maxcpus=1 bench_jobs=single'),
                                (2, 'bench_jobs=multi')):
                if str(cpus) not in args.cpus.split(','):
                    continue
                log(f'  BENCH   nvme, {setup}, {name} kernel, {cpus} CPU')
                with open(disk, 'wb') as f:
                    f.truncate(512 << 20)
                lines = boot(k, initramfs, setup,
                             f'dmabench=nvme {extra} {opt} '
                             f'bench_nvme_profile={args.nvme_profile}',
                             os.path.join(logs, f'bench-nvme-{setup}-{name}'
                                          f'-{cpus}cpu.log'),
                             args.icount, disk)
                results[setup][name].update(nvme_results(lines))
                if args.nvme_profile and cpus == 1:
                    profiles[f'{setup} {name}'] = map_profiles(lines)
                # (the first line of the log may follow the BIOS's
                # escape sequences)
                max_kb = [x.split('NVME-MAX-KB ')[1] for x in lines
                          if 'NVME-MAX-KB ' in x]
                log(f'          max_hw_sectors_kb {" ".join(max_kb)}')
    os.unlink(disk)
    unit = ('CPU/IO: guest instructions / 1000 per I/O (icount); IOPS'
            ' and latency: guest clock, idle at host speed' if args.icount
            else 'host clock')
    print()
    print(nvme_table(results, unit))
    print('\nSame disk, same jobs, same configuration for both kernels '
          'under QEMU TCG; only ratios within one run mean anything.\n')
    if any('nores' in k for k in results.values()):
        print(resv_table(results, unit))
        print()
    if args.nvme_profile:
        print(profile_table(profiles, args.nvme_profile, top=30))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('benchmarks', nargs='*', default=['map', 'nvme'],
                   help='map, nvme or both (default)')
    p.add_argument('--setups', default='intel-strict,intel-lazy,none')
    p.add_argument('--n', default='1,4,16,32,64,256',
                   help='request sizes in pages')
    p.add_argument('--reps', type=int, default=5)
    p.add_argument('--profile', default='32',
                   help='profile requests of this many pages ("" for none)')
    p.add_argument('--jobs', type=int, default=os.cpu_count())
    p.add_argument('--nvme-profile', default='',
                   help='profile this job of bench.fio once more in the'
                   ' nvme benchmark (function profiler, all functions)')
    p.add_argument('--base', default='dma-iova-base',
                   help='revision of build/linux the nvme benchmark'
                   ' compares with (default: the unmodified kernel)')
    p.add_argument('--rev', default='HEAD',
                   help='revision of build/linux to benchmark (default:'
                   ' HEAD), such as a branch being worked on')
    p.add_argument('--cpus', default='1,2',
                   help='nvme: boot with 1 CPU (the one-thread jobs), 2'
                   ' (the 2x jobs) or both (default)')
    p.add_argument('--no-resv', dest='resv', action='store_false',
                   help='nvme: skip the run without per-tag IOVA space')
    p.add_argument('--no-icount', dest='icount', action='store_false',
                   help='time with the host clock instead of icount')
    args = p.parse_args()

    tree = work_tree('bench-src', args.rev)
    kernel = build_kernel(tree, os.path.join(BUILD, 'bench-kernel'),
                          args.jobs)
    initramfs = os.path.join(BUILD, 'bench-initramfs.cpio')
    subprocess.run([os.path.join(HERE, 'mkinitramfs.sh'), initramfs, tree],
                   check=True)
    logs = os.path.join(BUILD, 'logs')
    os.makedirs(logs, exist_ok=True)
    for b in args.benchmarks:
        {'map': bench_map, 'nvme': bench_nvme}[b](args, kernel, initramfs,
                                                   logs)


if __name__ == '__main__':
    main()
