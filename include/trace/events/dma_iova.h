/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dma_iova

#if !defined(_TRACE_DMA_IOVA_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_DMA_IOVA_H

#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(DMA_BIDIRECTIONAL);
TRACE_DEFINE_ENUM(DMA_TO_DEVICE);
TRACE_DEFINE_ENUM(DMA_FROM_DEVICE);
TRACE_DEFINE_ENUM(DMA_NONE);

#define dma_iova_show_dir(dir)					\
	__print_symbolic(dir,					\
		{ DMA_BIDIRECTIONAL, "BIDIRECTIONAL" },		\
		{ DMA_TO_DEVICE, "TO_DEVICE" },			\
		{ DMA_FROM_DEVICE, "FROM_DEVICE" },		\
		{ DMA_NONE, "NONE" })

/* A transfer as a whole: alloc, free and destroy. */
DECLARE_EVENT_CLASS(dma_iova_transfer,
		    TP_PROTO(struct device *dev, dma_addr_t addr, size_t size,
			     bool contiguous),
		    TP_ARGS(dev, addr, size, contiguous),
		    TP_STRUCT__entry(__string(device, dev_name(dev))
				     __field(u64, addr)
				     __field(size_t, size)
				     __field(bool, contiguous)),
		    TP_fast_assign(__assign_str(device);
				   __entry->addr = addr;
				   __entry->size = size;
				   __entry->contiguous = contiguous;),
		    TP_printk("%s addr=%llx size=%zu %s", __get_str(device),
			      __entry->addr, __entry->size,
			      __entry->contiguous ? "contiguous" : "per-piece")
);

DEFINE_EVENT(dma_iova_transfer, dma_iova_alloc,
	     TP_PROTO(struct device *dev, dma_addr_t addr, size_t size,
		      bool contiguous),
	     TP_ARGS(dev, addr, size, contiguous));

DEFINE_EVENT(dma_iova_transfer, dma_iova_free,
	     TP_PROTO(struct device *dev, dma_addr_t addr, size_t size,
		      bool contiguous),
	     TP_ARGS(dev, addr, size, contiguous));

DEFINE_EVENT(dma_iova_transfer, dma_iova_destroy,
	     TP_PROTO(struct device *dev, dma_addr_t addr, size_t size,
		      bool contiguous),
	     TP_ARGS(dev, addr, size, contiguous));

TRACE_EVENT(dma_iova_link,
	    TP_PROTO(struct device *dev, phys_addr_t phys, dma_addr_t dma_addr,
		     size_t offset, size_t size, enum dma_data_direction dir),
	    TP_ARGS(dev, phys, dma_addr, offset, size, dir),
	    TP_STRUCT__entry(__string(device, dev_name(dev))
			     __field(u64, phys)
			     __field(u64, dma_addr)
			     __field(size_t, offset)
			     __field(size_t, size)
			     __field(enum dma_data_direction, dir)),
	    TP_fast_assign(__assign_str(device);
			   __entry->phys = phys;
			   __entry->dma_addr = dma_addr;
			   __entry->offset = offset;
			   __entry->size = size;
			   __entry->dir = dir;),
	    TP_printk("%s offset=%zu size=%zu dma_addr=%llx phys=%llx dir=%s",
		      __get_str(device), __entry->offset, __entry->size,
		      __entry->dma_addr, __entry->phys,
		      dma_iova_show_dir(__entry->dir))
);

/* A range of a transfer: sync and unlink. */
DECLARE_EVENT_CLASS(dma_iova_range,
		    TP_PROTO(struct device *dev, size_t offset, size_t size),
		    TP_ARGS(dev, offset, size),
		    TP_STRUCT__entry(__string(device, dev_name(dev))
				     __field(size_t, offset)
				     __field(size_t, size)),
		    TP_fast_assign(__assign_str(device);
				   __entry->offset = offset;
				   __entry->size = size;),
		    TP_printk("%s offset=%zu size=%zu", __get_str(device),
			      __entry->offset, __entry->size)
);

DEFINE_EVENT(dma_iova_range, dma_iova_sync,
	     TP_PROTO(struct device *dev, size_t offset, size_t size),
	     TP_ARGS(dev, offset, size));

DEFINE_EVENT(dma_iova_range, dma_iova_unlink,
	     TP_PROTO(struct device *dev, size_t offset, size_t size),
	     TP_ARGS(dev, offset, size));

#endif /* _TRACE_DMA_IOVA_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
