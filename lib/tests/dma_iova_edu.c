// SPDX-License-Identifier: GPL-2.0
/*
 * The QEMU "edu" PCI device (QEMU docs/specs/edu.rst) as a DMA engine for
 * the KUnit suites of the DMA IOVA API and of its users.  A suite calls
 * dma_iova_edu_register() from its suite_init and
 * dma_iova_edu_unregister() from its suite_exit; suites run one after
 * the other, so one DMA engine serves all of them.
 */

#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "dma_iova_edu.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_START		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)
#define EDU_BUF			0x40000

static struct pci_dev *edu_pdev;
static void __iomem *edu_regs;

/**
 * dma_iova_edu_dev() - the edu device, to map memory for
 *
 * Return: the device, or %NULL if the guest has none (-device edu).
 */
struct device *dma_iova_edu_dev(void)
{
	return edu_pdev ? &edu_pdev->dev : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_dev);

/**
 * dma_iova_edu_dma() - run one DMA of the edu device and wait for it
 * @ram: DMA address of the memory side
 * @edu_off: offset in the device's buffer
 * @len: bytes to move, at most %EDU_XFER
 * @to_ram: move from the device's buffer to @ram, else from @ram to it
 *
 * Return: 0, or -ETIMEDOUT if the device did not finish within 2 s.
 */
int dma_iova_edu_dma(dma_addr_t ram, u32 edu_off, u32 len, bool to_ram)
{
	int i;

	writeq(to_ram ? EDU_BUF + edu_off : ram, edu_regs + EDU_DMA_SRC);
	writeq(to_ram ? ram : EDU_BUF + edu_off, edu_regs + EDU_DMA_DST);
	writeq(len, edu_regs + EDU_DMA_COUNT);
	writeq(EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0),
	       edu_regs + EDU_DMA_CMD);
	/* The device runs a DMA about 100 ms after it is started. */
	for (i = 0; i < 400; i++) {
		if (!(readq(edu_regs + EDU_DMA_CMD) & EDU_DMA_START))
			return 0;
		usleep_range(5000, 10000);
	}
	return -ETIMEDOUT;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_dma);

/**
 * dma_iova_edu_dma_ranges() - move bytes of a mapped transfer with the edu
 * @addr: DMA address of each range of the transfer, in transfer order
 * @len: length of each range
 * @nr: number of ranges
 * @off: offset in the transfer of the first byte to move
 * @size: bytes to move, at most %EDU_XFER
 * @to_ram: move from the device's buffer into the transfer, else from the
 *	transfer to the start of the device's buffer
 *
 * Runs one DMA per run of ranges that are adjacent in DMA space, as a
 * driver builds one descriptor per such run.
 *
 * Return: the number of DMAs, or -ETIMEDOUT.
 */
int dma_iova_edu_dma_ranges(const dma_addr_t *addr, const size_t *len,
			    unsigned int nr, size_t off, size_t size,
			    bool to_ram)
{
	size_t pos = 0, edu_off = 0, seg_len = 0;
	dma_addr_t seg_addr = 0;
	unsigned int i;
	int ret, dmas = 0;

	for (i = 0; i < nr; pos += len[i++]) {
		size_t lo = max(off, pos);
		size_t hi = min(off + size, pos + len[i]);
		dma_addr_t a = addr[i] + (lo - pos);

		if (lo >= hi)
			continue;
		if (seg_len && seg_addr + seg_len == a) {
			seg_len += hi - lo;
			continue;
		}
		if (seg_len) {
			ret = dma_iova_edu_dma(seg_addr, edu_off, seg_len,
					       to_ram);
			if (ret)
				return ret;
			edu_off += seg_len;
			dmas++;
		}
		seg_addr = a;
		seg_len = hi - lo;
	}
	if (seg_len) {
		ret = dma_iova_edu_dma(seg_addr, edu_off, seg_len, to_ram);
		if (ret)
			return ret;
		dmas++;
	}
	return dmas;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_dma_ranges);

/**
 * dma_iova_edu_mapped() - pages of a DMA range that the IOMMU maps
 * @dev: the device whose IOMMU domain to look into
 * @addr: first DMA address of the range
 * @size: size of the range in bytes
 *
 * Return: how many of the pages [@addr, @addr + @size) touches the IOMMU
 * domain of @dev translates; 0 without a domain.
 */
unsigned int dma_iova_edu_mapped(struct device *dev, dma_addr_t addr,
				 size_t size)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	unsigned int n = 0;
	dma_addr_t iova;

	if (!domain)
		return 0;
	for (iova = ALIGN_DOWN(addr, PAGE_SIZE); iova < addr + size;
	     iova += PAGE_SIZE)
		if (iommu_iova_to_phys(domain, iova))
			n++;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_mapped);

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	edu_regs = pcim_iomap(pdev, 0, 0);
	if (!edu_regs)
		return -ENOMEM;
	pci_set_master(pdev);
	edu_pdev = pdev;
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	edu_pdev = NULL;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};

static struct pci_driver edu_driver = {
	.name = "dma_iova_kunit_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

/**
 * dma_iova_edu_register() - bind the edu device, if the guest has one
 *
 * Return: 0 (also without the device), or an error from the PCI core.
 */
int dma_iova_edu_register(void)
{
	return pci_register_driver(&edu_driver);
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_register);

/**
 * dma_iova_edu_unregister() - release the edu device
 */
void dma_iova_edu_unregister(void)
{
	pci_unregister_driver(&edu_driver);
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_edu_unregister);

MODULE_DESCRIPTION("QEMU edu device as a DMA engine for KUnit suites");
MODULE_LICENSE("GPL");
