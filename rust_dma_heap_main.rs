// SPDX-License-Identifier: GPL-2.0

//! DMA-BUF heaps, written in Rust.
//!
//! `/dev/dma_heap/<name>` character devices that hand out dma-bufs through
//! `DMA_HEAP_IOCTL_ALLOC`, with the userspace ABI of the C heaps.
//!
//! This crate root only wires the layers together. Each is a folder, and
//! each uses only the layers below it:
//!
//! ```text
//!   heaps/      the heaps, in safe Rust (the compiler refuses `unsafe` there)
//!   frontend/   /dev/dma_heap nodes and the ioctl, or the kernel's heap core
//!   heap.rs     the contract between the front end and a heap
//!   exporter/   dma-buf operations: attachments, tables, mmap, vmap
//!   memory/     where pages come from: buddy, pools, CMA, carveouts, WC
//!   stats/      accounting, limits, live buffers, page ledger, tracepoints
//!   compat/     what differs between 6.12 and 7.3; the C glue's functions
//! ```
//!
//! `unsafe` is allowed in every layer but `heaps/`, each block saying why it
//! is sound. The C that the kernel leaves no Rust way to (macros, inline
//! functions, static tables) is in `glue/`, one file per kernel subsystem.

use kernel::prelude::*;

mod compat;
mod exporter;
mod frontend;
mod heap;
mod heaps;
mod memory;
mod stats;

use frontend::registry;
use stats::ledger;

// `module!`'s fields differ between the kernels (see `compat/mod.rs`).
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
        if frontend::params::cgroup_dmem() && !cfg!(CONFIG_CGROUP_DMEM) {
            pr_err!(
                "cgroup_dmem=1, but this kernel has no dmem cgroup controller \
                 (CONFIG_CGROUP_DMEM, as on 7.3): no limits could hold\n"
            );
            return Err(EINVAL);
        }
        if cfg!(rdh_hosted) && frontend::params::charge_pid_fd() {
            pr_err!(
                "charge_pid_fd=1, but the kernel's heap core reads DMA_HEAP_IOCTL_ALLOC's \
                 argument in hosted mode, and has no such field\n"
            );
            return Err(EINVAL);
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
