// SPDX-License-Identifier: GPL-2.0

//! The system heap: buffers of any pages from the buddy allocator.
//!
//! Like upstream's system heap, a buffer is built from the largest chunks
//! the allocator can give without effort (1 MiB, then 64 KiB), falling back
//! to single pages (`memory/chunks.rs`). Pages come zeroed, so no buffer
//! shows a previous owner's data.
//!
//! Unlike upstream, a released buffer's chunks are kept, zeroed off the
//! allocation path, in a pool per order, and the next buffers take them
//! before asking the buddy allocator (`memory/page_pool.rs` says how:
//! a limit, a shrinker, and pages that someone else still holds never
//! recycled).
//!
//! Unlike upstream, running out of memory fails the allocation with
//! `ENOMEM` instead of calling the OOM killer: the buffer would be charged
//! to no process, so the killer would pick an innocent one.
//!
//! `system-dma32` (`system_dma32=1`) is the same heap on the memory below
//! 4 GiB, with pools of its own: for devices with a 32-bit DMA mask and no
//! IOMMU, which would otherwise see their buffers through bounce buffers
//! (a copy on every sync) or not at all. Rockchip's and NXP's vendor kernels
//! carry a heap of that name.
//!
//! With `mem_accounting=1` (upstream's parameter of that name, 7.0), the
//! pages are charged to the allocating task's memory cgroup until they are
//! freed (with `charge_pid_fd`, to another process's: `frontend/ioctl.rs`),
//! and an allocation past the cgroup's limit fails with `ENOMEM`. The pools
//! are bypassed then: a pooled page is charged to nobody, and a charged one
//! would keep its charge while pooled.

use super::prelude::*;

/// Chunk orders, largest first: 1 MiB, 64 KiB and 4 KiB with 4 KiB pages.
pub(super) const ORDERS: [u32; 3] = [8, 4, 0];

/// A system heap on the pages of `zone`, whose chunks alone its `pools`
/// keep.
pub(crate) struct SystemHeap {
    name: &'static CStr,
    zone: Zone,
    pools: PagePools,
}

impl SystemHeap {
    /// The heap `name` on the pages of `zone`, with pools of its own:
    /// `system` on any page, `system-dma32` on those below 4 GiB.
    pub(crate) fn new(name: &'static CStr, zone: Zone) -> Result<Self> {
        let pools = PagePools::new(name.to_str().map_err(|_| EINVAL)?, &ORDERS)?;
        Ok(Self { name, zone, pools })
    }
}

impl Heap for SystemHeap {
    fn name(&self) -> &'static CStr {
        self.name
    }

    const CHARGES_MEMCG: bool = true;

    fn allocate(&self, len: usize, memcg: Memcg) -> Result<PooledPages> {
        alloc_pooled(&self.pools, len, &ORDERS, memcg, self.zone)
    }

    fn pool_bytes(&self) -> Option<usize> {
        Some(self.pools.pooled_bytes())
    }
}

/// CPU-access sync is the [`Exporter`] default (every mapped table and the
/// kernel mapping). `mmap` takes shared mappings of any size and private
/// ones of one page, as upstream does, but maps the pages of a shared one
/// as ordinary pages rather than as a `VM_PFNMAP` range, so that `O_DIRECT`
/// reads and writes through it work (upstream's fail with `EFAULT`).
impl Exporter for SystemHeap {
    type Backing = PooledPages;

    fn mmap(&self, request: MmapRequest<'_, PooledPages>) -> Result {
        request.map_pages()
    }
}
