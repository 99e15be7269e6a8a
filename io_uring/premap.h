/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_PREMAP_H
#define IOU_PREMAP_H

#include <linux/io_uring_types.h>

struct io_mapped_ubuf;

#ifdef CONFIG_BLK_PREMAP
void io_premap_buffer(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu);
void io_premap_file(struct io_ring_ctx *ctx, struct file *file);
void io_premap_release(struct io_mapped_ubuf *imu);
#else
static inline void io_premap_buffer(struct io_ring_ctx *ctx,
				    struct io_mapped_ubuf *imu)
{
}

static inline void io_premap_file(struct io_ring_ctx *ctx, struct file *file)
{
}

static inline void io_premap_release(struct io_mapped_ubuf *imu)
{
}
#endif /* CONFIG_BLK_PREMAP */

#endif /* IOU_PREMAP_H */
