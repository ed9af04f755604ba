// SPDX-License-Identifier: GPL-2.0

//! The interface between the heap core and a heap.

use crate::dma_buf::DmaBuf;
use kernel::prelude::*;

/// The flags a heap receives for a new buffer's file: `O_ACCMODE` and
/// `O_CLOEXEC` bits only (the ioctl has rejected any other).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FdFlags(u32);

impl FdFlags {
    /// Flags the ioctl accepts, as upstream's `DMA_HEAP_VALID_FD_FLAGS`.
    pub(crate) const VALID: u32 = kernel::bindings::O_CLOEXEC | kernel::bindings::O_ACCMODE;

    /// Returns the flags if they hold only valid bits.
    pub(crate) fn new(raw: u32) -> Option<Self> {
        (raw & !Self::VALID == 0).then_some(Self(raw))
    }

    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

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
