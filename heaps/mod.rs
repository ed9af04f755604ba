// SPDX-License-Identifier: GPL-2.0

//! The heaps. Each is safe Rust on top of the layers below it; the
//! compiler holds every file here to that.
//!
//! Adding a heap: a file here and one line in [`register`].

#![forbid(unsafe_code)]

use prelude::*;
use system::SystemHeap;

mod carveout;
#[cfg(rdh_cma)]
mod cma;
mod system;
mod system_uncached;

/// All that a heap sees of the layers below it: the heap contract and the
/// exporter hooks it may override, the memory providers, and the front
/// end's parameters and registry. A heap's file imports this and its
/// sibling heaps, nothing else (`tools/testing/lint` checks it).
mod prelude {
    #[cfg(rdh_cma)]
    pub(super) use crate::{
        compat::cstr_bytes,
        frontend::params::CmaRegions,
        memory::cma::{
            buffer_align_order,
            CmaArea,
            CmaPages, //
        }, //
    };
    pub(super) use crate::{
        exporter::dma_buf::{
            CpuAccess,
            DataDirection,
            Exporter,
            MmapRequest, //
        },
        frontend::{
            params,
            registry::Registry, //
        },
        heap::Heap,
        memory::{
            carveout::{
                Carveout,
                CarveoutPages, //
            },
            chunks::alloc_pooled,
            page::{
                Memcg,
                Zone,
                PAGE_SIZE, //
            },
            page_pool::{
                PagePools,
                PooledPages, //
            },
            uncached::{
                alloc_write_combined,
                CacheDevice,
                WcChunk,
                WriteCombined, //
            },
        },
    };
    #[cfg(rdh_cma)]
    pub(super) use kernel::str::BStr;
    pub(super) use kernel::{
        c_str,
        prelude::*,
        sync::Arc, //
    };
}

/// Registers every enabled heap.
pub(crate) fn register(registry: &mut Registry) {
    if params::system_heap_enabled() {
        registry.add_or_warn(SystemHeap::new(c_str!("system"), Zone::Any), []);
    }
    // (Without ZONE_DMA32 the kernel would take its pages from anywhere.)
    if params::system_dma32_heap_enabled() && cfg!(CONFIG_ZONE_DMA32) {
        registry.add_or_warn(SystemHeap::new(c_str!("system-dma32"), Zone::Dma32), []);
    } else if params::system_dma32_heap_enabled() {
        kernel::pr_warn!("system_dma32=1, but this kernel has no ZONE_DMA32: no such heap\n");
    }
    if params::system_uncached_heap_enabled() {
        registry.add_or_warn(system_uncached::heap(), []);
    }
    #[cfg(rdh_cma)]
    if params::cma_heaps_enabled() {
        cma::register(registry);
    }
    carveout::register(registry);
    #[cfg(not(rdh_cma))]
    if params::cma_heaps_enabled() {
        kernel::pr_info!(
            "no CMA heaps: this kernel does not export the CMA allocator to modules\n"
        );
    }
}
