// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the DMA IOVA API.
 *
 * The cases map memory for a real PCI device, QEMU's "edu" device, whose
 * DMA engine copies between RAM and a 4 KiB buffer of its own, so that
 * what is checked is what the device really moved.  Behind an IOMMU they
 * also check what the IOMMU holds after each step.  Without the edu
 * device they skip.  The peer-to-peer cases also need published PCI
 * P2PDMA memory, such as the controller memory buffer of QEMU's NVMe
 * device with cmb_size_mb set.
 *
 * The contract cases, which check the errors the API returns and what it
 * leaves mapped rather than what a device moves, run a second time in
 * the dma_iova_contract suite, on a KUnit device that the DMA layer maps
 * directly: any kunit.py run executes them, with the edu device or not.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "dma_iova_edu.h"

/* Pages of a test buffer, each apart from the next in physical memory. */
#define TEST_PAGES		8

/**
 * struct test_buf - a buffer of pages
 * @pages: the pages, in buffer order
 * @spacers: pages allocated between them so they cannot be adjacent
 * @contiguous: the pages are one physically contiguous allocation instead
 */
struct test_buf {
	struct page *pages[TEST_PAGES];
	struct page *spacers[TEST_PAGES];
	bool contiguous;
};

/**
 * struct test_map - a transfer mapped from a test_buf
 * @state: the API's state
 * @space: IOVA space from dma_iova_reserve() to map in, or NULL
 * @addr: DMA address of each linked range, as dma_iova_link() gave it
 * @len: length of each linked range
 * @nr: ranges linked
 * @mapped: bytes linked from offset 0
 */
struct test_map {
	struct dma_iova_state state;
	struct dma_iova_space *space;
	dma_addr_t addr[TEST_PAGES + 1];
	size_t len[TEST_PAGES + 1];
	unsigned int nr;
	size_t mapped;
};

static struct device *test_dev(struct kunit *test)
{
	return test->priv;
}

/* The private word of a state: its mode flags, and the bytes linked. */
static u64 test_flags(const struct dma_iova_state *state)
{
	return state->linked & ~DMA_IOVA_LINKED_MASK;
}

static u64 test_linked(const struct dma_iova_state *state)
{
	return state->linked & DMA_IOVA_LINKED_MASK;
}

static void test_warnings_end(void *unused)
{
	pr_info("dma_iova_kunit: expected warnings end\n");
}

/*
 * The case misuses the API on purpose, and the WARN_ON_ONCE()s of
 * kernel/dma/dma-iova.c it trips are expected.  The harness accepts such
 * warnings between the two lines this prints, when the case starts and
 * when it is cleaned up, and nowhere else.
 */
static void test_expect_warnings(struct kunit *test)
{
	pr_info("dma_iova_kunit: expected warnings begin\n");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_warnings_end,
							NULL), 0);
}

static void test_faults_end(void *unused)
{
	/* The IOMMU's fault interrupt reports after the DMA completes. */
	msleep(100);
	pr_info("dma_iova_kunit: expected IOMMU faults end\n");
}

/*
 * The case makes the device DMA to addresses that are not mapped, and
 * the IOMMU's fault reports are expected between the lines this prints:
 * the harness requires at least one there, and accepts none elsewhere.
 */
static void test_expect_faults(struct kunit *test)
{
	pr_info("dma_iova_kunit: expected IOMMU faults begin\n");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_faults_end,
							NULL), 0);
}

/* A state after dma_iova_free() or dma_iova_destroy() holds nothing. */
static bool test_state_clear(const struct dma_iova_state *state)
{
	return !memchr_inv(state, 0, sizeof(*state));
}

static void test_buf_free(void *data)
{
	struct test_buf *buf = data;
	int i;

	if (buf->contiguous) {
		__free_pages(buf->pages[0], get_order(TEST_PAGES * PAGE_SIZE));
		return;
	}
	for (i = 0; i < TEST_PAGES; i++) {
		if (buf->pages[i])
			__free_page(buf->pages[i]);
		if (buf->spacers[i])
			__free_page(buf->spacers[i]);
	}
}

static struct test_buf *test_buf_alloc(struct kunit *test)
{
	struct test_buf *buf = kunit_kzalloc(test, sizeof(*buf), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, test_buf_free, buf), 0);
	for (i = 0; i < TEST_PAGES; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL);
		buf->spacers[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, buf->pages[i]);
		KUNIT_ASSERT_NOT_NULL(test, buf->spacers[i]);
		/* The allocator may hand out neighbours: keep that one aside. */
		if (i && page_to_pfn(buf->pages[i]) ==
			 page_to_pfn(buf->pages[i - 1]) + 1)
			swap(buf->pages[i], buf->spacers[i]);
	}
	for (i = 1; i < TEST_PAGES; i++)
		KUNIT_ASSERT_NE_MSG(test, page_to_pfn(buf->pages[i]),
				    page_to_pfn(buf->pages[i - 1]) + 1,
				    "pages %d and %d are contiguous", i - 1, i);
	return buf;
}

/* A buffer whose pages are contiguous, to link several in one range. */
static struct test_buf *test_buf_alloc_contiguous(struct kunit *test)
{
	struct test_buf *buf = kunit_kzalloc(test, sizeof(*buf), GFP_KERNEL);
	struct page *page;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	page = alloc_pages(GFP_KERNEL, get_order(TEST_PAGES * PAGE_SIZE));
	KUNIT_ASSERT_NOT_NULL(test, page);
	for (i = 0; i < TEST_PAGES; i++)
		buf->pages[i] = page + i;
	buf->contiguous = true;
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, test_buf_free, buf), 0);
	return buf;
}

static phys_addr_t test_buf_phys(struct test_buf *buf, size_t off)
{
	return page_to_phys(buf->pages[off >> PAGE_SHIFT]) + offset_in_page(off);
}

/* The byte at @off of a buffer filled with @seed. */
static u8 test_pattern(u8 seed, size_t off)
{
	return seed + off * 13 + (off >> 8) + (off >> PAGE_SHIFT) * 7;
}

static void test_buf_fill(struct test_buf *buf, u8 seed)
{
	size_t off;

	for (off = 0; off < TEST_PAGES * PAGE_SIZE; off++)
		((u8 *)page_address(buf->pages[off >> PAGE_SHIFT]))
			[offset_in_page(off)] = test_pattern(seed, off);
}

static u8 test_buf_byte(struct test_buf *buf, size_t off)
{
	return ((u8 *)page_address(buf->pages[off >> PAGE_SHIFT]))
		[offset_in_page(off)];
}

/* Bytes of @buf in [off, off + len) that are not test_pattern(@seed). */
static size_t test_buf_differs(struct test_buf *buf, u8 seed, size_t off,
			       size_t len)
{
	size_t end = off + len, bad = 0;

	for (; off < end; off++)
		if (test_buf_byte(buf, off) != test_pattern(seed, off))
			bad++;
	return bad;
}

/* How test_map_again() links: one range if it can, and in one call. */
#define TEST_ONE_LINK		BIT(0)
#define TEST_BVECS		BIT(1)

/*
 * Map [start, start + size) of @buf as one transfer in the state of @map,
 * in its reserved space if it has one, one link per page piece (or one
 * link for all of it if the buffer is contiguous and @how has
 * TEST_ONE_LINK), or all the page pieces in one dma_iova_link_bvecs()
 * call (TEST_BVECS), and sync it.
 */
static int test_map_again(struct device *dev, struct test_map *map,
			  struct test_buf *buf, size_t start, size_t size,
			  enum dma_data_direction dir, unsigned int how)
{
	struct bio_vec bv[TEST_PAGES + 1];
	size_t off = start;
	int ret;

	map->nr = 0;
	map->mapped = 0;
	ret = dma_iova_alloc_in(dev, &map->state, map->space,
				test_buf_phys(buf, start), size, 0);
	if (ret)
		return ret;
	while (off < start + size) {
		size_t len = min(start + size - off,
				 PAGE_SIZE - offset_in_page(off));

		if ((how & TEST_ONE_LINK) && buf->contiguous)
			len = start + size - off;

		if (how & TEST_BVECS) {
			bvec_set_page(&bv[map->nr], buf->pages[off >> PAGE_SHIFT],
				      len, offset_in_page(off));
			map->len[map->nr++] = len;
			off += len;
			continue;
		}

		/* Every other range by its struct page. */
		if (map->nr & 1)
			ret = dma_iova_link_page(dev, &map->state,
						 buf->pages[off >> PAGE_SHIFT],
						 offset_in_page(off),
						 off - start, len, dir, 0,
						 &map->addr[map->nr]);
		else
			ret = dma_iova_link(dev, &map->state,
					    test_buf_phys(buf, off),
					    off - start, len, dir, 0,
					    &map->addr[map->nr]);
		if (ret)
			goto out_destroy;
		map->len[map->nr++] = len;
		map->mapped += len;
		off += len;
	}
	if (how & TEST_BVECS) {
		ret = dma_iova_link_bvecs(dev, &map->state, bv, map->nr, 0, dir,
					  0, map->addr);
		if (ret)
			goto out_destroy;
		map->mapped = size;
	}
	ret = dma_iova_sync(dev, &map->state, 0, size);
	if (ret)
		goto out_destroy;
	return 0;

out_destroy:
	dma_iova_destroy(dev, &map->state, map->mapped, dir, 0);
	return ret;
}

/* As test_map_again(), in a new state. */
static int __test_map(struct device *dev, struct test_map *map,
		      struct test_buf *buf, size_t start, size_t size,
		      enum dma_data_direction dir, unsigned int how)
{
	memset(map, 0, sizeof(*map));
	return test_map_again(dev, map, buf, start, size, dir, how);
}

static int test_map(struct device *dev, struct test_map *map,
		    struct test_buf *buf, size_t start, size_t size,
		    enum dma_data_direction dir)
{
	return __test_map(dev, map, buf, start, size, dir, 0);
}

/* Link [off, off + size) of @buf at offset @off of the transfer. */
static int test_link(struct device *dev, struct dma_iova_state *state,
		     struct test_buf *buf, size_t off, size_t size,
		     enum dma_data_direction dir)
{
	dma_addr_t addr;

	return dma_iova_link(dev, state, test_buf_phys(buf, off), off, size,
			     dir, 0, &addr);
}

/* Ranges whose DMA addresses are adjacent merge, as a driver merges them. */
static unsigned int test_map_segments(struct test_map *map)
{
	unsigned int i, segs = map->nr ? 1 : 0;

	for (i = 1; i < map->nr; i++)
		if (map->addr[i] != map->addr[i - 1] + map->len[i - 1])
			segs++;
	return segs;
}

/* Move [off, off + len) of a mapped transfer to or from the edu buffer. */
static int edu_dma_map(struct test_map *map, size_t off, size_t len,
		       bool to_ram)
{
	return dma_iova_edu_dma_ranges(map->addr, map->len, map->nr, off, len,
				       to_ram);
}

static void test_unset_untrusted(void *data)
{
	to_pci_dev(data)->untrusted = false;
}

/* Is @dev behind a lazy (flush queue) DMA domain? */
static bool test_lazy(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && domain->type == IOMMU_DOMAIN_DMA_FQ;
}

/* Skip a case about reserved space where dma_iova_reserve() keeps none. */
static void test_skip_no_reserve(struct kunit *test, struct device *dev)
{
	if (test_lazy(dev))
		kunit_skip(test, "a lazy (flush queue) domain keeps no space");
	kunit_skip(test, "needs an IOMMU (contiguous mode)");
}

/* Nothing of the transfer may stay mapped once it is torn down. */
static void test_expect_unmapped(struct kunit *test, dma_addr_t addr,
				 size_t size)
{
	if (addr)
		KUNIT_EXPECT_EQ_MSG(test, dma_iova_edu_mapped(test_dev(test),
							      addr, size), 0,
				    "IOMMU still maps part of [%pad, +%zu)",
				    &addr, size);
}

/**
 * struct test_frag - single pages mapped to fragment the IOVA space
 * @dev: the device they are mapped for
 * @addr: their DMA addresses, 0 where unmapped again
 * @nr: entries used in @addr
 */
struct test_frag {
	struct device *dev;
	dma_addr_t addr[512];
	unsigned int nr;
};

/**
 * struct test_p2p - PCI P2PDMA memory of a provider in the machine
 * @provider: the PCI device that publishes it
 * @vaddr: the memory, as pci_alloc_p2pmem() gave it
 * @size: its size
 */
struct test_p2p {
	struct pci_dev *provider;
	void *vaddr;
	size_t size;
};

static void test_p2p_free(void *data)
{
	struct test_p2p *p2p = data;

	pci_free_p2pmem(p2p->provider, p2p->vaddr, p2p->size);
	pci_dev_put(p2p->provider);
}

/* Two pages of published P2PDMA memory, or skip the case. */
static struct test_p2p *test_p2p_alloc(struct kunit *test)
{
	struct test_p2p *p2p = kunit_kzalloc(test, sizeof(*p2p), GFP_KERNEL);
	struct pci_dev *pdev = NULL;

	KUNIT_ASSERT_NOT_NULL(test, p2p);
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		kunit_skip(test, "needs CONFIG_PCI_P2PDMA");
	/* nvme-pci registers its memory buffer from an asynchronous probe. */
	wait_for_device_probe();
	for_each_pci_dev(pdev)
		if (pci_has_p2pmem(pdev))
			break;
	if (!pdev)
		kunit_skip(test, "no published P2PDMA memory (-device nvme,cmb_size_mb=N)");
	p2p->size = 2 * PAGE_SIZE;
	p2p->vaddr = pci_alloc_p2pmem(pdev, p2p->size);
	if (!p2p->vaddr) {
		pci_dev_put(pdev);
		kunit_skip(test, "no free P2PDMA memory");
	}
	p2p->provider = pdev;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_p2p_free,
							p2p), 0);
	return p2p;
}

static phys_addr_t test_p2p_phys(struct test_p2p *p2p, size_t off)
{
	return virt_to_phys(p2p->vaddr + off);
}

static dma_addr_t test_p2p_bus(struct test_p2p *p2p, size_t off)
{
	return pci_p2pmem_virt_to_bus(p2p->provider, p2p->vaddr + off);
}

/* Each case ---------------------------------------------------------- */

/**
 * struct alloc_case - a dma_iova_alloc() call and what it must return
 * @name: what the case tries
 * @offset: offset of the transfer's first byte in its page
 * @size: size of the transfer
 * @err: expected return value
 */
struct alloc_case {
	const char *name;
	size_t offset;
	size_t size;
	int err;
};

static const struct alloc_case alloc_cases[] = {
	{ .name = "zero size", .size = 0, .err = -EINVAL },
	{ .name = "size overflows", .size = SIZE_MAX, .err = -EINVAL },
	{ .name = "one byte", .size = 1, .err = 0 },
	{ .name = "unaligned start", .offset = 100, .size = 3 * PAGE_SIZE },
	{ .name = "whole pages", .size = TEST_PAGES * PAGE_SIZE },
};

KUNIT_ARRAY_PARAM_DESC(alloc, alloc_cases, name);

/* dma_iova_alloc() returns what each case expects, and a failure leaves
 * the state holding nothing.
 */
static void dma_iova_test_alloc(struct kunit *test)
{
	const struct alloc_case *c = test->param_value;
	struct test_buf *buf = test_buf_alloc(test);
	struct dma_iova_state state = {};
	int ret;

	ret = dma_iova_alloc(test_dev(test), &state,
			     test_buf_phys(buf, c->offset), c->size);
	KUNIT_EXPECT_EQ(test, ret, c->err);
	if (ret) {
		KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
		KUNIT_EXPECT_EQ(test, state.size, 0);
		KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
		return;
	}
	KUNIT_EXPECT_EQ(test, state.size, c->size);
	if (dma_use_iova(&state)) {
		KUNIT_EXPECT_EQ(test, state.addr & ~PAGE_MASK,
				c->offset & ~PAGE_MASK);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(test_dev(test),
							  state.addr, c->size),
				0);
	}
	dma_iova_free(test_dev(test), &state);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/* A state that holds a transfer cannot be allocated again. */
static void dma_iova_test_alloc_busy(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct dma_iova_state state = {};
	struct dma_iova_state before;

	test_expect_warnings(test);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(test_dev(test), &state,
					     test_buf_phys(buf, 0), PAGE_SIZE),
			0);
	before = state;
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(test_dev(test), &state,
					     test_buf_phys(buf, 0), PAGE_SIZE),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, state.addr, before.addr);
	KUNIT_EXPECT_EQ(test, state.size, before.size);
	KUNIT_EXPECT_EQ(test, test_flags(&state), test_flags(&before));
	dma_iova_destroy(test_dev(test), &state, 0, DMA_TO_DEVICE, 0);
}

/**
 * struct link_case - a bad dma_iova_link() on a two-page transfer
 * @name: what the case tries
 * @pre_offset: offset of a page linked first, or -1 for none
 * @buf_off: offset in the buffer of the range to link
 * @offset: offset in the transfer to link it at
 * @size: size of the range
 * @contiguous_only: the check needs an IOMMU granule (contiguous mode)
 * @err: expected error
 * @no_dir: link with %DMA_NONE instead of %DMA_TO_DEVICE
 */
struct link_case {
	const char *name;
	long pre_offset;
	size_t buf_off;
	size_t offset;
	size_t size;
	bool contiguous_only;
	int err;
	bool no_dir;
};

static const struct link_case link_cases[] = {
	{ "zero size", -1, 0, 0, 0, false, -EINVAL },
	{ "no direction", -1, 0, 0, PAGE_SIZE, false, -EINVAL, true },
	{ "offset past the end", -1, 0, 2 * PAGE_SIZE, 1, false, -ERANGE },
	{ "range past the end", -1, 0, PAGE_SIZE, PAGE_SIZE + 1, false,
	  -ERANGE },
	{ "offset overflows", -1, 0, SIZE_MAX, 2, false, -ERANGE },
	{ "unaligned middle start", -1, PAGE_SIZE + 8, PAGE_SIZE + 8, 64,
	  true, -EXDEV },
	{ "unaligned end before the last", -1, 0, 0, PAGE_SIZE - 8, true,
	  -EXDEV },
	{ "IOVA and memory offsets differ", -1, 8, 0, PAGE_SIZE - 8, true,
	  -EXDEV },
	{ "overlap", PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, true,
	  -EEXIST },
};

KUNIT_ARRAY_PARAM_DESC(link, link_cases, name);

/* A bad link fails with the exact error and maps nothing. */
static void dma_iova_test_link_errors(struct kunit *test)
{
	const struct link_case *c = test->param_value;
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	size_t pre = c->pre_offset >= 0 ? PAGE_SIZE : 0;
	dma_addr_t addr = 0;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     2 * PAGE_SIZE), 0);
	if (c->contiguous_only && !dma_use_iova(&state)) {
		dma_iova_free(dev, &state);
		kunit_skip(test, "needs an IOMMU (contiguous mode)");
	}
	if (pre)
		KUNIT_ASSERT_EQ(test, test_link(dev, &state, buf, c->pre_offset,
						PAGE_SIZE, DMA_TO_DEVICE), 0);

	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, c->buf_off),
					    c->offset, c->size,
					    c->no_dir ? DMA_NONE : DMA_TO_DEVICE,
					    0, &addr), c->err);
	KUNIT_EXPECT_EQ(test, test_linked(&state), pre);
	if (dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  2 * PAGE_SIZE),
				pre ? 1 : 0);
	if (pre)
		dma_iova_unlink(dev, &state, c->pre_offset, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
	dma_iova_destroy(dev, &state, 0, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/* A state left by a failed alloc, or torn down, links nothing. */
static void dma_iova_test_stale_state(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t addr = 0, base;

	test_expect_warnings(test);
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &state, 0, PAGE_SIZE),
			-EINVAL);

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), 0);
	base = state.addr;
	dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, base, PAGE_SIZE);

	/* the old state must not reach the released range */
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), -EINVAL);
	test_expect_unmapped(test, base, PAGE_SIZE);
	/* a second destroy or free does nothing */
	dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
	dma_iova_free(dev, &state);

	/* and the state can carry a new transfer */
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     PAGE_SIZE), 0);
	dma_iova_free(dev, &state);
}

/* A link failing part-way, then destroy: nothing stays mapped. */
static void dma_iova_test_partial_link_destroy(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	size_t size = 4 * PAGE_SIZE, off;
	dma_addr_t addr, base;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     size), 0);
	for (off = 0; off < 3 * PAGE_SIZE; off += PAGE_SIZE)
		KUNIT_ASSERT_EQ(test, test_link(dev, &state, buf, off, PAGE_SIZE,
						DMA_TO_DEVICE), 0);
	/* the fourth range is too long for the transfer */
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, off), off,
					    2 * PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), -ERANGE);
	base = state.addr;
	if (dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base, size), 3);
	dma_iova_destroy(dev, &state, off, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, base, size);
	KUNIT_EXPECT_NULL(test, state.log);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/* An unlink at a non-zero offset unmaps exactly its granules. */
static void dma_iova_test_unlink_offset(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	size_t size = 4 * PAGE_SIZE, off;
	dma_addr_t addr;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     size), 0);
	for (off = 0; off < size; off += PAGE_SIZE)
		KUNIT_ASSERT_EQ(test, test_link(dev, &state, buf, off, PAGE_SIZE,
						DMA_BIDIRECTIONAL), 0);
	dma_iova_unlink(dev, &state, PAGE_SIZE, 2 * PAGE_SIZE,
			DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 2 * PAGE_SIZE);
	if (dma_use_iova(&state)) {
		dma_addr_t base = state.addr;
		phys_addr_t phys = test_buf_phys(buf, 2 * PAGE_SIZE);

		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base, PAGE_SIZE), 1);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base + PAGE_SIZE,
							  2 * PAGE_SIZE), 0);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base + 3 * PAGE_SIZE,
							  PAGE_SIZE), 1);
		/* the range stays reserved: relink the middle */
		KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, phys, PAGE_SIZE,
						    PAGE_SIZE, DMA_BIDIRECTIONAL,
						    0, &addr), 0);
		KUNIT_EXPECT_EQ(test, addr, base + PAGE_SIZE);
		KUNIT_EXPECT_EQ(test,
				iommu_iova_to_phys(iommu_get_domain_for_dev(dev),
						   addr), phys);
		dma_iova_unlink(dev, &state, PAGE_SIZE, PAGE_SIZE,
				DMA_BIDIRECTIONAL, 0);
	}
	dma_iova_unlink(dev, &state, 3 * PAGE_SIZE, PAGE_SIZE,
			DMA_BIDIRECTIONAL, 0);
	addr = state.addr;
	dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	test_expect_unmapped(test, addr, size);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/* Freeing a transfer with links left unlinks them: nothing leaks. */
static void dma_iova_test_free_with_links(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t addr, base;

	test_expect_warnings(test);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     2 * PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), 0);
	base = state.addr;
	dma_iova_free(dev, &state);
	test_expect_unmapped(test, base, 2 * PAGE_SIZE);
	KUNIT_EXPECT_NULL(test, state.log);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/* Unlinking what was never linked changes nothing. */
static void dma_iova_test_unlink_unlinked(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t addr;

	test_expect_warnings(test);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     2 * PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), 0);
	if (!dma_use_iova(&state)) {
		dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
		kunit_skip(test, "needs an IOMMU (contiguous mode)");
	}
	dma_iova_unlink(dev, &state, PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr, PAGE_SIZE), 1);
	addr = state.addr;
	dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, addr, 2 * PAGE_SIZE);
}

/*
 * Link the pages of @order into a four-page transfer, then unlink page
 * @hole: the transfer now has a hole inside what it reaches.
 */
static void test_link_around_hole(struct kunit *test, struct dma_iova_state *state,
				  struct test_buf *buf, const unsigned int *order,
				  unsigned int nr, long hole)
{
	struct device *dev = test_dev(test);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, state, test_buf_phys(buf, 0),
					     4 * PAGE_SIZE), 0);
	if (!dma_use_iova(state)) {
		dma_iova_free(dev, state);
		kunit_skip(test, "needs an IOMMU (contiguous mode)");
	}
	for (i = 0; i < nr; i++)
		KUNIT_ASSERT_EQ(test, test_link(dev, state, buf,
						order[i] * PAGE_SIZE, PAGE_SIZE,
						DMA_TO_DEVICE), 0);
	if (hole >= 0)
		dma_iova_unlink(dev, state, hole * PAGE_SIZE, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
}

/*
 * A destroy that names as many bytes as are linked, but not the bytes
 * that are, must not free the IOVA range with a page still mapped: it
 * warns and unmaps everything.  The holes come from an unlink in the
 * middle, or from links out of order that skip a page.
 */
static void dma_iova_test_destroy_with_hole(struct kunit *test)
{
	static const unsigned int all[] = { 0, 1, 2, 3 };
	static const unsigned int skip_one[] = { 0, 2, 3 };
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t base;

	test_expect_warnings(test);
	/* pages 0-3, page 1 unlinked: three pages linked, not [0, 3) */
	test_link_around_hole(test, &state, buf, all, ARRAY_SIZE(all), 1);
	base = state.addr;
	KUNIT_EXPECT_EQ(test, test_linked(&state), 3 * PAGE_SIZE);
	dma_iova_destroy(dev, &state, 3 * PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
	test_expect_unmapped(test, base, 4 * PAGE_SIZE);

	/* pages 0, 2 and 3 linked out of order, 1 never */
	memset(&state, 0, sizeof(state));
	test_link_around_hole(test, &state, buf, skip_one,
			      ARRAY_SIZE(skip_one), -1);
	base = state.addr;
	dma_iova_destroy(dev, &state, 3 * PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
	test_expect_unmapped(test, base, 4 * PAGE_SIZE);
}

/*
 * An unlink of a range with a hole in it is refused whole: it unmaps
 * nothing and what is linked stays counted, so that neither the pages
 * around the hole nor a link outside the range outlive the IOVA range.
 */
static void dma_iova_test_unlink_over_hole(struct kunit *test)
{
	static const unsigned int all[] = { 0, 1, 2, 3 };
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t base;

	test_expect_warnings(test);
	test_link_around_hole(test, &state, buf, all, ARRAY_SIZE(all), 1);
	base = state.addr;
	/* three pages, as many as are linked, over the hole at page 1 */
	dma_iova_unlink(dev, &state, 0, 3 * PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, base, 4 * PAGE_SIZE), 3);

	/* the right teardown still works and leaves nothing */
	dma_iova_unlink(dev, &state, 0, PAGE_SIZE, DMA_TO_DEVICE, 0);
	dma_iova_unlink(dev, &state, 2 * PAGE_SIZE, 2 * PAGE_SIZE,
			DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	dma_iova_free(dev, &state);
	test_expect_unmapped(test, base, 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

static void test_unmap_pages(void *data)
{
	struct test_frag *frag = data;
	unsigned int i;

	for (i = 0; i < frag->nr; i++)
		if (frag->addr[i])
			dma_unmap_page(frag->dev, frag->addr[i], PAGE_SIZE,
				       DMA_TO_DEVICE);
}

/* A DMA mask whose IOVA space holds 256 pages: 1 MiB with 4 KiB pages. */
#define TEST_FRAG_MASK		DMA_BIT_MASK(PAGE_SHIFT + 8)

/*
 * Fill the IOVA space below TEST_FRAG_MASK with single pages, then free
 * every other one: what is left free is holes of one page.
 */
static struct test_frag *test_fragment_iova_space(struct kunit *test,
						  struct page *page)
{
	struct device *dev = test_dev(test);
	struct test_frag *frag;
	unsigned int i;

	frag = kunit_kzalloc(test, sizeof(*frag), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, frag);
	frag->dev = dev;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, TEST_FRAG_MASK),
			0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_unmap_pages,
							frag), 0);
	for (i = 0; i < ARRAY_SIZE(frag->addr); i++) {
		dma_addr_t addr = dma_map_page(dev, page, 0, PAGE_SIZE,
					       DMA_TO_DEVICE);

		if (dma_mapping_error(dev, addr))
			break;
		frag->addr[frag->nr++] = addr;
	}
	KUNIT_ASSERT_LT_MSG(test, frag->nr, ARRAY_SIZE(frag->addr),
			    "the IOVA space below the mask did not fill up");
	for (i = 0; i < frag->nr; i += 2) {
		dma_unmap_page(dev, frag->addr[i], PAGE_SIZE, DMA_TO_DEVICE);
		frag->addr[i] = 0;
	}
	/* A lazy domain frees unmapped IOVA from its flush queue. */
	msleep(100);
	return frag;
}

/*
 * Unmap what is left and check that the space below the mask is whole
 * again: a transfer of 256 KiB gets one IOVA range there.
 * The failed allocations of the case also taught the IOVA allocator that
 * the 32-bit space is full; the allocation that flushes the per-CPU
 * caches makes it forget, so that later cases get 32-bit addresses
 * again, as they would have without this case.
 */
static void test_unfragment_iova_space(struct kunit *test,
				       struct test_frag *frag)
{
	struct dma_iova_state state = {};
	unsigned int i;

	for (i = 0; i < frag->nr; i++) {
		if (!frag->addr[i])
			continue;
		dma_unmap_page(frag->dev, frag->addr[i], PAGE_SIZE,
			       DMA_TO_DEVICE);
		frag->addr[i] = 0;
	}
	msleep(100);
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(frag->dev, &state, 0,
					     SZ_256K), 0);
	KUNIT_EXPECT_TRUE(test, dma_use_iova(&state));
	dma_iova_free(frag->dev, &state);
	KUNIT_EXPECT_EQ(test, dma_set_mask_and_coherent(frag->dev,
							DMA_BIT_MASK(64)), 0);
}

/*
 * Behind an IOMMU whose IOVA space has no free range as large as the
 * transfer, the transfer is mapped per piece, into the holes, instead of
 * failing: the device still moves its bytes, and teardown leaves the
 * holes free again.
 */
static void dma_iova_test_fragmented_space(struct kunit *test)
{
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	size_t size = TEST_PAGES * PAGE_SIZE;
	struct test_map in, out;
	struct test_frag *frag;
	unsigned int i;

	if (!iommu_get_domain_for_dev(dev) ||
	    !iommu_is_dma_domain(iommu_get_domain_for_dev(dev)) ||
	    !IS_ENABLED(CONFIG_DMA_IOVA))
		kunit_skip(test, "needs an IOMMU DMA domain and CONFIG_DMA_IOVA");
	test_buf_fill(src, 0x3c);
	test_buf_fill(dst, 0xa5);
	frag = test_fragment_iova_space(test, src->pages[0]);

	KUNIT_ASSERT_EQ(test, test_map(dev, &in, src, 0, size, DMA_TO_DEVICE),
			0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&in.state));
	KUNIT_ASSERT_EQ(test, test_map(dev, &out, dst, 0, size,
				       DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&out.state));
	for (i = 0; i < in.nr; i++)
		KUNIT_EXPECT_LE(test, in.addr[i] + in.len[i] - 1,
				TEST_FRAG_MASK);
	for (i = 0; i < size; i += EDU_XFER) {
		size_t len = min_t(size_t, EDU_XFER, size - i);

		KUNIT_EXPECT_GT(test, edu_dma_map(&in, i, len, false), 0);
		KUNIT_EXPECT_GT(test, edu_dma_map(&out, i, len, true), 0);
	}
	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	for (i = 0; i < in.nr; i++)
		test_expect_unmapped(test, in.addr[i], in.len[i]);
	for (i = 0; i < TEST_PAGES; i++)
		KUNIT_EXPECT_EQ(test, memcmp(page_address(dst->pages[i]),
					     page_address(src->pages[i]),
					     PAGE_SIZE), 0);
	test_unfragment_iova_space(test, frag);
}

/**
 * struct layout_range - a range of a transfer with a layout hint
 * @page: page of the test buffer it is in
 * @offset: its offset in that page
 * @size: its size
 */
struct layout_range {
	unsigned int page;
	size_t offset;
	size_t size;
};

/**
 * struct layout_case - a transfer whose ranges meet where they meet
 * @name: its layout
 * @ranges: the ranges, in transfer order
 * @nr: how many
 * @aligned: all inner boundaries are page boundaries
 */
struct layout_case {
	const char *name;
	struct layout_range ranges[3];
	unsigned int nr;
	bool aligned;
};

static const struct layout_case layout_cases[] = {
	{ "unaligned middle", { { 0, 3072, 1024 }, { 1, 512, 1024 },
				{ 2, 0, 1024 } }, 3, false },
	{ "unaligned end of the first", { { 0, 0, 1536 }, { 2, 0, 1536 } },
	  2, false },
	{ "page boundaries", { { 0, PAGE_SIZE - 1024, 1024 }, { 3, 0, 2048 } },
	  2, true },
};

KUNIT_ARRAY_PARAM_DESC(layout, layout_cases, name);

/*
 * dma_iova_alloc_layout() maps any layout dma_map_sg() maps: ranges that
 * cannot meet in one IOVA range make the transfer per piece, behind an
 * IOMMU too, and the device moves the bytes of every range; a layout of
 * page boundaries stays one range.  dma_iova_merge_boundary() says where
 * the line is.
 */
static void dma_iova_test_layout(struct kunit *test)
{
	const struct layout_case *c = test->param_value;
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	unsigned long boundary = dma_iova_merge_boundary(dev);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	phys_addr_t inner = 0, first;
	struct test_map in = {}, out;
	size_t size = 0, pos = 0, bad = 0, off;
	unsigned int i;
	dma_addr_t base;

	if (domain && iommu_is_dma_domain(domain) &&
	    IS_ENABLED(CONFIG_DMA_IOVA))
		KUNIT_EXPECT_EQ(test, boundary, PAGE_SIZE - 1);
	else
		KUNIT_EXPECT_EQ(test, boundary, 0);

	for (i = 0; i < c->nr; i++) {
		phys_addr_t phys = test_buf_phys(src, c->ranges[i].page *
						 PAGE_SIZE + c->ranges[i].offset);

		if (i)
			inner |= phys;
		if (i + 1 < c->nr)
			inner |= phys + c->ranges[i].size;
		size += c->ranges[i].size;
	}
	KUNIT_ASSERT_LE(test, size, EDU_XFER);
	test_buf_fill(src, 0x5a);
	test_buf_fill(dst, 0xa5);

	first = test_buf_phys(src, c->ranges[0].offset);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc_layout(dev, &in.state, first,
						    size, inner), 0);
	KUNIT_EXPECT_EQ(test, dma_use_iova(&in.state),
			boundary && c->aligned);
	for (i = 0; i < c->nr; i++) {
		const struct layout_range *r = &c->ranges[i];

		phys_addr_t phys = test_buf_phys(src, r->page * PAGE_SIZE +
						 r->offset);

		KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &in.state, phys, pos,
						    r->size, DMA_TO_DEVICE, 0,
						    &in.addr[i]), 0);
		in.len[i] = r->size;
		in.nr++;
		pos += r->size;
		in.mapped = pos;
	}
	KUNIT_ASSERT_EQ(test, dma_iova_sync(dev, &in.state, 0, size), 0);
	KUNIT_ASSERT_EQ(test, test_map(dev, &out, dst, 0, size,
				       DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&in, 0, size, false), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, size, true), 0);
	base = in.addr[0];
	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	for (i = 0; i < in.nr; i++)
		test_expect_unmapped(test, in.addr[i], in.len[i]);
	KUNIT_EXPECT_EQ(test, test_flags(&in.state), 0);

	for (i = 0, pos = 0; i < c->nr; i++) {
		const struct layout_range *r = &c->ranges[i];

		for (off = 0; off < r->size; off++)
			if (test_buf_byte(dst, pos + off) !=
			    test_pattern(0x5a, r->page * PAGE_SIZE +
					 r->offset + off))
				bad++;
		pos += r->size;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%zu bytes differ (first at %pad)",
			    bad, &base);
}

/*
 * A caller that does not know its first page yet passes its offset in a
 * page; memory without a struct page, such as a PCI BAR, is refused.
 */
static void dma_iova_test_phys_kinds(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	phys_addr_t bar = pci_resource_start(to_pci_dev(dev), 0);
	dma_addr_t addr = 0;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, 100, PAGE_SIZE), 0);
	if (dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test, state.addr & ~PAGE_MASK, 100);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 100),
					    0, PAGE_SIZE - 100, DMA_TO_DEVICE,
					    0, &addr), 0);
	dma_iova_destroy(dev, &state, PAGE_SIZE - 100, DMA_TO_DEVICE, 0);

	if (pfn_valid(PHYS_PFN(bar)))
		kunit_skip(test, "the edu BAR has a struct page here");
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(dev, &state, bar, PAGE_SIZE),
			-EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, bar, 0, PAGE_SIZE,
					    DMA_TO_DEVICE, 0, &addr),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	if (dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  PAGE_SIZE), 0);
	dma_iova_destroy(dev, &state, 0, DMA_TO_DEVICE, 0);
}

/*
 * A small kmalloc() buffer linked for a non-coherent device to write may
 * share its cache lines with other objects: it must go through a bounce
 * buffer, behind an IOMMU as without one, as dma_map_single() does.  The
 * buffer is half a cache line (a whole one, such as 64 bytes with 64-byte
 * lines, shares none and needs no bounce).  QEMU does not model caches,
 * so the case checks the path, then the bytes.
 */
static void dma_iova_test_kmalloc_noncoherent(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	size_t size = dma_get_cache_alignment() / 2;
	struct test_buf *src;
	struct test_map in, out = {};
	phys_addr_t mapped;
	u8 *obj;
	size_t i, bad = 0;

	if (dev_is_dma_coherent(dev))
		kunit_skip(test, "needs a non-coherent device (arm64 non-coherent setup)");
	if (!IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC))
		kunit_skip(test, "needs CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC");
	KUNIT_ASSERT_GE(test, size, 8);
	obj = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	src = test_buf_alloc(test);
	test_buf_fill(src, 0x77);
	KUNIT_ASSERT_EQ(test, test_map(dev, &in, src, 0, size, DMA_TO_DEVICE),
			0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&in, 0, size, false), 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &out.state, virt_to_phys(obj),
					     size), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &out.state, virt_to_phys(obj),
					    0, size, DMA_FROM_DEVICE, 0,
					    &out.addr[0]), 0);
	out.len[0] = size;
	out.nr = 1;
	out.mapped = size;
	KUNIT_ASSERT_EQ(test, dma_iova_sync(dev, &out.state, 0, size), 0);
	if (dma_use_iova(&out.state))
		mapped = iommu_iova_to_phys(domain, out.addr[0]);
	else
		mapped = dma_to_phys(dev, out.addr[0]);
	KUNIT_EXPECT_NOT_NULL_MSG(test, swiotlb_find_pool(dev, mapped),
				  "%zu bytes of kmalloc() mapped in place at %pa",
				  size, &mapped);
	KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, size, true), 0);
	dma_iova_destroy(dev, &out.state, size, DMA_FROM_DEVICE, 0);
	for (i = 0; i < size; i++)
		if (obj[i] != test_pattern(0x77, i))
			bad++;
	KUNIT_EXPECT_EQ(test, bad, 0);
}

/**
 * struct dma_case - a transfer the edu device moves through the API
 * @name: its layout
 * @start: offset of the transfer in the test buffer
 * @size: its size
 */
struct dma_case {
	const char *name;
	size_t start;
	size_t size;
};

static const struct dma_case dma_cases[] = {
	{ "8 whole pages", 0, TEST_PAGES * PAGE_SIZE },
	{ "unaligned head and tail", 100, 5 * PAGE_SIZE - 400 },
	{ "head only", 3000, PAGE_SIZE + 1096 },
	{ "within one page", 1000, 1000 },
};

KUNIT_ARRAY_PARAM_DESC(dma, dma_cases, name);

/*
 * The device reads a scattered buffer through the mapping into its own
 * buffer and writes it back into a second scattered buffer: compare.
 * Behind an IOMMU each 4 KiB chunk, even one across pages that are apart
 * in memory, takes one DMA.  @how is test_map_again()'s.
 */
static void test_device_copy(struct kunit *test, unsigned int how)
{
	const struct dma_case *c = test->param_value;
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct test_map in, out;
	size_t off, bad = 0;
	dma_addr_t in_base, out_base;
	unsigned int i;

	test_buf_fill(src, 0x11);
	test_buf_fill(dst, 0xa5);
	KUNIT_ASSERT_EQ(test, __test_map(dev, &in, src, c->start, c->size,
					 DMA_TO_DEVICE, how), 0);
	if (__test_map(dev, &out, dst, c->start, c->size, DMA_FROM_DEVICE,
		       how)) {
		dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
		KUNIT_FAIL(test, "mapping the destination failed");
		return;
	}
	in_base = in.state.addr;
	out_base = out.state.addr;

	if (dma_use_iova(&in.state)) {
		KUNIT_EXPECT_EQ(test, test_map_segments(&in), 1);
		for (i = 0, off = 0; i < in.nr; off += in.len[i++])
			KUNIT_EXPECT_EQ(test, in.addr[i], in.state.addr + off);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, in.state.addr,
							  c->size), in.nr);
	} else {
		/* Teardown must be able to find every bounce buffer. */
		for (i = 0; i < in.nr; i++)
			if (swiotlb_find_pool(dev, dma_to_phys(dev, in.addr[i])))
				KUNIT_EXPECT_NOT_NULL(test, in.state.log);
	}

	for (off = 0; off < c->size; off += EDU_XFER) {
		size_t len = min_t(size_t, EDU_XFER, c->size - off);
		int dmas = edu_dma_map(&in, off, len, false);

		KUNIT_EXPECT_GT(test, dmas, 0);
		if (dma_use_iova(&in.state))
			KUNIT_EXPECT_EQ(test, dmas, 1);
		KUNIT_EXPECT_GT(test, edu_dma_map(&out, off, len, true), 0);
	}

	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, in_base, c->size);
	test_expect_unmapped(test, out_base, c->size);

	/* The transfer's bytes came from src, the others are untouched. */
	for (off = 0; off < TEST_PAGES * PAGE_SIZE; off++) {
		bool inside = off >= c->start && off < c->start + c->size;

		if (test_buf_byte(dst, off) !=
		    test_pattern(inside ? 0x11 : 0xa5, off))
			bad++;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%zu bytes differ", bad);
}

static void dma_iova_test_device_copy(struct kunit *test)
{
	test_device_copy(test, 0);
}

/* The same transfers, each linked with one dma_iova_link_bvecs(). */
static void dma_iova_test_device_copy_bvecs(struct kunit *test)
{
	test_device_copy(test, TEST_BVECS);
}

/*
 * A batched link is all or nothing: a range it cannot link fails the
 * call with the error dma_iova_link() would give, and none of the ranges
 * before it stays linked; the ranges it links follow each other.
 */
static void dma_iova_test_link_bvecs_errors(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	size_t size = 3 * PAGE_SIZE;
	struct bio_vec bv[3];
	dma_addr_t addr[3];
	int i;

	for (i = 0; i < 3; i++)
		bvec_set_page(&bv[i], buf->pages[i], PAGE_SIZE, 0);
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     size), 0);

	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 0, 0,
						  DMA_TO_DEVICE, 0, addr),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 0,
						  DMA_NONE, 0, addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 1,
						  DMA_TO_DEVICE, 0, addr),
			-ERANGE);
	bv[1].bv_len = 0;
	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 0,
						  DMA_TO_DEVICE, 0, addr),
			-EINVAL);
	bv[1].bv_len = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);

	if (dma_use_iova(&state)) {
		/* the middle range starts inside a granule */
		bv[1].bv_offset = 512;
		bv[1].bv_len = PAGE_SIZE - 512;
		KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3,
							  0, DMA_TO_DEVICE, 0,
							  addr), -EXDEV);
		bvec_set_page(&bv[1], buf->pages[1], PAGE_SIZE, 0);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  size), 0);

		/* the last range is linked already */
		KUNIT_ASSERT_EQ(test, test_link(dev, &state, buf, 2 * PAGE_SIZE,
						PAGE_SIZE, DMA_TO_DEVICE), 0);
		KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3,
							  0, DMA_TO_DEVICE, 0,
							  addr), -EEXIST);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  size), 1);
		KUNIT_EXPECT_EQ(test, test_linked(&state), PAGE_SIZE);
		dma_iova_unlink(dev, &state, 2 * PAGE_SIZE, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
	}
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);

	KUNIT_ASSERT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 0,
						  DMA_TO_DEVICE, 0, addr), 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), size);
	if (dma_use_iova(&state)) {
		for (i = 0; i < 3; i++)
			KUNIT_EXPECT_EQ(test, addr[i],
					state.addr + i * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  size), 3);
	}
	addr[0] = state.addr;
	dma_iova_destroy(dev, &state, size, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, addr[0], size);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
}

/*
 * With a small DMA mask the addresses stay below it: IOVA comes from
 * below the mask, dma-direct bounces or fails cleanly.
 */
static void dma_iova_test_small_mask(struct kunit *test)
{
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct test_map in, out;
	size_t size = 2 * PAGE_SIZE;
	unsigned int i;
	u64 mask;
	int ret;

	/*
	 * The swiotlb pool sits above 256 MiB: when every mapping bounces, a
	 * 28-bit device would have nothing to bounce through (and swiotlb
	 * warns), so it gets 32 bits, which still puts the pool to the test.
	 */
	mask = DMA_BIT_MASK(is_swiotlb_force_bounce(dev) ? 32 : 28);
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, mask), 0);
	test_buf_fill(src, 0x42);
	ret = test_map(dev, &in, src, 0, size, DMA_TO_DEVICE);
	if (ret) {
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		kunit_skip(test, "no memory below the mask to bounce through");
	}
	for (i = 0; i < in.nr; i++)
		KUNIT_EXPECT_LE(test, in.addr[i] + in.len[i] - 1, mask);
	KUNIT_ASSERT_EQ(test, test_map(dev, &out, dst, 0, size,
				       DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&in, 0, EDU_XFER, false), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, EDU_XFER, true), 0);
	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, memcmp(page_address(dst->pages[0]),
				     page_address(src->pages[0]), EDU_XFER), 0);
}

/**
 * struct untrusted_case - a transfer of an untrusted device
 * @name: its layout
 * @start: offset of the transfer in a contiguous buffer
 * @size: its size
 * @one_link: link it in one call rather than page by page
 */
struct untrusted_case {
	const char *name;
	size_t start;
	size_t size;
	bool one_link;
};

static const struct untrusted_case untrusted_cases[] = {
	{ "page by page", 100, 3 * PAGE_SIZE - 300, false },
	{ "one link: head, middle and tail", 100, 3 * PAGE_SIZE - 300, true },
	{ "one link: head and tail, no middle", 100, 2 * PAGE_SIZE - 200,
	  true },
	{ "one link inside one granule", 100, 1000, true },
};

KUNIT_ARRAY_PARAM_DESC(untrusted, untrusted_cases, name);

/*
 * An untrusted device sees its partial head and tail granules through
 * zeroed bounce buffers, its aligned middle in place, and its data
 * through them both ways.
 */
static void dma_iova_test_untrusted(struct kunit *test)
{
	const struct untrusted_case *c = test->param_value;
	size_t start = c->start, size = c->size, end = start + size;
	struct device *dev = test_dev(test);
	struct test_buf *src, *dst, *probe;
	struct test_map in, out, pin;
	struct iommu_domain *domain;
	size_t off, bad = 0;
	dma_addr_t granule;
	phys_addr_t phys;
	u8 *p;

	domain = iommu_get_domain_for_dev(dev);
	if (!domain || !iommu_is_dma_domain(domain))
		kunit_skip(test, "needs the device in an IOMMU DMA domain");
	if (!is_swiotlb_active(dev))
		kunit_skip(test, "needs swiotlb (boot with swiotlb=force)");
	src = test_buf_alloc_contiguous(test);
	dst = test_buf_alloc_contiguous(test);
	probe = test_buf_alloc(test);
	to_pci_dev(dev)->untrusted = true;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_unset_untrusted,
							dev), 0);

	test_buf_fill(src, 0x33);
	test_buf_fill(dst, 0x77);
	KUNIT_ASSERT_EQ(test, __test_map(dev, &in, src, start, size,
					 DMA_TO_DEVICE, c->one_link), 0);
	KUNIT_ASSERT_TRUE(test, dma_use_iova(&in.state));

	/* Partial granules bounce, whole ones are the pages themselves. */
	for (off = ALIGN_DOWN(start, PAGE_SIZE); off < end; off += PAGE_SIZE) {
		bool partial = off < start || off + PAGE_SIZE > end;

		granule = in.state.addr - start + off;
		phys = iommu_iova_to_phys(domain, granule);
		if (partial)
			KUNIT_EXPECT_NOT_NULL_MSG(test,
						  swiotlb_find_pool(dev, phys),
						  "granule at %zu", off);
		else
			KUNIT_EXPECT_EQ_MSG(test, phys, test_buf_phys(src, off),
					    "granule at %zu", off);
	}

	/* The head granule as the device sees it: zeros around the data. */
	granule = in.state.addr - start;
	KUNIT_ASSERT_EQ(test, dma_iova_edu_dma(granule, 0, EDU_XFER, false), 0);
	KUNIT_ASSERT_EQ(test, test_map(dev, &pin, probe, 0, PAGE_SIZE,
				       DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_dma(pin.addr[0], 0, EDU_XFER, true),
			0);
	dma_iova_destroy(dev, &pin.state, pin.mapped, DMA_FROM_DEVICE, 0);
	p = page_address(probe->pages[0]);
	for (off = 0; off < EDU_XFER; off++) {
		bool data = off >= start && off < end;

		if (p[off] != (data ? test_pattern(0x33, off) : 0))
			bad++;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%zu bytes of the head granule", bad);

	/* Device to memory: only the transfer's bytes change. */
	KUNIT_ASSERT_EQ(test, __test_map(dev, &out, dst, start, size,
					 DMA_FROM_DEVICE, c->one_link), 0);
	for (off = 0; off < size; off += EDU_XFER) {
		size_t len = min_t(size_t, EDU_XFER, size - off);

		KUNIT_EXPECT_EQ(test, edu_dma_map(&in, off, len, false), 1);
		KUNIT_EXPECT_EQ(test, edu_dma_map(&out, off, len, true), 1);
	}
	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);

	/* Bounced fragments went back to their place, and nothing else. */
	bad = 0;
	for (off = 0; off < TEST_PAGES * PAGE_SIZE; off++) {
		bool inside = off >= start && off < end;

		if (test_buf_byte(dst, off) !=
		    test_pattern(inside ? 0x33 : 0x77, off))
			bad++;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%zu bytes differ", bad);
}

#define STRESS_THREADS		4
#define STRESS_ROUNDS		200
/* Each edu DMA takes about 100 ms: a round trip every 50th round. */
#define STRESS_DMA_EVERY	50
/* IOVA ranges a thread holds at once: two transfers of up to 9 pieces. */
#define STRESS_RANGES		(2 * (TEST_PAGES + 1))

/**
 * struct stress_shared - what the threads of the concurrency case share
 * @lock: protects @live and @overlaps
 * @edu: serialises the round trips through the edu device's one buffer
 * @live: DMA ranges, [start, end), of each thread's live transfers;
 *	an empty range where it holds none
 * @overlaps: ranges that overlapped another thread's live range
 * @cpus: the CPUs the threads ran on
 */
struct stress_shared {
	spinlock_t lock;		/* protects @live and @overlaps */
	struct mutex edu;		/* one round trip at a time */
	dma_addr_t live[STRESS_THREADS][STRESS_RANGES][2];
	int overlaps;
	struct cpumask cpus;
};

/**
 * struct stress_ctx - one thread of the concurrency case
 * @shared: what all threads share
 * @id: its index in @shared->live
 * @dev: device to map for
 * @src: buffer the device reads from
 * @dst: buffer the device writes into
 * @errors: failures it saw
 * @first_err: what the first failure returned
 * @dmas: round trips through the device whose bytes arrived intact
 * @last_addr: DMA address of its last transfer in contiguous mode
 * @last_size: size of its last transfer
 * @done: signalled when it ends
 */
struct stress_ctx {
	struct stress_shared *shared;
	int id;
	struct device *dev;
	struct test_buf *src;
	struct test_buf *dst;
	int errors;
	int first_err;
	int dmas;
	dma_addr_t last_addr;
	size_t last_size;
	struct completion done;
};

static void stress_error(struct stress_ctx *ctx, int err)
{
	if (!ctx->errors++)
		ctx->first_err = err;
}

/*
 * Publish the DMA ranges of the thread's live transfer in slots
 * [@first, @first + TEST_PAGES + 1) and count those that overlap a
 * range another thread holds: the whole IOVA range in contiguous mode,
 * each piece (a bounce slot, or the memory itself) in per-piece mode.
 */
static void stress_claim(struct stress_ctx *ctx, struct test_map *map,
			 unsigned int first)
{
	struct stress_shared *sh = ctx->shared;
	dma_addr_t (*mine)[2] = &sh->live[ctx->id][first];
	unsigned int i, n = 0, t, j;

	spin_lock(&sh->lock);
	if (dma_use_iova(&map->state)) {
		mine[n][0] = map->state.addr;
		mine[n++][1] = map->state.addr + map->state.size;
	} else {
		for (i = 0; i < map->nr; i++, n++) {
			mine[n][0] = map->addr[i];
			mine[n][1] = map->addr[i] + map->len[i];
		}
	}
	for (i = 0; i < n; i++)
		for (t = 0; t < STRESS_THREADS; t++)
			for (j = 0; t != ctx->id && j < STRESS_RANGES; j++)
				if (mine[i][0] < sh->live[t][j][1] &&
				    sh->live[t][j][0] < mine[i][1])
					sh->overlaps++;
	spin_unlock(&sh->lock);
}

/* The transfer is about to be torn down: its ranges are free again. */
static void stress_release(struct stress_ctx *ctx, unsigned int first)
{
	struct stress_shared *sh = ctx->shared;

	spin_lock(&sh->lock);
	memset(&sh->live[ctx->id][first], 0,
	       (TEST_PAGES + 1) * sizeof(sh->live[0][0]));
	spin_unlock(&sh->lock);
}

/*
 * The device copies the first chunk of the transfer from @src into
 * @dst, through the edu buffer, while the other threads map and unmap.
 */
static void stress_round_trip(struct stress_ctx *ctx, struct test_map *in,
			      size_t start, size_t size)
{
	size_t len = min_t(size_t, size, EDU_XFER);
	struct test_map out;
	int ret;

	test_buf_fill(ctx->dst, 0);
	ret = test_map(ctx->dev, &out, ctx->dst, start, size, DMA_FROM_DEVICE);
	if (ret) {
		stress_error(ctx, ret);
		return;
	}
	stress_claim(ctx, &out, TEST_PAGES + 1);
	mutex_lock(&ctx->shared->edu);
	ret = edu_dma_map(in, 0, len, false);
	if (ret > 0)
		ret = edu_dma_map(&out, 0, len, true);
	mutex_unlock(&ctx->shared->edu);
	stress_release(ctx, TEST_PAGES + 1);
	dma_iova_destroy(ctx->dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	if (ret < 0)
		stress_error(ctx, ret);
	else if (test_buf_differs(ctx->dst, 0x40 + ctx->id, start, len))
		stress_error(ctx, -EILSEQ);
	else
		ctx->dmas++;
}

static int dma_iova_stress_thread(void *data)
{
	struct stress_ctx *ctx = data;
	struct test_map map;
	int i;

	for (i = 0; i < STRESS_ROUNDS; i++) {
		size_t start = get_random_u32_below(PAGE_SIZE);
		size_t size = 1 + get_random_u32_below(TEST_PAGES * PAGE_SIZE -
						       start - 1);
		int ret;

		cpumask_set_cpu(raw_smp_processor_id(), &ctx->shared->cpus);
		ret = test_map(ctx->dev, &map, ctx->src, start, size,
			       DMA_BIDIRECTIONAL);
		if (ret) {
			stress_error(ctx, ret);
			continue;
		}
		stress_claim(ctx, &map, 0);
		ctx->last_addr = map.state.addr;
		ctx->last_size = size;
		if (i % STRESS_DMA_EVERY == ctx->id)
			stress_round_trip(ctx, &map, start, size);
		stress_release(ctx, 0);
		if (map.nr > 1 && (i & 1)) {
			/* unlink the tail ranges first, then destroy */
			size_t tail = map.mapped - map.len[0];

			dma_iova_unlink(ctx->dev, &map.state, map.len[0], tail,
					DMA_BIDIRECTIONAL, 0);
			map.mapped -= tail;
		}
		dma_iova_destroy(ctx->dev, &map.state, map.mapped,
				 DMA_BIDIRECTIONAL, 0);
		if (!test_state_clear(&map.state))
			stress_error(ctx, -EBADE);
		cond_resched();
	}
	complete(&ctx->done);
	return 0;
}

/*
 * Threads on different CPUs map and unmap on one device at once, and
 * now and then the device moves a transfer's bytes: no two live
 * transfers may share IOVA space (or a bounce slot), every byte must
 * arrive, and nothing may stay mapped.
 */
static void dma_iova_test_concurrency(struct kunit *test)
{
	struct stress_shared *sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	struct stress_ctx *ctx = kunit_kcalloc(test, STRESS_THREADS,
					       sizeof(*ctx), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs 2 CPUs or more");
	spin_lock_init(&sh->lock);
	mutex_init(&sh->edu);
	for (i = 0; i < STRESS_THREADS; i++) {
		ctx[i].shared = sh;
		ctx[i].id = i;
		ctx[i].dev = test_dev(test);
		ctx[i].src = test_buf_alloc(test);
		ctx[i].dst = test_buf_alloc(test);
		test_buf_fill(ctx[i].src, 0x40 + i);
		init_completion(&ctx[i].done);
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		unsigned int cpu = cpumask_nth(i % num_online_cpus(),
					       cpu_online_mask);
		struct task_struct *t;

		t = kthread_create_on_cpu(dma_iova_stress_thread, &ctx[i], cpu,
					  "dma_iova_stress/%u");
		if (IS_ERR(t)) {
			/* no thread will signal this one */
			KUNIT_FAIL(test, "thread %d: %pe", i, t);
			complete(&ctx[i].done);
			continue;
		}
		wake_up_process(t);
	}
	/* Wait for all before anything can end the case. */
	for (i = 0; i < STRESS_THREADS; i++) {
		wait_for_completion(&ctx[i].done);
		KUNIT_EXPECT_EQ_MSG(test, ctx[i].errors, 0,
				    "thread %d, first error %d", i,
				    ctx[i].first_err);
		KUNIT_EXPECT_EQ_MSG(test, ctx[i].dmas,
				    STRESS_ROUNDS / STRESS_DMA_EVERY,
				    "thread %d: round trips intact", i);
	}
	KUNIT_EXPECT_GE(test, cpumask_weight(&sh->cpus), 2);
	KUNIT_EXPECT_EQ_MSG(test, sh->overlaps, 0,
			    "live transfers shared DMA addresses");
	/* All done: the last range of each thread must be unmapped. */
	for (i = 0; i < STRESS_THREADS; i++)
		test_expect_unmapped(test, ctx[i].last_addr, ctx[i].last_size);
	mutex_destroy(&sh->edu);
}

static DEFINE_SPINLOCK(dma_iova_test_lock);

/*
 * Every entry point may be called in atomic context: call each with a
 * spinlock held and interrupts off.  With CONFIG_DEBUG_ATOMIC_SLEEP a
 * call that may sleep reports "BUG: sleeping function called from
 * invalid context", which fails the run; the device then checks that
 * what was mapped so is usable.
 */
static void dma_iova_test_atomic(struct kunit *test)
{
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_space space = {};
	struct dma_iova_state state = {};
	struct test_map in, out;
	int ret_reserve, ret_in, ret_out, ret_alloc;
	unsigned long flags, boundary;

	test_buf_fill(src, 0x5a);
	test_buf_fill(dst, 0);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	out.space = &space;

	spin_lock_irqsave(&dma_iova_test_lock, flags);
	boundary = dma_iova_merge_boundary(dev);
	ret_reserve = dma_iova_reserve(dev, &space, TEST_PAGES * PAGE_SIZE);
	/* link, link_page, sync and, on failure, destroy */
	ret_in = test_map_again(dev, &in, src, 100, 2 * PAGE_SIZE,
				DMA_TO_DEVICE, false);
	ret_out = test_map_again(dev, &out, dst, 100, 2 * PAGE_SIZE,
				 DMA_FROM_DEVICE, false);
	ret_alloc = dma_iova_alloc(dev, &state, test_buf_phys(src, 0),
				   PAGE_SIZE);
	if (!ret_alloc)
		dma_iova_free(dev, &state);
	spin_unlock_irqrestore(&dma_iova_test_lock, flags);

	KUNIT_EXPECT_EQ(test, boundary, dma_iova_merge_boundary(dev));
	/* per-piece mode and lazy domains keep no space */
	if (boundary && !test_lazy(dev))
		KUNIT_EXPECT_EQ(test, ret_reserve, 0);
	else
		KUNIT_EXPECT_EQ(test, ret_reserve, -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, ret_alloc, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
	KUNIT_ASSERT_EQ(test, ret_in, 0);
	if (ret_out) {
		dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
		dma_iova_unreserve(dev, &space);
		KUNIT_FAIL(test, "mapping the destination: %d", ret_out);
		return;
	}
	if (boundary && !test_lazy(dev))
		KUNIT_EXPECT_TRUE(test, test_flags(&out.state) &
					DMA_IOVA_IN_RESV);

	KUNIT_EXPECT_GT(test, edu_dma_map(&in, 0, EDU_XFER, false), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, EDU_XFER, true), 0);

	spin_lock_irqsave(&dma_iova_test_lock, flags);
	/* the tail first, then the rest */
	dma_iova_unlink(dev, &out.state, out.len[0], out.mapped - out.len[0],
			DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &out.state, out.len[0], DMA_FROM_DEVICE, 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	dma_iova_unreserve(dev, &space);
	spin_unlock_irqrestore(&dma_iova_test_lock, flags);

	KUNIT_EXPECT_EQ(test, test_buf_differs(dst, 0x5a, 100, EDU_XFER), 0);
	KUNIT_EXPECT_FALSE(test, dma_iova_reserved(&space));
}

/* A device that cannot DMA (no DMA mask, as RDMA's virtual devices). */
static void dma_iova_test_no_dma_mask(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "dma_iova_virt");
	struct test_buf *buf = test_buf_alloc(test);
	struct dma_iova_state state = {};
	dma_addr_t addr;

	test_expect_warnings(test);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dev));
	/* what a virtual-DMA device looks like to the DMA layer */
	dev->dma_mask = NULL;
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), -EINVAL);
	dma_iova_destroy(dev, &state, 0, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/*
 * A device reaches P2P memory of its own function at the PCI bus address
 * (the PCI code says so for every such pair): the transfer maps nothing
 * and takes no IOVA space, behind an IOMMU or swiotlb=force too, and it
 * logs its ranges only for DMA-API debugging.
 */
static void dma_iova_test_p2p_bus_addr(struct kunit *test)
{
	struct test_p2p *p2p = test_p2p_alloc(test);
	struct device *dev = &p2p->provider->dev;
	struct dma_iova_state state = {};
	size_t off, mapped = 0;
	dma_addr_t addr;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_p2p_phys(p2p, 0),
					     p2p->size), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
	KUNIT_EXPECT_EQ(test, state.addr, 0);
	for (off = 0; off < p2p->size; off += PAGE_SIZE) {
		if (dma_iova_link(dev, &state, test_p2p_phys(p2p, off), off,
				  PAGE_SIZE, DMA_TO_DEVICE, 0, &addr)) {
			KUNIT_FAIL(test, "linking P2P memory at %zu failed", off);
			break;
		}
		mapped += PAGE_SIZE;
		KUNIT_EXPECT_EQ_MSG(test, addr, test_p2p_bus(p2p, off),
				    "not the bus address at %zu", off);
	}
	/* Nothing to undo, unless DMA-API debugging must see the unlinks. */
	KUNIT_EXPECT_EQ(test, !!state.log, dma_iova_debug_active());
	KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &state, 0, p2p->size), 0);
	if (mapped == p2p->size) {
		dma_iova_unlink(dev, &state, PAGE_SIZE, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
		KUNIT_EXPECT_EQ(test, test_linked(&state), PAGE_SIZE);
		mapped = PAGE_SIZE;
	}
	dma_iova_destroy(dev, &state, mapped, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_NULL(test, state.log);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
}

/*
 * P2P memory cannot join a transfer of host memory, nor the reverse, even
 * where the device reaches both: the provider and its own memory.
 */
static void dma_iova_test_p2p_mixed(struct kunit *test)
{
	struct test_p2p *p2p = test_p2p_alloc(test);
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = &p2p->provider->dev;
	struct dma_iova_state state = {};
	dma_addr_t addr;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_p2p_phys(p2p, PAGE_SIZE),
					    PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE,
					    0, &addr), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	KUNIT_EXPECT_NULL(test, state.log);
	if (dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, state.addr,
							  2 * PAGE_SIZE), 0);
	dma_iova_destroy(dev, &state, 0, DMA_TO_DEVICE, 0);

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_p2p_phys(p2p, 0),
					     2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, PAGE_SIZE),
					    PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE,
					    0, &addr), -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	KUNIT_EXPECT_NULL(test, state.log);
	dma_iova_destroy(dev, &state, 0, DMA_TO_DEVICE, 0);
}

/*
 * A device that cannot reach P2P memory gets -EREMOTEIO from alloc: one
 * that is not on PCI, and the edu device if the PCI code finds no path
 * (q35's host bridge is not on its list); if it finds one, the edu
 * device sees the memory where the PCI code or the IOMMU put it.
 */
static void dma_iova_test_p2p_unreachable(struct kunit *test)
{
	struct test_p2p *p2p = test_p2p_alloc(test);
	struct device *virt = kunit_device_register(test, "dma_iova_p2p");
	phys_addr_t phys = test_p2p_phys(p2p, 0);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t addr;
	int ret;

	KUNIT_ASSERT_FALSE(test, IS_ERR(virt));
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(virt,
							   DMA_BIT_MASK(64)),
			0);
	KUNIT_EXPECT_EQ(test, dma_iova_alloc(virt, &state, phys, PAGE_SIZE),
			-EREMOTEIO);
	KUNIT_EXPECT_EQ(test, test_flags(&state), 0);

	ret = dma_iova_alloc(dev, &state, phys, PAGE_SIZE);
	if (pci_p2pdma_distance(p2p->provider, dev, false) < 0) {
		KUNIT_EXPECT_EQ(test, ret, -EREMOTEIO);
		KUNIT_EXPECT_EQ(test, test_flags(&state), 0);
		return;
	}
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = dma_iova_link(dev, &state, phys, 0, PAGE_SIZE, DMA_TO_DEVICE, 0,
			    &addr);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret && dma_use_iova(&state))
		KUNIT_EXPECT_EQ(test,
				iommu_iova_to_phys(iommu_get_domain_for_dev(dev),
						   addr), phys);
	else if (!ret)
		KUNIT_EXPECT_TRUE(test, addr == test_p2p_bus(p2p, 0) ||
				  addr == phys_to_dma(dev, phys));
	dma_iova_destroy(dev, &state, ret ? 0 : PAGE_SIZE, DMA_TO_DEVICE, 0);
}

/*
 * Transfers one after the other in reserved IOVA space: each is put
 * in that space whatever its offset in a page, the device reads the bytes
 * of the transfer it was given, not those of the one before at the same
 * IOVA, and the space never goes back to the allocator.
 */
static void dma_iova_test_reserve(struct kunit *test)
{
	static const size_t starts[] = { 0, 1000, 0, PAGE_SIZE - 8 };
	struct test_buf *bufs[2] = { test_buf_alloc(test), test_buf_alloc(test) };
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	size_t size = 3 * PAGE_SIZE, off, bad;
	struct dma_iova_state others[8] = {};
	struct dma_iova_space space = {};
	struct test_map map = { .space = &space }, out;
	dma_addr_t resv, addr;
	unsigned int i;
	int ret;

	ret = dma_iova_reserve(dev, &space, 4 * PAGE_SIZE);
	if (ret == -EOPNOTSUPP) {
		/* transfers are set up as without the space */
		KUNIT_EXPECT_FALSE(test, dma_iova_reserved(&space));
		KUNIT_ASSERT_EQ(test, test_map_again(dev, &map, bufs[0], 0,
						     size, DMA_TO_DEVICE,
						     false), 0);
		KUNIT_EXPECT_EQ(test, dma_use_iova(&map.state),
				test_lazy(dev));
		dma_iova_destroy(dev, &map.state, map.mapped, DMA_TO_DEVICE, 0);
		test_skip_no_reserve(test, dev);
	}
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_TRUE(test, dma_iova_reserved(&space));
	resv = space.addr;
	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, resv, space.size), 0);
	test_buf_fill(bufs[0], 0x11);
	test_buf_fill(bufs[1], 0x77);

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		struct test_buf *src = bufs[i % 2];
		size_t start = starts[i];

		KUNIT_ASSERT_EQ(test, test_map_again(dev, &map, src, start,
						     size, DMA_TO_DEVICE,
						     false), 0);
		addr = map.state.addr;
		KUNIT_EXPECT_TRUE(test, dma_use_iova(&map.state));
		KUNIT_EXPECT_EQ(test, addr, resv + offset_in_page(start));
		KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, addr, size),
				map.nr);

		/* the device reads this transfer's bytes through the IOVA */
		test_buf_fill(dst, 0xa5);
		KUNIT_EXPECT_EQ(test, edu_dma_map(&map, 0, EDU_XFER, false), 1);
		dma_iova_destroy(dev, &map.state, map.mapped, DMA_TO_DEVICE, 0);
		test_expect_unmapped(test, addr, size);
		KUNIT_EXPECT_TRUE(test, test_state_clear(&map.state));
		KUNIT_EXPECT_EQ(test, space.addr, resv);

		KUNIT_ASSERT_EQ(test, test_map(dev, &out, dst, 0, EDU_XFER,
					       DMA_FROM_DEVICE), 0);
		KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, EDU_XFER, true), 0);
		dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE,
				 0);
		for (off = 0, bad = 0; off < EDU_XFER; off++)
			if (test_buf_byte(dst, off) !=
			    test_pattern(0x11 + (i % 2) * 0x66, start + off))
				bad++;
		KUNIT_EXPECT_EQ_MSG(test, bad, 0,
				    "transfer %u: %zu bytes differ", i, bad);
	}

	/*
	 * The space stayed out of the allocator: ranges allocated now, of
	 * the transfers' size, lie elsewhere.  (Ranges a lazy domain queued
	 * reach the allocator within its 10 ms flush timeout.)
	 */
	msleep(20);
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		ret = dma_iova_alloc(dev, &others[i], test_buf_phys(bufs[0], 0),
				     size);
		KUNIT_EXPECT_EQ(test, ret, 0);
		if (ret)
			break;
		KUNIT_EXPECT_TRUE(test, others[i].addr + size <= resv ||
				  others[i].addr >= resv + space.size);
	}
	while (i--)
		dma_iova_free(dev, &others[i]);

	/* A transfer too large for the space gets a range of its own. */
	KUNIT_ASSERT_EQ(test, test_map_again(dev, &map, bufs[0], 0,
					     6 * PAGE_SIZE, DMA_TO_DEVICE,
					     false), 0);
	addr = map.state.addr;
	KUNIT_EXPECT_TRUE(test, dma_use_iova(&map.state));
	KUNIT_EXPECT_TRUE(test, addr + 6 * PAGE_SIZE <= resv ||
			  addr >= resv + space.size);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, resv, space.size), 0);
	dma_iova_destroy(dev, &map.state, map.mapped, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, addr, 6 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, space.addr, resv);

	dma_iova_unreserve(dev, &space);
	KUNIT_EXPECT_FALSE(test, dma_iova_reserved(&space));
	KUNIT_EXPECT_EQ(test, space.addr, 0);
}

/* Misuse of reserved space gets an error, and nothing stays mapped. */
static void dma_iova_test_reserve_errors(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_space space = {};
	struct dma_iova_state state = {};
	dma_addr_t addr;

	test_expect_warnings(test);
	KUNIT_EXPECT_EQ(test, dma_iova_reserve(dev, &space, 0), -EINVAL);
	/* too large behind an IOMMU, nothing to reserve without one */
	KUNIT_EXPECT_LT(test, dma_iova_reserve(dev, &space, SIZE_MAX), 0);
	KUNIT_EXPECT_FALSE(test, dma_iova_reserved(&space));
	/* unreserving a space that keeps nothing does nothing */
	dma_iova_unreserve(dev, &space);

	if (dma_iova_reserve(dev, &space, 2 * PAGE_SIZE))
		test_skip_no_reserve(test, dev);
	/* a space that keeps space already cannot reserve again */
	KUNIT_EXPECT_EQ(test, dma_iova_reserve(dev, &space, PAGE_SIZE),
			-EBUSY);

	/* unreserving with a transfer linked there unmaps it first */
	KUNIT_ASSERT_EQ(test, dma_iova_alloc_in(dev, &state, &space,
						test_buf_phys(buf, 0),
						2 * PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state, test_buf_phys(buf, 0),
					    0, PAGE_SIZE, DMA_TO_DEVICE, 0,
					    &addr), 0);
	KUNIT_EXPECT_EQ(test, addr, space.addr);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, addr, 2 * PAGE_SIZE), 1);
	dma_iova_unreserve(dev, &space);
	test_expect_unmapped(test, addr, 2 * PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, dma_iova_reserved(&space));
	/* the state of the lost transfer is freed without touching the IOVA */
	dma_iova_free(dev, &state);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
}

/*
 * dma_iova_need_sync() says whether a linked transfer needs work at each
 * DMA, which a driver that keeps the mapping (a premapped buffer) would
 * skip: true wherever a range went to swiotlb or the device is not
 * coherent, false where a coherent device reaches the pages themselves,
 * directly or through one IOVA range.  Where each range is a mapping of
 * the streaming API behind an IOMMU, the API may say true without a
 * bounce; that is only checked one way.  The pages are those the DMA
 * addresses lead to, found independently: through the IOMMU's page
 * table, or from the address itself.
 */
static void dma_iova_test_need_sync(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	bool paging = domain && (domain->type & __IOMMU_DOMAIN_PAGING);
	struct test_buf *buf = test_buf_alloc(test);
	bool bounced = false, need;
	struct test_map map;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, __test_map(dev, &map, buf, 512,
					 3 * PAGE_SIZE - 1024,
					 DMA_BIDIRECTIONAL, TEST_BVECS), 0);
	for (i = 0; i < map.nr; i++) {
		phys_addr_t phys = paging ?
			iommu_iova_to_phys(domain, map.addr[i]) :
			dma_to_phys(dev, map.addr[i]);

		if (swiotlb_find_pool(dev, phys))
			bounced = true;
	}
	need = dma_iova_need_sync(dev, &map.state);
	if (bounced || !dev_is_dma_coherent(dev))
		KUNIT_EXPECT_TRUE_MSG(test, need,
				      "bounced %d, coherent %d: kept mapping would skip the work",
				      bounced, dev_is_dma_coherent(dev));
	else if (!paging || dma_use_iova(&map.state))
		KUNIT_EXPECT_FALSE(test, need);
	dma_iova_destroy(dev, &map.state, map.mapped, DMA_BIDIRECTIONAL, 0);
}

/*
 * Once unlinked, memory is out of the device's reach: behind an IOMMU in
 * a strict domain, a DMA into the hole that a partial unlink left, or to
 * an IOVA after dma_iova_destroy(), faults in the IOMMU and leaves
 * the memory as it was.  The device writes, the worst case: a late write
 * corrupts memory that belongs to the CPU again.  A write into a page
 * still linked shows that the same DMA lands where it may.
 */
static void dma_iova_test_dma_after_unmap(struct kunit *test)
{
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	size_t size = 3 * PAGE_SIZE;
	struct test_map map;
	dma_addr_t base;

	if (!domain || domain->type != IOMMU_DOMAIN_DMA ||
	    !IS_ENABLED(CONFIG_DMA_IOVA))
		kunit_skip(test, "needs a strict IOMMU DMA domain and CONFIG_DMA_IOVA");

	/* The device's buffer gets the bytes of @src. */
	test_buf_fill(src, 0xc3);
	KUNIT_ASSERT_EQ(test, test_map(dev, &map, src, 0, EDU_XFER,
				       DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&map, 0, EDU_XFER, false), 0);
	dma_iova_destroy(dev, &map.state, map.mapped, DMA_TO_DEVICE, 0);

	test_buf_fill(buf, 0x3c);
	KUNIT_ASSERT_EQ(test, test_map(dev, &map, buf, 0, size,
				       DMA_FROM_DEVICE), 0);
	KUNIT_ASSERT_TRUE(test, dma_use_iova(&map.state));
	base = map.state.addr;
	dma_iova_unlink(dev, &map.state, PAGE_SIZE, PAGE_SIZE,
			DMA_FROM_DEVICE, 0);
	test_expect_unmapped(test, base + PAGE_SIZE, PAGE_SIZE);

	test_expect_faults(test);
	/* into the hole: faults */
	KUNIT_EXPECT_EQ(test, dma_iova_edu_dma(base + PAGE_SIZE, 0, 512, true),
			0);
	/* into the first page, still linked: lands */
	KUNIT_EXPECT_EQ(test, dma_iova_edu_dma(base, 0, 512, true), 0);

	/* the hole filled again, the whole transfer goes with one destroy */
	KUNIT_EXPECT_EQ(test, test_link(dev, &map.state, buf, PAGE_SIZE,
					PAGE_SIZE, DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &map.state, 0, size), 0);
	dma_iova_destroy(dev, &map.state, size, DMA_FROM_DEVICE, 0);
	test_expect_unmapped(test, base, size);
	/* where the first and the last page were: faults */
	KUNIT_EXPECT_EQ(test, dma_iova_edu_dma(base, 0, 512, true), 0);
	KUNIT_EXPECT_EQ(test, dma_iova_edu_dma(base + 2 * PAGE_SIZE, 0, 512,
					       true), 0);

	/* the write that was allowed landed: @src's bytes, from the device */
	KUNIT_EXPECT_EQ_MSG(test, test_buf_differs(buf, 0xc3, 0, 512), 0,
			    "the write into a linked page did not land");
	/* and nothing else of the buffer changed */
	KUNIT_EXPECT_EQ_MSG(test, test_buf_differs(buf, 0x3c, 512,
						   size - 512), 0,
			    "a DMA after unmap reached memory");
}

/*
 * A transfer of host memory larger than all of it can never be linked at
 * once: it is sparse, as an ODP registration of a huge address range is.
 * Behind an IOMMU it is mapped per piece, without an IOVA range for all
 * of it that would go unused (and crowd out the device's other
 * mappings); the fallback is counted, pieces link at both ends, the
 * IOMMU maps them where the links said, and teardown unmaps them.
 */
static void dma_iova_test_larger_than_memory(struct kunit *test)
{
	size_t size = ((size_t)totalram_pages() + 1) << PAGE_SHIFT;
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	struct dma_iova_state state = {};
	size_t offset[2] = { 0, size - PAGE_SIZE };
	dma_addr_t addr[2];
	u64 fallbacks;
	int i;

	if (!dma_iova_merge_boundary(dev))
		kunit_skip(test, "needs an IOMMU DMA domain (contiguous mode)");
	dma_iova_stats_start();
	fallbacks = dma_iova_stat_read(dev, "fallbacks");
	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state, test_buf_phys(buf, 0),
					     size), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
	KUNIT_EXPECT_EQ(test, dma_iova_stat_read(dev, "fallbacks") - fallbacks,
			1);
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state,
						    test_buf_phys(buf,
								  i * PAGE_SIZE),
						    offset[i], PAGE_SIZE,
						    DMA_TO_DEVICE, 0, &addr[i]),
				0);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, addr[i]),
				test_buf_phys(buf, i * PAGE_SIZE));
	}
	KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &state, 0, size), 0);
	dma_iova_destroy(dev, &state, size, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
	for (i = 0; i < 2; i++)
		test_expect_unmapped(test, addr[i], PAGE_SIZE);
}

#if IS_ENABLED(CONFIG_IOMMU_API) && IS_ENABLED(CONFIG_64BIT)
static bool test_pages_fail(int order)
{
	return true;
}

/*
 * A batched map that runs out of page-table pages unmaps what it wrote and
 * nothing else.  The batch is 4 MiB that superpages can map, at the top
 * of a 1 GiB region of IOVA without page tables, just below a mapping of
 * another page; no page-table page can be allocated.  The IOVA is far
 * above the device's DMA mask, where the DMA API maps nothing.
 */
static void dma_iova_test_map_bvecs_no_table(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	struct test_buf *buf = test_buf_alloc(test);
	const unsigned long top = 16UL * SZ_1G, iova = top - SZ_4M;
	const int prot = IOMMU_READ | IOMMU_WRITE;
	struct bio_vec bv;
	struct page *big;
	int ret;

	if (!domain || !(domain->type & __IOMMU_DOMAIN_PAGING))
		kunit_skip(test, "needs an IOMMU paging domain");
	if (domain->geometry.aperture_end < top + PAGE_SIZE - 1)
		kunit_skip(test, "the domain's IOVA ends below 16 GiB");
	big = alloc_pages(GFP_KERNEL | __GFP_NOWARN, get_order(SZ_4M));
	if (!big)
		kunit_skip(test, "no 4 MiB of contiguous memory");
	bvec_set_page(&bv, big, SZ_4M, 0);
	ret = iommu_map(domain, top, test_buf_phys(buf, 0), PAGE_SIZE, prot,
			GFP_KERNEL);
	if (ret) {
		__free_pages(big, get_order(SZ_4M));
		KUNIT_FAIL(test, "iommu_map() of the page above: %d", ret);
		return;
	}

	kunit_activate_static_stub(test, iommu_pages_should_fail,
				   test_pages_fail);
	ret = iommu_map_bvecs_nosync(domain, iova, &bv, 1, prot, GFP_ATOMIC);
	kunit_deactivate_static_stub(test, iommu_pages_should_fail);
	if (!ret) {
		iommu_unmap(domain, iova, SZ_4M);
		iommu_unmap(domain, top, PAGE_SIZE);
		__free_pages(big, get_order(SZ_4M));
		kunit_skip(test, "the driver allocates no page-table pages");
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	/* The page above the batch is still mapped, the batch is not. */
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, top),
			test_buf_phys(buf, 0));
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, iova), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, top - PAGE_SIZE), 0);

	/* With page-table pages the same batch maps. */
	KUNIT_EXPECT_EQ(test, iommu_map_bvecs_nosync(domain, iova, &bv, 1, prot,
						     GFP_ATOMIC), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, iova + SZ_2M + 100),
			page_to_phys(big) + SZ_2M + 100);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, iova, SZ_4M), SZ_4M);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, top, PAGE_SIZE), PAGE_SIZE);
	__free_pages(big, get_order(SZ_4M));
}
#else
static void dma_iova_test_map_bvecs_no_table(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_API on a 64-bit machine");
}
#endif

/* Bounce slots in use in the swiotlb pool of @dev, if it has one. */
static long test_swiotlb_used(struct device *dev)
{
#if IS_ENABLED(CONFIG_SWIOTLB) && IS_ENABLED(CONFIG_DEBUG_FS)
	if (dev->dma_io_tlb_mem)
		return atomic_long_read(&dev->dma_io_tlb_mem->total_used);
#endif
	return 0;
}

#if IS_ENABLED(CONFIG_DMA_IOVA) && IS_ENABLED(CONFIG_IOMMU_DMA)
static int test_iova_alloc_fails(struct device *dev, phys_addr_t phys,
				 size_t size, dma_addr_t *addr)
{
	return -ENOMEM;
}

/*
 * When the IOMMU's allocator has no IOVA range for a transfer, the
 * transfer is mapped per piece: the caller sees no error, the device
 * moves the bytes, the fallback is counted, and teardown leaves nothing.
 */
static void dma_iova_test_inject_alloc(struct kunit *test)
{
	struct test_buf *src = test_buf_alloc(test);
	struct test_buf *dst = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct test_map in, out;
	u64 fallbacks;

	if (!dma_iova_merge_boundary(dev))
		kunit_skip(test, "needs an IOMMU DMA domain (contiguous mode)");
	dma_iova_stats_start();
	fallbacks = dma_iova_stat_read(dev, "fallbacks");
	test_buf_fill(src, 0x5a);
	test_buf_fill(dst, 0xa5);

	kunit_activate_static_stub(test, iommu_dma_iova_alloc,
				   test_iova_alloc_fails);
	KUNIT_ASSERT_EQ(test, test_map(dev, &in, src, 100, EDU_XFER,
				       DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&in.state));
	KUNIT_ASSERT_EQ(test, test_map(dev, &out, dst, 0, EDU_XFER,
				       DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&out.state));
	KUNIT_EXPECT_EQ(test, dma_iova_stat_read(dev, "fallbacks") - fallbacks,
			2);

	KUNIT_EXPECT_GT(test, edu_dma_map(&in, 0, EDU_XFER, false), 0);
	KUNIT_EXPECT_GT(test, edu_dma_map(&out, 0, EDU_XFER, true), 0);
	dma_iova_destroy(dev, &in.state, in.mapped, DMA_TO_DEVICE, 0);
	dma_iova_destroy(dev, &out.state, out.mapped, DMA_FROM_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&in.state));
	KUNIT_EXPECT_TRUE(test, test_state_clear(&out.state));
	test_expect_unmapped(test, in.addr[0], in.len[0]);
	test_expect_unmapped(test, out.addr[0], out.len[0]);
	KUNIT_EXPECT_EQ(test, memcmp(page_address(dst->pages[0]),
				     page_address(src->pages[0]) + 100,
				     EDU_XFER), 0);
}

/* The iommu_map_nosync() call, counted from 1, that fails; 0 for none. */
static unsigned int test_map_fail_at, test_map_calls;

static int test_map_nosync(struct iommu_domain *domain, unsigned long iova,
			   phys_addr_t paddr, size_t size, int prot, gfp_t gfp)
{
	struct kunit *test = kunit_get_current_test();
	int ret;

	if (++test_map_calls == test_map_fail_at)
		return -ENOMEM;
	kunit_deactivate_static_stub(test, iommu_map_nosync);
	ret = iommu_map_nosync(domain, iova, paddr, size, prot, gfp);
	kunit_activate_static_stub(test, iommu_map_nosync, test_map_nosync);
	return ret;
}

struct inject_map_case {
	const char *name;
	bool untrusted;
	unsigned int fail_at;
};

static const struct inject_map_case inject_map_cases[] = {
	{ "one map call, fails", false, 1 },
	{ "bounced head fails", true, 1 },
	{ "middle fails after the bounced head", true, 2 },
	{ "bounced tail fails after head and middle", true, 3 },
};

KUNIT_ARRAY_PARAM_DESC(inject_map, inject_map_cases, name);

/*
 * Skip an inject_map case where it cannot run, make the device untrusted
 * for the cases that bounce, and return the swiotlb slots in use before.
 */
static long test_inject_map_begin(struct kunit *test,
				  const struct inject_map_case *c)
{
	struct device *dev = test_dev(test);

	if (!dma_iova_merge_boundary(dev))
		kunit_skip(test, "needs an IOMMU DMA domain (contiguous mode)");
	if (c->untrusted) {
		if (!is_swiotlb_active(dev))
			kunit_skip(test, "needs swiotlb (boot with swiotlb=force)");
		to_pci_dev(dev)->untrusted = true;
		KUNIT_ASSERT_EQ(test,
				kunit_add_action_or_reset(test,
							  test_unset_untrusted,
							  dev), 0);
	}
	return test_swiotlb_used(dev);
}

/*
 * After a link that failed at the c->fail_at-th map: nothing of the
 * transfer is mapped, linked or bounced.
 */
static void test_inject_map_failed(struct kunit *test,
				   const struct inject_map_case *c,
				   struct dma_iova_state *state, size_t size,
				   long used)
{
	KUNIT_EXPECT_EQ(test, test_map_calls, c->fail_at);
	test_expect_unmapped(test, state->addr, size);
	KUNIT_EXPECT_EQ(test, test_linked(state), 0);
	KUNIT_EXPECT_EQ_MSG(test, test_swiotlb_used(test_dev(test)), used,
			    "bounce slots leaked");
}

/*
 * After the same link passed: its three granules are mapped, and the
 * destroy leaves nothing mapped or bounced.
 */
static void test_inject_map_end(struct kunit *test,
				struct dma_iova_state *state, size_t size,
				long used)
{
	struct device *dev = test_dev(test);
	dma_addr_t addr = state->addr;

	KUNIT_EXPECT_EQ(test, dma_iova_edu_mapped(dev, addr, size), 3);
	dma_iova_destroy(dev, state, size, DMA_TO_DEVICE, 0);
	test_expect_unmapped(test, addr, size);
	KUNIT_EXPECT_EQ(test, test_swiotlb_used(dev), used);
}

/*
 * A map that fails part-way through a link: the link returns -ENOMEM and
 * leaves nothing of its range mapped, no bounce slot taken, and the
 * transfer as it was, so that the same link can be tried again.  An
 * untrusted device's link maps a bounced head granule, the middle in
 * place and a bounced tail granule: each of those maps fails in turn.
 */
static void dma_iova_test_inject_map(struct kunit *test)
{
	const struct inject_map_case *c = test->param_value;
	struct test_buf *buf = test_buf_alloc_contiguous(test);
	struct device *dev = test_dev(test);
	/* 100 bytes into the first page to 100 bytes before the third ends */
	size_t start = 100, size = 3 * PAGE_SIZE - 200;
	struct dma_iova_state state = {};
	dma_addr_t addr;
	long used;

	used = test_inject_map_begin(test, c);

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state,
					     test_buf_phys(buf, start), size), 0);
	KUNIT_ASSERT_TRUE(test, dma_use_iova(&state));
	test_map_calls = 0;
	test_map_fail_at = c->fail_at;
	kunit_activate_static_stub(test, iommu_map_nosync, test_map_nosync);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, start), 0, size,
					    DMA_TO_DEVICE, 0, &addr), -ENOMEM);
	kunit_deactivate_static_stub(test, iommu_map_nosync);
	test_inject_map_failed(test, c, &state, size, used);

	/* the same link passes once the IOMMU has memory again */
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, start), 0, size,
					    DMA_TO_DEVICE, 0, &addr), 0);
	test_inject_map_end(test, &state, size, used);
}

static int test_map_bvecs_nosync(struct iommu_domain *domain,
				 unsigned long iova, const struct bio_vec *bv,
				 unsigned int nr, int prot, gfp_t gfp)
{
	struct kunit *test = kunit_get_current_test();
	int ret;

	if (++test_map_calls == test_map_fail_at)
		return -ENOMEM;
	kunit_deactivate_static_stub(test, iommu_map_bvecs_nosync);
	ret = iommu_map_bvecs_nosync(domain, iova, bv, nr, prot, gfp);
	kunit_activate_static_stub(test, iommu_map_bvecs_nosync,
				   test_map_bvecs_nosync);
	return ret;
}

/*
 * dma_iova_test_inject_map() for a batched link of the same bytes in
 * three ranges, one per page: a trusted device maps all three with one
 * call, which fails; an untrusted one maps the bounced head, the middle
 * page and the bounced tail one by one, and each fails in turn after
 * those before it were mapped.  Nothing stays mapped or bounced, and the
 * same call passes afterwards.
 */
static void dma_iova_test_inject_map_bvecs(struct kunit *test)
{
	const struct inject_map_case *c = test->param_value;
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	size_t start = 100, size = 3 * PAGE_SIZE - 200;
	struct dma_iova_state state = {};
	struct bio_vec bv[3];
	dma_addr_t addr[3];
	long used;

	used = test_inject_map_begin(test, c);
	bvec_set_page(&bv[0], buf->pages[0], PAGE_SIZE - start, start);
	bvec_set_page(&bv[1], buf->pages[1], PAGE_SIZE, 0);
	bvec_set_page(&bv[2], buf->pages[2], PAGE_SIZE - 100, 0);

	KUNIT_ASSERT_EQ(test, dma_iova_alloc(dev, &state,
					     test_buf_phys(buf, start), size), 0);
	KUNIT_ASSERT_TRUE(test, dma_use_iova(&state));
	test_map_calls = 0;
	test_map_fail_at = c->fail_at;
	if (c->untrusted)
		kunit_activate_static_stub(test, iommu_map_nosync,
					   test_map_nosync);
	else
		kunit_activate_static_stub(test, iommu_map_bvecs_nosync,
					   test_map_bvecs_nosync);
	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 0,
						  DMA_TO_DEVICE, 0, addr),
			-ENOMEM);
	if (c->untrusted)
		kunit_deactivate_static_stub(test, iommu_map_nosync);
	else
		kunit_deactivate_static_stub(test, iommu_map_bvecs_nosync);
	test_inject_map_failed(test, c, &state, size, used);

	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, 0,
						  DMA_TO_DEVICE, 0, addr), 0);
	test_inject_map_end(test, &state, size, used);
}
#else
static void dma_iova_test_inject_alloc(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DMA_IOVA and CONFIG_IOMMU_DMA");
}

static void dma_iova_test_inject_map(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DMA_IOVA and CONFIG_IOMMU_DMA");
}

static void dma_iova_test_inject_map_bvecs(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DMA_IOVA and CONFIG_IOMMU_DMA");
}

static const struct inject_map_case {
	const char *name;
} inject_map_cases[] = { { "none" } };

KUNIT_ARRAY_PARAM_DESC(inject_map, inject_map_cases, name);
#endif

static struct dma_iova_log *test_log_alloc_fails(void)
{
	return NULL;
}

/*
 * The per-piece log cannot grow: the link that needs a new chunk fails
 * with -ENOMEM and unmaps its piece, and the pieces linked before stay
 * linked and are torn down as usual.  Seven pieces fill the first chunk.
 */
static void dma_iova_test_inject_log(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	dma_addr_t addr;
	size_t off;
	int ret;

	/* an inner boundary inside a page: per piece, behind an IOMMU too */
	KUNIT_ASSERT_EQ(test, dma_iova_alloc_layout(dev, &state,
						    test_buf_phys(buf, 0),
						    8 * 512, 512), 0);
	KUNIT_ASSERT_FALSE(test, dma_use_iova(&state));
	kunit_activate_static_stub(test, dma_iova_log_alloc,
				   test_log_alloc_fails);
	ret = dma_iova_link(dev, &state, test_buf_phys(buf, 0), 0, 512,
			    DMA_TO_DEVICE, 0, &addr);
	if (!ret) {
		dma_iova_destroy(dev, &state, 512, DMA_TO_DEVICE, 0);
		kunit_skip(test, "pieces need no unmapping here: nothing logged");
	}
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	KUNIT_EXPECT_NULL(test, state.log);

	kunit_deactivate_static_stub(test, dma_iova_log_alloc);
	for (off = 0; off < 7 * 512; off += 512)
		KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &state,
						    test_buf_phys(buf, off),
						    off, 512, DMA_TO_DEVICE, 0,
						    &addr), 0);
	kunit_activate_static_stub(test, dma_iova_log_alloc,
				   test_log_alloc_fails);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state,
					    test_buf_phys(buf, off), off, 512,
					    DMA_TO_DEVICE, 0, &addr), -ENOMEM);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 7 * 512);
	kunit_deactivate_static_stub(test, dma_iova_log_alloc);
	dma_iova_destroy(dev, &state, 7 * 512, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
}

/*
 * Set up a transfer of @n pieces of 512 bytes of @buf, per piece behind an
 * IOMMU too (an inner boundary inside a page), and link pieces
 * [0, @linked) of it one by one.
 */
static void test_link_pieces(struct kunit *test, struct dma_iova_state *state,
			     struct test_buf *buf, unsigned int n,
			     unsigned int linked)
{
	struct device *dev = test_dev(test);
	dma_addr_t addr;
	size_t off;

	KUNIT_ASSERT_EQ(test, dma_iova_alloc_layout(dev, state,
						    test_buf_phys(buf, 0),
						    n * 512, 512), 0);
	KUNIT_ASSERT_FALSE(test, dma_use_iova(state));
	for (off = 0; off < linked * 512; off += 512)
		KUNIT_ASSERT_EQ(test, dma_iova_link(dev, state,
						    test_buf_phys(buf, off),
						    off, 512, DMA_TO_DEVICE, 0,
						    &addr), 0);
}

/*
 * A batch that the log cannot take fails as a whole: the range that got
 * the first chunk's last slot is unmapped again, with its bounce slot, and
 * the pieces linked before the batch stay linked.  On dma-direct without
 * DMA-API debugging, that is the batch's inline path.
 */
static void dma_iova_test_inject_log_bvecs(struct kunit *test)
{
	struct test_buf *buf = test_buf_alloc(test);
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	long used = test_swiotlb_used(dev);
	struct bio_vec bv[3];
	dma_addr_t addrs[3];
	size_t off = 6 * 512;
	phys_addr_t phys;
	int i;

	test_link_pieces(test, &state, buf, 9, 6);
	if (!state.log) {
		dma_iova_destroy(dev, &state, off, DMA_TO_DEVICE, 0);
		kunit_skip(test, "pieces need no unmapping here: nothing logged");
	}
	for (i = 0; i < 3; i++) {
		phys = test_buf_phys(buf, off + i * 512);
		bvec_set_page(&bv[i], pfn_to_page(PHYS_PFN(phys)), 512,
			      offset_in_page(phys));
	}

	kunit_activate_static_stub(test, dma_iova_log_alloc,
				   test_log_alloc_fails);
	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, off,
						  DMA_TO_DEVICE, 0, addrs),
			-ENOMEM);
	kunit_deactivate_static_stub(test, dma_iova_log_alloc);
	KUNIT_EXPECT_EQ(test, test_linked(&state), off);
	/* Six pieces keep their slots if they bounced, the batch's none. */
	if (test_swiotlb_used(dev) != used)
		KUNIT_EXPECT_EQ(test, test_swiotlb_used(dev), used + 6);

	KUNIT_EXPECT_EQ(test, dma_iova_link_bvecs(dev, &state, bv, 3, off,
						  DMA_TO_DEVICE, 0, addrs), 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 9 * 512);
	dma_iova_destroy(dev, &state, 9 * 512, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
	KUNIT_EXPECT_EQ(test, test_swiotlb_used(dev), used);
}

/*
 * The state is what a driver pays per request, twice for data and
 * metadata: it must stay small (upstream's is 16 bytes).
 */
static void dma_iova_test_state_size(struct kunit *test)
{
	KUNIT_EXPECT_LE(test, sizeof(struct dma_iova_state), 32);
	KUNIT_EXPECT_LE(test, sizeof(struct dma_iova_space), 16);
}

#define TEST_LOG_PIECES		256
#define TEST_LOG_PIECE		512

/*
 * An unlink in per-piece mode finds its pieces without looking at all the
 * others: an ODP invalidation of one page of a large registration must
 * not cost what the whole registration costs.  The pieces are linked out
 * of order, as ODP faults link them, all from one page read by the device.
 */
static void dma_iova_test_log_lookup(struct kunit *test)
{
	const size_t size = TEST_LOG_PIECES * TEST_LOG_PIECE;
	const size_t mid = TEST_LOG_PIECES / 2 * TEST_LOG_PIECE;
	const u64 bound = 2 * ilog2(TEST_LOG_PIECES) + 2;
	struct device *dev = test_dev(test);
	struct dma_iova_state state = {};
	struct page *page;
	phys_addr_t phys;
	dma_addr_t addr;
	u64 walked;
	unsigned int i;

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	phys = page_to_phys(page);
	dma_iova_stats_start();

	/* An inner boundary inside a granule: per piece, behind an IOMMU too */
	KUNIT_ASSERT_EQ(test, dma_iova_alloc_layout(dev, &state, phys, size,
						    TEST_LOG_PIECE), 0);
	KUNIT_ASSERT_FALSE(test, dma_use_iova(&state));
	for (i = 0; i < TEST_LOG_PIECES; i++) {
		/* 0, 255, 1, 254, ...: every link lands between others */
		unsigned int n = i & 1 ? TEST_LOG_PIECES - 1 - i / 2 : i / 2;
		size_t off = n * TEST_LOG_PIECE;

		if (dma_iova_link(dev, &state,
				  phys + off % PAGE_SIZE, off, TEST_LOG_PIECE,
				  DMA_TO_DEVICE, 0, &addr)) {
			KUNIT_FAIL(test, "link %u at %zu failed", i, off);
			break;
		}
	}
	if (!state.log) {
		dma_iova_destroy(dev, &state, test_linked(&state),
				 DMA_TO_DEVICE, 0);
		__free_page(page);
		kunit_skip(test, "pieces need no unmapping here: nothing logged");
	}

	walked = dma_iova_stat_read(dev, "log_walked");
	dma_iova_unlink(dev, &state, mid, TEST_LOG_PIECE, DMA_TO_DEVICE, 0);
	walked = dma_iova_stat_read(dev, "log_walked") - walked;
	/* a path down a red-black tree, and the piece itself */
	KUNIT_EXPECT_LE_MSG(test, walked, bound,
			    "unlinking 1 of %u pieces looked at %llu",
			    TEST_LOG_PIECES, walked);
	KUNIT_EXPECT_EQ(test, test_linked(&state), size - TEST_LOG_PIECE);

	/* What is left around the hole unlinks, and the log goes with it. */
	dma_iova_unlink(dev, &state, 0, mid, DMA_TO_DEVICE, 0);
	dma_iova_unlink(dev, &state, mid + TEST_LOG_PIECE,
			size - mid - TEST_LOG_PIECE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, test_linked(&state), 0);
	KUNIT_EXPECT_NULL(test, state.log);
	dma_iova_free(dev, &state);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));

	/*
	 * In order, as a block request links, over several chunks of the
	 * log: destroy empties the first chunk before the others, and the
	 * log must still go whole.
	 */
	KUNIT_ASSERT_EQ(test, dma_iova_alloc_layout(dev, &state, phys, size,
						    TEST_LOG_PIECE), 0);
	for (i = 0; i < 24; i++)
		if (dma_iova_link(dev, &state, phys + (i * TEST_LOG_PIECE) %
				  PAGE_SIZE, i * TEST_LOG_PIECE,
				  TEST_LOG_PIECE, DMA_TO_DEVICE, 0, &addr))
			break;
	KUNIT_EXPECT_EQ(test, i, 24);
	dma_iova_destroy(dev, &state, i * TEST_LOG_PIECE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, test_state_clear(&state));
	__free_page(page);
}

static int dma_iova_test_init(struct kunit *test)
{
	struct device *dev = dma_iova_edu_dev();

	if (!dev)
		kunit_skip(test, "no QEMU edu PCI device (-device edu)");
	test->priv = dev;
	return dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
}

static struct kunit_case dma_iova_test_cases[] = {
	KUNIT_CASE_PARAM(dma_iova_test_alloc, alloc_gen_params),
	KUNIT_CASE(dma_iova_test_alloc_busy),
	KUNIT_CASE_PARAM(dma_iova_test_link_errors, link_gen_params),
	KUNIT_CASE(dma_iova_test_stale_state),
	KUNIT_CASE(dma_iova_test_partial_link_destroy),
	KUNIT_CASE(dma_iova_test_unlink_offset),
	KUNIT_CASE(dma_iova_test_free_with_links),
	KUNIT_CASE(dma_iova_test_unlink_unlinked),
	KUNIT_CASE(dma_iova_test_destroy_with_hole),
	KUNIT_CASE(dma_iova_test_unlink_over_hole),
	KUNIT_CASE_SLOW(dma_iova_test_fragmented_space),
	KUNIT_CASE_PARAM(dma_iova_test_layout, layout_gen_params),
	KUNIT_CASE(dma_iova_test_phys_kinds),
	KUNIT_CASE(dma_iova_test_kmalloc_noncoherent),
	KUNIT_CASE_PARAM(dma_iova_test_device_copy, dma_gen_params),
	KUNIT_CASE_PARAM(dma_iova_test_device_copy_bvecs, dma_gen_params),
	KUNIT_CASE(dma_iova_test_link_bvecs_errors),
	KUNIT_CASE(dma_iova_test_small_mask),
	KUNIT_CASE_PARAM(dma_iova_test_untrusted, untrusted_gen_params),
	KUNIT_CASE_SLOW(dma_iova_test_concurrency),
	KUNIT_CASE(dma_iova_test_atomic),
	KUNIT_CASE(dma_iova_test_no_dma_mask),
	KUNIT_CASE(dma_iova_test_p2p_bus_addr),
	KUNIT_CASE(dma_iova_test_p2p_mixed),
	KUNIT_CASE(dma_iova_test_p2p_unreachable),
	KUNIT_CASE(dma_iova_test_reserve),
	KUNIT_CASE(dma_iova_test_reserve_errors),
	KUNIT_CASE(dma_iova_test_state_size),
	KUNIT_CASE(dma_iova_test_log_lookup),
	KUNIT_CASE(dma_iova_test_need_sync),
	KUNIT_CASE(dma_iova_test_dma_after_unmap),
	KUNIT_CASE(dma_iova_test_inject_alloc),
	KUNIT_CASE(dma_iova_test_larger_than_memory),
	KUNIT_CASE_PARAM(dma_iova_test_inject_map, inject_map_gen_params),
	KUNIT_CASE_PARAM(dma_iova_test_inject_map_bvecs, inject_map_gen_params),
	KUNIT_CASE(dma_iova_test_inject_log),
	KUNIT_CASE(dma_iova_test_inject_log_bvecs),
	KUNIT_CASE(dma_iova_test_map_bvecs_no_table),
	{}
};

static int dma_iova_suite_init(struct kunit_suite *suite)
{
	return dma_iova_edu_register();
}

static void dma_iova_suite_exit(struct kunit_suite *suite)
{
	dma_iova_edu_unregister();
}

static struct kunit_suite dma_iova_test_suite = {
	.name = "dma_iova",
	.suite_init = dma_iova_suite_init,
	.suite_exit = dma_iova_suite_exit,
	.init = dma_iova_test_init,
	.test_cases = dma_iova_test_cases,
};

/* A device of the KUnit bus: no IOMMU, no PCI, mapped by dma-direct. */
static int dma_iova_contract_init(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "dma_iova_contract");

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	test->priv = dev;
	return dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
}

static struct kunit_case dma_iova_contract_cases[] = {
	KUNIT_CASE_PARAM(dma_iova_test_alloc, alloc_gen_params),
	KUNIT_CASE(dma_iova_test_alloc_busy),
	KUNIT_CASE_PARAM(dma_iova_test_link_errors, link_gen_params),
	KUNIT_CASE(dma_iova_test_stale_state),
	KUNIT_CASE(dma_iova_test_partial_link_destroy),
	KUNIT_CASE(dma_iova_test_unlink_offset),
	KUNIT_CASE(dma_iova_test_free_with_links),
	KUNIT_CASE(dma_iova_test_unlink_unlinked),
	KUNIT_CASE(dma_iova_test_destroy_with_hole),
	KUNIT_CASE(dma_iova_test_unlink_over_hole),
	KUNIT_CASE(dma_iova_test_no_dma_mask),
	KUNIT_CASE(dma_iova_test_reserve_errors),
	KUNIT_CASE(dma_iova_test_state_size),
	KUNIT_CASE(dma_iova_test_log_lookup),
	KUNIT_CASE(dma_iova_test_inject_log),
	KUNIT_CASE(dma_iova_test_inject_log_bvecs),
	{}
};

static struct kunit_suite dma_iova_contract_suite = {
	.name = "dma_iova_contract",
	.init = dma_iova_contract_init,
	.test_cases = dma_iova_contract_cases,
};

kunit_test_suites(&dma_iova_test_suite, &dma_iova_contract_suite);

MODULE_DESCRIPTION("KUnit tests for the DMA IOVA API");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
