// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for premapped buffers (block/blk-premap.c): where a bio's
 * data lies in a premapped buffer, and who ends a premap, once, when the
 * buffer's owner releases it and its driver revokes it in either order.
 *
 * The cases use a blk-mq disk of their own, never added, whose queue
 * takes no request and whose premap operations only count: the block
 * layer's side of the contract, without a device.  nvme-pci's side is
 * checked by the boot cases of tools/testing/dma-iova (init's
 * premap_checks).
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blk-premap.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/mm.h>

/*
 * The buffer: 5 bio_vecs, as io_uring lays out a registered buffer of
 * 16 KiB folios that starts 3584 bytes into the first and ends 5000
 * bytes into the last.
 */
#define TEST_SHIFT	14
#define TEST_BLOCK	BIT(TEST_SHIFT)
#define TEST_FIRST_OFF	3584
#define TEST_LAST_LEN	5000
#define TEST_NR		5
#define TEST_LEN	(TEST_BLOCK - TEST_FIRST_OFF + 3 * TEST_BLOCK + \
			 TEST_LAST_LEN)

/**
 * struct test_disk - the disk of a case and what its driver saw
 * @set: its tag set
 * @disk: the disk
 * @fail: error ->premap_create() returns, 0 to premap
 * @created: premaps ->premap_create() made
 * @destroyed: premaps ->premap_destroy() ended
 * @bvec: the buffer's bio_vecs
 */
struct test_disk {
	struct blk_mq_tag_set set;
	struct gendisk *disk;
	int fail;
	unsigned int created;
	unsigned int destroyed;
	struct bio_vec bvec[TEST_NR];
};

static blk_status_t test_queue_rq(struct blk_mq_hw_ctx *hctx,
				  const struct blk_mq_queue_data *bd)
{
	return BLK_STS_IOERR;
}

static int test_premap_create(struct request_queue *q, struct blk_premap *pm)
{
	struct test_disk *td = q->queuedata;

	if (td->fail)
		return td->fail;
	td->created++;
	pm->priv = td;
	return 0;
}

static void test_premap_destroy(struct blk_premap *pm)
{
	struct test_disk *td = pm->priv;

	td->destroyed++;
}

static const struct blk_mq_ops test_mq_ops = {
	.queue_rq	= test_queue_rq,
	.premap_create	= test_premap_create,
	.premap_destroy	= test_premap_destroy,
};

static void test_disk_free(void *data)
{
	struct test_disk *td = data;

	put_disk(td->disk);
	blk_mq_free_tag_set(&td->set);
}

/* A blk-mq disk for the case, freed at its end, and the buffer's layout. */
static struct test_disk *test_disk(struct kunit *test)
{
	struct test_disk *td = kunit_kzalloc(test, sizeof(*td), GFP_KERNEL);
	struct page *page = ZERO_PAGE(0);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, td);
	KUNIT_ASSERT_EQ(test, blk_mq_alloc_sq_tag_set(&td->set, &test_mq_ops,
						      1, 0), 0);
	td->disk = blk_mq_alloc_disk(&td->set, NULL, td);
	if (IS_ERR(td->disk)) {
		blk_mq_free_tag_set(&td->set);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, td->disk);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_disk_free,
							td), 0);

	/* Only the lengths matter here: one page stands for every folio. */
	bvec_set_page(&td->bvec[0], page, TEST_BLOCK - TEST_FIRST_OFF,
		      TEST_FIRST_OFF);
	for (i = 1; i < TEST_NR - 1; i++)
		bvec_set_page(&td->bvec[i], page, TEST_BLOCK, 0);
	bvec_set_page(&td->bvec[TEST_NR - 1], page, TEST_LAST_LEN, 0);
	return td;
}

static struct blk_premap *test_premap(struct kunit *test,
				      struct test_disk *td)
{
	struct blk_premap *pm;

	pm = blk_premap_create(td->disk->part0, td->bvec, TEST_NR, TEST_LEN,
			       TEST_SHIFT);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pm);
	KUNIT_EXPECT_EQ(test, td->created, 1);
	KUNIT_EXPECT_TRUE(test, blk_premap_serves(pm, td->disk->part0));
	return pm;
}

/*
 * A bio of @len bytes from byte @off of the buffer: its bi_io_vec points
 * into the bio_vecs, as bio_iov_bvec_set() sets it from the iov_iter of
 * io_uring's io_import_fixed(), which skips whole bio_vecs first.
 */
static void test_bio(struct bio *bio, struct bio_vec *bvec, size_t off,
		     size_t len)
{
	unsigned int skip = 0;

	while (off >= bvec[skip].bv_len) {
		off -= bvec[skip].bv_len;
		skip++;
	}
	bio_init(bio, NULL, NULL, 0, REQ_OP_READ);
	bio->bi_io_vec = bvec + skip;
	bio->bi_vcnt = TEST_NR - skip;
	bio->bi_iter.bi_bvec_done = off;
	bio->bi_iter.bi_size = len;
}

/*
 * blk_premap_bio_offset() finds the offset in the buffer of every bio
 * over it, wherever it starts and after any split (which advances the
 * bio's iterator across bio_vecs), in constant time from the layout: the
 * same offset as walking the bio_vecs.  A bio that runs one sector past
 * the end is refused as out of range, a bio over other bio_vecs as not
 * the buffer's.
 */
static void dma_iova_premap_test_bio_offset(struct kunit *test)
{
	static const unsigned int splits[] = { 0, 512, 4096, TEST_BLOCK,
					       TEST_BLOCK + 1024 };
	struct test_disk *td = test_disk(test);
	struct blk_premap *pm = test_premap(test, td);
	struct bio_vec other[TEST_NR];
	unsigned int i, checked = 0;
	struct bio bio;
	size_t off, at;

	for (off = 0; off < TEST_LEN; off += 512) {
		for (i = 0; i < ARRAY_SIZE(splits); i++) {
			size_t len = TEST_LEN - off;

			if (splits[i] >= len)
				continue;
			test_bio(&bio, td->bvec, off, len);
			bio_advance(&bio, splits[i]);
			KUNIT_ASSERT_EQ_MSG(test,
					    blk_premap_bio_offset(pm, &bio, &at),
					    0, "bio at %zu split at %u", off,
					    splits[i]);
			KUNIT_EXPECT_EQ_MSG(test, at, off + splits[i],
					    "bio at %zu split at %u", off,
					    splits[i]);
			checked++;
		}
		/* one sector too many */
		test_bio(&bio, td->bvec, off, TEST_LEN - off);
		bio.bi_iter.bi_size += 512;
		KUNIT_EXPECT_EQ(test, blk_premap_bio_offset(pm, &bio, &at),
				-ERANGE);
	}
	KUNIT_EXPECT_GT(test, checked, TEST_LEN / 512);

	memcpy(other, td->bvec, sizeof(other));
	test_bio(&bio, other, 0, TEST_LEN);
	KUNIT_EXPECT_EQ(test, blk_premap_bio_offset(pm, &bio, &at), -ENOENT);

	blk_premap_release(pm);
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
}

/* The owner's release ends the driver's mapping. */
static void dma_iova_premap_test_release(struct kunit *test)
{
	struct test_disk *td = test_disk(test);
	struct blk_premap *pm = test_premap(test, td);

	KUNIT_EXPECT_EQ(test, td->destroyed, 0);
	blk_premap_release(pm);
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
}

/*
 * The driver revokes first, as nvme-pci does at a reset: the mapping ends
 * there, the premap no longer serves the disk, and the owner's release
 * later ends nothing more.  A second revoke does nothing either.
 */
static void dma_iova_premap_test_revoke(struct kunit *test)
{
	struct test_disk *td = test_disk(test);
	struct blk_premap *pm = test_premap(test, td);

	blk_premap_get(pm);
	KUNIT_EXPECT_TRUE(test, blk_premap_revoke(pm));
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
	KUNIT_EXPECT_FALSE(test, blk_premap_serves(pm, td->disk->part0));
	KUNIT_EXPECT_FALSE(test, blk_premap_revoke(pm));
	blk_premap_put(pm);
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);

	blk_premap_release(pm);
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
}

/*
 * The owner releases while the driver holds a reference to revoke it (it
 * found the premap in its table): the release ends the mapping, the
 * revoke then finds nothing to end.
 */
static void dma_iova_premap_test_release_then_revoke(struct kunit *test)
{
	struct test_disk *td = test_disk(test);
	struct blk_premap *pm = test_premap(test, td);

	blk_premap_get(pm);
	blk_premap_release(pm);
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
	KUNIT_EXPECT_FALSE(test, blk_premap_revoke(pm));
	KUNIT_EXPECT_EQ(test, td->destroyed, 1);
	blk_premap_put(pm);
}

/*
 * What is not premapped: a driver's refusal is passed on, a buffer whose
 * bio_vecs do not have the layout described never reaches the driver,
 * and a bio-based disk (the NVMe multipath node, dm) has no premaps.
 */
static void dma_iova_premap_test_refused(struct kunit *test)
{
	struct test_disk *td = test_disk(test);
	struct gendisk *bio_disk;
	struct blk_premap *pm;

	td->fail = -ENODEV;
	pm = blk_premap_create(td->disk->part0, td->bvec, TEST_NR, TEST_LEN,
			       TEST_SHIFT);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pm), -ENODEV);
	td->fail = 0;

	/* a middle bio_vec shorter than a block */
	td->bvec[2].bv_len -= 512;
	pm = blk_premap_create(td->disk->part0, td->bvec, TEST_NR,
			       TEST_LEN - 512, TEST_SHIFT);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pm), -EINVAL);
	td->bvec[2].bv_len += 512;
	/* a length that is not theirs */
	pm = blk_premap_create(td->disk->part0, td->bvec, TEST_NR,
			       TEST_LEN + 512, TEST_SHIFT);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pm), -EINVAL);
	KUNIT_EXPECT_EQ(test, td->created, 0);

	bio_disk = blk_alloc_disk(NULL, NUMA_NO_NODE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bio_disk);
	pm = blk_premap_create(bio_disk->part0, td->bvec, TEST_NR, TEST_LEN,
			       TEST_SHIFT);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pm), -EOPNOTSUPP);
	put_disk(bio_disk);
}

static struct kunit_case dma_iova_premap_test_cases[] = {
	KUNIT_CASE(dma_iova_premap_test_bio_offset),
	KUNIT_CASE(dma_iova_premap_test_release),
	KUNIT_CASE(dma_iova_premap_test_revoke),
	KUNIT_CASE(dma_iova_premap_test_release_then_revoke),
	KUNIT_CASE(dma_iova_premap_test_refused),
	{}
};

static struct kunit_suite dma_iova_premap_test_suite = {
	.name = "dma_iova_premap",
	.test_cases = dma_iova_premap_test_cases,
};

kunit_test_suite(dma_iova_premap_test_suite);

MODULE_DESCRIPTION("KUnit tests for premapped buffers of the block layer");
MODULE_LICENSE("GPL");
