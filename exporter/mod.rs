// SPDX-License-Identifier: GPL-2.0

//! The dma-buf exporter: every buffer a heap allocates leaves the module
//! as a dma-buf whose operations are here.
//!
//! `dma_buf.rs` holds the operations; the rest is private to this layer:
//! importers' attachments and their scatter-gather tables, and the kernel
//! mapping (`vmap.rs`), under one lock per buffer (`mappings.rs`); mappings
//! into processes (`vma.rs`); and the counted reference to an importer's
//! device.

pub(crate) mod device;
pub(crate) mod dma_buf;
mod mappings;
mod sg_table;
mod vma;
mod vmap;
