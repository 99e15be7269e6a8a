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

struct bio_vec;
struct device;
struct dma_iova_log;
struct page;

/*
 * struct dma_iova_state.linked holds the bytes linked in its low bits and
 * these flags above them; private to kernel/dma/dma-iova.c.
 */
#define DMA_IOVA_LINKED_MASK	GENMASK_ULL(55, 0)
#define DMA_IOVA_IN_USE		BIT_ULL(56)	/* holds a transfer */
#define DMA_IOVA_CONTIGUOUS	BIT_ULL(57)	/* one IOVA range */
#define DMA_IOVA_BOUNCED	BIT_ULL(58)	/* a granule went to swiotlb */
#define DMA_IOVA_P2P		BIT_ULL(59)	/* PCI P2PDMA memory */
#define DMA_IOVA_BUS_ADDR	BIT_ULL(60)	/* P2P linked at PCI bus addresses */
#define DMA_IOVA_IN_RESV	BIT_ULL(61)	/* in space of dma_iova_reserve() */

/**
 * struct dma_iova_state - DMA mapping of one transfer
 * @addr: DMA address of byte 0 of the transfer when it is mapped as one
 *	contiguous range (dma_use_iova() returns true), else 0
 * @size: size of the transfer in bytes, 0 while the state holds none
 * @linked: private: bytes of the transfer linked now, and the mode of
 *	its mapping in DMA_IOVA_* flags above %DMA_IOVA_LINKED_MASK
 * @linked_end: private: end of the furthest range linked, in contiguous
 *	mode; a link at or beyond it cannot overlap another
 * @log: private: pieces that teardown must visit, in per-piece mode
 *
 * The caller owns the state and keeps it from dma_iova_alloc() to
 * dma_iova_free() or dma_iova_destroy(), typically in its per-request
 * data.  It must be zeroed before its first dma_iova_alloc(); after
 * dma_iova_free() or dma_iova_destroy() it may be used again, or zeroed
 * again.  Only @addr and @size are for the caller to read.  It takes 32
 * bytes on 64-bit machines.
 */
struct dma_iova_state {
	dma_addr_t addr;
	size_t size;
	u64 linked;
	union {
		size_t linked_end;
		struct dma_iova_log *log;
	};
};

/**
 * struct dma_iova_space - IOVA space kept for a series of transfers
 * @addr: private: its first IOVA
 * @size: private: its size in bytes, 0 if it holds none
 *
 * A caller that makes transfer after transfer of one device from the same
 * slot, such as a block request tag, can keep IOVA space for them here:
 * see dma_iova_reserve() and dma_iova_alloc_in().  Zeroed before use.
 */
struct dma_iova_space {
	dma_addr_t addr;
	size_t size;
};

#ifdef CONFIG_HAS_DMA
unsigned long dma_iova_merge_boundary(struct device *dev);
int dma_iova_alloc_in(struct device *dev, struct dma_iova_state *state,
		      const struct dma_iova_space *space, phys_addr_t phys,
		      size_t size, phys_addr_t inner);
int dma_iova_alloc_sparse(struct device *dev, struct dma_iova_state *state,
			  phys_addr_t phys, size_t size);
void dma_iova_free(struct device *dev, struct dma_iova_state *state);
int dma_iova_link(struct device *dev, struct dma_iova_state *state,
		  phys_addr_t phys, size_t offset, size_t size,
		  enum dma_data_direction dir, unsigned long attrs,
		  dma_addr_t *dma_addr);
int dma_iova_link_page(struct device *dev, struct dma_iova_state *state,
		       struct page *page, size_t page_offset, size_t offset,
		       size_t size, enum dma_data_direction dir,
		       unsigned long attrs, dma_addr_t *dma_addr);
int dma_iova_link_bvecs(struct device *dev, struct dma_iova_state *state,
			const struct bio_vec *bv, unsigned int nr,
			size_t offset, enum dma_data_direction dir,
			unsigned long attrs, dma_addr_t *dma_addrs);
int dma_iova_sync(struct device *dev, struct dma_iova_state *state,
		  size_t offset, size_t size);
bool dma_iova_need_sync(struct device *dev,
			const struct dma_iova_state *state);
void dma_iova_unlink(struct device *dev, struct dma_iova_state *state,
		     size_t offset, size_t size, enum dma_data_direction dir,
		     unsigned long attrs);
void dma_iova_destroy(struct device *dev, struct dma_iova_state *state,
		      size_t mapped_len, enum dma_data_direction dir,
		      unsigned long attrs);
int dma_iova_reserve(struct device *dev, struct dma_iova_space *space,
		     size_t size);
void dma_iova_unreserve(struct device *dev, struct dma_iova_space *space);
#else
static inline unsigned long dma_iova_merge_boundary(struct device *dev)
{
	return 0;
}

static inline int dma_iova_alloc_in(struct device *dev,
				    struct dma_iova_state *state,
				    const struct dma_iova_space *space,
				    phys_addr_t phys, size_t size,
				    phys_addr_t inner)
{
	return -EOPNOTSUPP;
}

static inline int dma_iova_alloc_sparse(struct device *dev,
					struct dma_iova_state *state,
					phys_addr_t phys, size_t size)
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

static inline int dma_iova_link_page(struct device *dev,
				     struct dma_iova_state *state,
				     struct page *page, size_t page_offset,
				     size_t offset, size_t size,
				     enum dma_data_direction dir,
				     unsigned long attrs, dma_addr_t *dma_addr)
{
	return -EOPNOTSUPP;
}

static inline int dma_iova_link_bvecs(struct device *dev,
				      struct dma_iova_state *state,
				      const struct bio_vec *bv,
				      unsigned int nr, size_t offset,
				      enum dma_data_direction dir,
				      unsigned long attrs,
				      dma_addr_t *dma_addrs)
{
	return -EOPNOTSUPP;
}

static inline int dma_iova_sync(struct device *dev,
				struct dma_iova_state *state,
				size_t offset, size_t size)
{
	return -EOPNOTSUPP;
}

static inline bool dma_iova_need_sync(struct device *dev,
				      const struct dma_iova_state *state)
{
	return false;
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
				   struct dma_iova_space *space, size_t size)
{
	return -EOPNOTSUPP;
}

static inline void dma_iova_unreserve(struct device *dev,
				      struct dma_iova_space *space)
{
}
#endif /* CONFIG_HAS_DMA */

/**
 * dma_iova_alloc_layout() - reserve DMA address space for a transfer
 * @dev: device that will do the DMA
 * @state: zeroed state, or one left by dma_iova_free() or dma_iova_destroy()
 * @phys: physical address of the first byte of the transfer, or only its
 *	offset in a page
 * @size: size of the transfer in bytes
 * @inner: bitwise OR of the physical addresses at which the ranges of the
 *	transfer start and end, but for the start of the first and the end
 *	of the last
 *
 * dma_iova_alloc_in() without space kept by dma_iova_reserve().
 *
 * Context: Any context; does not sleep.
 * Return: as dma_iova_alloc_in().
 */
static inline int dma_iova_alloc_layout(struct device *dev,
					struct dma_iova_state *state,
					phys_addr_t phys, size_t size,
					phys_addr_t inner)
{
	return dma_iova_alloc_in(dev, state, NULL, phys, size, inner);
}

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
 * Return: as dma_iova_alloc_in().
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
	return state->linked & DMA_IOVA_CONTIGUOUS;
}

/**
 * dma_iova_reserved() - tell whether IOVA space is kept
 * @space: a zeroed DMA IOVA space, or one passed to dma_iova_reserve()
 *
 * Context: Any context.
 * Return: %true between a successful dma_iova_reserve() and
 * dma_iova_unreserve().
 */
static inline bool dma_iova_reserved(const struct dma_iova_space *space)
{
	return space->size;
}

#if IS_ENABLED(CONFIG_KUNIT) && defined(CONFIG_HAS_DMA)
/* For the KUnit suites only. */
void dma_iova_stats_start(void);
u64 dma_iova_stat_read(struct device *dev, const char *name);
bool dma_iova_debug_active(void);
struct dma_iova_log *dma_iova_log_alloc(void);
#endif

#endif /* _LINUX_DMA_IOVA_H */
