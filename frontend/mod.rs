// SPDX-License-Identifier: GPL-2.0

//! The front end: how userspace reaches the heaps.
//!
//! Standalone, the module is its own heap core: the `dma_heap` class, the
//! `/dev/dma_heap/<name>` nodes, `DMA_HEAP_IOCTL_ALLOC` and the descriptor
//! it returns. Hosted, the kernel's heap core owns all of that and the
//! heaps are added to it (`hosted.rs`). Either way the heaps register with
//! a [`registry::Registry`] of the same interface.

#[cfg(not(rdh_hosted))]
mod chardev;
#[cfg(not(rdh_hosted))]
pub(crate) mod fd;
#[cfg(rdh_hosted)]
pub(crate) mod hosted;
#[cfg(not(rdh_hosted))]
mod ioctl;
// (In hosted mode the kernel's core reads the ioctl's argument; there,
// only 7.3's KUnit suite of this file uses it.)
#[cfg(any(not(rdh_hosted), all(rdh_kernel_7, CONFIG_KUNIT = "y")))]
mod ioctl_args;
pub(crate) mod params;
#[cfg(not(rdh_hosted))]
pub(crate) mod registry;

#[cfg(rdh_hosted)]
pub(crate) use hosted as registry;
