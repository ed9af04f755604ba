// SPDX-License-Identifier: GPL-2.0

//! The module's tracepoints (`glue/rdh_trace.h`, defined by `glue/trace.c`):
//! `rust_dma_heap:heap_alloc` for every allocation, with its heap, length,
//! result (0 or the negative errno) and time taken, and
//! `rust_dma_heap:heap_free` for every buffer released, with its heap and
//! length. Usable from ftrace (`events/rust_dma_heap/`) and `perf`.

use crate::compat::ffi;
use kernel::prelude::*;

/// When an allocation started, for [`alloc`]'s duration: read only while
/// the tracepoint is on, so that an untraced allocation never reads the
/// clock.
pub(crate) struct Start(Option<i64>);

impl Start {
    pub(crate) fn now() -> Self {
        // SAFETY: Reads a static key; callable in any context.
        let on = unsafe { ffi::rdh_trace_alloc_enabled() };
        Self(on.then(clock))
    }
}

fn clock() -> i64 {
    // SAFETY: Reads the monotonic clock; callable in process context.
    unsafe { kernel::bindings::ktime_get() }
}

/// Emits `heap_alloc`: `len` bytes asked of `heap` since `start`, ending in
/// `result`. Nothing, if the tracepoint was off at `start`.
pub(crate) fn alloc<T>(heap: &CStr, len: usize, result: &Result<T>, start: Start) {
    let Some(start) = start.0 else {
        return;
    };
    let ns = u64::try_from(clock() - start).unwrap_or(0);
    let err = result.as_ref().err().map_or(0, |e| e.to_errno());
    // SAFETY: `heap` is a NUL-terminated string, only read during the call.
    unsafe { ffi::rdh_trace_alloc(heap.as_char_ptr().cast(), len, err, ns) };
}

/// Emits `heap_free`: a buffer of `len` bytes of `heap` was released.
pub(crate) fn free(heap: &CStr, len: usize) {
    // SAFETY: As in `alloc`.
    unsafe { ffi::rdh_trace_free(heap.as_char_ptr().cast(), len) };
}
