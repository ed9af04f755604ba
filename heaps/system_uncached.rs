// SPDX-License-Identifier: GPL-2.0
//! The system-uncached heap: system-heap pages that the CPU maps
//! write-combined, for buffers it writes but does not read back (video
//! decoder output, textures it uploads).
//!
//! The name Android's libdmabufheap and Codec2 open. Pages are allocated
//! as for the system heap, largest chunks first, and the core makes them
//! write-combined once (`memory/uncached.rs`: written back from the cache after
//! zeroing, and on x86 the linear map switched too). Since no CPU mapping
//! is cached, `DMA_BUF_IOCTL_SYNC` has nothing to maintain and does
//! nothing; device mappings are made as for every buffer.
//!
//! A released buffer's chunks go to the heap's own pools still
//! write-combined, and the next buffers take them first, so that a steady
//! state changes no memory type (on x86 a change is a TLB flush on every
//! CPU); only the rest of a buffer is new pages. A device behind bounce
//! buffers (swiotlb) sees nothing the CPU wrote and the CPU nothing it
//! wrote, since the copies are made by the syncs this heap skips: such a
//! device must be given system-heap buffers, as with Android's heap of this
//! name. With `mem_accounting=1` the pages are charged to the allocating
//! task's memory cgroup as the system heap's, and the pools are bypassed.

use super::{
    prelude::*,
    system::ORDERS, //
};

/// The system-uncached heap, ready to register.
pub(crate) fn heap() -> Result<SystemUncachedHeap> {
    let cache = Arc::new(CacheDevice::new()?, GFP_KERNEL)?;
    let pools = PagePools::new("system-uncached", &ORDERS)?;
    Ok(SystemUncachedHeap { cache, pools })
}

pub(crate) struct SystemUncachedHeap {
    cache: Arc<CacheDevice>,
    pools: PagePools<WcChunk>,
}

impl Heap for SystemUncachedHeap {
    fn name(&self) -> &'static CStr {
        c_str!("system-uncached")
    }

    const CHARGES_MEMCG: bool = true;

    fn allocate(&self, len: usize, memcg: Memcg) -> Result<WriteCombined> {
        alloc_write_combined(&self.pools, &self.cache, len, &ORDERS, memcg)
    }

    fn pool_bytes(&self) -> Option<usize> {
        Some(self.pools.pooled_bytes())
    }
}

/// Mapped write-combined, shared only (as CMA buffers), as `VM_PFNMAP`
/// ranges (no pin reaches the pages: `memory/uncached.rs`), and with
/// nothing to do for CPU access.
impl Exporter for SystemUncachedHeap {
    type Backing = WriteCombined;

    fn mmap(&self, request: MmapRequest<'_, WriteCombined>) -> Result {
        // (A private mapping is the core's to refuse: write-combined.)
        request.map()
    }

    fn begin_cpu_access(&self, _cpu: CpuAccess<'_, WriteCombined>, _dir: DataDirection) -> Result {
        Ok(())
    }

    fn end_cpu_access(&self, _cpu: CpuAccess<'_, WriteCombined>, _dir: DataDirection) -> Result {
        Ok(())
    }
}
