/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QEMU "edu" PCI device as a DMA engine for KUnit suites: it copies
 * between memory, through the DMA addresses a suite mapped, and its own
 * buffer, so that a suite can compare the bytes a device really moved.
 */
#ifndef _LIB_TESTS_DMA_IOVA_EDU_H
#define _LIB_TESTS_DMA_IOVA_EDU_H

#include <linux/types.h>

struct device;

/*
 * The device's buffer is 4 KiB, but QEMU aborts on a DMA that reaches
 * its last byte.  Chunks of 3 KiB stay clear of that and still cross
 * page boundaries.
 */
#define EDU_XFER		3072

int dma_iova_edu_register(void);
void dma_iova_edu_unregister(void);
struct device *dma_iova_edu_dev(void);
int dma_iova_edu_dma(dma_addr_t ram, u32 edu_off, u32 len, bool to_ram);
int dma_iova_edu_dma_ranges(const dma_addr_t *addr, const size_t *len,
			    unsigned int nr, size_t off, size_t size,
			    bool to_ram);
unsigned int dma_iova_edu_mapped(struct device *dev, dma_addr_t addr,
				 size_t size);

#endif /* _LIB_TESTS_DMA_IOVA_EDU_H */
