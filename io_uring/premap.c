// SPDX-License-Identifier: GPL-2.0
/*
 * Registered buffers premapped for the block devices of the ring's
 * registered files: each buffer is mapped for DMA by each such device
 * once, and reads and writes on it (IORING_OP_READ_FIXED, WRITE_FIXED)
 * need no DMA mapping of their own.  See include/linux/blk-premap.h.
 *
 * A buffer is premapped when it is registered while block device files
 * are, or when a block device file is registered while it is; the
 * premaps end when the buffer goes, in io_buffer_unmap(), once no request
 * uses it and before its pages are unpinned, or earlier if the device
 * goes away.  Off unless kernel.io_uring_premap is 1: a premapped buffer
 * is reachable by the device while it is registered, not only while an
 * I/O on it is in flight.
 */

#include <linux/blk-premap.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysctl.h>

#include "io_uring.h"
#include "filetable.h"
#include "premap.h"
#include "rsrc.h"

/* One device a registered buffer is premapped for. */
struct io_premap {
	struct io_premap *next;
	struct blk_premap *pm;
};

static int __read_mostly sysctl_io_uring_premap;

/* Guards imu->premaps, which rings that share the buffer all reach. */
static DEFINE_MUTEX(io_premap_lock);

/* Premap @imu for the block device of @file, unless it is already. */
static void io_premap_one(struct io_mapped_ubuf *imu, struct file *file)
{
	struct block_device *bdev;
	struct blk_premap *pm;
	struct io_premap *p;

	if (!file || !S_ISBLK(file_inode(file)->i_mode))
		return;
	bdev = I_BDEV(file->f_mapping->host);

	mutex_lock(&io_premap_lock);
	for (p = imu->premaps; p; p = p->next)
		if (blk_premap_serves(p->pm, bdev))
			goto out_unlock;
	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto out_unlock;
	/* Best effort: without a premap, I/O maps its data as before. */
	pm = blk_premap_create(bdev, imu->bvec, imu->nr_bvecs, imu->len,
			       imu->folio_shift);
	if (IS_ERR(pm)) {
		kfree(p);
		goto out_unlock;
	}
	p->pm = pm;
	p->next = imu->premaps;
	imu->premaps = p;
out_unlock:
	mutex_unlock(&io_premap_lock);
}

/*
 * Premap a buffer just registered for the block devices among the ring's
 * registered files.  Called with the ring's uring_lock held.
 */
void io_premap_buffer(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu)
{
	unsigned int i;

	lockdep_assert_held(&ctx->uring_lock);
	if (!READ_ONCE(sysctl_io_uring_premap) || !imu || !imu->nr_bvecs)
		return;
	for (i = 0; i < ctx->nr_user_files; i++)
		io_premap_one(imu, io_file_from_index(&ctx->file_table, i));
}

/*
 * Premap the ring's registered buffers for the device of a file just
 * registered, if it is a block device.  Called with uring_lock held.
 */
void io_premap_file(struct io_ring_ctx *ctx, struct file *file)
{
	unsigned int i;

	lockdep_assert_held(&ctx->uring_lock);
	if (!READ_ONCE(sysctl_io_uring_premap) ||
	    !S_ISBLK(file_inode(file)->i_mode))
		return;
	for (i = 0; i < ctx->nr_user_bufs; i++) {
		struct io_mapped_ubuf *imu = ctx->user_bufs[i];

		if (imu && imu->nr_bvecs)
			io_premap_one(imu, file);
	}
}

/*
 * End the premaps of a buffer that no ring has registered any more and
 * no request uses, before its pages are unpinned.
 */
void io_premap_release(struct io_mapped_ubuf *imu)
{
	struct io_premap *p, *next;

	mutex_lock(&io_premap_lock);
	p = imu->premaps;
	imu->premaps = NULL;
	mutex_unlock(&io_premap_lock);

	for (; p; p = next) {
		next = p->next;
		blk_premap_release(p->pm);
		kfree(p);
	}
}

#ifdef CONFIG_SYSCTL
static struct ctl_table io_premap_table[] = {
	{
		.procname	= "io_uring_premap",
		.data		= &sysctl_io_uring_premap,
		.maxlen		= sizeof(sysctl_io_uring_premap),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
};

static int __init io_premap_init(void)
{
	register_sysctl_init("kernel", io_premap_table);
	return 0;
}
device_initcall(io_premap_init);
#endif /* CONFIG_SYSCTL */
