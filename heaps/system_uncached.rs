// SPDX-License-Identifier: GPL-2.0
//! The system-uncached heap: system-heap pages that the CPU maps
//! write-combined, for buffers it writes but does not read back (video
//! decoder output, textures it uploads).
//!
//! The name Android's libdmabufheap and Codec2 open. Pages are allocated
//! as for the system heap, largest chunks first, and the core makes them
//! write-combined once (`uncached.rs`: written back from the cache after
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

use super::system::{alloc_chunks, memcg, ORDERS};
use crate::exporter::dma_buf::{CpuAccess, DataDirection, DmaBuf, Exporter, FdFlags, MmapRequest};
use crate::heap::Heap;
use crate::memory::page::{kvvec_may_fail, Memcg, PAGE_SIZE};
use crate::memory::page_pool::PagePools;
use crate::memory::uncached::{CacheDevice, WcChunk, WriteCombined};
use crate::stats::accounting::{Charge, Figure};
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The system-uncached heap, ready to register.
pub(crate) fn heap() -> Result<Arc<dyn Heap>> {
    let cache = Arc::new(CacheDevice::new()?, GFP_KERNEL)?;
    let pools = PagePools::new("system-uncached", &ORDERS)?;
    Ok(Arc::new(SystemUncachedHeap { cache, pools }, GFP_KERNEL)?)
}

struct SystemUncachedHeap {
    cache: Arc<CacheDevice>,
    pools: PagePools<WcChunk>,
}

impl Heap for SystemUncachedHeap {
    fn name(&self) -> &'static CStr {
        c_str!("system-uncached")
    }

    fn figure(&self, which: Figure) -> Option<u64> {
        match which {
            Figure::PoolBytes => Some(self.pools.pooled_bytes() as u64),
            Figure::RegionBytes => None,
        }
    }

    fn allocate(&self, len: usize, flags: FdFlags, charge: Charge) -> Result<DmaBuf> {
        // Pooled chunks first (write-combined already, and charged to
        // nobody: with cgroup charging on, the pools are bypassed), then
        // new ones for the rest, switched together.
        let memcg = memcg();
        let pooled = memcg == Memcg::Uncharged;
        let (mut chunks, taken) = if pooled {
            self.pools.take_up_to(len, &ORDERS)?
        } else {
            (kvvec_may_fail(len / PAGE_SIZE)?, 0)
        };
        if taken < len {
            let fresh = alloc_chunks(None, len - taken, memcg)
                .and_then(|fresh| WcChunk::from_zeroed(fresh, &self.cache));
            match fresh {
                Ok(fresh) => {
                    for chunk in fresh {
                        // (Within the room `take_up_to` made.)
                        chunks.push(chunk, GFP_KERNEL)?;
                    }
                }
                Err(e) => {
                    // The pooled chunks taken go back as they are.
                    drop(self.pools.backing(chunks, pooled));
                    return Err(e);
                }
            }
        }
        DmaBuf::export(
            self.name(),
            flags,
            self.pools.backing(chunks, pooled)?,
            UncachedBuffer,
            charge,
        )
    }
}

/// A system-uncached buffer: mapped write-combined, shared only (as CMA
/// buffers), as `VM_PFNMAP` ranges (no pin reaches the pages: the core's
/// `uncached.rs`), and with nothing to do for CPU access.
struct UncachedBuffer;

impl Exporter for UncachedBuffer {
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
