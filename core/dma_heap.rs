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

mod buffer;
mod chardev;
#[cfg(rdh_cma)]
mod cma;
mod compat;
mod device;
mod dma_buf;
mod fd;
mod ffi;
mod heap;
mod ioctl;
mod page;
mod params;
mod registry;

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

struct RustDmaHeaps {
    _registry: registry::Registry,
}

impl kernel::Module for RustDmaHeaps {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if cfg!(CONFIG_DMABUF_HEAPS) {
            pr_err!(
                "the C dma-buf heap core (CONFIG_DMABUF_HEAPS=y) already owns the \
                 dma_heap class and /dev/dma_heap; use a kernel built without it\n"
            );
            return Err(EBUSY);
        }
        let mut registry = registry::Registry::new()?;
        heaps::register(&mut registry);
        pr_info!("{} heap device(s) registered\n", registry.len());
        Ok(Self {
            _registry: registry,
        })
    }
}
