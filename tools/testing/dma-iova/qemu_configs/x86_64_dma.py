# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the DMA IOVA suites: a q35 machine with an
# edu PCI device (a DMA engine the tests drive) and an NVMe controller
# whose memory buffer nvme-pci publishes as PCI P2PDMA memory, in one DMA
# setup of ../setups, chosen by $DMA_IOVA_SETUP (default: intel-strict).

import os

from ..qemu_config import QemuArchParams

_SETUPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
		       'setups')


def _setup(name):
	with open(_SETUPS) as f:
		for line in f:
			line = line.split('#', 1)[0]
			if not line.strip():
				continue
			fields = [x.strip() for x in line.split('|')]
			if fields[0] == name:
				return fields[1].split(), fields[2]
	raise ValueError(f'{name}: no such DMA setup in {_SETUPS}')


_QEMU_OPTS, _CMDLINE = _setup(os.environ.get('DMA_IOVA_SETUP', 'intel-strict'))

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 ' + _CMDLINE,
			   extra_qemu_params=['-machine', 'q35,kernel-irqchip=split',
					      '-accel', 'tcg', '-cpu', 'max',
					      '-smp', '2', '-m', '2048',
					      *_QEMU_OPTS,
					      '-device', 'nvme,serial=p2p,cmb_size_mb=4',
					      '-device', 'edu,dma_mask=0xffffffffffffffff',
					      '-d', 'guest_errors'])
