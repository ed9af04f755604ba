// SPDX-License-Identifier: GPL-2.0

//! The system heap: buffers of any pages from the buddy allocator.
//!
//! Like upstream's system heap, a buffer is built from the largest chunks
//! the allocator can give without effort (1 MiB, then 64 KiB), falling back
//! to single pages, for which the allocator reclaims and swaps as it must.
//! Unlike upstream, when even that cannot find a page the allocation fails
//! with `ENOMEM` instead of calling the OOM killer: the buffer is charged to
//! no process, so the killer could only pick an innocent one. Large chunks
//! make for short scatter-gather tables and fewer IOMMU/TLB entries. Pages
//! come zeroed, so no buffer shows a previous owner's data.

use crate::dma_buf::{Backing, BufferState, DmaBuf, Exporter};
use crate::heap::{FdFlags, Heap};
use crate::page::{fatal_signal_pending, BuddyPages, Effort, PageRun, PAGE_SIZE};
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Chunk orders, largest first: 1 MiB, 64 KiB and 4 KiB with 4 KiB pages.
const ORDERS: [u32; 3] = [8, 4, 0];

/// The system heap, ready to register.
pub(crate) fn heap() -> Result<Arc<dyn Heap>> {
    Ok(Arc::new(SystemHeap, GFP_KERNEL)?)
}

struct SystemHeap;

impl Heap for SystemHeap {
    fn name(&self) -> &'static CStr {
        c_str!("system")
    }

    fn allocate(&self, len: usize, flags: FdFlags) -> Result<DmaBuf> {
        let pages = Arc::new(SystemPages::alloc(len)?, GFP_KERNEL)?;
        DmaBuf::export(self.name(), flags, pages, SystemBuffer::new())
    }
}

/// A system-heap buffer's pages: chunks of decreasing order.
struct SystemPages {
    chunks: KVVec<BuddyPages>,
}

impl SystemPages {
    /// Allocates `len` bytes (a multiple of the page size), largest chunks
    /// first. Stops with `EINTR` if the caller is killed meanwhile; on any
    /// failure every chunk already allocated is freed.
    fn alloc(len: usize) -> Result<Self> {
        let mut chunks = KVVec::new();
        let mut remaining = len;
        let mut max_order = ORDERS[0];
        while remaining > 0 {
            if fatal_signal_pending() {
                return Err(EINTR);
            }
            let chunk = Self::alloc_largest(remaining, max_order)?;
            remaining -= chunk.run().bytes();
            // Once an order has failed, larger ones will not succeed now.
            max_order = chunk.order();
            chunks.push(chunk, GFP_KERNEL)?;
        }
        Ok(Self { chunks })
    }

    /// The largest chunk, of at most `max_order`, that fits in `remaining`.
    fn alloc_largest(remaining: usize, max_order: u32) -> Result<BuddyPages> {
        for order in ORDERS {
            if order > max_order || PAGE_SIZE << order > remaining {
                continue;
            }
            let effort = if order > 0 {
                Effort::Opportunistic
            } else {
                Effort::Normal
            };
            if let Ok(chunk) = BuddyPages::alloc_zeroed(order, effort) {
                return Ok(chunk);
            }
        }
        Err(ENOMEM)
    }
}

impl Backing for SystemPages {
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.chunks.iter().map(BuddyPages::run)
    }
}

/// A system-heap buffer.
///
/// Every dma-buf operation is the [`Exporter`] default: per-device tables,
/// CPU-access sync of each mapped table and of the kernel mapping, a shared
/// refcounted `vmap`, and `mmap` of the whole buffer (private mappings of one
/// page only, as upstream).
#[pin_data]
struct SystemBuffer {
    #[pin]
    state: BufferState<SystemPages>,
}

impl SystemBuffer {
    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            state <- BufferState::new(),
        }? Error)
    }
}

impl Exporter for SystemBuffer {
    type Backing = SystemPages;

    fn state(&self) -> &BufferState<SystemPages> {
        &self.state
    }
}
