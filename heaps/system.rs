// SPDX-License-Identifier: GPL-2.0

//! The system heap: buffers of any pages from the buddy allocator.
//!
//! Like upstream's system heap, a buffer is built from the largest chunks
//! the allocator can give without effort (1 MiB, then 64 KiB), falling back
//! to single pages, which the allocator may reclaim and swap for. Large
//! chunks make for short scatter-gather tables and fewer IOMMU/TLB entries.
//! Pages come zeroed, so no buffer shows a previous owner's data.
//!
//! Unlike upstream, a released buffer's chunks are kept, zeroed off the
//! allocation path, in a pool per order, and the next buffers take them
//! before asking the buddy allocator (`page_pool.rs` in the core says how:
//! a limit, a shrinker, and pages that someone else still holds never
//! recycled).
//!
//! Unlike upstream, running out of memory fails the allocation with
//! `ENOMEM` instead of calling the OOM killer: the buffer would be charged
//! to no process, so the killer would pick an innocent one.
//!
//! With `mem_accounting=1` (upstream's parameter of that name, 7.0), the
//! pages are charged to the allocating task's memory cgroup until they are
//! freed, and an allocation past the cgroup's limit fails with `ENOMEM`.
//! The pools are bypassed then: a pooled page is charged to nobody, and a
//! charged one would keep its charge while pooled.

use crate::exporter::dma_buf::{DmaBuf, Exporter, FdFlags, MmapRequest};
use crate::frontend::params;
use crate::heap::Heap;
use crate::memory::page::{
    cond_resched, fatal_signal_pending, kvvec_may_fail, BuddyPages, Effort, Memcg, PAGE_SIZE,
};
use crate::memory::page_pool::{PagePools, PooledPages};
use crate::stats::accounting::{Charge, Figure};
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Chunk orders, largest first: 1 MiB, 64 KiB and 4 KiB with 4 KiB pages.
pub(super) const ORDERS: [u32; 3] = [8, 4, 0];

/// The system heap, ready to register.
pub(crate) fn heap() -> Result<Arc<dyn Heap>> {
    let pools = PagePools::new("system", &ORDERS)?;
    Ok(Arc::new(SystemHeap { pools }, GFP_KERNEL)?)
}

struct SystemHeap {
    pools: PagePools,
}

impl Heap for SystemHeap {
    fn name(&self) -> &'static CStr {
        c_str!("system")
    }

    fn figure(&self, which: Figure) -> Option<u64> {
        match which {
            Figure::PoolBytes => Some(self.pools.pooled_bytes() as u64),
            Figure::RegionBytes => None,
        }
    }

    fn allocate(&self, len: usize, flags: FdFlags, charge: Charge) -> Result<DmaBuf> {
        // Pooled pages are charged to nobody, and charged ones must not be
        // pooled: with cgroup charging on, the pools are bypassed.
        let memcg = memcg();
        let chunks = alloc_chunks(Some(&self.pools), len, memcg)?;
        DmaBuf::export(
            self.name(),
            flags,
            self.pools.backing(chunks, memcg == Memcg::Uncharged)?,
            SystemBuffer,
            charge,
        )
    }
}

/// Whom the system heaps charge their pages to: the allocating task's
/// memory cgroup with `mem_accounting=1` (or, hosted, the heap core's
/// `dma_heap.mem_accounting=1`), else nobody.
pub(super) fn memcg() -> Memcg {
    if params::mem_accounting() {
        Memcg::Caller
    } else {
        Memcg::Uncharged
    }
}

/// Allocates `len` bytes (a multiple of the page size), largest chunks
/// first, charged as `memcg` says, each from its pool in `pools` if there
/// is one (and the chunks are charged to nobody). Stops with `EINTR` if the
/// caller is killed meanwhile; on any failure every chunk already allocated
/// is freed.
///
/// The list of chunks gets room for the worst case (every chunk a single
/// page) before any page is taken, and without calling the OOM killer:
/// growing it later, with memory nearly all ours, could only be done with
/// `GFP_KERNEL`, which may call it. It costs 16 bytes per page of the
/// buffer.
pub(super) fn alloc_chunks(
    pools: Option<&PagePools>,
    len: usize,
    memcg: Memcg,
) -> Result<KVVec<BuddyPages>> {
    let mut chunks = kvvec_may_fail(len / PAGE_SIZE)?;
    let mut remaining = len;
    let mut max_order = ORDERS[0];
    while remaining > 0 {
        // A chunk is up to 1 MiB zeroed: let others run between chunks.
        cond_resched();
        if fatal_signal_pending() {
            return Err(EINTR);
        }
        let chunk = alloc_largest(pools, remaining, max_order, memcg)?;
        remaining -= chunk.run().bytes();
        // Once an order has failed, larger ones will not succeed now.
        max_order = chunk.order();
        chunks.push(chunk, GFP_KERNEL)?;
    }
    Ok(chunks)
}

/// The largest chunk, of at most `max_order`, that fits in `remaining`: at
/// each order, a pooled one if there is one (and the chunk is to be charged
/// to nobody), else a new one.
fn alloc_largest(
    pools: Option<&PagePools>,
    remaining: usize,
    max_order: u32,
    memcg: Memcg,
) -> Result<BuddyPages> {
    for order in ORDERS {
        if order > max_order || PAGE_SIZE << order > remaining {
            continue;
        }
        if let (Some(pools), Memcg::Uncharged) = (pools, memcg) {
            if let Some(chunk) = pools.take(order) {
                return Ok(chunk);
            }
        }
        let effort = if order > 0 {
            Effort::Opportunistic
        } else {
            Effort::MayFail
        };
        if let Ok(chunk) = BuddyPages::alloc_zeroed(order, effort, memcg) {
            return Ok(chunk);
        }
    }
    Err(ENOMEM)
}

/// A system-heap buffer: CPU-access sync is the [`Exporter`] default (every
/// mapped table and the kernel mapping). `mmap` takes shared mappings of any
/// size and private ones of one page, as upstream does, but maps the pages
/// of a shared one as ordinary pages rather than as a `VM_PFNMAP` range, so
/// that `O_DIRECT` reads and writes through it work (upstream's fail with
/// `EFAULT`).
struct SystemBuffer;

impl Exporter for SystemBuffer {
    type Backing = PooledPages;

    fn mmap(&self, request: MmapRequest<'_, PooledPages>) -> Result {
        request.map_pages()
    }
}
