// SPDX-License-Identifier: GPL-2.0
/*
 * Two-step DMA mapping: a transfer reserves DMA address space once, links
 * physical ranges into it and makes them visible with one flush.
 *
 * Behind a dma-iommu domain a transfer is one contiguous IOVA range
 * (contiguous mode); everywhere else each linked range is mapped as a
 * streaming mapping and gets its own DMA address (per-piece mode).  PCI
 * P2PDMA memory that the device reaches at its PCI bus address is linked
 * per piece at that address, with nothing mapped.
 * Documentation/core-api/dma-iova.rst explains the design.
 */
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/bvec.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-iova.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/iommu-dma.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/memremap.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swiotlb.h>
#include <linux/xarray.h>

#include <trace/events/dma.h>

#include "debug.h"
#include "direct.h"

#define CREATE_TRACE_POINTS
#include <trace/events/dma_iova.h>

/* The flags that say what memory a transfer is made of: 0 is host memory. */
#define DMA_IOVA_KIND		(DMA_IOVA_P2P | DMA_IOVA_BUS_ADDR)

/**
 * struct dma_iova_piece - a range linked in per-piece mode
 * @node: in the tree of the transfer's pieces, by @offset
 * @log: the chunk of the log that holds it
 * @addr: the DMA address it was mapped at
 * @offset: its byte offset in the transfer
 * @size: its size in bytes
 * @dir: the direction it was mapped for
 */
struct dma_iova_piece {
	struct rb_node node;
	struct dma_iova_log *log;
	dma_addr_t addr;
	size_t offset;
	size_t size;
	enum dma_data_direction dir;
};

#define DMA_IOVA_LOG_PIECES	7

/**
 * struct dma_iova_log - a chunk of the log of a per-piece transfer
 * @pieces: the pieces of the whole transfer by offset, in the chunk that
 *	the state points to (the first); unused in the others
 * @chunks: in the first chunk the list of the others, newest first; in
 *	the others their place in that list
 * @used: bitmap of the slots in @slot that hold a piece
 * @slot: room for pieces
 *
 * Only pieces whose teardown has work to do are logged: they bounced
 * through swiotlb, the device is not DMA coherent, the device uses
 * dma_map_ops, or DMA-API debugging tracks them.  An unlink finds the
 * pieces of its range in the tree, so that its cost does not grow with
 * the pieces linked elsewhere (an ODP invalidation of one page among
 * millions).  A chunk goes back when its last piece is unlinked, the
 * first when the transfer has none left.
 */
struct dma_iova_log {
	struct rb_root pieces;
	struct list_head chunks;
	unsigned long used;
	struct dma_iova_piece slot[DMA_IOVA_LOG_PIECES];
};

#define DMA_IOVA_LOG_FULL	GENMASK(DMA_IOVA_LOG_PIECES - 1, 0)

/* Per-device counters shown in debugfs; names in dma_iova_stat_names. */
enum dma_iova_stat {
	DMA_IOVA_STAT_ALLOCS,		/* transfers set up */
	DMA_IOVA_STAT_CONTIGUOUS,	/* of those, as one IOVA range */
	DMA_IOVA_STAT_ALLOC_ERRORS,	/* dma_iova_alloc() failures */
	DMA_IOVA_STAT_LINKS,		/* ranges linked */
	DMA_IOVA_STAT_LINK_BYTES,	/* bytes linked */
	DMA_IOVA_STAT_LINK_ERRORS,	/* dma_iova_link() failures */
	DMA_IOVA_STAT_SYNCS,		/* dma_iova_sync() calls */
	DMA_IOVA_STAT_UNLINKS,		/* unlinks, by unlink or destroy */
	DMA_IOVA_STAT_FREES,		/* transfers released */
	DMA_IOVA_STAT_LOGGED,		/* per-piece ranges logged */
	DMA_IOVA_STAT_RESERVES,		/* dma_iova_reserve() successes */
	DMA_IOVA_STAT_IN_RESV,		/* transfers in reserved space */
	DMA_IOVA_STAT_FALLBACKS,	/* per piece: no IOVA range to be had */
	DMA_IOVA_STAT_LOG_WALKED,	/* logged pieces looked at to unlink */
	DMA_IOVA_NR_STATS,
};

static const char * const dma_iova_stat_names[DMA_IOVA_NR_STATS] = {
	"allocs", "contiguous", "alloc_errors", "links", "link_bytes",
	"link_errors", "syncs", "unlinks", "frees", "logged", "reserves",
	"in_reserve", "fallbacks", "log_walked",
};

/**
 * struct dma_iova_dev_stats - the counters of one device
 * @name: the device's name when it was first counted
 * @stats: per-CPU counters, summed when read
 * @rcu: frees it once no CPU can be counting into it
 */
struct dma_iova_dev_stats {
	char name[32];
	u64 __percpu *stats;
	struct rcu_head rcu;
};

/* dma_iova.stats=1 on the command line, whatever the object is called */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "dma_iova."

/* Counting is off by default so that it costs nothing. */
static DEFINE_STATIC_KEY_FALSE(dma_iova_stats_enabled);
static bool dma_iova_stats_param;
module_param_named(stats, dma_iova_stats_param, bool, 0400);
MODULE_PARM_DESC(stats, "Count DMA IOVA calls per device from boot");

/*
 * struct device pointer -> struct dma_iova_dev_stats.  Filled from any
 * context, hardirq included, so its lock is taken with interrupts off; an
 * entry goes when the device's managed resources are released (driver
 * unbound, or device gone), so that a new device at the same address
 * starts from nothing.
 */
static DEFINE_XARRAY_FLAGS(dma_iova_stats_xa, XA_FLAGS_LOCK_IRQ);

static void dma_iova_stats_free_rcu(struct rcu_head *rcu)
{
	struct dma_iova_dev_stats *ds =
		container_of(rcu, struct dma_iova_dev_stats, rcu);

	free_percpu(ds->stats);
	kfree(ds);
}

static void dma_iova_stats_release(struct device *dev, void *res)
{
	struct dma_iova_dev_stats *ds;
	unsigned long flags;

	xa_lock_irqsave(&dma_iova_stats_xa, flags);
	ds = __xa_erase(&dma_iova_stats_xa, (unsigned long)dev);
	xa_unlock_irqrestore(&dma_iova_stats_xa, flags);
	if (ds)
		call_rcu(&ds->rcu, dma_iova_stats_free_rcu);
}

/* Called under rcu_read_lock(), which keeps the entry alive. */
static struct dma_iova_dev_stats *dma_iova_stats_get(struct device *dev)
{
	struct dma_iova_dev_stats *ds;
	unsigned long key = (unsigned long)dev;
	unsigned long flags;
	void *res;
	int ret;

	ds = xa_load(&dma_iova_stats_xa, key);
	if (likely(ds))
		return ds;

	ds = kzalloc(sizeof(*ds), GFP_ATOMIC | __GFP_NOWARN);
	if (!ds)
		return NULL;
	ds->stats = __alloc_percpu_gfp(DMA_IOVA_NR_STATS * sizeof(u64),
				       sizeof(u64), GFP_ATOMIC | __GFP_NOWARN);
	res = devres_alloc(dma_iova_stats_release, 0,
			   GFP_ATOMIC | __GFP_NOWARN);
	if (!ds->stats || !res)
		goto out_free;
	strscpy(ds->name, dev_name(dev), sizeof(ds->name));

	xa_lock_irqsave(&dma_iova_stats_xa, flags);
	ret = __xa_insert(&dma_iova_stats_xa, key, ds, GFP_ATOMIC);
	xa_unlock_irqrestore(&dma_iova_stats_xa, flags);
	if (ret)
		goto out_free;
	devres_add(dev, res);
	return ds;

out_free:
	devres_free(res);
	free_percpu(ds->stats);
	kfree(ds);
	/* Lost a race with another CPU, or no memory: use what is there. */
	return xa_load(&dma_iova_stats_xa, key);
}

static noinline void __dma_iova_count(struct device *dev,
				      enum dma_iova_stat stat, u64 n)
{
	struct dma_iova_dev_stats *ds;

	rcu_read_lock();
	ds = dma_iova_stats_get(dev);
	if (ds)
		this_cpu_add(ds->stats[stat], n);
	rcu_read_unlock();
}

/* A patched-out jump where the call is, while counting is off. */
static __always_inline void dma_iova_count(struct device *dev,
					   enum dma_iova_stat stat, u64 n)
{
	if (static_branch_unlikely(&dma_iova_stats_enabled))
		__dma_iova_count(dev, stat, n);
}

#if IS_ENABLED(CONFIG_KUNIT) || defined(CONFIG_DEBUG_FS)
/* Counter @i of @ds, summed over the CPUs. */
static u64 dma_iova_stat_sum(struct dma_iova_dev_stats *ds, int i)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(ds->stats, cpu)[i];
	return sum;
}
#endif

#if IS_ENABLED(CONFIG_KUNIT)
/* For the KUnit suites: count from now on, and read what was counted. */
VISIBLE_IF_KUNIT void dma_iova_stats_start(void)
{
	static_branch_enable(&dma_iova_stats_enabled);
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_stats_start);

VISIBLE_IF_KUNIT u64 dma_iova_stat_read(struct device *dev, const char *name)
{
	struct dma_iova_dev_stats *ds;
	u64 sum = 0;
	int i;

	i = match_string(dma_iova_stat_names, DMA_IOVA_NR_STATS, name);
	if (WARN_ON_ONCE(i < 0))
		return 0;
	rcu_read_lock();
	ds = xa_load(&dma_iova_stats_xa, (unsigned long)dev);
	if (ds)
		sum = dma_iova_stat_sum(ds, i);
	rcu_read_unlock();
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_stat_read);

VISIBLE_IF_KUNIT bool dma_iova_debug_active(void)
{
	return dma_debug_active();
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_debug_active);
#endif

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_dma_iova=<interval>,<probability>,<space>,<times> on the command
 * line, or the files of /sys/kernel/debug/fail_dma_iova/, make
 * dma_iova_link() fail with -ENOMEM, as when page tables or bounce
 * buffers run out, so that callers' requeue paths can be tested under
 * real I/O.  See Documentation/fault-injection/fault-injection.rst.
 */
static DECLARE_FAULT_ATTR(fail_dma_iova);

static int __init setup_fail_dma_iova(char *str)
{
	return setup_fault_attr(&fail_dma_iova, str);
}
__setup("fail_dma_iova=", setup_fail_dma_iova);

static bool dma_iova_should_fail(size_t size)
{
	return should_fail(&fail_dma_iova, size);
}
#else
static bool dma_iova_should_fail(size_t size)
{
	return false;
}
#endif

static bool dma_iova_can_be_contiguous(struct device *dev)
{
	return IS_ENABLED(CONFIG_DMA_IOVA) && use_dma_iommu(dev);
}

/*
 * Guards every call into the dma-iommu backend, so that the calls vanish
 * when CONFIG_DMA_IOVA is off.
 */
static bool dma_iova_contiguous(const struct dma_iova_state *state)
{
	return IS_ENABLED(CONFIG_DMA_IOVA) && dma_use_iova(state);
}

static bool dma_iova_in_use(const struct dma_iova_state *state)
{
	return state->linked & DMA_IOVA_IN_USE;
}

/* Bytes linked now; the flags share their word. */
static size_t dma_iova_linked(const struct dma_iova_state *state)
{
	return state->linked & DMA_IOVA_LINKED_MASK;
}

static void dma_iova_clear(struct dma_iova_state *state)
{
	memset(state, 0, sizeof(*state));
}

/* Guard the P2P paths, so that they vanish without CONFIG_PCI_P2PDMA. */
static bool dma_iova_p2p(const struct dma_iova_state *state)
{
	return IS_ENABLED(CONFIG_PCI_P2PDMA) && (state->linked & DMA_IOVA_P2P);
}

static bool dma_iova_bus_addr(const struct dma_iova_state *state)
{
	return IS_ENABLED(CONFIG_PCI_P2PDMA) &&
		(state->linked & DMA_IOVA_BUS_ADDR);
}

/*
 * Is [offset, offset + size) a non-empty range inside the transfer?  An
 * empty range is -EINVAL, one that is not inside -ERANGE.
 */
static int dma_iova_check_range(const struct dma_iova_state *state,
				size_t offset, size_t size)
{
	size_t end;

	if (!size)
		return -EINVAL;
	if (check_add_overflow(offset, size, &end) || end > state->size)
		return -ERANGE;
	return 0;
}

static bool dma_iova_range_ok(const struct dma_iova_state *state,
			      size_t offset, size_t size)
{
	return !dma_iova_check_range(state, offset, size);
}

/*
 * Can [0, linked_end) of a contiguous transfer have holes?  Links never
 * overlap, so as long as they hold as many bytes as they reach, they
 * cover [0, linked_end) without a gap.
 */
static bool dma_iova_may_have_holes(const struct dma_iova_state *state)
{
	return dma_iova_linked(state) != state->linked_end;
}

/* Per-piece mode ---------------------------------------------------- */

/*
 * Log chunks come from a reserve when the page allocator has nothing to
 * give without sleeping, so that a device that needs the log (swap or
 * writeback on a non-coherent or bounced device, say) still makes
 * progress under memory pressure: every chunk goes back when its
 * transfer is torn down.  Before the reserve is made at boot, chunks come
 * from kmalloc(), which the reserve's free hands back to.
 */
#define DMA_IOVA_LOG_RESERVE	64

static mempool_t *dma_iova_log_pool;

/* Not static for the KUnit suite, which fails it with a static stub. */
VISIBLE_IF_KUNIT struct dma_iova_log *dma_iova_log_alloc(void)
{
	mempool_t *pool = READ_ONCE(dma_iova_log_pool);
	struct dma_iova_log *log;

	KUNIT_STATIC_STUB_REDIRECT(dma_iova_log_alloc);

	if (!pool)
		log = kmalloc(sizeof(*log), GFP_ATOMIC | __GFP_NOWARN);
	else
		log = mempool_alloc(pool, GFP_ATOMIC | __GFP_NOWARN);
	if (log) {
		log->pieces = RB_ROOT;
		INIT_LIST_HEAD(&log->chunks);
		log->used = 0;
	}
	return log;
}
EXPORT_SYMBOL_IF_KUNIT(dma_iova_log_alloc);

static void dma_iova_log_free(struct dma_iova_log *log)
{
	mempool_t *pool = READ_ONCE(dma_iova_log_pool);

	if (pool)
		mempool_free(log, pool);
	else
		kfree(log);
}

/*
 * A free slot for a piece: in the first chunk, or in the newest of the
 * others, or in a new chunk.  Slots freed in older chunks are not looked
 * for; those chunks go when they empty.
 */
static struct dma_iova_piece *dma_iova_log_slot(struct dma_iova_state *state)
{
	struct dma_iova_log *first = state->log, *log;
	unsigned int i;

	if (!first) {
		log = dma_iova_log_alloc();
		if (!log)
			return NULL;
		state->log = log;
	} else if (first->used != DMA_IOVA_LOG_FULL) {
		log = first;
	} else {
		log = list_first_entry_or_null(&first->chunks,
					       struct dma_iova_log, chunks);
		if (!log || log->used == DMA_IOVA_LOG_FULL) {
			log = dma_iova_log_alloc();
			if (!log)
				return NULL;
			list_add(&log->chunks, &first->chunks);
		}
	}
	i = ffz(log->used);
	log->used |= BIT(i);
	log->slot[i].log = log;
	return &log->slot[i];
}

static bool dma_iova_piece_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct dma_iova_piece, node)->offset <
		rb_entry(b, struct dma_iova_piece, node)->offset;
}

static int dma_iova_log_add(struct dma_iova_state *state, dma_addr_t addr,
			    size_t offset, size_t size,
			    enum dma_data_direction dir)
{
	struct dma_iova_piece *p = dma_iova_log_slot(state);

	if (!p)
		return -ENOMEM;
	p->addr = addr;
	p->offset = offset;
	p->size = size;
	p->dir = dir;
	rb_add(&p->node, &state->log->pieces, dma_iova_piece_less);
	return 0;
}

/* Take @p out of the log, and give back a chunk that it leaves empty. */
static void dma_iova_log_del(struct dma_iova_state *state,
			     struct dma_iova_piece *p)
{
	struct dma_iova_log *first = state->log, *log = p->log;

	rb_erase(&p->node, &first->pieces);
	log->used &= ~BIT(p - log->slot);
	if (log != first && !log->used) {
		list_del(&log->chunks);
		dma_iova_log_free(log);
	}
	/* Every other chunk went when it emptied; the first goes last. */
	if (RB_EMPTY_ROOT(&first->pieces)) {
		dma_iova_log_free(first);
		state->log = NULL;
	}
}

/*
 * Tell why a streaming mapping failed, after the fact so that the mapping
 * that succeeds pays nothing: what never passes is not -ENOMEM, which
 * callers retry.
 */
static int dma_iova_piece_error(struct device *dev,
				const struct dma_iova_state *state, size_t size)
{
	/* dma-direct never bounces P2P memory: that will not pass. */
	if (dma_iova_p2p(state) && !use_dma_iommu(dev))
		return -EREMOTEIO;
	if (size > dma_max_mapping_size(dev))
		return -E2BIG;
	/* dma-direct without swiotlb fails only on memory out of reach. */
	if (!get_dma_ops(dev) && !use_dma_iommu(dev) &&
	    !is_swiotlb_active(dev))
		return -EIO;
	return -ENOMEM;
}

/*
 * Log a piece just mapped at @addr for its unlink, or, when the log cannot
 * take it, unmap it again.
 */
static int dma_iova_log_piece(struct device *dev, struct dma_iova_state *state,
			      dma_addr_t addr, size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs)
{
	int ret = dma_iova_log_add(state, addr, offset, size, dir);

	if (ret) {
		dma_unmap_page_attrs(dev, addr, size, dir,
				     attrs | DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	dma_iova_count(dev, DMA_IOVA_STAT_LOGGED, 1);
	return 0;
}

/*
 * Map a piece with dma_map_page_attrs() and log it for its unlink: the way
 * of a device behind dma_map_ops or an IOMMU, of P2P memory through the
 * host bridge, and of any device while DMA-API debugging runs, which must
 * see each unmap.  dma_iova_link_direct() maps the common case.
 */
static int dma_iova_link_piece(struct device *dev, struct dma_iova_state *state,
			       phys_addr_t phys, size_t offset, size_t size,
			       enum dma_data_direction dir, unsigned long attrs,
			       dma_addr_t *dma_addr)
{
	dma_addr_t addr;
	int ret;

	addr = dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(phys)),
				  offset_in_page(phys), size, dir, attrs);
	if (dma_mapping_error(dev, addr))
		return dma_iova_piece_error(dev, state, size);
	ret = dma_iova_log_piece(dev, state, addr, offset, size, dir, attrs);
	if (ret)
		return ret;
	/*
	 * What the streaming API may have bounced: exact for dma-direct,
	 * any piece of a device that may bounce or needs syncs otherwise.
	 */
	if (dma_need_sync(dev, addr))
		state->linked |= DMA_IOVA_BOUNCED;
	*dma_addr = addr;
	return 0;
}

/*
 * Does a range of @state go to dma_iova_link_direct()?  Host memory in
 * per-piece mode for dma-direct without dma_map_ops, while DMA-API
 * debugging is off: the distro case without an IOMMU.
 */
static bool dma_iova_direct(struct device *dev,
			    const struct dma_iova_state *state)
{
	return !dma_iova_contiguous(state) &&
	       !(state->linked & DMA_IOVA_KIND) && !get_dma_ops(dev) &&
	       !use_dma_iommu(dev) && !dma_debug_active();
}

/* The logged piece with the lowest offset at or above @offset, or NULL. */
static struct dma_iova_piece *dma_iova_log_find(struct device *dev,
						struct dma_iova_log *first,
						size_t offset)
{
	struct rb_node *node = first->pieces.rb_node;
	struct dma_iova_piece *found = NULL;
	unsigned int walked = 0;

	while (node) {
		struct dma_iova_piece *p =
			rb_entry(node, struct dma_iova_piece, node);

		walked++;
		if (p->offset >= offset) {
			found = p;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	dma_iova_count(dev, DMA_IOVA_STAT_LOG_WALKED, walked);
	return found;
}

/*
 * Unmap the logged pieces inside [offset, offset + size); a piece that
 * straddles the range is a caller bug and stays mapped.  They are unmapped
 * with the caller's direction, as dma_unmap_page() would be, so that
 * DMA-API debugging reports one that differs from the link's; DMA_NONE,
 * for a caller that lost track, takes the direction of each link.
 */
static void dma_iova_unlink_pieces(struct device *dev,
				   struct dma_iova_state *state, size_t offset,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs)
{
	size_t end = offset + size;
	struct dma_iova_piece *p, *next;
	struct rb_node *node;

	if (!state->log)
		return;
	p = dma_iova_log_find(dev, state->log, offset);
	/* The piece before the range must end before it. */
	node = p ? rb_prev(&p->node) : rb_last(&state->log->pieces);
	if (node) {
		struct dma_iova_piece *prev =
			rb_entry(node, struct dma_iova_piece, node);

		WARN_ON_ONCE(prev->offset + prev->size > offset);
	}

	for (; p && p->offset < end; p = next) {
		node = rb_next(&p->node);
		next = node ? rb_entry(node, struct dma_iova_piece, node) :
			NULL;
		dma_iova_count(dev, DMA_IOVA_STAT_LOG_WALKED, 1);
		if (WARN_ON_ONCE(p->offset + p->size > end))
			continue;
		if (dma_iova_bus_addr(state))
			debug_dma_iova_unlink(dev, p->addr, p->size, dir);
		else
			dma_unmap_page_attrs(dev, p->addr, p->size,
					     dir == DMA_NONE ? p->dir : dir,
					     attrs);
		dma_iova_log_del(state, p);
		if (!state->log)
			break;
	}
}

/*
 * Link ranges of host memory on dma-direct the way dma_direct_map_sg()
 * maps its entries: with dma_direct_map_page() inline (this is its only
 * caller here), in one pass that also checks each range, so that a batch
 * costs what a scatterlist of as many entries does.  Only a piece that
 * bounced, or any piece of a device that is not DMA coherent, leaves work
 * to its unlink and is logged.  Stores the bytes linked in *@linked; on
 * failure unlinks the ranges it linked.
 *
 * Out of line: the overflow warning of dma_direct_map_page() takes the
 * address of a local, which gives this function a stack protector, once
 * per batch.
 */
static noinline int dma_iova_link_direct(struct device *dev,
					 struct dma_iova_state *state,
					 const struct bio_vec *bv,
					 unsigned int nr, size_t offset,
					 enum dma_data_direction dir,
					 unsigned long attrs,
					 dma_addr_t *dma_addrs, size_t *linked)
{
	bool coherent = dev_is_dma_coherent(dev);
	size_t pos = offset;
	unsigned int i;
	int ret;

	if (offset > state->size)
		return -ERANGE;
	for (i = 0; i < nr; i++) {
		struct page *page = bv[i].bv_page;
		unsigned int len = bv[i].bv_len;
		phys_addr_t phys = bvec_phys(&bv[i]);
		dma_addr_t addr;

		if (!len) {
			ret = -EINVAL;
			goto out_unlink;
		}
		if (len > state->size - pos) {
			ret = -ERANGE;
			goto out_unlink;
		}
		if (is_pci_p2pdma_page(page)) {
			ret = -EREMOTEIO;
			goto out_unlink;
		}
		addr = dma_direct_map_page(dev, page, bv[i].bv_offset, len,
					   dir, attrs);
		if (addr == DMA_MAPPING_ERROR) {
			ret = dma_iova_piece_error(dev, state, len);
			goto out_unlink;
		}
		kmsan_handle_dma(page, bv[i].bv_offset, len, dir);
		trace_dma_map_page(dev, phys, addr, len, dir, attrs);
		if (!coherent || addr != phys_to_dma(dev, phys)) {
			ret = dma_iova_log_piece(dev, state, addr, pos, len,
						 dir, attrs);
			if (ret)
				goto out_unlink;
			/* not where the page is: a swiotlb bounce buffer */
			if (addr != phys_to_dma(dev, phys))
				state->linked |= DMA_IOVA_BOUNCED;
		}
		dma_addrs[i] = addr;
		pos += len;
	}
	*linked = pos - offset;
	return 0;

out_unlink:
	if (pos != offset)
		dma_iova_unlink_pieces(dev, state, offset, pos - offset, dir,
				       attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* PCI peer-to-peer memory ------------------------------------------- */

/*
 * Find the kind of the memory at @phys for @dev: 0 for host memory, else
 * the DMA_IOVA_KIND flags of PCI P2PDMA memory that @dev reaches, with
 * the bus offset of its provider in *@bus_off for DMA_IOVA_BUS_ADDR.  The
 * PCI code caches how a client reaches a provider, so this costs a look
 * at the struct page for host memory and a lookup for P2P memory.  The
 * caller knows that @phys has a struct page.
 */
static int dma_iova_kind(struct device *dev, phys_addr_t phys,
			 u64 *kind, u64 *bus_off)
{
	struct pci_p2pdma_map_state p2p = {};
	struct page *page;

	*kind = 0;
	page = pfn_to_page(PHYS_PFN(phys));
	if (!is_pci_p2pdma_page(page))
		return 0;
	/* dma_map_ops need not know P2P memory: see dma_map_sg() users. */
	if (!dma_pci_p2pdma_supported(dev))
		return -EREMOTEIO;

	switch (pci_p2pdma_state(&p2p, dev, page)) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*kind = DMA_IOVA_P2P | DMA_IOVA_BUS_ADDR;
		*bus_off = p2p.bus_off;
		return 0;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		*kind = DMA_IOVA_P2P;
		return 0;
	default:
		return -EREMOTEIO;
	}
}

/*
 * A transfer is all host memory or all P2P memory that @dev reaches one
 * way: check that the range at @phys is what dma_iova_alloc() found.
 */
static int dma_iova_check_kind(struct device *dev,
			       const struct dma_iova_state *state,
			       phys_addr_t phys, u64 *bus_off)
{
	u64 kind;
	int ret;

	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return 0;
	ret = dma_iova_kind(dev, phys, &kind, bus_off);
	if (ret)
		return ret;
	return kind == (state->linked & DMA_IOVA_KIND) ? 0 : -EREMOTEIO;
}

/*
 * Link P2P memory that @dev reaches at its PCI bus address: nothing is
 * mapped, so there is nothing to unmap either.  DMA-API debugging, when
 * it runs, tracks the range as a linked one all the same, and for it the
 * range is logged so that teardown finds it.
 */
static int dma_iova_link_bus_addr(struct device *dev,
				  struct dma_iova_state *state,
				  phys_addr_t phys, size_t offset, size_t size,
				  enum dma_data_direction dir, u64 bus_off,
				  dma_addr_t *dma_addr)
{
	dma_addr_t addr = phys + bus_off;
	int ret;

	if (dma_debug_active()) {
		ret = dma_iova_log_add(state, addr, offset, size, dir);
		if (ret)
			return ret;
		dma_iova_count(dev, DMA_IOVA_STAT_LOGGED, 1);
		debug_dma_iova_link(dev, phys, addr, size, dir, 0);
	}
	*dma_addr = addr;
	return 0;
}

/* Contiguous mode --------------------------------------------------- */

#ifdef CONFIG_DMA_IOVA
/*
 * Give the transfer its IOVA range: in @space if it fits there, else from
 * the allocator.
 */
static int dma_iova_alloc_contiguous(struct device *dev,
				     struct dma_iova_state *state,
				     const struct dma_iova_space *space,
				     phys_addr_t phys, size_t size)
{
	dma_addr_t addr;
	int ret;

	if (space && space->size &&
	    !iommu_dma_iova_place(dev, space->addr, space->size, phys, size,
				  &addr)) {
		state->linked |= DMA_IOVA_IN_RESV;
		dma_iova_count(dev, DMA_IOVA_STAT_IN_RESV, 1);
	} else {
		ret = iommu_dma_iova_alloc(dev, phys, size, &addr);
		if (ret)
			return ret;
	}
	state->addr = addr;
	state->linked |= DMA_IOVA_CONTIGUOUS;
	return 0;
}

static int dma_iova_reserve_space(struct device *dev,
				  struct dma_iova_space *space, size_t size)
{
	return iommu_dma_iova_reserve(dev, size, &space->addr, &space->size);
}

static unsigned long dma_iova_granule_mask(struct device *dev)
{
	return iommu_dma_get_merge_boundary(dev);
}

static void dma_iova_unreserve_space(struct device *dev,
				     struct dma_iova_space *space)
{
	/* A transfer left linked there must not outlive the space. */
	if (WARN_ON_ONCE(iommu_dma_iova_any_linked(dev, space->addr, 0,
						   space->size)))
		iommu_dma_iova_unlink_all(dev, space->addr, space->size, true);
	iommu_dma_iova_free(dev, space->addr, space->size);
}
#else
static int dma_iova_alloc_contiguous(struct device *dev,
				     struct dma_iova_state *state,
				     const struct dma_iova_space *space,
				     phys_addr_t phys, size_t size)
{
	return -EOPNOTSUPP;
}

static int dma_iova_reserve_space(struct device *dev,
				  struct dma_iova_space *space, size_t size)
{
	return -EOPNOTSUPP;
}

static void dma_iova_unreserve_space(struct device *dev,
				     struct dma_iova_space *space)
{
}

static unsigned long dma_iova_granule_mask(struct device *dev)
{
	return 0;
}
#endif /* CONFIG_DMA_IOVA */

/* Unlink [offset, offset + size) of a contiguous transfer. */
static void dma_iova_unlink_contiguous(struct device *dev,
				       struct dma_iova_state *state,
				       size_t offset, size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs, bool free)
{
	if (IS_ENABLED(CONFIG_DMA_API_DEBUG))
		debug_dma_iova_unlink(dev, state->addr + offset, size, dir);
	iommu_dma_iova_unlink(dev, state->addr, state->size, offset, size,
			      dir, attrs,
			      state->linked & DMA_IOVA_BOUNCED, free);
}

/* The API ----------------------------------------------------------- */

/**
 * dma_iova_merge_boundary() - tell how ranges must align to join one range
 * @dev: device that will do the DMA
 *
 * A transfer in contiguous mode is one IOVA range: the ranges linked into
 * it meet at IOMMU granule boundaries, so only the first may start inside
 * a granule and only the last may end inside one.  This returns the mask
 * of that granule, which the inner boundaries of a transfer must not hit
 * for it to be mapped so.  Pass those boundaries to
 * dma_iova_alloc_layout(), which chooses per-piece mode when they do.
 *
 * Context: Any context.
 * Return: the granule minus one, or 0 if @dev maps every transfer per
 * piece and any layout goes.
 */
unsigned long dma_iova_merge_boundary(struct device *dev)
{
	if (!dma_iova_can_be_contiguous(dev))
		return 0;
	return dma_iova_granule_mask(dev);
}
EXPORT_SYMBOL_GPL(dma_iova_merge_boundary);

/*
 * Find the kind of memory of a transfer from the address of its first
 * byte.  A caller that does not know the first page yet passes only its
 * offset in a page; such a transfer is host memory.
 */
static int dma_iova_alloc_kind(struct device *dev, phys_addr_t phys,
			       u64 *kind, u64 *bus_off)
{
	*kind = 0;
	if (phys < PAGE_SIZE)
		return 0;
	/* MMIO without a struct page: dma_map_resource() is for that. */
	if (!pfn_valid(PHYS_PFN(phys)))
		return -EOPNOTSUPP;
	return dma_iova_kind(dev, phys, kind, bus_off);
}

/*
 * A transfer of host memory larger than all of it can never be linked at
 * once, such as an on-demand paging registration of a huge, sparse
 * address range: an IOVA range for all of it would mostly go unused and
 * crowd out the device's other mappings.
 */
static bool dma_iova_sparse(const struct dma_iova_state *state, size_t size)
{
	return !(state->linked & DMA_IOVA_KIND) &&
	       (u64)size > (u64)totalram_pages() << PAGE_SHIFT;
}

/*
 * Inline in its two callers, so that setting up a transfer is one call:
 * for a transfer of one range each call weighs as much as its work.
 */
static __always_inline int __dma_iova_alloc(struct device *dev,
					    struct dma_iova_state *state,
					    const struct dma_iova_space *space,
					    phys_addr_t phys, size_t size,
					    phys_addr_t inner, bool sparse)
{
	u64 kind;
	phys_addr_t end;
	u64 bus_off;
	int ret;

	if (WARN_ON_ONCE(dma_iova_in_use(state)))
		return -EBUSY;
	dma_iova_clear(state);
	if (!size || (u64)size > DMA_IOVA_LINKED_MASK ||
	    check_add_overflow(phys, (phys_addr_t)size, &end) ||
	    WARN_ON_ONCE(!dev->dma_mask)) {
		ret = -EINVAL;
		goto out_error;
	}

	ret = dma_iova_alloc_kind(dev, phys, &kind, &bus_off);
	if (ret)
		goto out_error;
	state->linked |= kind;

	/*
	 * P2P memory at its bus address needs no IOVA space; a layout whose
	 * ranges cannot meet in one IOVA range, a sparse transfer, or a
	 * range the allocator does not have, is mapped per piece.
	 */
	if (!sparse && !dma_iova_bus_addr(state) &&
	    dma_iova_can_be_contiguous(dev) &&
	    (!inner || !(inner & dma_iova_granule_mask(dev)))) {
		if (dma_iova_sparse(state, size))
			ret = -ENOMEM;
		else
			ret = dma_iova_alloc_contiguous(dev, state, space,
							phys, size);
		if (ret == -ENOMEM) {
			dma_iova_count(dev, DMA_IOVA_STAT_FALLBACKS, 1);
			ret = 0;
		}
		if (ret)
			goto out_error;
	}
	state->size = size;
	state->linked |= DMA_IOVA_IN_USE;
	trace_dma_iova_alloc(dev, state->addr, size, dma_use_iova(state));
	dma_iova_count(dev, DMA_IOVA_STAT_ALLOCS, 1);
	if (dma_iova_contiguous(state))
		dma_iova_count(dev, DMA_IOVA_STAT_CONTIGUOUS, 1);
	return 0;

out_error:
	dma_iova_clear(state);
	dma_iova_count(dev, DMA_IOVA_STAT_ALLOC_ERRORS, 1);
	return ret;
}

/**
 * dma_iova_alloc_in() - reserve DMA address space for a transfer
 * @dev: device that will do the DMA
 * @state: zeroed state, or one left by dma_iova_free() or dma_iova_destroy()
 * @space: IOVA space kept by dma_iova_reserve() to put the transfer in,
 *	or %NULL
 * @phys: physical address of the first byte of the transfer, or only its
 *	offset in a page (a value below %PAGE_SIZE) if the caller does not
 *	know the first page yet
 * @size: size of the transfer in bytes: the sum of the sizes of the ranges
 *	that will be linked
 * @inner: bitwise OR of the physical addresses at which the ranges of the
 *	transfer start and end, but for the start of the first and the end
 *	of the last; 0 if they are all aligned to dma_iova_merge_boundary()
 *
 * Sets up @state for a transfer of @size bytes.  Behind a dma-iommu
 * domain, with %CONFIG_DMA_IOVA, this allocates one IOVA range for all of
 * it from the domain's allocator within the device's DMA mask: the
 * transfer is then in contiguous mode and dma_use_iova() returns %true.
 * Otherwise nothing is reserved and each dma_iova_link() maps its range
 * as a streaming mapping (per-piece mode).  That is also what happens
 * behind an IOMMU when @inner hits the IOMMU granule, so that ranges could
 * not meet in one IOVA range, when the allocator has no range of @size,
 * and for host memory when @size is larger than all of it, so that the
 * transfer can never be linked at once (an on-demand paging registration
 * of a huge address range, say): every layout that dma_map_sg() maps is
 * mapped, and the caller does the same whatever the mode.  @phys gives the offset of the first
 * byte inside an IOMMU granule and the kind of memory of the whole
 * transfer; the memory need not be linked yet.
 *
 * A transfer is all host memory or all PCI P2PDMA memory.  The PCI P2PDMA
 * code tells from the page at @phys how @dev reaches P2P memory: within
 * one device or through a PCI switch, and the transfer is linked in
 * per-piece mode at PCI bus addresses with nothing mapped and no IOVA
 * space; or through the host bridge, and it is mapped like host memory.
 *
 * If @space keeps IOVA space from dma_iova_reserve(), a transfer that
 * fits is put there instead of allocating a range; the caller makes sure
 * that no two transfers use one @space at once.
 *
 * On failure @state holds nothing and may be passed to
 * dma_iova_alloc_in() again.
 *
 * Context: Any context; does not sleep.
 * Return:
 * * 0           - @state holds the transfer
 * * %-EINVAL     - @size is 0 or above %DMA_IOVA_LINKED_MASK, @phys + @size
 *   overflows, or @dev cannot DMA
 * * %-EBUSY      - @state holds a transfer already (and is left as it was)
 * * %-EREMOTEIO  - @phys is PCI P2PDMA memory that @dev cannot reach
 * * %-EOPNOTSUPP - @phys is memory without a struct page, such as MMIO
 * * %-EIO        - the IOMMU could not attach @dev (deferred attach)
 */
int dma_iova_alloc_in(struct device *dev, struct dma_iova_state *state,
		      const struct dma_iova_space *space, phys_addr_t phys,
		      size_t size, phys_addr_t inner)
{
	return __dma_iova_alloc(dev, state, space, phys, size, inner, false);
}
EXPORT_SYMBOL_GPL(dma_iova_alloc_in);

/**
 * dma_iova_alloc_sparse() - set up a transfer that is never linked at once
 * @dev: device that will do the DMA
 * @state: zeroed state, or one left by dma_iova_free() or dma_iova_destroy()
 * @phys: physical address of the first byte of the transfer, or only its
 *	offset in a page (a value below %PAGE_SIZE)
 * @size: size of the transfer in bytes
 *
 * As dma_iova_alloc() for a transfer of which only a small part, changing
 * over time, is expected to be linked at any time, such as a window of an
 * on-demand paging registration that covers a whole address space:
 * nothing is reserved for all of it, and each dma_iova_link() maps its
 * range as a streaming mapping (per-piece mode), as dma_map_page() would.
 * IOVA space reserved for each such window would grow with the address
 * space the windows cover rather than with the memory linked, and crowd
 * out the device's other mappings.  dma_iova_alloc_in() chooses this mode
 * by itself for host memory larger than all of it.  Behind an IOMMU, each
 * range linked in this mode takes an entry of the state's log until it
 * is unlinked.
 *
 * Context: Any context; does not sleep.
 * Return:
 * * 0           - @state holds the transfer
 * * %-EINVAL     - @size is 0 or above %DMA_IOVA_LINKED_MASK, @phys + @size
 *   overflows, or @dev cannot DMA
 * * %-EBUSY      - @state holds a transfer already (and is left as it was)
 * * %-EREMOTEIO  - @phys is PCI P2PDMA memory that @dev cannot reach
 * * %-EOPNOTSUPP - @phys is memory without a struct page, such as MMIO
 */
int dma_iova_alloc_sparse(struct device *dev, struct dma_iova_state *state,
			  phys_addr_t phys, size_t size)
{
	return __dma_iova_alloc(dev, state, NULL, phys, size, 0, true);
}
EXPORT_SYMBOL_GPL(dma_iova_alloc_sparse);

/**
 * dma_iova_link_page() - map a range of memory given by its struct page
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @page: page that holds the first byte of the range
 * @page_offset: byte offset of the range in @page
 * @offset: byte offset of the range in the transfer
 * @size: size of the range in bytes
 * @dir: direction of the DMA
 * @attrs: %DMA_ATTR_* flags
 * @dma_addr: where to store the DMA address of the range
 *
 * As dma_iova_link() for the range that starts @page_offset bytes into
 * @page, for callers that take their ranges from struct pages (bio_vecs,
 * scatterlists, pinned user pages), as dma_map_page() is to
 * dma_map_resource().  Memory with a struct page needs no check that it
 * has one, which dma_iova_link() makes on every call.
 *
 * Context: Any context; does not sleep (allocates with %GFP_ATOMIC).
 * Return: as for dma_iova_link(), never %-EOPNOTSUPP.
 */
int dma_iova_link_page(struct device *dev, struct dma_iova_state *state,
		       struct page *page, size_t page_offset, size_t offset,
		       size_t size, enum dma_data_direction dir,
		       unsigned long attrs, dma_addr_t *dma_addr)
{
	phys_addr_t phys = page_to_phys(page) + page_offset;
	u64 bus_off = 0;
	dma_addr_t addr;
	int ret;

	if (!dma_iova_in_use(state) || !valid_dma_direction(dir)) {
		ret = -EINVAL;
		goto out_error;
	}
	ret = dma_iova_check_range(state, offset, size);
	if (ret)
		goto out_error;
	ret = dma_iova_check_kind(dev, state, phys, &bus_off);
	if (ret)
		goto out_error;
	if (dma_iova_should_fail(size)) {
		ret = -ENOMEM;
		goto out_error;
	}

	if (dma_iova_bus_addr(state)) {
		ret = dma_iova_link_bus_addr(dev, state, phys, offset, size,
					     dir, bus_off, &addr);
		if (ret)
			goto out_error;
	} else if (dma_iova_contiguous(state)) {
		/*
		 * Links in order of offset cannot overlap; only one that goes
		 * back below the furthest link needs the page table looked at.
		 */
		if (offset < state->linked_end &&
		    iommu_dma_iova_any_linked(dev, state->addr, offset, size)) {
			ret = -EEXIST;
			goto out_error;
		}
		addr = state->addr + offset;
		ret = iommu_dma_iova_link(dev, state->addr, state->size, offset,
					  phys, size, dir, attrs);
		if (ret < 0)
			goto out_error;
		state->linked_end = max(state->linked_end, offset + size);
		if (ret)
			state->linked |= DMA_IOVA_BOUNCED;
		if (IS_ENABLED(CONFIG_DMA_API_DEBUG))
			debug_dma_iova_link(dev, phys, addr, size, dir,
					    attrs);
	} else if (dma_iova_direct(dev, state) &&
		   (size | page_offset) <= UINT_MAX) {
		struct bio_vec bv;
		size_t linked;

		bvec_set_page(&bv, page, size, page_offset);
		ret = dma_iova_link_direct(dev, state, &bv, 1, offset, dir,
					   attrs, &addr, &linked);
		if (ret)
			goto out_error;
	} else {
		ret = dma_iova_link_piece(dev, state, phys, offset, size, dir,
					  attrs, &addr);
		if (ret)
			goto out_error;
	}

	state->linked += size;
	*dma_addr = addr;
	trace_dma_iova_link(dev, phys, addr, offset, size, dir);
	dma_iova_count(dev, DMA_IOVA_STAT_LINKS, 1);
	dma_iova_count(dev, DMA_IOVA_STAT_LINK_BYTES, size);
	return 0;

out_error:
	dma_iova_count(dev, DMA_IOVA_STAT_LINK_ERRORS, 1);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_iova_link_page);

/*
 * Link ranges one by one in per-piece mode, or at their bus addresses;
 * unlink those linked when one fails.  Ranges of P2P memory may come from
 * several providers that @dev reaches the same way, each at its own bus
 * offset: that is looked up per range.
 */
static int dma_iova_link_pieces(struct device *dev,
				struct dma_iova_state *state,
				const struct bio_vec *bv, unsigned int nr,
				size_t offset, enum dma_data_direction dir,
				unsigned long attrs, dma_addr_t *dma_addrs)
{
	size_t done = 0;
	unsigned int i;
	u64 bus_off;
	int ret;

	for (i = 0; i < nr; done += bv[i].bv_len, i++) {
		if (dma_iova_bus_addr(state)) {
			ret = dma_iova_check_kind(dev, state, bvec_phys(&bv[i]),
						  &bus_off);
			if (!ret)
				ret = dma_iova_link_bus_addr(dev, state,
							     bvec_phys(&bv[i]),
							     offset + done,
							     bv[i].bv_len, dir,
							     bus_off,
							     &dma_addrs[i]);
		} else {
			ret = dma_iova_link_piece(dev, state, bvec_phys(&bv[i]),
						  offset + done, bv[i].bv_len,
						  dir, attrs, &dma_addrs[i]);
		}
		if (ret) {
			if (done)
				dma_iova_unlink_pieces(dev, state, offset, done,
						       dir,
						       attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return ret;
		}
	}
	return 0;
}

/**
 * dma_iova_link_bvecs() - map ranges at consecutive offsets of a transfer
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @bv: the ranges, in the order the device sees them
 * @nr: number of ranges, at least one
 * @offset: byte offset of the first range in the transfer; each further
 *	range follows the one before
 * @dir: direction of the DMA
 * @attrs: %DMA_ATTR_* flags, as for dma_iova_link()
 * @dma_addrs: where to store the DMA address of each range, @nr of them
 *
 * dma_iova_link() of every range, in one call: the state, the ranges and
 * the device are looked at once, and behind an IOMMU the page table is
 * written in one pass (a leaf table's entries at a time, where the IOMMU
 * driver can), so that a driver that has its ranges at hand, such as the
 * bio_vecs of a block request, pays per transfer what it would pay per
 * range.  Each range must follow the rules of dma_iova_link(); in
 * contiguous mode its address is @state->addr plus its offset, as there.
 * A bio_vec may span several pages of physically contiguous memory.
 *
 * All or nothing: when it fails, none of the ranges is linked and the
 * transfer is as it was.
 *
 * Context: Any context; does not sleep (allocates with %GFP_ATOMIC).
 * Return: as for dma_iova_link(), and %-EINVAL also when @nr is 0 or a
 * range is empty; never %-EOPNOTSUPP (a bio_vec has a struct page).
 * When several ranges are at fault, which of their errors is returned is
 * not defined.
 */
int dma_iova_link_bvecs(struct device *dev, struct dma_iova_state *state,
			const struct bio_vec *bv, unsigned int nr,
			size_t offset, enum dma_data_direction dir,
			unsigned long attrs, dma_addr_t *dma_addrs)
{
	size_t size = 0, done;
	u64 bus_off = 0;
	unsigned int i;
	int ret;

	if (!dma_iova_in_use(state) || !valid_dma_direction(dir) || !nr) {
		ret = -EINVAL;
		goto out_error;
	}
	if (dma_iova_direct(dev, state)) {
		ret = dma_iova_link_direct(dev, state, bv, nr, offset, dir,
					   attrs, dma_addrs, &size);
		if (!ret && dma_iova_should_fail(size)) {
			dma_iova_unlink_pieces(dev, state, offset, size, dir,
					       attrs | DMA_ATTR_SKIP_CPU_SYNC);
			ret = -ENOMEM;
		}
		if (ret)
			goto out_error;
		goto out_linked;
	}

	for (i = 0; i < nr; i++) {
		if (!bv[i].bv_len) {
			ret = -EINVAL;
			goto out_error;
		}
		if (check_add_overflow(size, bv[i].bv_len, &size)) {
			ret = -ERANGE;
			goto out_error;
		}
		ret = dma_iova_check_kind(dev, state, bvec_phys(&bv[i]),
					  &bus_off);
		if (ret)
			goto out_error;
	}
	ret = dma_iova_check_range(state, offset, size);
	if (ret)
		goto out_error;
	if (dma_iova_should_fail(size)) {
		ret = -ENOMEM;
		goto out_error;
	}

	if (dma_iova_contiguous(state) && !dma_iova_bus_addr(state)) {
		if (offset < state->linked_end &&
		    iommu_dma_iova_any_linked(dev, state->addr, offset, size)) {
			ret = -EEXIST;
			goto out_error;
		}
		ret = iommu_dma_iova_link_bvecs(dev, state->addr, state->size,
						offset, bv, nr, dir, attrs);
		if (ret < 0)
			goto out_error;
		if (ret)
			state->linked |= DMA_IOVA_BOUNCED;
		state->linked_end = max(state->linked_end, offset + size);
		for (i = 0, done = offset; i < nr; done += bv[i].bv_len, i++) {
			dma_addrs[i] = state->addr + done;
			if (IS_ENABLED(CONFIG_DMA_API_DEBUG))
				debug_dma_iova_link(dev, bvec_phys(&bv[i]),
						    dma_addrs[i], bv[i].bv_len,
						    dir, attrs);
		}
	} else {
		ret = dma_iova_link_pieces(dev, state, bv, nr, offset, dir,
					   attrs, dma_addrs);
		if (ret)
			goto out_error;
	}

out_linked:
	state->linked += size;
	if (trace_dma_iova_link_enabled()) {
		for (i = 0, done = offset; i < nr; done += bv[i].bv_len, i++)
			trace_dma_iova_link(dev, bvec_phys(&bv[i]),
					    dma_addrs[i], done, bv[i].bv_len,
					    dir);
	}
	dma_iova_count(dev, DMA_IOVA_STAT_LINKS, nr);
	dma_iova_count(dev, DMA_IOVA_STAT_LINK_BYTES, size);
	return 0;

out_error:
	dma_iova_count(dev, DMA_IOVA_STAT_LINK_ERRORS, 1);
	return ret;
}
EXPORT_SYMBOL_GPL(dma_iova_link_bvecs);

/**
 * dma_iova_link() - map a physical range at an offset of a transfer
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @phys: physical address of the range
 * @offset: byte offset of the range in the transfer
 * @size: size of the range in bytes
 * @dir: direction of the DMA
 * @attrs: %DMA_ATTR_* flags; %DMA_ATTR_SKIP_CPU_SYNC skips cache
 *	maintenance for a non-coherent device
 * @dma_addr: where to store the DMA address of the range
 *
 * Maps @size bytes at @phys so that the device sees them at byte @offset
 * of the transfer and stores their DMA address in *@dma_addr.  In
 * contiguous mode that is @state->addr + @offset and the mapping is not
 * visible to the device before dma_iova_sync(); in per-piece mode it is
 * the address of a streaming mapping of the range, usable at once.
 *
 * In contiguous mode the IOVA and @phys must sit at the same offset in an
 * IOMMU granule: only the range at offset 0 may start inside a granule
 * and only the range that ends the transfer may end inside one.  The
 * memory belongs to the device from this call until it is unlinked.
 *
 * The range must be memory of the kind dma_iova_alloc() found: host
 * memory in a transfer of host memory, PCI P2PDMA memory that @dev
 * reaches the same way in a P2P transfer.  P2P memory that @dev reaches
 * without the host bridge is not mapped: *@dma_addr is its PCI bus
 * address.
 *
 * A failed link leaves nothing of the range mapped; the ranges linked
 * before stay linked.
 *
 * Context: Any context; does not sleep (allocates with %GFP_ATOMIC).
 * Return:
 * * 0           - the range is linked at *@dma_addr
 * * %-EINVAL     - @state holds no transfer, @size is 0, or @dir is not a
 *   DMA direction (%DMA_NONE)
 * * %-ERANGE     - the range is not inside the transfer
 * * %-EXDEV      - the range breaks the granule rule (contiguous mode): the
 *   layout given to dma_iova_alloc_layout() was not the real one
 * * %-EEXIST     - part of the range is linked already (contiguous mode)
 * * %-ENOMEM     - no memory for page tables, bounce buffers or the log
 *   now: a later try may pass
 * * %-E2BIG      - the range is larger than dma_max_mapping_size() allows
 *   a streaming mapping (per-piece mode): split it
 * * %-EIO        - @dev cannot reach the memory and nothing can bounce it
 *   (per-piece mode): no try will pass
 * * %-EOPNOTSUPP - the range is memory without a struct page, such as MMIO
 * * %-EREMOTEIO  - the range is P2PDMA memory in a transfer of host memory,
 *   host memory in a P2P transfer, P2PDMA memory that @dev reaches
 *   another way than the transfer's or not at all, or P2PDMA memory that
 *   dma-direct would have to bounce
 */
int dma_iova_link(struct device *dev, struct dma_iova_state *state,
		  phys_addr_t phys, size_t offset, size_t size,
		  enum dma_data_direction dir, unsigned long attrs,
		  dma_addr_t *dma_addr)
{
	/* MMIO without a struct page: dma_map_resource() is for that. */
	if (!pfn_valid(PHYS_PFN(phys))) {
		dma_iova_count(dev, DMA_IOVA_STAT_LINK_ERRORS, 1);
		return -EOPNOTSUPP;
	}
	return dma_iova_link_page(dev, state, pfn_to_page(PHYS_PFN(phys)),
				  offset_in_page(phys), offset, size, dir,
				  attrs, dma_addr);
}
EXPORT_SYMBOL_GPL(dma_iova_link);

/**
 * dma_iova_sync() - make linked ranges of a transfer visible to the device
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @offset: byte offset of the first linked byte to make visible
 * @size: number of bytes
 *
 * In contiguous mode issues the one IOTLB flush for new mappings that the
 * IOMMU needs (none on most hardware).  In per-piece mode every range is
 * visible once linked and this does nothing.  Call it once after linking
 * a transfer and before handing the addresses to the device.
 *
 * Context: Any context; does not sleep.
 * Return:
 * * 0       - the range is visible to the device
 * * %-EINVAL - @state holds no transfer, or @size is 0
 * * %-ERANGE - the range is not inside the transfer
 * * %-errno  - the IOMMU driver failed to flush; the range stays linked
 *   and the caller tears the transfer down
 */
int dma_iova_sync(struct device *dev, struct dma_iova_state *state,
		  size_t offset, size_t size)
{
	int ret;

	if (!dma_iova_in_use(state))
		return -EINVAL;
	ret = dma_iova_check_range(state, offset, size);
	if (ret)
		return ret;

	trace_dma_iova_sync(dev, offset, size);
	dma_iova_count(dev, DMA_IOVA_STAT_SYNCS, 1);
	if (!dma_iova_contiguous(state))
		return 0;
	return iommu_dma_iova_sync(dev, state->addr, offset, size);
}
EXPORT_SYMBOL_GPL(dma_iova_sync);

/**
 * dma_iova_need_sync() - tell whether a transfer needs work at each DMA
 * @dev: device of the transfer
 * @state: state of a transfer with its ranges linked
 *
 * A transfer whose mapping a driver keeps across many DMAs, such as a
 * premapped buffer, is only correct if nothing is to be done between the
 * DMAs: no swiotlb bounce buffer to copy to or from, and no CPU cache to
 * write back or invalidate.  This tells whether the mapping of @state
 * needs such work, which dma_iova_link() and dma_iova_unlink() do and a
 * mapping kept linked would skip.  Ranges mapped per piece through the
 * streaming API behind an IOMMU or dma_map_ops, which the API cannot
 * look into, count as needing it where dma_need_sync() says so for
 * their address: always while DMA-API debugging runs.
 *
 * Context: Any context.
 * Return:
 * * %true  - a range went to swiotlb, or @dev is not DMA-coherent
 * * %false - the device reaches the memory itself and sees the CPU's
 *   writes; the mapping may be kept
 */
bool dma_iova_need_sync(struct device *dev,
			const struct dma_iova_state *state)
{
	return !dev_is_dma_coherent(dev) || (state->linked & DMA_IOVA_BOUNCED);
}
EXPORT_SYMBOL_GPL(dma_iova_need_sync);

/**
 * dma_iova_unlink() - unmap a linked range of a transfer
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @offset: byte offset of the range in the transfer
 * @size: size of the range in bytes
 * @dir: direction the range was linked with
 * @attrs: %DMA_ATTR_* flags; %DMA_ATTR_SKIP_CPU_SYNC skips cache
 *	maintenance and copying back from bounce buffers
 *
 * Unmaps every range linked inside [@offset, @offset + @size).  In
 * contiguous mode the IOTLB is invalidated for the range before this
 * returns, in lazy domains too, and the IOVA space stays reserved for
 * new links.  The memory belongs to the CPU again afterwards.
 *
 * Unlinking more than is linked, or in contiguous mode a range that is
 * not mapped, is a bug: it warns once and unmaps nothing.
 *
 * Context: Any context; does not sleep.
 */
void dma_iova_unlink(struct device *dev, struct dma_iova_state *state,
		     size_t offset, size_t size, enum dma_data_direction dir,
		     unsigned long attrs)
{
	if (WARN_ON_ONCE(!dma_iova_in_use(state) ||
			 !dma_iova_range_ok(state, offset, size) ||
			 size > dma_iova_linked(state)))
		return;

	if (dma_iova_contiguous(state)) {
		/*
		 * Without holes, what lies below the furthest link is linked;
		 * else every granule is looked up, so that a range with a hole
		 * is not subtracted from what is linked as if it had none.
		 */
		if ((dma_iova_may_have_holes(state) ||
		     offset + size > state->linked_end) &&
		    WARN_ON_ONCE(!iommu_dma_iova_is_linked(dev, state->addr,
							   state->size, offset,
							   size)))
			return;
		dma_iova_unlink_contiguous(dev, state, offset, size, dir,
					   attrs, false);
		/* Unlinking the last range leaves no hole behind. */
		if (!dma_iova_may_have_holes(state) &&
		    offset + size == state->linked_end)
			state->linked_end = offset;
		state->linked -= size;
		if (!dma_iova_linked(state))
			state->linked_end = 0;
	} else {
		dma_iova_unlink_pieces(dev, state, offset, size, dir, attrs);
		state->linked -= size;
	}
	trace_dma_iova_unlink(dev, offset, size);
	dma_iova_count(dev, DMA_IOVA_STAT_UNLINKS, 1);
}
EXPORT_SYMBOL_GPL(dma_iova_unlink);

/* Release the space of a transfer whose links are all gone. */
static void __dma_iova_free(struct device *dev, struct dma_iova_state *state)
{
	if (dma_iova_contiguous(state) && !(state->linked & DMA_IOVA_IN_RESV))
		iommu_dma_iova_free(dev, state->addr, state->size);
	dma_iova_clear(state);
	dma_iova_count(dev, DMA_IOVA_STAT_FREES, 1);
}

/* Unlink whatever a buggy caller left linked, so that nothing leaks. */
static void dma_iova_unlink_leftovers(struct device *dev,
				      struct dma_iova_state *state)
{
	if (dma_iova_contiguous(state)) {
		if (IS_ENABLED(CONFIG_DMA_API_DEBUG))
			debug_dma_iova_unlink(dev, state->addr, state->size,
					      DMA_NONE);
		iommu_dma_iova_unlink_all(dev, state->addr, state->size,
					  state->linked & DMA_IOVA_BOUNCED);
		state->linked_end = 0;
	} else {
		dma_iova_unlink_pieces(dev, state, 0, state->size, DMA_NONE,
				       DMA_ATTR_SKIP_CPU_SYNC);
	}
	state->linked &= ~DMA_IOVA_LINKED_MASK;
}

/**
 * dma_iova_free() - release the DMA address space of a transfer
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc(), with nothing linked
 *
 * Gives the IOVA range back to the allocator (through the flush queue in
 * a lazy domain) and leaves @state holding nothing, ready for another
 * dma_iova_alloc().  Freeing a transfer with ranges still linked is a bug:
 * it warns once and unlinks them first, so nothing stays mapped.
 * Freeing a state that holds nothing does nothing.
 *
 * Context: Any context; does not sleep.
 */
void dma_iova_free(struct device *dev, struct dma_iova_state *state)
{
	if (!dma_iova_in_use(state))
		return;
	if (WARN_ON_ONCE(dma_iova_linked(state) ||
			 (!dma_iova_contiguous(state) && state->log)))
		dma_iova_unlink_leftovers(dev, state);
	trace_dma_iova_free(dev, state->addr, state->size,
			    dma_use_iova(state));
	__dma_iova_free(dev, state);
}
EXPORT_SYMBOL_GPL(dma_iova_free);

/*
 * Is [0, @mapped_len) of the transfer what is linked?  Links never overlap,
 * so links that reached as far as the bytes they hold cover that range
 * without a gap.  Only a transfer linked out of order or unlinked in part
 * needs its page table looked at, every granule of it: as many bytes as
 * @mapped_len can be linked around a hole.
 */
static bool dma_iova_linked_from_zero(struct device *dev,
				      const struct dma_iova_state *state,
				      size_t mapped_len)
{
	if (mapped_len != dma_iova_linked(state))
		return false;
	if (!dma_iova_contiguous(state) || !mapped_len ||
	    state->linked_end == mapped_len)
		return true;
	return iommu_dma_iova_is_linked(dev, state->addr, state->size, 0,
					mapped_len);
}

/**
 * dma_iova_destroy() - unlink a transfer and release its address space
 * @dev: device of the transfer
 * @state: state set up by dma_iova_alloc()
 * @mapped_len: bytes linked from offset 0, as given to dma_iova_link()
 * @dir: direction the ranges were linked with
 * @attrs: %DMA_ATTR_* flags, as for dma_iova_unlink()
 *
 * Equivalent to dma_iova_unlink() of [0, @mapped_len) followed by
 * dma_iova_free(), with a single IOTLB invalidation: deferred to the flush
 * queue in a lazy domain.  @mapped_len may be 0 (nothing was linked), and
 * is what a failed dma_iova_link() loop had linked before it failed.
 * Leaves @state holding nothing.
 *
 * Context: Any context; does not sleep.
 */
void dma_iova_destroy(struct device *dev, struct dma_iova_state *state,
		      size_t mapped_len, enum dma_data_direction dir,
		      unsigned long attrs)
{
	bool contiguous = dma_iova_contiguous(state);

	if (!dma_iova_in_use(state))
		return;

	trace_dma_iova_destroy(dev, state->addr, mapped_len, contiguous);
	if (WARN_ON_ONCE(!dma_iova_linked_from_zero(dev, state, mapped_len))) {
		/* Not what was linked: unlink what is, so nothing leaks. */
		dma_iova_unlink_leftovers(dev, state);
		mapped_len = 0;
	}
	if (!mapped_len) {
		__dma_iova_free(dev, state);
		return;
	}

	if (contiguous) {
		/*
		 * One invalidation for the unmap, and the range goes with it,
		 * unless it is in reserved space: the next transfer reuses
		 * that at once, so the IOTLB is invalidated before returning.
		 */
		dma_iova_unlink_contiguous(dev, state, 0, mapped_len, dir,
					   attrs,
					   !(state->linked & DMA_IOVA_IN_RESV));
	} else if (state->log) {
		/* Only logged pieces have anything to undo. */
		dma_iova_unlink_pieces(dev, state, 0, mapped_len, dir, attrs);
		/* A piece straddling mapped_len was a bug: unmap it anyway. */
		if (WARN_ON_ONCE(state->log))
			dma_iova_unlink_leftovers(dev, state);
	}
	dma_iova_count(dev, DMA_IOVA_STAT_UNLINKS, 1);
	dma_iova_count(dev, DMA_IOVA_STAT_FREES, 1);
	dma_iova_clear(state);
}
EXPORT_SYMBOL_GPL(dma_iova_destroy);

/**
 * dma_iova_reserve() - keep IOVA space for the transfers to come
 * @dev: device of the transfers
 * @space: zeroed space, or one left by dma_iova_unreserve()
 * @size: size in bytes of the largest transfer the space is for
 *
 * Behind a dma-iommu domain, with %CONFIG_DMA_IOVA, allocates IOVA space
 * for a transfer of up to @size bytes that starts anywhere in an IOMMU
 * granule, and keeps it in @space.  From then on dma_iova_alloc_in() with
 * @space puts a transfer that fits there, without asking the IOVA
 * allocator, and dma_iova_free() and dma_iova_destroy() of that transfer
 * leave the space kept.  A transfer that does not fit, and P2P memory
 * linked at its bus address, are set up as without @space.
 *
 * This is for a slot that carries one transfer after another, such as a
 * block request tag.  Large transfers gain most: the IOVA allocator
 * caches only small ranges, and allocates larger ones under a lock.  The
 * space comes back only with dma_iova_unreserve(), so it counts against
 * the IOVA space below the device's DMA mask for as long as it is kept.
 * A transfer in reserved space is unlinked with an IOTLB invalidation
 * before dma_iova_destroy() returns, because the next transfer may use
 * the same IOVA at once; a lazy (flush queue) domain, which batches
 * invalidations, therefore keeps no space.
 *
 * Context: Any context; does not sleep.
 * Return:
 * * 0           - @space keeps the space
 * * %-EOPNOTSUPP - @dev maps without IOVA space, or in a lazy domain;
 *   transfers are set up as without @space
 * * %-EINVAL     - @size is 0 or too large, or @dev cannot DMA
 * * %-EBUSY      - @space keeps space already
 * * %-ENOMEM     - no IOVA space within the DMA mask
 */
int dma_iova_reserve(struct device *dev, struct dma_iova_space *space,
		     size_t size)
{
	int ret;

	if (WARN_ON_ONCE(dma_iova_reserved(space)))
		return -EBUSY;
	if (!size || WARN_ON_ONCE(!dev->dma_mask))
		return -EINVAL;
	if (!dma_iova_can_be_contiguous(dev))
		return -EOPNOTSUPP;

	ret = dma_iova_reserve_space(dev, space, size);
	if (ret) {
		space->addr = 0;
		space->size = 0;
		return ret;
	}
	debug_dma_iova_reserve(dev, space->addr, space->size);
	dma_iova_count(dev, DMA_IOVA_STAT_RESERVES, 1);
	return 0;
}
EXPORT_SYMBOL_GPL(dma_iova_reserve);

/**
 * dma_iova_unreserve() - give back kept IOVA space
 * @dev: device of the space
 * @space: space of dma_iova_reserve(), with no transfer in it
 *
 * Releases the space dma_iova_reserve() kept in @space and leaves it
 * zeroed.  A transfer still linked there is a bug: it warns once and
 * unmaps everything in the space first, so that no mapping outlives it.
 * A space that keeps nothing is left as it is.
 *
 * Context: Any context; does not sleep.
 */
void dma_iova_unreserve(struct device *dev, struct dma_iova_space *space)
{
	if (!dma_iova_reserved(space))
		return;
	debug_dma_iova_unreserve(dev, space->addr, space->size);
	dma_iova_unreserve_space(dev, space);
	space->addr = 0;
	space->size = 0;
}
EXPORT_SYMBOL_GPL(dma_iova_unreserve);

static int __init dma_iova_log_init(void)
{
	mempool_t *pool;

	pool = mempool_create_kmalloc_pool(DMA_IOVA_LOG_RESERVE,
					   sizeof(struct dma_iova_log));
	if (!pool)
		return -ENOMEM;
	WRITE_ONCE(dma_iova_log_pool, pool);
	return 0;
}

/* Before drivers probe and map: they are device_initcalls at the earliest. */
core_initcall(dma_iova_log_init);

/* debugfs ----------------------------------------------------------- */

#ifdef CONFIG_DEBUG_FS
static int dma_iova_stats_show(struct seq_file *m, void *unused)
{
	struct dma_iova_dev_stats *ds;
	unsigned long key;
	int i;

	seq_puts(m, "device");
	for (i = 0; i < DMA_IOVA_NR_STATS; i++)
		seq_printf(m, " %s", dma_iova_stat_names[i]);
	seq_putc(m, '\n');
	rcu_read_lock();
	xa_for_each(&dma_iova_stats_xa, key, ds) {
		seq_puts(m, ds->name);
		for (i = 0; i < DMA_IOVA_NR_STATS; i++)
			seq_printf(m, " %llu", dma_iova_stat_sum(ds, i));
		seq_putc(m, '\n');
	}
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dma_iova_stats);

static int dma_iova_enable_get(void *data, u64 *val)
{
	*val = static_key_enabled(&dma_iova_stats_enabled);
	return 0;
}

static int dma_iova_enable_set(void *data, u64 val)
{
	if (val)
		static_branch_enable(&dma_iova_stats_enabled);
	else
		static_branch_disable(&dma_iova_stats_enabled);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dma_iova_enable_fops, dma_iova_enable_get,
			 dma_iova_enable_set, "%llu\n");

static int __init dma_iova_init(void)
{
	struct dentry *dir = debugfs_create_dir("dma_iova", NULL);

	debugfs_create_file("stats", 0400, dir, NULL, &dma_iova_stats_fops);
	debugfs_create_file("enable", 0600, dir, NULL, &dma_iova_enable_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail_dma_iova", NULL, &fail_dma_iova);
#endif
	if (dma_iova_stats_param)
		static_branch_enable(&dma_iova_stats_enabled);
	return 0;
}

/* After debugfs itself, which is a core_initcall too. */
core_initcall_sync(dma_iova_init);
#endif /* CONFIG_DEBUG_FS */
