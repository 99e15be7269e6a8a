# SPDX-License-Identifier: GPL-2.0
#
# kunit.py --qemu_config for the DMA IOVA suites: the machine of one DMA
# setup of ../setups, chosen by $DMA_IOVA_SETUP (default: intel-strict),
# with an edu PCI device (a DMA engine the tests drive) and an NVMe
# controller whose memory buffer nvme-pci publishes as PCI P2PDMA memory.
# To build, $DMA_IOVA_KERNEL names the kernel of ../matrix.py instead.

import os
import sys

from ..qemu_config import QemuArchParams

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
				'..'))
import matrix  # noqa: E402 (found through the path above)

_kernel = os.environ.get('DMA_IOVA_KERNEL')
if _kernel:
	_K = matrix.KERNELS[_kernel]
	_QEMU, _CMDLINE = [_K.qemu], ''
else:
	_S = matrix.setup(os.environ.get('DMA_IOVA_SETUP', 'intel-strict'))
	_K = _S.kernel
	_QEMU, _CMDLINE = matrix.qemu(_S.name), _S.cmdline

QEMU_ARCH = QemuArchParams(linux_arch=_K.arch,
			   kconfig='',
			   qemu_arch=_K.qemu.replace('qemu-system-', ''),
			   kernel_path=_K.image,
			   kernel_command_line=f'console={_K.console} {_CMDLINE}',
			   extra_qemu_params=[*_QEMU[1:],
					      '-device', 'nvme,serial=p2p,cmb_size_mb=4',
					      '-device', 'edu,dma_mask=0xffffffffffffffff',
					      '-d', 'guest_errors'])
