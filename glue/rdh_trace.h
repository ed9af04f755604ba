/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust_dma_heap's tracepoints: one per allocation (heap, length, result,
 * time taken) and one per buffer released (heap, length). Emitted through
 * rdh_trace_alloc() and rdh_trace_free() in trace.c, for stats/trace.rs.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rust_dma_heap

#if !defined(RDH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define RDH_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(heap_alloc,
	TP_PROTO(const char *heap, size_t len, int err, u64 ns),
	TP_ARGS(heap, len, err, ns),
	TP_STRUCT__entry(
		__string(heap, heap)
		__field(size_t, len)
		__field(int, err)
		__field(u64, ns)
	),
	TP_fast_assign(
		__assign_str(heap);
		__entry->len = len;
		__entry->err = err;
		__entry->ns = ns;
	),
	TP_printk("heap=%s len=%zu err=%d ns=%llu", __get_str(heap), __entry->len,
		  __entry->err, __entry->ns)
);

TRACE_EVENT(heap_free,
	TP_PROTO(const char *heap, size_t len),
	TP_ARGS(heap, len),
	TP_STRUCT__entry(
		__string(heap, heap)
		__field(size_t, len)
	),
	TP_fast_assign(
		__assign_str(heap);
		__entry->len = len;
	),
	TP_printk("heap=%s len=%zu", __get_str(heap), __entry->len)
);

#endif /* RDH_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rdh_trace
#include <trace/define_trace.h>
