/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two-step DMA mapping: reserve DMA address space for a transfer, then link
 * physical ranges into it.  See Documentation/core-api/dma-iova.rst.
 */
#ifndef _LINUX_DMA_IOVA_H
#define _LINUX_DMA_IOVA_H

#include <linux/bits.h>
#include <linux/dma-direction.h>
#include <linux/types.h>

struct device;
struct dma_iova_log;

/* Bits of dma_iova_state.flags; private to kernel/dma/dma-iova.c. */
#define DMA_IOVA_IN_USE		BIT(0)	/* holds a transfer */
#define DMA_IOVA_CONTIGUOUS	BIT(1)	/* one IOVA range */
#define DMA_IOVA_BOUNCED	BIT(2)	/* a granule went to swiotlb */
#define DMA_IOVA_P2P		BIT(3)	/* PCI P2PDMA memory */
#define DMA_IOVA_BUS_ADDR	BIT(4)	/* P2P linked at PCI bus addresses */
#define DMA_IOVA_IN_RESV	BIT(5)	/* in the space of dma_iova_reserve() */

/**
 * struct dma_iova_state - DMA mapping of one transfer
 * @addr: DMA address of byte 0 of the transfer when it is mapped as one
 *	contiguous range (dma_use_iova() returns true), else 0
 * @size: size of the transfer in bytes, 0 while the state holds none
 * @linked: bytes of the transfer linked now
 * @linked_end: private: end of the furthest range linked, in contiguous
 *	mode; a link at or beyond it cannot overlap another
 * @flags: private state of the mapping (DMA_IOVA_*)
 * @log: private: pieces that teardown must visit, in per-piece mode
 * @resv_addr: private: IOVA space kept by dma_iova_reserve()
 * @resv_size: private: its size in bytes, 0 if the state keeps none
 *
 * The caller owns the state and keeps it from dma_iova_alloc() to
 * dma_iova_free() or dma_iova_destroy(), typically in its per-request
 * data.  It must be zeroed before its first dma_iova_alloc(); after
 * dma_iova_free() or dma_iova_destroy() it may be used again.  Only
 * @addr and @size are for the caller to read.
 *
 * A state that carries transfer after transfer of one device, such as
 * the state of a block request tag, can keep IOVA space across them:
 * see dma_iova_reserve().
 */
struct dma_iova_state {
	dma_addr_t addr;
	size_t size;
	size_t linked;
	size_t linked_end;
	unsigned int flags;
	struct dma_iova_log *log;
	dma_addr_t resv_addr;
	size_t resv_size;
};

#ifdef CONFIG_HAS_DMA
unsigned long dma_iova_merge_boundary(struct device *dev);
int dma_iova_alloc_layout(struct device *dev, struct dma_iova_state *state,
			  phys_addr_t phys, size_t size, phys_addr_t inner);
void dma_iova_free(struct device *dev, struct dma_iova_state *state);
int dma_iova_link(struct device *dev, struct dma_iova_state *state,
		  phys_addr_t phys, size_t offset, size_t size,
		  enum dma_data_direction dir, unsigned long attrs,
		  dma_addr_t *dma_addr);
int dma_iova_sync(struct device *dev, struct dma_iova_state *state,
		  size_t offset, size_t size);
void dma_iova_unlink(struct device *dev, struct dma_iova_state *state,
		     size_t offset, size_t size, enum dma_data_direction dir,
		     unsigned long attrs);
void dma_iova_destroy(struct device *dev, struct dma_iova_state *state,
		      size_t mapped_len, enum dma_data_direction dir,
		      unsigned long attrs);
int dma_iova_reserve(struct device *dev, struct dma_iova_state *state,
		     size_t size);
void dma_iova_unreserve(struct device *dev, struct dma_iova_state *state);
#else
static inline unsigned long dma_iova_merge_boundary(struct device *dev)
{
	return 0;
}

static inline int dma_iova_alloc_layout(struct device *dev,
					struct dma_iova_state *state,
					phys_addr_t phys, size_t size,
					phys_addr_t inner)
{
	return -EOPNOTSUPP;
}

static inline void dma_iova_free(struct device *dev,
				 struct dma_iova_state *state)
{
}

static inline int dma_iova_link(struct device *dev,
				struct dma_iova_state *state,
				phys_addr_t phys, size_t offset, size_t size,
				enum dma_data_direction dir,
				unsigned long attrs, dma_addr_t *dma_addr)
{
	return -EOPNOTSUPP;
}

static inline int dma_iova_sync(struct device *dev,
				struct dma_iova_state *state,
				size_t offset, size_t size)
{
	return -EOPNOTSUPP;
}

static inline void dma_iova_unlink(struct device *dev,
				   struct dma_iova_state *state,
				   size_t offset, size_t size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
}

static inline void dma_iova_destroy(struct device *dev,
				    struct dma_iova_state *state,
				    size_t mapped_len,
				    enum dma_data_direction dir,
				    unsigned long attrs)
{
}

static inline int dma_iova_reserve(struct device *dev,
				   struct dma_iova_state *state, size_t size)
{
	return -EOPNOTSUPP;
}

static inline void dma_iova_unreserve(struct device *dev,
				      struct dma_iova_state *state)
{
}
#endif /* CONFIG_HAS_DMA */

/**
 * dma_iova_alloc() - reserve DMA address space for a transfer
 * @dev: device that will do the DMA
 * @state: zeroed state, or one left by dma_iova_free() or dma_iova_destroy()
 * @phys: physical address of the first byte of the transfer, or only its
 *	offset in a page
 * @size: size of the transfer in bytes
 *
 * dma_iova_alloc_layout() for a transfer whose ranges meet at IOMMU
 * granule boundaries, such as one linked a page at a time, or one that
 * the caller has checked against dma_iova_merge_boundary().
 *
 * Context: Any context; does not sleep.
 * Return: as dma_iova_alloc_layout().
 */
static inline int dma_iova_alloc(struct device *dev,
				 struct dma_iova_state *state,
				 phys_addr_t phys, size_t size)
{
	return dma_iova_alloc_layout(dev, state, phys, size, 0);
}

/**
 * dma_use_iova() - tell whether a transfer is mapped as one IOVA range
 * @state: state of a transfer set up by dma_iova_alloc()
 *
 * In contiguous mode the whole transfer is at @state->addr: byte @offset
 * of it is at @state->addr + @offset, and dma_iova_link() returns just
 * that.  In per-piece mode each linked range has its own DMA address;
 * PCI P2PDMA memory reached at its PCI bus address is always linked so.
 * Drivers need not test this to map correctly; it tells them, for
 * example, that one descriptor covers the whole transfer.
 *
 * Context: Any context.
 * Return:
 * * %true  - the transfer is mapped as one contiguous IOVA range
 * * %false - each linked range has its own DMA address, or @state holds
 *   no transfer
 */
static inline bool dma_use_iova(const struct dma_iova_state *state)
{
	return state->flags & DMA_IOVA_CONTIGUOUS;
}

/**
 * dma_iova_reserved() - tell whether a state keeps reserved IOVA space
 * @state: a DMA IOVA state
 *
 * Context: Any context.
 * Return: %true between a successful dma_iova_reserve() and
 * dma_iova_unreserve().
 */
static inline bool dma_iova_reserved(const struct dma_iova_state *state)
{
	return state->resv_size;
}

#endif /* _LINUX_DMA_IOVA_H */
