// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the RDMA core on the DMA IOVA API: RDMA READ/WRITE
 * contexts (drivers/infiniband/core/rw.c) and on-demand paging umems
 * (drivers/infiniband/core/umem_odp.c).
 *
 * The cases use a test ib_device whose DMA device is QEMU's "edu" PCI
 * device, so that buffers are mapped through the IOMMU the guest has, or
 * directly without one.  The device is not registered: it carries what
 * rw.c and umem_odp.c read (the DMA device, the attributes, the port's
 * protocol and a map_mr_sg method that records the pages of each MR) and
 * nothing else.  The edu device's DMA engine moves the bytes of a buffer
 * through the work requests that rw.c built, as an RDMA device would walk
 * them, and the bytes are compared; behind an IOMMU the cases also check
 * what the IOMMU maps after each step.  A second device without a DMA
 * device stands for rxe and siw, which use virtual DMA.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/dma-direct.h>
#include <linux/dma-iova.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include <rdma/ib_umem_odp.h>
#include <rdma/ib_verbs.h>
#include <rdma/rw.h>

#include "dma_iova_edu.h"

#define RW_PORT			1
/* A buffer uses every other page of a block, so no two are adjacent. */
#define RW_BLOCK_ORDER		4
#define RW_BLOCK_SIZE		(PAGE_SIZE << RW_BLOCK_ORDER)
#define RW_PIECES		4
/* The test QP's MR pool, and the pages one MR maps. */
#define RW_MRS			4
#define RW_MR_PAGES		2
/* DMA ranges of a context: an SGE, or a page of an MR, each. */
#define RW_RANGES		16
#define RW_LOCAL_LKEY		0x55

/**
 * struct rw_mr - an MR of the test device
 * @mr: the MR
 * @pages: the DMA address of each page, as rw.c registered them
 * @npages: entries of @pages in use
 */
struct rw_mr {
	struct ib_mr mr;
	u64 pages[RW_MR_PAGES];
	unsigned int npages;
};

/**
 * struct rw_test - the test device, with a PD and a QP
 * @ibdev: the device, not registered
 * @ports: what rdma_protocol_iwarp() and friends read, for port 1
 * @pd: the PD of @qp
 * @qp: the QP contexts are built for; never posted to
 * @mrs: the MRs of @qp's pool
 */
struct rw_test {
	struct ib_device *ibdev;
	struct ib_port_data ports[RW_PORT + 1];
	struct ib_pd pd;
	struct ib_qp qp;
	struct rw_mr mrs[RW_MRS];
};

/**
 * struct rw_ranges - where a device would move the bytes of a context
 * @addr: DMA address of each range, in buffer order
 * @len: length of each range
 * @nr: ranges in use
 * @sges: SGEs of the RDMA READ or WRITE WRs
 * @wrs: RDMA READ or WRITE WRs
 * @regs: memory registrations (IB_WR_REG_MR)
 */
struct rw_ranges {
	dma_addr_t addr[RW_RANGES];
	size_t len[RW_RANGES];
	unsigned int nr;
	unsigned int sges;
	unsigned int wrs;
	unsigned int regs;
};

static int rw_set_page(struct ib_mr *mr, u64 addr)
{
	struct rw_mr *m = container_of(mr, struct rw_mr, mr);

	if (m->npages == RW_MR_PAGES)
		return -ENOMEM;
	m->pages[m->npages++] = addr;
	return 0;
}

/* The map_mr_sg method of the test device: record the pages. */
static int rw_map_mr_sg(struct ib_mr *mr, struct scatterlist *sg,
			int sg_nents, unsigned int *sg_offset)
{
	container_of(mr, struct rw_mr, mr)->npages = 0;
	return ib_sg_to_pages(mr, sg, sg_nents, sg_offset, rw_set_page);
}

static void rw_test_free(void *data)
{
	kfree(data);
}

/*
 * A test device for @dma_dev (NULL: virtual DMA) whose port speaks iWARP
 * if @iwarp, so that RDMA READs need MRs, with @nr_mrs MRs in the QP's
 * pool and @max_sge SGEs per RDMA READ or WRITE WR.
 */
static struct rw_test *rw_test_alloc(struct kunit *test,
				     struct device *dma_dev, bool iwarp,
				     unsigned int nr_mrs, u32 max_sge)
{
	struct rw_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct ib_device *ibdev;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	ibdev = kzalloc(sizeof(*ibdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ibdev);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rw_test_free,
							ibdev), 0);
	t->ibdev = ibdev;

	ibdev->dma_device = dma_dev;
	ibdev->phys_port_cnt = 1;
	ibdev->port_data = t->ports;
	if (iwarp)
		t->ports[RW_PORT].immutable.core_cap_flags =
			RDMA_CORE_PORT_IWARP;
	ibdev->attrs.max_fast_reg_page_list_len = RW_MR_PAGES;
	ibdev->ops.map_mr_sg = rw_map_mr_sg;

	t->pd.device = ibdev;
	t->pd.local_dma_lkey = RW_LOCAL_LKEY;

	t->qp.device = ibdev;
	t->qp.pd = &t->pd;
	t->qp.real_qp = &t->qp;
	t->qp.max_read_sge = max_sge;
	t->qp.max_write_sge = max_sge;
	spin_lock_init(&t->qp.mr_lock);
	INIT_LIST_HEAD(&t->qp.rdma_mrs);
	for (i = 0; i < nr_mrs; i++) {
		struct ib_mr *mr = &t->mrs[i].mr;

		mr->device = ibdev;
		mr->pd = &t->pd;
		mr->lkey = 0x100 * (i + 1);
		mr->rkey = mr->lkey;
		list_add_tail(&mr->qp_entry, &t->qp.rdma_mrs);
	}
	return t;
}

static struct rw_mr *rw_find_mr(struct rw_test *t, u32 lkey)
{
	unsigned int i;

	for (i = 0; i < RW_MRS; i++)
		if (t->mrs[i].mr.device && t->mrs[i].mr.lkey == lkey)
			return &t->mrs[i];
	return NULL;
}

static void rw_add_range(struct kunit *test, struct rw_ranges *r,
			 dma_addr_t addr, size_t len)
{
	KUNIT_ASSERT_LT(test, r->nr, RW_RANGES);
	r->addr[r->nr] = addr;
	r->len[r->nr++] = len;
}

/*
 * Walk the WRs of @ctx as the device would: an SGE with the local DMA
 * lkey is a DMA range; one with an MR's lkey is a range of the MR, whose
 * pages are where rw.c registered them.
 */
static void rw_ctx_ranges(struct kunit *test, struct rw_test *t,
			  struct rdma_rw_ctx *ctx, struct rw_ranges *r)
{
	struct ib_cqe cqe = {};
	struct ib_send_wr *wr;
	int i;

	memset(r, 0, sizeof(*r));
	for (wr = rdma_rw_ctx_wrs(ctx, &t->qp, RW_PORT, &cqe, NULL); wr;
	     wr = wr->next) {
		if (wr->opcode == IB_WR_REG_MR)
			r->regs++;
		if (wr->opcode != IB_WR_RDMA_READ &&
		    wr->opcode != IB_WR_RDMA_READ_WITH_INV &&
		    wr->opcode != IB_WR_RDMA_WRITE)
			continue;
		r->wrs++;
		for (i = 0; i < wr->num_sge; i++) {
			const struct ib_sge *sge = &wr->sg_list[i];
			u64 va = sge->addr, left = sge->length;
			struct rw_mr *m;
			unsigned int p;

			r->sges++;
			if (sge->lkey == RW_LOCAL_LKEY) {
				rw_add_range(test, r, sge->addr, sge->length);
				continue;
			}
			m = rw_find_mr(t, sge->lkey);
			KUNIT_ASSERT_NOT_NULL(test, m);
			KUNIT_ASSERT_EQ(test, va, m->mr.iova);
			KUNIT_ASSERT_LE(test, left, m->mr.length);
			for (p = 0; p < m->npages && left; p++) {
				size_t off = p ? 0 : offset_in_page(va);
				size_t n = min_t(u64, PAGE_SIZE - off, left);

				rw_add_range(test, r, m->pages[p] + off, n);
				left -= n;
			}
			KUNIT_EXPECT_EQ(test, left, 0);
		}
	}
}

/* A piece of a buffer: @len bytes from byte @off of page @page of a block. */
struct rw_piece {
	unsigned int page;
	unsigned int off;
	unsigned int len;
};

/**
 * struct rw_case - a buffer and how a context is built over it
 * @name: what the case shows
 * @bvec: build it with rdma_rw_ctx_init_bvec(), else rdma_rw_ctx_init()
 * @skip: bytes of the buffer before the transfer (sg_offset, or
 *	bi_bvec_done of the first bio_vec)
 * @max_sge: SGEs per RDMA READ or WRITE WR
 * @iwarp: the port speaks iWARP: RDMA READs go through MRs
 * @boundary: DMA segment boundary mask the device is given, 0 for its own
 * @pieces: the scatterlist entries or bio_vecs
 */
struct rw_case {
	const char *name;
	bool bvec;
	unsigned int skip;
	u32 max_sge;
	bool iwarp;
	unsigned long boundary;
	struct rw_piece pieces[RW_PIECES];
};

static const struct rw_case rw_cases[] = {
	{
		.name = "sg, unaligned head and tail",
		.max_sge = 16,
		.pieces = { { 0, 512, 3584 }, { 2, 0, 4096 }, { 4, 0, 4096 },
			    { 6, 0, 1000 } },
	}, {
		.name = "sg, from inside the second entry, 2 SGEs per WR",
		.skip = 5000,
		.max_sge = 2,
		.pieces = { { 0, 512, 3584 }, { 2, 0, 4096 }, { 4, 0, 4096 },
			    { 6, 0, 1000 } },
	}, {
		.name = "bio_vec, a two-page segment, from an offset",
		.bvec = true,
		.skip = 300,
		.max_sge = 16,
		.pieces = { { 0, 256, 3840 }, { 2, 0, 2 * 4096 },
			    { 6, 0, 2048 } },
	}, {
		.name = "sg, iWARP: RDMA READ through MRs",
		.iwarp = true,
		.max_sge = 16,
		.pieces = { { 0, 512, 3584 }, { 2, 0, 4096 }, { 4, 0, 4096 },
			    { 6, 0, 1000 } },
	}, {
		.name = "bio_vec, iWARP: RDMA READ through MRs",
		.bvec = true,
		.skip = 300,
		.iwarp = true,
		.max_sge = 16,
		.pieces = { { 0, 256, 3840 }, { 2, 0, 2 * 4096 },
			    { 6, 0, 2048 } },
	}, {
		.name = "bio_vec, SGEs cut at an 8 KiB segment boundary",
		.bvec = true,
		.skip = 300,
		.max_sge = 16,
		.boundary = SZ_8K - 1,
		.pieces = { { 0, 256, 3840 }, { 2, 0, 2 * 4096 },
			    { 6, 0, 2048 } },
	},
};

static void rw_case_desc(const struct rw_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rw, rw_cases, rw_case_desc);

static unsigned int rw_case_pieces(const struct rw_case *c)
{
	unsigned int n = 0;

	while (n < RW_PIECES && c->pieces[n].len)
		n++;
	return n;
}

static size_t rw_case_len(const struct rw_case *c)
{
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < rw_case_pieces(c); i++)
		len += c->pieces[i].len;
	return len - c->skip;
}

/* Pieces the transfer touches, and the pages each covers, from @skip on. */
static void rw_case_count(const struct rw_case *c, unsigned int *pieces,
			  unsigned int *pages)
{
	unsigned int i, skip = c->skip;

	*pieces = 0;
	*pages = 0;
	for (i = 0; i < rw_case_pieces(c); i++) {
		const struct rw_piece *p = &c->pieces[i];
		unsigned int off = p->off, len = p->len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		off += skip;
		len -= skip;
		skip = 0;
		(*pieces)++;
		*pages += DIV_ROUND_UP(offset_in_page(off) + len, PAGE_SIZE);
	}
}

/* The byte at @off of a block filled with @seed. */
static u8 rw_pattern(u8 seed, size_t off)
{
	return seed ^ (off * 7) ^ (off >> 9);
}

static void rw_block_free(void *data)
{
	__free_pages(data, RW_BLOCK_ORDER);
}

static struct page *rw_block_alloc(struct kunit *test, u8 seed)
{
	struct page *block = alloc_pages(GFP_KERNEL, RW_BLOCK_ORDER);
	u8 *p;
	size_t off;

	KUNIT_ASSERT_NOT_NULL(test, block);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rw_block_free,
							block), 0);
	p = page_address(block);
	for (off = 0; off < RW_BLOCK_SIZE; off++)
		p[off] = rw_pattern(seed, off);
	return block;
}

static void rw_ctx_destroy(struct rw_test *t, struct rdma_rw_ctx *ctx,
			   const struct rw_case *c, struct scatterlist *sgl,
			   enum dma_data_direction dir)
{
	if (c->bvec)
		rdma_rw_ctx_destroy_bvec(ctx, &t->qp, RW_PORT, dir);
	else
		rdma_rw_ctx_destroy(ctx, &t->qp, RW_PORT, sgl,
				    rw_case_pieces(c), dir);
}

/* Build a context over the pieces of @c in @block; returns rw.c's result. */
static int rw_ctx_init(struct rw_test *t, struct rdma_rw_ctx *ctx,
		       const struct rw_case *c, struct page *block,
		       struct scatterlist *sgl, enum dma_data_direction dir)
{
	unsigned int i, nr = rw_case_pieces(c);
	struct bio_vec bvecs[RW_PIECES];
	struct bvec_iter iter = {
		.bi_size = rw_case_len(c),
		.bi_bvec_done = c->skip,
	};

	sg_init_table(sgl, nr);
	for (i = 0; i < nr; i++) {
		const struct rw_piece *p = &c->pieces[i];

		sg_set_page(&sgl[i], block + p->page, p->len, p->off);
		bvec_set_page(&bvecs[i], block + p->page, p->len, p->off);
	}
	if (c->bvec)
		return rdma_rw_ctx_init_bvec(ctx, &t->qp, RW_PORT, bvecs, nr,
					     iter, 0x1000, 0x77, dir);
	return rdma_rw_ctx_init(ctx, &t->qp, RW_PORT, sgl, nr, c->skip,
				0x1000, 0x77, dir);
}

/* The IOMMU translates DMA addresses of @dev: they are not physical. */
static bool rw_translated(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && iommu_is_dma_domain(domain);
}

/*
 * Check how a context maps its buffer.  Behind an IOMMU the buffer is one
 * DMA range: one SGE, one WR, one MR per RW_MR_PAGES pages of it.
 * Mapped directly (and not bounced) each piece is its own range.
 */
static void rw_expect_shape(struct kunit *test, struct rw_test *t,
			    struct rdma_rw_ctx *ctx, const struct rw_case *c,
			    const struct rw_ranges *r, int ret,
			    enum dma_data_direction dir)
{
	struct device *dev = t->ibdev->dma_device;
	bool mr = c->iwarp && dir == DMA_FROM_DEVICE;
	unsigned int pieces, pages, sges, i;
	size_t len = 0;

	for (i = 0; i < r->nr; i++)
		len += r->len[i];
	KUNIT_EXPECT_EQ(test, len, rw_case_len(c));
	KUNIT_EXPECT_EQ(test, ret, r->wrs + r->regs);
	KUNIT_EXPECT_EQ(test, r->regs, mr ? r->wrs : 0);

	rw_case_count(c, &pieces, &pages);
	if (dma_use_iova(&ctx->iova)) {
		pages = DIV_ROUND_UP(offset_in_page(r->addr[0]) + len,
				     PAGE_SIZE);
		sges = 1;
		/* and one more from each segment boundary crossed */
		if (c->boundary) {
			unsigned int shift = ilog2(c->boundary + 1);

			sges += ((r->addr[0] + len - 1) >> shift) -
				(r->addr[0] >> shift);
		}
	} else if (!dev || (!c->boundary && !rw_translated(dev) &&
			    !is_swiotlb_force_bounce(dev))) {
		sges = pieces;
	} else {
		/* Bounce buffers or IOVAs of their own: no exact count. */
		KUNIT_EXPECT_LE(test, r->sges, pieces + pages);
		return;
	}
	if (mr) {
		KUNIT_EXPECT_EQ(test, r->regs,
				DIV_ROUND_UP(pages, RW_MR_PAGES));
		KUNIT_EXPECT_EQ(test, r->sges, r->regs);
	} else {
		KUNIT_EXPECT_EQ(test, r->sges, sges);
		KUNIT_EXPECT_EQ(test, r->wrs, DIV_ROUND_UP(sges, c->max_sge));
	}
}

static struct device *rw_edu(struct kunit *test)
{
	struct device *dev = dma_iova_edu_dev();

	if (!dev)
		kunit_skip(test, "no QEMU edu PCI device (-device edu)");
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)),
			0);
	return dev;
}

/**
 * struct rw_boundary - a device's DMA segment boundary, to restore
 * @dev: the device
 * @mask: its boundary mask before the case
 */
struct rw_boundary {
	struct device *dev;
	unsigned long mask;
};

static void rw_boundary_restore(void *data)
{
	struct rw_boundary *b = data;

	dma_set_seg_boundary(b->dev, b->mask);
}

/* Give @dev the segment boundary @mask for the rest of the case. */
static void rw_set_boundary(struct kunit *test, struct device *dev,
			    unsigned long mask)
{
	struct rw_boundary *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->dev = dev;
	b->mask = dma_get_seg_boundary(dev);
	dma_set_seg_boundary(dev, mask);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							rw_boundary_restore,
							b), 0);
}

/* No SGE of @ctx may cross the segment boundary @mask, as dma_map_sg(). */
static void rw_expect_in_boundary(struct kunit *test, struct rw_test *t,
				  struct rdma_rw_ctx *ctx, unsigned long mask)
{
	struct ib_cqe cqe = {};
	struct ib_send_wr *wr;
	int i;

	for (wr = rdma_rw_ctx_wrs(ctx, &t->qp, RW_PORT, &cqe, NULL); wr;
	     wr = wr->next) {
		for (i = 0; i < wr->num_sge; i++) {
			const struct ib_sge *sge = &wr->sg_list[i];

			if (sge->lkey != RW_LOCAL_LKEY)
				continue;
			KUNIT_EXPECT_EQ_MSG(test, sge->addr | mask,
					    (sge->addr + sge->length - 1) | mask,
					    "SGE %llx+%u crosses a boundary of %lu bytes",
					    sge->addr, sge->length, mask + 1);
		}
	}
}

static void rw_expect_unmapped(struct kunit *test, struct device *dev,
			       const struct rw_ranges *r)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(dev, r->addr[i],
							      r->len[i]), 0,
				    "range %u at %pad still mapped", i,
				    &r->addr[i]);
}

/*
 * The layouts of rw_cases are in 4 KiB units: with larger pages their
 * middle entries do not start at page boundaries, which an MR cannot
 * hold (6.12's rdma_rw fails them too).  Cases through MRs need 4 KiB
 * pages.
 */
static void rw_need_4k_pages(struct kunit *test, bool mr)
{
	if (mr && PAGE_SIZE != SZ_4K)
		kunit_skip(test, "MR layouts are written in 4 KiB units");
}

/**
 * struct rw_align - a device's min_align_mask, to restore after a case
 * @dev: the device
 * @mask: its mask before the case
 */
struct rw_align {
	struct device *dev;
	unsigned int mask;
};

static void rw_align_restore(void *data)
{
	struct rw_align *a = data;

	dma_set_min_align_mask(a->dev, a->mask);
}

/*
 * An MR holds whole pages, so pieces that meet at page boundaries must
 * still meet at page boundaries in DMA space.  A swiotlb slot keeps a
 * piece's offset in its page only for a device that asks for it with a
 * min_align_mask, as nvme-pci does for its PRPs: a device that bounces
 * and registers MRs needs one.  6.12's dma_map_sg() gave no more, and
 * without it these cases fail under swiotlb=force whenever a slot lands
 * at another offset.
 */
static void rw_keep_page_offsets(struct kunit *test, struct device *dev)
{
	struct rw_align *a;

	if (!is_swiotlb_force_bounce(dev))
		return;
	a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	a->dev = dev;
	a->mask = dma_get_min_align_mask(dev);
	dma_set_min_align_mask(dev, PAGE_SIZE - 1);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rw_align_restore,
							a), 0);
}

/*
 * RDMA WRITE from one block and RDMA READ into another, with the edu
 * device as the wire: it reads each chunk through the WRITE context's
 * ranges and writes it through the READ context's.  The bytes of the
 * transfer must arrive, the others must not change, and behind an IOMMU
 * nothing may stay mapped after destroy.
 */
static void dma_iova_rdma_test_rw(struct kunit *test)
{
	const struct rw_case *c = test->param_value;
	struct device *dev = rw_edu(test);
	struct rw_test *t = rw_test_alloc(test, dev, c->iwarp, RW_MRS,
					  c->max_sge);
	struct page *src = rw_block_alloc(test, 0x3c);
	struct page *dst = rw_block_alloc(test, 0xa5);
	struct scatterlist src_sg[RW_PIECES], dst_sg[RW_PIECES];
	struct rdma_rw_ctx wctx, rctx;
	struct rw_ranges w, r;
	size_t off, len = rw_case_len(c), bad = 0, pos, i;
	int ret;

	rw_need_4k_pages(test, c->iwarp);
	if (c->iwarp)
		rw_keep_page_offsets(test, dev);
	if (c->boundary)
		rw_set_boundary(test, dev, c->boundary);
	ret = rw_ctx_init(t, &wctx, c, src, src_sg, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, ret, 0);
	rw_ctx_ranges(test, t, &wctx, &w);
	rw_expect_shape(test, t, &wctx, c, &w, ret, DMA_TO_DEVICE);

	ret = rw_ctx_init(t, &rctx, c, dst, dst_sg, DMA_FROM_DEVICE);
	if (ret <= 0) {
		rw_ctx_destroy(t, &wctx, c, src_sg, DMA_TO_DEVICE);
		KUNIT_FAIL(test, "READ context: %d", ret);
		return;
	}
	rw_ctx_ranges(test, t, &rctx, &r);
	rw_expect_shape(test, t, &rctx, c, &r, ret, DMA_FROM_DEVICE);
	if (c->boundary) {
		rw_expect_in_boundary(test, t, &wctx, c->boundary);
		rw_expect_in_boundary(test, t, &rctx, c->boundary);
	}

	for (off = 0; off < len; off += EDU_XFER) {
		size_t n = min_t(size_t, EDU_XFER, len - off);

		KUNIT_EXPECT_GT(test, dma_iova_edu_dma_ranges(w.addr, w.len,
							      w.nr, off, n,
							      false), 0);
		KUNIT_EXPECT_GT(test, dma_iova_edu_dma_ranges(r.addr, r.len,
							      r.nr, off, n,
							      true), 0);
	}

	rw_ctx_destroy(t, &rctx, c, dst_sg, DMA_FROM_DEVICE);
	rw_ctx_destroy(t, &wctx, c, src_sg, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, t->qp.mrs_used, 0);
	rw_expect_unmapped(test, dev, &w);
	rw_expect_unmapped(test, dev, &r);

	/* Byte i of the transfer sits at the same block offset in both. */
	for (i = 0, pos = 0; i < rw_case_pieces(c); i++) {
		const struct rw_piece *p = &c->pieces[i];
		size_t base = p->page * PAGE_SIZE + p->off, b;

		for (b = 0; b < p->len; b++, pos++) {
			bool moved = pos >= c->skip;
			u8 want = rw_pattern(moved ? 0x3c : 0xa5, base + b);

			if (((u8 *)page_address(dst))[base + b] != want)
				bad++;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%zu bytes differ", bad);
}

/*
 * A device without a DMA device (rxe, siw) gets kernel virtual addresses,
 * one SGE per piece, and nothing is mapped.
 */
static void dma_iova_rdma_test_virt_dma(struct kunit *test)
{
	const struct rw_case *c = test->param_value;
	struct rw_test *t;
	struct page *block = rw_block_alloc(test, 0x11);
	struct scatterlist sgl[RW_PIECES];
	struct rdma_rw_ctx ctx;
	struct rw_ranges r;
	unsigned int i, skip = c->skip, n = 0;
	int ret;

	if (!IS_ENABLED(CONFIG_INFINIBAND_VIRT_DMA))
		kunit_skip(test, "no virtual DMA (CONFIG_INFINIBAND_VIRT_DMA)");
	t = rw_test_alloc(test, NULL, c->iwarp, RW_MRS, c->max_sge);
	ret = rw_ctx_init(t, &ctx, c, block, sgl, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, ret, 0);
	rw_ctx_ranges(test, t, &ctx, &r);
	rw_expect_shape(test, t, &ctx, c, &r, ret, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&ctx.iova));

	for (i = 0; i < rw_case_pieces(c); i++) {
		const struct rw_piece *p = &c->pieces[i];
		u8 *va = page_address(block + p->page) + p->off;

		if (skip >= p->len) {
			skip -= p->len;
			continue;
		}
		if (n < r.nr) {
			KUNIT_EXPECT_PTR_EQ(test, (void *)(uintptr_t)r.addr[n],
					    (void *)(va + skip));
			KUNIT_EXPECT_EQ(test, r.len[n], p->len - skip);
		}
		skip = 0;
		n++;
	}
	KUNIT_EXPECT_EQ(test, r.nr, n);
	rw_ctx_destroy(t, &ctx, c, sgl, DMA_TO_DEVICE);
}

/*
 * Failures part-way through a context build must leave nothing mapped:
 * an MR pool that runs dry after the first registration.  And a middle
 * entry that starts inside a page, which one IOVA range cannot hold, is
 * no failure: behind an IOMMU the buffer is mapped entry by entry, as
 * dma_map_sg() mapped it.  An empty bio_vec iterator is -EINVAL, without
 * a warning.
 */
static void dma_iova_rdma_test_fail(struct kunit *test)
{
	const struct rw_case *c = &rw_cases[3];	/* iWARP: 2 MRs for a READ */
	struct device *dev = rw_edu(test);
	struct rw_test *t = rw_test_alloc(test, dev, true, 1, 16);
	struct page *block = rw_block_alloc(test, 0x42);
	struct scatterlist sgl[RW_PIECES];
	struct rw_case bad = rw_cases[0];
	struct bio_vec empty = { .bv_page = block, .bv_len = PAGE_SIZE };
	struct bvec_iter empty_iter = { };
	struct rdma_rw_ctx ctx;
	unsigned int p;

	rw_need_4k_pages(test, true);
	KUNIT_EXPECT_EQ(test, rw_ctx_init(t, &ctx, c, block, sgl,
					  DMA_FROM_DEVICE), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->qp.mrs_used, 0);
	KUNIT_EXPECT_FALSE(test, list_empty(&t->qp.rdma_mrs));
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&ctx.iova));
	/* The first MR was registered before the pool ran dry. */
	KUNIT_EXPECT_EQ(test, t->mrs[0].npages, RW_MR_PAGES);
	for (p = 0; p < t->mrs[0].npages; p++)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(dev,
							      t->mrs[0].pages[p],
							      PAGE_SIZE), 0,
				    "MR page %u still mapped", p);

	/* An empty iterator is an error, not a bug. */
	KUNIT_EXPECT_EQ(test, rdma_rw_ctx_init_bvec(&ctx, &t->qp, RW_PORT,
						    &empty, 1, empty_iter,
						    0, 0, DMA_TO_DEVICE),
			-EINVAL);

	if (!rw_translated(dev))
		return;
	bad.pieces[2].off = 100;
	bad.pieces[2].len = 3000;
	KUNIT_ASSERT_GT(test, rw_ctx_init(t, &ctx, &bad, block, sgl,
					  DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&ctx.iova));
	KUNIT_EXPECT_EQ(test, ctx.iova.addr, 0);
	rw_ctx_destroy(t, &ctx, &bad, sgl, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, memchr_inv(&ctx.iova, 0, sizeof(ctx.iova)));
}

#if IS_ENABLED(CONFIG_INFINIBAND_ON_DEMAND_PAGING)

#define ODP_PAGES		8

/* What a driver does on an invalidation: unmap the pages of the range. */
static bool rw_odp_invalidate(struct mmu_interval_notifier *mni,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct ib_umem_odp *umem =
		container_of(mni, struct ib_umem_odp, notifier);

	if (!mmu_notifier_range_blockable(range))
		return false;
	mutex_lock(&umem->umem_mutex);
	mmu_interval_set_seq(mni, cur_seq);
	ib_umem_odp_unmap_dma_pages(umem, range->start, range->end);
	mutex_unlock(&umem->umem_mutex);
	return true;
}

static const struct mmu_interval_notifier_ops rw_odp_ops = {
	.invalidate = rw_odp_invalidate,
};

/* Fill page @i of the user mapping at @uaddr with @seed. */
static int rw_odp_fill(unsigned long uaddr, unsigned int i, u8 seed)
{
	u8 *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	size_t off;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (off = 0; off < PAGE_SIZE; off++)
		buf[off] = rw_pattern(seed, i * PAGE_SIZE + off);
	if (copy_to_user((void __user *)(uaddr + i * PAGE_SIZE), buf,
			 PAGE_SIZE))
		ret = -EFAULT;
	kfree(buf);
	return ret;
}

/*
 * Check each page of @umem: mapped (with read and write access) exactly
 * if bit i of @mapped is set, behind an IOMMU at its offset in the umem's
 * IOVA range and nowhere else, and then holding the bytes of @seeds[i].
 */
static void rw_odp_expect(struct kunit *test, struct ib_umem_odp *umem,
			  unsigned long mapped, const u8 *seeds)
{
	struct device *dev = umem->umem.ibdev->dma_device;
	struct iommu_domain *domain = dev ? iommu_get_domain_for_dev(dev) :
					    NULL;
	unsigned int i;

	mutex_lock(&umem->umem_mutex);
	KUNIT_EXPECT_EQ(test, umem->npages, hweight_long(mapped));
	for (i = 0; i < ODP_PAGES; i++) {
		bool want = mapped & BIT(i);
		dma_addr_t addr;
		phys_addr_t phys;
		size_t off, bad = 0;
		u8 *p;

		KUNIT_EXPECT_EQ_MSG(test, ib_umem_odp_access(umem, i),
				    want ? ODP_READ_ALLOWED_BIT |
					   ODP_WRITE_ALLOWED_BIT : 0,
				    "page %u", i);
		if (dma_use_iova(&umem->dma_state)) {
			addr = umem->dma_state.addr + i * PAGE_SIZE;
			KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(dev, addr,
								      PAGE_SIZE),
					    want ? 1 : 0,
					    "IOMMU mapping of page %u", i);
		}
		if (!want)
			continue;

		addr = ib_umem_odp_dma_addr(umem, i);
		if (!dev) {
			p = (u8 *)(uintptr_t)addr;
		} else if (rw_translated(dev)) {
			phys = iommu_iova_to_phys(domain, addr);
			if (!phys) {
				KUNIT_FAIL(test, "page %u: %pad not mapped",
					   i, &addr);
				continue;
			}
			p = phys_to_virt(phys);
		} else {
			p = phys_to_virt(dma_to_phys(dev, addr));
		}
		for (off = 0; off < PAGE_SIZE; off++)
			if (p[off] != rw_pattern(seeds[i],
						 i * PAGE_SIZE + off))
				bad++;
		KUNIT_EXPECT_EQ_MSG(test, bad, 0,
				    "page %u: %zu bytes differ", i, bad);
	}
	mutex_unlock(&umem->umem_mutex);
}

static int rw_odp_fault(struct ib_umem_odp *umem, unsigned long uaddr,
			unsigned int first, unsigned int nr)
{
	int ret;

	ret = ib_umem_odp_map_dma_and_lock(umem, uaddr + first * PAGE_SIZE,
					   nr * PAGE_SIZE,
					   ODP_READ_ALLOWED_BIT |
					   ODP_WRITE_ALLOWED_BIT, true);
	if (ret >= 0)
		mutex_unlock(&umem->umem_mutex);
	return ret;
}

/*
 * An ODP umem of @t over a new user mapping of ODP_PAGES pages, whose page
 * i is filled with @seed + i (kept in @seeds); its address in *@uaddr.
 */
static struct ib_umem_odp *rw_odp_umem(struct kunit *test, struct rw_test *t,
				       u8 seed, u8 *seeds, unsigned long *uaddr)
{
	struct ib_umem_odp *umem;
	unsigned int i;

	*uaddr = kunit_vm_mmap(test, NULL, 0, ODP_PAGES * PAGE_SIZE,
			       PROT_READ | PROT_WRITE,
			       MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, *uaddr, 0, "no user mapping");
	for (i = 0; i < ODP_PAGES; i++) {
		seeds[i] = seed + i;
		KUNIT_ASSERT_EQ(test, rw_odp_fill(*uaddr, i, seeds[i]), 0);
	}
	umem = ib_umem_odp_get(t->ibdev, *uaddr, ODP_PAGES * PAGE_SIZE,
			       IB_ACCESS_ON_DEMAND | IB_ACCESS_LOCAL_WRITE,
			       &rw_odp_ops);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	return umem;
}

/*
 * An ODP umem over a user mapping made in the test: fault pages in,
 * invalidate one by unmapping it, map a new page there and fault again,
 * release.  After each step the IOMMU must map exactly the faulted pages
 * of the umem, each to the page holding the user's bytes.
 */
static void dma_iova_rdma_test_odp(struct kunit *test)
{
	bool virt = *(const bool *)test->param_value;
	struct device *dev = virt ? NULL : rw_edu(test);
	struct rw_test *t;
	u8 seeds[ODP_PAGES];
	struct ib_umem_odp *umem;
	unsigned long uaddr, page3;
	dma_addr_t base = 0;

	if (virt && !IS_ENABLED(CONFIG_INFINIBAND_VIRT_DMA))
		kunit_skip(test, "no virtual DMA (CONFIG_INFINIBAND_VIRT_DMA)");
	t = rw_test_alloc(test, dev, false, 0, 16);
	umem = rw_odp_umem(test, t, 0x20, seeds, &uaddr);
	if (dma_use_iova(&umem->dma_state))
		base = umem->dma_state.addr;
	else
		KUNIT_EXPECT_FALSE(test, dev && rw_translated(dev) &&
				   IS_ENABLED(CONFIG_DMA_IOVA));
	rw_odp_expect(test, umem, 0, seeds);

	/* Fault in pages 2 to 5. */
	KUNIT_EXPECT_EQ(test, rw_odp_fault(umem, uaddr, 2, 4), 4);
	rw_odp_expect(test, umem, GENMASK(5, 2), seeds);

	/* Unmapping page 3 invalidates it, and only it. */
	page3 = uaddr + 3 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, vm_munmap(page3, PAGE_SIZE), 0);
	rw_odp_expect(test, umem, GENMASK(5, 2) & ~BIT(3), seeds);

	/* A new page there faults in at the same DMA address. */
	KUNIT_ASSERT_EQ(test, vm_mmap(NULL, page3, PAGE_SIZE,
				      PROT_READ | PROT_WRITE,
				      MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED,
				      0), page3);
	seeds[3] = 0x99;
	KUNIT_EXPECT_EQ(test, rw_odp_fill(uaddr, 3, seeds[3]), 0);
	KUNIT_EXPECT_EQ(test, rw_odp_fault(umem, uaddr, 2, 4), 4);
	rw_odp_expect(test, umem, GENMASK(5, 2), seeds);
	if (base)
		KUNIT_EXPECT_EQ(test, umem->dma_state.addr, base);

	ib_umem_odp_release(umem);
	if (base)
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base,
							  ODP_PAGES * PAGE_SIZE),
				0);
}

/* The iommu_map_nosync() call, counted from 1, that fails; 0 for none. */
static unsigned int odp_map_fail_at, odp_map_calls;

/*
 * The other calls map: with the task's test hidden from the redirect, not
 * by deactivating the stub and activating it again, which allocates
 * (GFP_KERNEL) under the umem's mutex, an inversion lockdep reports.
 */
static int odp_map_nosync(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t size, int prot, gfp_t gfp)
{
	struct kunit *test = current->kunit_test;
	int ret;

	if (++odp_map_calls == odp_map_fail_at)
		return -ENOMEM;
	current->kunit_test = NULL;
	ret = iommu_map_nosync(domain, iova, paddr, size, prot, gfp);
	current->kunit_test = test;
	return ret;
}

/*
 * A fault that fails part-way: the IOMMU cannot map the third page of
 * six.  The fault fails, and the two pages linked before are in the
 * umem's tables as a fault that passed would leave them: so they must be
 * synced, since a driver may later hand the device a block of its page
 * table that covers them (mlx5 updates MTTs in aligned blocks of 8).
 * The next fault maps the rest.
 */
static void dma_iova_rdma_test_odp_fail(struct kunit *test)
{
	struct device *dev = rw_edu(test);
	struct rw_test *t = rw_test_alloc(test, dev, false, 0, 16);
	struct ib_umem_odp *umem;
	u8 seeds[ODP_PAGES];
	unsigned long uaddr;
	u64 syncs;

	umem = rw_odp_umem(test, t, 0x40, seeds, &uaddr);
	if (!dma_use_iova(&umem->dma_state)) {
		ib_umem_odp_release(umem);
		kunit_skip(test, "needs an IOMMU DMA domain (contiguous mode)");
	}

	dma_iova_stats_start();
	syncs = dma_iova_stat_read(dev, "syncs");
	odp_map_calls = 0;
	odp_map_fail_at = 3;
	kunit_activate_static_stub(test, iommu_map_nosync, odp_map_nosync);
	KUNIT_EXPECT_LT(test, rw_odp_fault(umem, uaddr, 0, 6), 0);
	kunit_deactivate_static_stub(test, iommu_map_nosync);
	KUNIT_EXPECT_EQ(test, odp_map_calls, 3);
	rw_odp_expect(test, umem, GENMASK(1, 0), seeds);
	KUNIT_EXPECT_EQ_MSG(test, dma_iova_stat_read(dev, "syncs") - syncs, 1,
			    "the two pages linked were not synced");

	KUNIT_EXPECT_EQ(test, rw_odp_fault(umem, uaddr, 0, 6), 6);
	rw_odp_expect(test, umem, GENMASK(5, 0), seeds);
	ib_umem_odp_release(umem);
}

/*
 * An ODP registration larger than the IOVA space can hold as one range:
 * 1.5 GiB for a device limited to 30-bit DMA addresses behind an IOMMU
 * (smaller than memory, which dma_iova_alloc() sends per piece by
 * itself).  It is mapped page by page where faults touch it, as 6.12
 * mapped every ODP umem, and each page the device reaches holds the
 * user's bytes; releasing it unmaps them.
 */
static void dma_iova_rdma_test_odp_huge(struct kunit *test)
{
	const unsigned long size = 3UL << 29, far = 5UL << 28;
	struct device *dev = rw_edu(test);
	struct iommu_domain *domain;
	struct ib_umem_odp *umem;
	unsigned long uaddr;
	dma_addr_t addr[2];
	phys_addr_t phys;
	struct rw_test *t;
	unsigned int i;
	size_t off, bad;

	if (!rw_translated(dev))
		kunit_skip(test, "needs an IOMMU: memory above 1 GiB would bounce");
	/* rw_edu() gives every case a 64-bit mask again */
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(30)),
			0);
	t = rw_test_alloc(test, dev, false, 0, 16);
	uaddr = kunit_vm_mmap(test, NULL, 0, size, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "no user mapping");
	KUNIT_ASSERT_EQ(test, rw_odp_fill(uaddr, 0, 0x61), 0);
	KUNIT_ASSERT_EQ(test, rw_odp_fill(uaddr, far / PAGE_SIZE, 0x62), 0);

	umem = ib_umem_odp_get(t->ibdev, uaddr, size,
			       IB_ACCESS_ON_DEMAND | IB_ACCESS_LOCAL_WRITE,
			       &rw_odp_ops);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&umem->dma_state));
	KUNIT_EXPECT_EQ(test, rw_odp_fault(umem, uaddr, 0, 1), 1);
	KUNIT_EXPECT_EQ(test, rw_odp_fault(umem, uaddr, far / PAGE_SIZE, 1), 1);

	mutex_lock(&umem->umem_mutex);
	KUNIT_EXPECT_EQ(test, umem->npages, 2);
	addr[0] = ib_umem_odp_dma_addr(umem, 0);
	addr[1] = ib_umem_odp_dma_addr(umem, far / PAGE_SIZE);
	mutex_unlock(&umem->umem_mutex);

	domain = iommu_get_domain_for_dev(dev);
	for (i = 0; i < 2; i++) {
		const u8 *p;
		size_t page = i ? far / PAGE_SIZE : 0;

		KUNIT_EXPECT_LE(test, addr[i] + PAGE_SIZE - 1,
				(dma_addr_t)DMA_BIT_MASK(30));
		phys = iommu_iova_to_phys(domain, addr[i]);
		if (!phys) {
			KUNIT_FAIL(test, "page %u: %pad not mapped", i,
				   &addr[i]);
			continue;
		}
		p = phys_to_virt(phys);
		for (off = 0, bad = 0; off < PAGE_SIZE; off++)
			if (p[off] != rw_pattern(0x61 + i,
						 page * PAGE_SIZE + off))
				bad++;
		KUNIT_EXPECT_EQ_MSG(test, bad, 0, "page %u: %zu bytes differ",
				    i, bad);
	}

	ib_umem_odp_release(umem);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(dev, addr[i],
							      PAGE_SIZE), 0,
				    "page %u still mapped", i);
}

/*
 * Behind an IOMMU, the page at each of the @n addresses in @addr must be
 * mapped exactly if bit i of @mapped is set; without one, nothing to see.
 */
static void rw_odp_expect_iommu(struct kunit *test, struct device *dev,
				const dma_addr_t *addr, unsigned int n,
				unsigned long mapped)
{
	unsigned int i;

	if (!rw_translated(dev))
		return;
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(dev, addr[i],
							      PAGE_SIZE),
				    mapped & BIT(i) ? 1 : 0,
				    "IOMMU mapping of page %u", i);
}

/*
 * A child of an implicit ODP registration (mlx5 makes one per 1 GiB
 * window of the address space that a fault lands in) reserves no IOVA
 * space: its pages are mapped one by one as faults link them, and hold
 * the user's bytes; an invalidation unmaps only its page (behind an
 * IOMMU, the IOMMU must say so), and releasing the child unmaps the
 * rest.
 */
static void dma_iova_rdma_test_odp_implicit(struct kunit *test)
{
	struct device *dev = rw_edu(test);
	struct ib_umem_odp *root, *child;
	dma_addr_t addr[4];
	unsigned long uaddr;
	u8 seeds[ODP_PAGES];
	struct rw_test *t;
	unsigned int i;

	t = rw_test_alloc(test, dev, false, 0, 16);
	/* The first user mapping gives the test its mm, which the root takes. */
	uaddr = kunit_vm_mmap(test, NULL, 0, ODP_PAGES * PAGE_SIZE,
			      PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "no user mapping");
	for (i = 0; i < ODP_PAGES; i++) {
		seeds[i] = 0x70 + i;
		KUNIT_ASSERT_EQ(test, rw_odp_fill(uaddr, i, seeds[i]), 0);
	}
	root = ib_umem_odp_alloc_implicit(t->ibdev, IB_ACCESS_ON_DEMAND |
					  IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, root);
	child = ib_umem_odp_alloc_child(root, uaddr, ODP_PAGES * PAGE_SIZE,
					&rw_odp_ops);
	if (IS_ERR(child)) {
		ib_umem_odp_release(root);
		KUNIT_FAIL(test, "no child umem: %ld", PTR_ERR(child));
		return;
	}
	KUNIT_EXPECT_FALSE_MSG(test, dma_use_iova(&child->dma_state),
			       "the child reserved %zu bytes of IOVA space",
			       (size_t)child->dma_state.size);

	KUNIT_EXPECT_EQ(test, rw_odp_fault(child, uaddr, 0, 4), 4);
	rw_odp_expect(test, child, GENMASK(3, 0), seeds);
	mutex_lock(&child->umem_mutex);
	for (i = 0; i < 4; i++)
		addr[i] = ib_umem_odp_dma_addr(child, i);
	mutex_unlock(&child->umem_mutex);
	rw_odp_expect_iommu(test, dev, addr, 4, GENMASK(3, 0));

	/* Unmapping page 2 unmaps it for the device, and only it. */
	KUNIT_EXPECT_EQ(test, vm_munmap(uaddr + 2 * PAGE_SIZE, PAGE_SIZE), 0);
	rw_odp_expect(test, child, GENMASK(3, 0) & ~BIT(2), seeds);
	rw_odp_expect_iommu(test, dev, addr, 4, GENMASK(3, 0) & ~BIT(2));

	ib_umem_odp_release(child);
	ib_umem_odp_release(root);
	rw_odp_expect_iommu(test, dev, addr, 4, 0);
}

static const bool rw_odp_params[] = { false, true };

static void rw_odp_desc(const bool *virt, char *desc)
{
	strscpy(desc, *virt ? "virtual DMA" : "edu device",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rw_odp, rw_odp_params, rw_odp_desc);

#endif /* CONFIG_INFINIBAND_ON_DEMAND_PAGING */

static struct kunit_case dma_iova_rdma_test_cases[] = {
	KUNIT_CASE_PARAM(dma_iova_rdma_test_rw, rw_gen_params),
	KUNIT_CASE_PARAM(dma_iova_rdma_test_virt_dma, rw_gen_params),
	KUNIT_CASE(dma_iova_rdma_test_fail),
#if IS_ENABLED(CONFIG_INFINIBAND_ON_DEMAND_PAGING)
	KUNIT_CASE_PARAM(dma_iova_rdma_test_odp, rw_odp_gen_params),
	KUNIT_CASE(dma_iova_rdma_test_odp_fail),
	KUNIT_CASE(dma_iova_rdma_test_odp_huge),
	KUNIT_CASE(dma_iova_rdma_test_odp_implicit),
#endif
	{}
};

static int dma_iova_rdma_suite_init(struct kunit_suite *suite)
{
	return dma_iova_edu_register();
}

static void dma_iova_rdma_suite_exit(struct kunit_suite *suite)
{
	dma_iova_edu_unregister();
}

static struct kunit_suite dma_iova_rdma_test_suite = {
	.name = "dma_iova_rdma",
	.suite_init = dma_iova_rdma_suite_init,
	.suite_exit = dma_iova_rdma_suite_exit,
	.test_cases = dma_iova_rdma_test_cases,
};

kunit_test_suite(dma_iova_rdma_test_suite);

MODULE_DESCRIPTION("KUnit tests for the RDMA core on the DMA IOVA API");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
