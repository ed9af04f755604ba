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

use crate::compat::cstr_bytes;
use crate::exporter::dma_buf::{Exporter, MmapRequest};
use crate::frontend::params;
use crate::frontend::registry::Registry;
use crate::heap::Heap;
use crate::memory::cma::{buffer_align_order, CmaArea, CmaPages};
use crate::memory::page::PAGE_SIZE;
use crate::stats::accounting::Figure;
use kernel::prelude::*;
use kernel::str::BStr;

/// Registers the default area's heap (with its aliases) and a heap for each
/// device-tree region that `cma_regions=` selects.
pub(crate) fn register(registry: &mut Registry) {
    let default = CmaArea::default_area();
    if let Some(area) = default {
        registry.add_or_warn(heap(area), names(params::cma_aliases()));
    }
    let areas = match CmaArea::all() {
        Ok(areas) => areas,
        Err(e) => return pr_err!("cannot list the CMA areas ({:?})\n", e),
    };
    let wanted = params::cma_regions();
    for area in areas.iter().filter(|a| !default.is_some_and(|d| d.is(a))) {
        let name = area.name();
        if !is_dma_pool_region(area) {
            if region_named(wanted, name) {
                pr_warn!(
                    "cma_regions: CMA area {} is not a reusable shared-dma-pool region of the device tree; no heap for it\n",
                    name
                );
            } else {
                pr_info!("CMA area {}: not a device-tree dma pool, no heap\n", name);
            }
            continue;
        }
        if region_selected(wanted, name) {
            registry.add_or_warn(heap(*area), []);
        }
    }
    if !matches!(cstr_bytes(wanted), b"all" | b"none" | b"") {
        for n in names(wanted).filter(|n| !areas.iter().any(|a| cstr_bytes(a.name()) == *n)) {
            pr_warn!(
                "cma_regions: there is no CMA area {}\n",
                BStr::from_bytes(n)
            );
        }
    }
}

/// Whether a CMA area other than the default one may become a heap: the
/// device tree describes it as a reusable `shared-dma-pool` region, the
/// binding for memory set aside for buffers (mainline makes exactly these
/// heaps). Areas without such a node (hugetlb, per-NUMA, a driver's own)
/// serve their owners only.
fn is_dma_pool_region(area: &CmaArea) -> bool {
    area.reserved_memory_node()
        .is_some_and(|node| node.shared_dma_pool && node.reusable)
}

/// The names in a ':'-separated list (DT node names never contain ':').
fn names(list: &CStr) -> impl Iterator<Item = &[u8]> {
    cstr_bytes(list).split(|&b| b == b':')
}

/// Whether `cma_regions=` (`all`, `none` or a list of names) selects `name`.
fn region_selected(wanted: &CStr, name: &CStr) -> bool {
    match cstr_bytes(wanted) {
        b"all" => true,
        b"none" | b"" => false,
        _ => region_named(wanted, name),
    }
}

/// Whether `cma_regions=` names `name` explicitly.
fn region_named(wanted: &CStr, name: &CStr) -> bool {
    names(wanted).any(|n| n == cstr_bytes(name))
}

fn heap(area: CmaArea) -> Result<CmaHeap> {
    Ok(CmaHeap { area })
}

struct CmaHeap {
    area: CmaArea,
}

impl Heap for CmaHeap {
    fn name(&self) -> &'static CStr {
        self.area.name()
    }

    fn allocate(&self, len: usize) -> Result<CmaPages> {
        let count = len / PAGE_SIZE;
        if !self.area.could_hold(len) {
            return Err(ENOMEM);
        }
        let mut pages = self.area.alloc(count, buffer_align_order(count))?;
        // Gives up (and the pages back) with `EINTR` if the caller is killed
        // meanwhile: a dying process should not wait for gigabytes.
        pages.zero()?;
        Ok(pages)
    }

    fn figure(&self, which: Figure) -> Option<u64> {
        match which {
            Figure::RegionBytes => self.area.size().map(|size| size as u64),
            Figure::PoolBytes => None,
        }
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
