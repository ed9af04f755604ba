// SPDX-License-Identifier: GPL-2.0

//! CMA heaps: physically contiguous buffers, one heap per CMA area.
//!
//! For devices that cannot scatter (displays without an IOMMU, camera
//! pipelines): each buffer is one contiguous block from its heap's own area,
//! aligned like upstream's CMA heap (to its size rounded up to a power of
//! two, at most `2^CONFIG_CMA_ALIGNMENT` pages) and zeroed before anyone
//! sees it. There is no fallback to other memory: an area that is full
//! answers `ENOMEM`.
//!
//! The default area answers to its own name and to the aliases clients
//! expect (`cma_aliases=`). As in mainline (6.19), the only other areas that
//! become heaps are the device tree's reusable `shared-dma-pool` regions,
//! each named after its node (`cma_regions=` chooses among them): never the
//! areas the kernel makes for itself (`hugetlb_cma=`, per-NUMA areas).

use super::prelude::*;

/// Registers the default area's heap (with its aliases) and a heap for each
/// device-tree region that `cma_regions=` selects.
pub(crate) fn register(registry: &mut Registry) {
    let default = CmaArea::default_area();
    if let Some(area) = default {
        registry.add_or_warn(Ok(CmaHeap { area }), params::cma_aliases().iter());
    }
    let areas = match CmaArea::all() {
        Ok(areas) => areas,
        Err(e) => return pr_err!("cannot list the CMA areas ({:?})\n", e),
    };
    let wanted = params::cma_regions();
    for area in areas.iter().filter(|a| !default.is_some_and(|d| d.is(a))) {
        let name = area.name();
        // As mainline: only reusable `shared-dma-pool` regions, the binding
        // for memory set aside for buffers. Areas without such a node
        // (hugetlb, per-NUMA, a driver's own) serve their owners only.
        if !area.is_dma_pool_region() {
            if wanted.names(name) {
                pr_warn!(
                    "cma_regions: CMA area {} is not a reusable shared-dma-pool region of the device tree; no heap for it\n",
                    name
                );
            } else {
                pr_info!("CMA area {}: not a device-tree dma pool, no heap\n", name);
            }
            continue;
        }
        if wanted.selects(name) {
            registry.add_or_warn(Ok(CmaHeap { area: *area }), []);
        }
    }
    if let CmaRegions::Named(names) = wanted {
        for n in names
            .iter()
            .filter(|n| !areas.iter().any(|a| cstr_bytes(a.name()) == *n))
        {
            pr_warn!(
                "cma_regions: there is no CMA area {}\n",
                BStr::from_bytes(n)
            );
        }
    }
}

struct CmaHeap {
    area: CmaArea,
}

impl Heap for CmaHeap {
    fn name(&self) -> &'static CStr {
        self.area.name()
    }

    fn allocate(&self, len: usize, _memcg: Memcg) -> Result<CmaPages> {
        let count = len / PAGE_SIZE;
        if !self.area.could_hold(len) {
            return Err(ENOMEM);
        }
        self.area.alloc(count, buffer_align_order(count))?.zero()
    }

    fn region_bytes(&self) -> Option<usize> {
        self.area.size()
    }
}

/// The [`Exporter`] defaults, except that, like upstream's CMA heap, a
/// buffer can only be mapped shared.
impl Exporter for CmaHeap {
    type Backing = CmaPages;

    fn mmap(&self, request: MmapRequest<'_, CmaPages>) -> Result {
        request.map_shared()
    }
}
