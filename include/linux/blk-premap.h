/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Premapped buffers: memory that a block driver maps for DMA once, such as
 * an io_uring registered buffer, and then reaches at an offset for every
 * request on it.  See Documentation/core-api/dma-iova.rst.
 */
#ifndef _LINUX_BLK_PREMAP_H
#define _LINUX_BLK_PREMAP_H

#include <linux/err.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

struct bio;
struct bio_vec;
struct blk_mq_ops;
struct block_device;
struct request_queue;

/**
 * struct blk_premap - a buffer a block driver keeps mapped for DMA
 * @ref: one reference for the owner of the buffer, one for the driver
 *	while it keeps the mapping
 * @lock: serialises blk_premap_release() against blk_premap_revoke()
 * @q: queue the mapping was made through; identifies it, never followed
 * @ops: operations of the driver, %NULL once the mapping is gone
 * @priv: the driver's mapping, set by its ->premap_create()
 * @bvec: the buffer's pages, which must not change while it is premapped
 * @nr_bvecs: number of entries in @bvec
 * @len: size of the buffer in bytes
 * @shift: every entry of @bvec but the first and the last covers
 *	1 << @shift bytes; the first may start and the last end inside
 *	such a block
 * @rcu: to free the structure after concurrent lookups are done
 *
 * The block layer allocates and frees it; the driver keeps its mapping in
 * @priv.  A bio belongs to the buffer when its bi_io_vec points into
 * @bvec, as bios built over io_uring's registered buffers do.
 */
struct blk_premap {
	struct kref ref;
	struct mutex lock;	/* ends of the mapping, one at a time */
	const struct request_queue *q;
	const struct blk_mq_ops *ops;
	void *priv;
	const struct bio_vec *bvec;
	unsigned int nr_bvecs;
	size_t len;
	unsigned int shift;
	struct rcu_head rcu;
};

#ifdef CONFIG_BLK_PREMAP
struct blk_premap *blk_premap_create(struct block_device *bdev,
				     const struct bio_vec *bvec,
				     unsigned int nr_bvecs, size_t len,
				     unsigned int shift);
void blk_premap_release(struct blk_premap *pm);
bool blk_premap_revoke(struct blk_premap *pm);
void blk_premap_get(struct blk_premap *pm);
void blk_premap_put(struct blk_premap *pm);
bool blk_premap_serves(const struct blk_premap *pm,
		       struct block_device *bdev);
int blk_premap_bio_offset(const struct blk_premap *pm,
			  const struct bio *bio, size_t *offset);
#else
static inline struct blk_premap *blk_premap_create(struct block_device *bdev,
						   const struct bio_vec *bvec,
						   unsigned int nr_bvecs,
						   size_t len,
						   unsigned int shift)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void blk_premap_release(struct blk_premap *pm)
{
}

static inline bool blk_premap_revoke(struct blk_premap *pm)
{
	return false;
}

static inline void blk_premap_get(struct blk_premap *pm)
{
}

static inline void blk_premap_put(struct blk_premap *pm)
{
}

static inline bool blk_premap_serves(const struct blk_premap *pm,
				     struct block_device *bdev)
{
	return false;
}

static inline int blk_premap_bio_offset(const struct blk_premap *pm,
					const struct bio *bio,
					size_t *offset)
{
	return -ENOENT;
}
#endif /* CONFIG_BLK_PREMAP */

#endif /* _LINUX_BLK_PREMAP_H */
