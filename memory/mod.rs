// SPDX-License-Identifier: GPL-2.0

//! Memory providers: where a buffer's pages come from.
//!
//! Pages and contiguous runs from the buddy allocator, the pools of zeroed
//! pages the system heaps recycle, CMA areas, carveouts and write-combined
//! chunks; and [`buffer::Backing`], the owner of a buffer's pages that
//! every provider hands to the exporter.

pub(crate) mod buffer;
pub(crate) mod carveout;
pub(crate) mod chunks;
#[cfg(rdh_cma)]
pub(crate) mod cma;
pub(crate) mod page;
pub(crate) mod page_pool;
pub(crate) mod uncached;
