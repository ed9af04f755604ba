// SPDX-License-Identifier: GPL-2.0

//! DMA-BUF heaps, written in Rust.
//!
//! `/dev/dma_heap/<name>` character devices that hand out dma-bufs through
//! `DMA_HEAP_IOCTL_ALLOC`, with the userspace ABI of the C heaps.
//!
//! This crate root only wires the pieces together:
//! - `core/` (this directory) is the boundary with the kernel and holds every
//!   `unsafe` block: the character devices, the ioctl, dma-buf export,
//!   scatter-gather tables, pages and mappings;
//! - `heaps/` holds the heaps, in safe Rust, on top of those abstractions.

use kernel::prelude::*;

mod accounting;
mod buffer;
mod carveout;
#[cfg(not(rdh_hosted))]
mod chardev;
#[cfg(rdh_cma)]
mod cma;
mod compat;
mod device;
mod dma_buf;
#[cfg(not(rdh_hosted))]
mod fd;
mod ffi;
mod heap;
#[cfg(rdh_hosted)]
mod hosted;
#[cfg(not(rdh_hosted))]
mod ioctl;
// (In hosted mode the kernel's core reads the ioctl's argument; there,
// only 7.3's KUnit suite of this file uses it.)
#[cfg(any(not(rdh_hosted), all(rdh_kernel_7, CONFIG_KUNIT = "y")))]
mod ioctl_args;
mod ledger;
mod live;
mod page;
mod page_pool;
mod params;
#[cfg(not(rdh_hosted))]
mod registry;
mod trace;
mod uncached;

// Hosted mode (the kernel's heap core owns /dev/dma_heap and the ioctl):
// heaps register through a registry with the same interface.
#[cfg(rdh_hosted)]
use hosted as registry;

#[path = "../heaps/mod.rs"]
mod heaps;

// `module!`'s fields differ between the kernels (see `compat.rs`).
#[cfg(not(rdh_kernel_7))]
module! {
    type: RustDmaHeaps,
    name: "rust_dma_heap",
    author: "rust-dma-heaps developers",
    description: "DMA-BUF heaps (system, CMA) written in Rust",
    license: "GPL",
}
#[cfg(rdh_kernel_7)]
module! {
    type: RustDmaHeaps,
    name: "rust_dma_heap",
    authors: ["rust-dma-heaps developers"],
    description: "DMA-BUF heaps (system, CMA) written in Rust",
    license: "GPL",
}

/// The module's lifetime objects. Fields drop in declaration order: the
/// heaps, then the page ledger's file, which then finds every page given
/// back (or says which were not).
struct RustDmaHeaps {
    _registry: registry::Registry,
    _pages: ledger::PagesFile,
}

impl kernel::Module for RustDmaHeaps {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // The build chose hosted mode if the kernel's heap core lets modules
        // add heaps to it (Kbuild); if it does not, there is no way in.
        if cfg!(CONFIG_DMABUF_HEAPS) && !cfg!(rdh_hosted) {
            pr_err!(
                "the kernel's dma-buf heap core (CONFIG_DMABUF_HEAPS=y) owns /dev/dma_heap \
                 and does not export dma_heap_add() to modules: no way to add heaps to it\n"
            );
            return Err(EBUSY);
        }
        // First, so that it is dropped last if init fails.
        let pages = ledger::PagesFile::new();
        let mut registry = registry::Registry::new()?;
        heaps::register(&mut registry);
        #[cfg(rdh_hosted)]
        registry.finish()?;
        #[cfg(not(rdh_hosted))]
        pr_info!("{} heap device(s) registered\n", registry.len());
        Ok(Self {
            _registry: registry,
            _pages: pages,
        })
    }
}
