// SPDX-License-Identifier: GPL-2.0

//! The interface between the heap core and a heap.

use crate::dma_buf::{DmaBuf, FdFlags};
use kernel::prelude::*;

/// A source of dma-bufs, exposed as one or more `/dev/dma_heap/<name>` nodes.
pub(crate) trait Heap: Send + Sync {
    /// The heap's primary name: its first device node and the exporter name
    /// of every buffer it allocates.
    fn name(&self) -> &'static CStr;

    /// Allocates a buffer of `len` bytes.
    ///
    /// The core has already validated the request: `len` is a non-zero
    /// multiple of the page size and no larger than the machine's RAM.
    /// Fails with `ENOMEM` when memory runs out and `EINTR` when the caller
    /// is killed; on failure nothing stays allocated.
    fn allocate(&self, len: usize, flags: FdFlags) -> Result<DmaBuf>;
}
