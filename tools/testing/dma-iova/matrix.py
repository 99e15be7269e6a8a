#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The test matrix: the kernels the harness builds and the DMA setups of
the "setups" table it boots them in.

This is the one reader of that table and the one writer of the QEMU
machine, for kunit.py (qemu_configs/dma.py), check.sh, boot.sh and
bench.py.  From the shell:

  matrix.py names [KERNEL...]   the setups, in table order, on one line
                                (only those of the KERNELs given)
  matrix.py field SETUP FIELD   a field of a setup: kernel, qemu, cmdline
                                or expect
  matrix.py qemu SETUP          the QEMU command of a setup's machine, one
                                word per line (the caller adds devices,
                                -kernel, -initrd and -append)
  matrix.py kernel KERNEL FIELD a field of a kernel: kbuild, image, config
                                or console
  matrix.py build KERNEL        build a kernel (kunit.py build), if needed
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
BUILD = os.path.join(ROOT, 'build')
TREE = os.path.join(BUILD, 'linux')

# The test kernel: the series' test configuration, the architecture's
# part of it (make's "dma-iova-test.config" target merges the two), and
# the harness's NVMe over RDMA options.
TEST_CONFIG = 'kernel/configs/dma-iova-test.config'
RDMA_CONFIG = os.path.join(HERE, 'rdma.config')
# INJECT=1 in the environment adds fault injection to the x86_64 kernel.
INJECT_CONFIG = os.path.join(HERE, 'harness.config')


@dataclass
class Kernel:
    """A kernel of the matrix and the QEMU machine that runs it."""
    name: str
    arch: str
    qemu: str
    image: str
    machine: list
    console: str
    cross_compile: str = ''
    add: list = field(default_factory=list)

    @property
    def kbuild(self):
        """Its build directory (build/kernel for the main test kernel)."""
        suffix = '' if self.name == 'x86_64' else '-' + self.name
        return os.path.join(BUILD, 'kernel' + suffix)

    def kunitconfigs(self):
        """The configuration fragments it is built from, in order."""
        srcarch = 'x86' if self.arch == 'x86_64' else self.arch
        paths = [TEST_CONFIG, f'arch/{srcarch}/configs/dma-iova-test.config',
                 RDMA_CONFIG]
        if self.name == 'x86_64' and os.environ.get('INJECT'):
            paths.append(INJECT_CONFIG)
        return paths


_X86 = dict(arch='x86_64', qemu='qemu-system-x86_64',
            image='arch/x86/boot/bzImage',
            machine=['-machine', 'q35,kernel-irqchip=split', '-cpu', 'max'],
            console='ttyS0')
_ARM64 = dict(arch='arm64', qemu='qemu-system-aarch64',
              image='arch/arm64/boot/Image',
              machine=['-machine', 'virt', '-cpu', 'cortex-a57'],
              console='ttyAMA0', cross_compile='aarch64-linux-gnu-')

KERNELS = {k.name: k for k in (
    Kernel('x86_64', **_X86),
    # The option off: every transfer is mapped per piece.
    Kernel('x86_64-noiova', **_X86, add=['# CONFIG_DMA_IOVA is not set']),
    Kernel('arm64', **_ARM64),
    # 64 KiB pages: a 64 KiB IOMMU granule under a 4 KiB block boundary.
    Kernel('arm64-64k', **_ARM64, add=['CONFIG_ARM64_64K_PAGES=y']),
)}


@dataclass
class Setup:
    """A line of the setups table."""
    name: str
    kernel: Kernel
    qemu: list
    cmdline: str
    expect: str


def setups():
    """The setups table: name -> Setup, in table order."""
    found = {}
    with open(os.path.join(HERE, 'setups')) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0]
            if not line.strip():
                continue
            fields = [x.strip() for x in line.split('|')]
            if len(fields) != 5 or fields[1] not in KERNELS:
                sys.exit(f'setups:{n}: want name | kernel | qemu | cmdline '
                         f'| expect, with a kernel of {", ".join(KERNELS)}')
            found[fields[0]] = Setup(fields[0], KERNELS[fields[1]],
                                     fields[2].split(), fields[3], fields[4])
    return found


def setup(name):
    """One setup, or exit naming the unknown one."""
    s = setups().get(name)
    if not s:
        sys.exit(f'{name}: no such DMA setup in {HERE}/setups')
    return s


def _noncoherent_dtb(s, args):
    """The device tree of the machine with its PCIe host bridge not
    DMA-coherent: dumped by QEMU from the same machine, then edited."""
    dtb = os.path.join(BUILD, 'dtb', s.name + '.dtb')
    os.makedirs(os.path.dirname(dtb), exist_ok=True)
    subprocess.run(args + ['-machine', 'dumpdtb=' + dtb, '-nographic'],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    nodes = subprocess.run(['fdtget', '-l', dtb, '/'], check=True,
                           capture_output=True, text=True).stdout.split()
    pcie = [x for x in nodes if x.startswith('pcie@')]
    if len(pcie) != 1:
        sys.exit(f'{s.name}: no single PCIe host bridge in {dtb}')
    subprocess.run(['fdtput', '-d', dtb, '/' + pcie[0], 'dma-coherent'],
                   check=True)
    return dtb


def qemu(name):
    """The QEMU command of a setup's machine: TCG, 2 CPUs, 2 GiB."""
    s = setup(name)
    k = s.kernel
    args = [k.qemu, *k.machine, '-accel', 'tcg', '-smp', '2', '-m', '2048']
    opts = list(s.qemu)
    # "-dtb @pci-noncoherent": the machine's own device tree, with PCI
    # devices not DMA-coherent.
    if '@pci-noncoherent' in opts:
        opts.remove('@pci-noncoherent')
        opts.remove('-dtb')
        opts += ['-dtb', _noncoherent_dtb(s, args + opts)]
    return args + opts


def build(name):
    """Build a kernel with kunit.py, which configures it (and checks that
    every option asked for is set) and builds only what changed."""
    k = KERNELS[name]
    cc = k.cross_compile + 'gcc'
    if shutil.which('ccache'):
        cc = 'ccache ' + cc
    cmd = [os.path.join(TREE, 'tools/testing/kunit/kunit.py'), 'build',
           f'--build_dir={k.kbuild}',
           '--qemu_config=' + os.path.join(HERE, 'qemu_configs', 'dma.py'),
           f'--jobs={os.environ.get("JOBS", os.cpu_count())}',
           '--make_options', f'CC={cc}']
    cmd += [f'--kunitconfig={x}' for x in k.kunitconfigs()]
    cmd += [f'--kconfig_add={x}' for x in k.add]
    if k.cross_compile:
        cmd.append(f'--cross_compile={k.cross_compile}')
    log = os.path.join(BUILD, f'{os.path.basename(k.kbuild)}-build.log')
    env = dict(os.environ, DMA_IOVA_KERNEL=name)
    with open(log, 'w') as out:
        rc = subprocess.run(cmd, cwd=TREE, env=env, stdout=out,
                            stderr=subprocess.STDOUT).returncode
    if rc:
        with open(log) as f:
            sys.stderr.write(''.join(f.readlines()[-40:]))
        sys.exit(f'building the {name} kernel failed (log: {log})')


def main(argv):
    if len(argv) >= 1 and argv[0] == 'names':
        want = argv[1:]
        print(' '.join(n for n, s in setups().items()
                       if not want or s.kernel.name in want))
    elif len(argv) == 3 and argv[0] == 'field':
        s = setup(argv[1])
        value = getattr(s, argv[2])
        print(value.name if isinstance(value, Kernel) else
              ' '.join(value) if isinstance(value, list) else value)
    elif len(argv) == 2 and argv[0] == 'qemu':
        print('\n'.join(qemu(argv[1])))
    elif len(argv) == 3 and argv[0] == 'kernel' and argv[1] in KERNELS:
        k = KERNELS[argv[1]]
        print({'kbuild': k.kbuild,
               'image': os.path.join(k.kbuild, k.image),
               'config': os.path.join(k.kbuild, '.config'),
               'console': k.console}[argv[2]])
    elif len(argv) == 2 and argv[0] == 'build' and argv[1] in KERNELS:
        build(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
