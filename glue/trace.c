// SPDX-License-Identifier: GPL-2.0
/*
 * The module's tracepoints (rdh_trace.h): defined here, and emitted through
 * two functions, since trace_*() are inline (stats/trace.rs calls them).
 */
#include <linux/types.h>

#include "glue.h"

/*
 * <trace/define_trace.h> includes rdh_trace.h a second time, by name: Kbuild
 * puts this directory on this file's include path.
 */
#define CREATE_TRACE_POINTS
#include "rdh_trace.h"

/**
 * rdh_trace_alloc_enabled() - Whether the heap_alloc tracepoint is on.
 *
 * Return: true while someone traces it.
 */
bool rdh_trace_alloc_enabled(void)
{
	return trace_heap_alloc_enabled();
}

/**
 * rdh_trace_alloc() - Emit the heap_alloc tracepoint.
 * @heap: the heap's name.
 * @len: the length asked for, in bytes.
 * @err: 0, or the allocation's negative error.
 * @ns: the time it took, in nanoseconds.
 */
void rdh_trace_alloc(const char *heap, size_t len, int err, u64 ns)
{
	trace_heap_alloc(heap, len, err, ns);
}

/**
 * rdh_trace_free() - Emit the heap_free tracepoint.
 * @heap: the heap's name.
 * @len: the buffer's length in bytes.
 */
void rdh_trace_free(const char *heap, size_t len)
{
	trace_heap_free(heap, len);
}
