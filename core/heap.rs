// SPDX-License-Identifier: GPL-2.0

//! The interface between the heap core and a heap.

use crate::accounting::{Charge, Figure, Figures, HeapStats};
use crate::dma_buf::{DmaBuf, FdFlags};
use crate::live::LiveBuffers;
use crate::trace;
use kernel::prelude::*;
use kernel::sync::Arc;

/// A source of dma-bufs, exposed as one or more `/dev/dma_heap/<name>` nodes.
pub(crate) trait Heap: Send + Sync {
    /// The heap's primary name: its first device node and the exporter name
    /// of every buffer it allocates.
    fn name(&self) -> &'static CStr;

    /// Allocates a buffer of `len` bytes.
    ///
    /// The core has already validated the request: `len` is a non-zero
    /// multiple of the page size and no larger than the machine's RAM, and
    /// `charge` (`len` bytes on this heap's figures, within its limit) is
    /// to be handed to [`DmaBuf::export`], which keeps it as long as the
    /// buffer lives. Fails with `ENOMEM` when memory runs out and `EINTR`
    /// when the caller is killed; on failure nothing stays allocated.
    fn allocate(&self, len: usize, flags: FdFlags, charge: Charge) -> Result<DmaBuf>;

    /// A figure of this kind of heap, for its sysfs files: `None` if the
    /// heap has no such figure (its file is then not shown).
    fn figure(&self, _which: Figure) -> Option<u64> {
        None
    }
}

/// A heap's figures and limit, for all its names; its buffers join `live`.
pub(crate) fn stats(heap: &Arc<dyn Heap>, live: &Arc<LiveBuffers>) -> Result<Arc<HeapStats>> {
    let figures: Arc<dyn Figures> = Arc::new(HeapFigures(heap.clone()), GFP_KERNEL)?;
    HeapStats::new(figures, live.clone())
}

/// A heap as the source of its own figures.
struct HeapFigures(Arc<dyn Heap>);

impl Figures for HeapFigures {
    fn figure(&self, which: Figure) -> Option<u64> {
        self.0.figure(which)
    }
}

/// Allocates `len` bytes from `heap` (a request the caller has validated)
/// within the heap's limit, counting the failure if it fails.
pub(crate) fn allocate(
    heap: &dyn Heap,
    stats: &Arc<HeapStats>,
    len: usize,
    flags: FdFlags,
) -> Result<DmaBuf> {
    let start = trace::Start::now();
    let result = stats.charge(len).and_then(|charge| {
        heap.allocate(len, flags, charge)
            .inspect_err(|e| stats.count_error(*e))
    });
    trace::alloc(heap.name(), len, &result, start);
    result
}
