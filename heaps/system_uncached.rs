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
//! Limits: no page pools (a pooled page would have to stay write-combined,
//! and the system heap's pools hold cached ones), so every allocation pays
//! for new pages and, on x86, for switching their memory type. A device
//! behind bounce buffers (swiotlb) sees nothing the CPU wrote and the CPU
//! nothing it wrote, since the copies are made by the syncs this heap
//! skips: such a device must be given system-heap buffers, as with
//! Android's heap of this name. With `mem_accounting=1` the pages are
//! charged to the allocating task's memory cgroup as the system heap's.

use super::system::{alloc_chunks, memcg};
use crate::accounting::{Charge, Figure};
use crate::dma_buf::{CpuAccess, DataDirection, DmaBuf, Exporter, FdFlags, MmapRequest};
use crate::heap::Heap;
use crate::uncached::{CacheDevice, WriteCombined};
use kernel::c_str;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The system-uncached heap, ready to register.
pub(crate) fn heap() -> Result<Arc<dyn Heap>> {
    let cache = CacheDevice::new()?;
    Ok(Arc::new(SystemUncachedHeap { cache }, GFP_KERNEL)?)
}

struct SystemUncachedHeap {
    cache: CacheDevice,
}

impl Heap for SystemUncachedHeap {
    fn name(&self) -> &'static CStr {
        c_str!("system-uncached")
    }

    fn figure(&self, _which: Figure) -> Option<u64> {
        None
    }

    fn allocate(&self, len: usize, flags: FdFlags, charge: Charge) -> Result<DmaBuf> {
        let chunks = alloc_chunks(None, len, memcg())?;
        DmaBuf::export(
            self.name(),
            flags,
            WriteCombined::new(chunks, &self.cache)?,
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
