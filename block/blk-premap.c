// SPDX-License-Identifier: GPL-2.0
/*
 * Premapped buffers: a block driver maps a long-lived buffer, such as an
 * io_uring registered buffer, for DMA once, and requests on it use that
 * mapping instead of mapping their data each time.
 *
 * The owner of the buffer creates the premap and releases it before the
 * pages can be unpinned; the driver revokes it first when its device goes
 * away.  Both end the driver's mapping exactly once, under the premap's
 * lock; the structure itself belongs to the block layer, so that a release
 * after the driver's module is gone calls nothing in it.
 */

#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blk-premap.h>
#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/slab.h>

static void blk_premap_free(struct kref *ref)
{
	struct blk_premap *pm = container_of(ref, struct blk_premap, ref);

	kfree_rcu(pm, rcu);
}

/*
 * End the driver's mapping of @pm if it still has one, and drop the
 * driver's reference.  Returns whether it did.
 */
static bool blk_premap_end(struct blk_premap *pm)
{
	bool mapped;

	mutex_lock(&pm->lock);
	mapped = pm->ops;
	if (mapped) {
		pm->ops->premap_destroy(pm);
		pm->ops = NULL;
		pm->priv = NULL;
	}
	mutex_unlock(&pm->lock);
	if (mapped)
		kref_put(&pm->ref, blk_premap_free);
	return mapped;
}

/*
 * The layout blk_premap_bio_offset() relies on: every entry but the
 * first and the last covers 1 << @shift bytes, and they add up to @len.
 */
static bool blk_premap_layout_ok(const struct bio_vec *bvec,
				 unsigned int nr_bvecs, size_t len,
				 unsigned int shift)
{
	size_t total = 0;
	unsigned int i;

	if (!nr_bvecs || shift >= BITS_PER_LONG)
		return false;
	for (i = 0; i < nr_bvecs; i++) {
		if (!bvec[i].bv_len ||
		    (i && i + 1 < nr_bvecs && bvec[i].bv_len != 1UL << shift))
			return false;
		total += bvec[i].bv_len;
	}
	return total == len;
}

/**
 * blk_premap_create() - map a buffer for DMA by a block device, once
 * @bdev: block device whose requests will use the buffer
 * @bvec: the buffer's pages; they stay pinned, and the array unchanged,
 *	until blk_premap_release()
 * @nr_bvecs: number of entries in @bvec
 * @len: size of the buffer in bytes, the sum of the entries' lengths
 * @shift: log2 of the size of every entry but the first and the last,
 *	which may be shorter
 *
 * Asks the driver of @bdev to map the buffer for its device, in both
 * directions, and to use that mapping for every request whose bios point
 * into @bvec, as bios made from an iov_iter over @bvec do.  Requests on
 * other memory, and requests the driver cannot serve from the mapping,
 * are mapped as before; a premap only saves work.
 *
 * The mapping lasts until blk_premap_release(), or until the driver
 * revokes it because its device goes away, whichever comes first.
 *
 * Context: Process context; sleeps.
 * Return:
 * * the premap            - the driver maps the buffer
 * * ERR_PTR(%-EOPNOTSUPP) - the driver of @bdev does not premap (a
 *   bio-based device, such as the NVMe multipath node, or a kernel
 *   without the support)
 * * ERR_PTR(%-EINVAL)     - the entries of @bvec do not have the layout
 *   described
 * * ERR_PTR(%-ENOMEM)     - out of memory
 * * ERR_PTR() of any error of the driver's ->premap_create(), such as
 *   %-ENODEV while the device is being reset, %-EEXIST if it maps @bvec
 *   already
 */
struct blk_premap *blk_premap_create(struct block_device *bdev,
				     const struct bio_vec *bvec,
				     unsigned int nr_bvecs, size_t len,
				     unsigned int shift)
{
	struct request_queue *q = bdev_get_queue(bdev);
	struct blk_premap *pm;
	int ret;

	if (!queue_is_mq(q) || !q->mq_ops->premap_create)
		return ERR_PTR(-EOPNOTSUPP);
	if (!blk_premap_layout_ok(bvec, nr_bvecs, len, shift))
		return ERR_PTR(-EINVAL);

	pm = kzalloc(sizeof(*pm), GFP_KERNEL);
	if (!pm)
		return ERR_PTR(-ENOMEM);
	/* the owner's reference; a successful create adds the driver's */
	kref_init(&pm->ref);
	mutex_init(&pm->lock);
	pm->q = q;
	pm->bvec = bvec;
	pm->nr_bvecs = nr_bvecs;
	pm->len = len;
	pm->shift = shift;

	/*
	 * A revoke that finds @pm in the driver's table as soon as it is
	 * there waits for the lock, and then sees the driver's mapping.
	 */
	mutex_lock(&pm->lock);
	ret = q->mq_ops->premap_create(q, pm);
	if (!ret) {
		kref_get(&pm->ref);
		pm->ops = q->mq_ops;
	}
	mutex_unlock(&pm->lock);
	if (ret) {
		kfree(pm);
		return ERR_PTR(ret);
	}
	return pm;
}
EXPORT_SYMBOL_GPL(blk_premap_create);

/**
 * blk_premap_release() - end a premap, for the owner of the buffer
 * @pm: premap from blk_premap_create()
 *
 * Unmaps the buffer, unless the driver has revoked the mapping already,
 * and drops the owner's reference: @pm must not be used after this.  The
 * caller must make sure that no request on the buffer is in flight; once
 * this returns, the device cannot reach the buffer through the premap, and
 * the pages may be unpinned.
 *
 * Context: Process context; sleeps.
 */
void blk_premap_release(struct blk_premap *pm)
{
	blk_premap_end(pm);
	kref_put(&pm->ref, blk_premap_free);
}
EXPORT_SYMBOL_GPL(blk_premap_release);

/**
 * blk_premap_revoke() - end a premap, for the driver
 * @pm: premap the driver's ->premap_create() set up
 *
 * For a driver whose device goes away or is reset: unmaps the buffer
 * through ->premap_destroy(), unless the owner released it already, and
 * drops the driver's reference.  The owner's blk_premap_release() then
 * only frees @pm.  The driver must have completed every request on the
 * buffer, and must hold a reference of its own on @pm across the call if
 * the owner may release it meanwhile.
 *
 * Context: Process context; sleeps.  Must not be called from
 * ->premap_destroy() or with a lock ->premap_destroy() takes.
 * Return: %true if this ended the mapping, %false if the owner had.
 */
bool blk_premap_revoke(struct blk_premap *pm)
{
	return blk_premap_end(pm);
}
EXPORT_SYMBOL_GPL(blk_premap_revoke);

/**
 * blk_premap_get() - take a reference on a premap
 * @pm: the premap
 *
 * For a driver that revokes premaps it found in a table of its own, which
 * the owner may release meanwhile.
 *
 * Context: Any context; @pm must be known to be alive.
 */
void blk_premap_get(struct blk_premap *pm)
{
	kref_get(&pm->ref);
}
EXPORT_SYMBOL_GPL(blk_premap_get);

/**
 * blk_premap_put() - drop a reference taken with blk_premap_get()
 * @pm: the premap
 *
 * Context: Any context.
 */
void blk_premap_put(struct blk_premap *pm)
{
	kref_put(&pm->ref, blk_premap_free);
}
EXPORT_SYMBOL_GPL(blk_premap_put);

/**
 * blk_premap_serves() - tell whether a premap maps its buffer for a device
 * @pm: premap from blk_premap_create()
 * @bdev: a block device
 *
 * Context: Process context.
 * Return: %true if @pm was made through @bdev's queue and is not revoked.
 */
bool blk_premap_serves(const struct blk_premap *pm, struct block_device *bdev)
{
	return pm->q == bdev_get_queue(bdev) && READ_ONCE(pm->ops);
}
EXPORT_SYMBOL_GPL(blk_premap_serves);

/**
 * blk_premap_bio_offset() - find where a bio's data is in a premapped buffer
 * @pm: the premap
 * @bio: a bio whose bi_io_vec points into @pm->bvec
 * @offset: where to store the byte offset of the bio's data in the buffer
 *
 * The bio's data is the @bio->bi_iter.bi_size bytes of the buffer from
 * *@offset on.  Takes constant time, whatever the size of the buffer.
 *
 * Context: Any context.
 * Return:
 * * %0       - *@offset is set
 * * %-ENOENT - @bio does not point into @pm->bvec: its data is elsewhere
 * * %-ERANGE - @bio points into @pm->bvec but its data runs past the end
 *   of the buffer
 */
int blk_premap_bio_offset(const struct blk_premap *pm, const struct bio *bio,
			  size_t *offset)
{
	const struct bio_vec *bv = bio->bi_io_vec + bio->bi_iter.bi_idx;
	unsigned long idx;
	size_t off;

	if (bv < pm->bvec || bv >= pm->bvec + pm->nr_bvecs)
		return -ENOENT;
	idx = bv - pm->bvec;
	off = bio->bi_iter.bi_bvec_done;
	if (idx)
		off += pm->bvec[0].bv_len + ((size_t)(idx - 1) << pm->shift);
	if (off > pm->len || bio->bi_iter.bi_size > pm->len - off)
		return -ERANGE;
	*offset = off;
	return 0;
}
EXPORT_SYMBOL_GPL(blk_premap_bio_offset);
