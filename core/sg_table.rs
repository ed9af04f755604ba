// SPDX-License-Identifier: GPL-2.0

//! Scatter-gather tables over a buffer's pages, and their DMA mappings.

use crate::device::DeviceRef;
use crate::dma_buf::{Backing, BufferPages};
use crate::ffi;
use crate::page::PAGE_SIZE;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// The direction of a DMA transfer, as `enum dma_data_direction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataDirection {
    Bidirectional,
    ToDevice,
    FromDevice,
}

impl DataDirection {
    /// Converts from the C value; `DMA_NONE` and unknown values are invalid.
    pub(crate) fn from_raw(raw: bindings::dma_data_direction) -> Result<Self> {
        match raw {
            bindings::dma_data_direction_DMA_BIDIRECTIONAL => Ok(Self::Bidirectional),
            bindings::dma_data_direction_DMA_TO_DEVICE => Ok(Self::ToDevice),
            bindings::dma_data_direction_DMA_FROM_DEVICE => Ok(Self::FromDevice),
            _ => Err(EINVAL),
        }
    }

    fn as_raw(self) -> bindings::dma_data_direction {
        match self {
            Self::Bidirectional => bindings::dma_data_direction_DMA_BIDIRECTIONAL,
            Self::ToDevice => bindings::dma_data_direction_DMA_TO_DEVICE,
            Self::FromDevice => bindings::dma_data_direction_DMA_FROM_DEVICE,
        }
    }
}

/// The longest scatterlist entry we ever build: `sg->length` is 32 bits.
const MAX_SEGMENT: usize = 1 << 31;

/// A table mapped for a device, as handed to an importer.
///
/// Only [`SgTable::map`] makes one; the pointer stays valid until the table
/// is unmapped or dropped. It is a copy of the mapped table (see
/// [`SgTable::map`]).
pub(crate) struct MappedTable(NonNull<bindings::sg_table>);

impl MappedTable {
    pub(crate) fn as_raw(&self) -> *mut bindings::sg_table {
        self.0.as_ptr()
    }
}

struct DmaMapping {
    dev: DeviceRef,
    dir: DataDirection,
    /// The importer's copy of the mapped table.
    export: KBox<Opaque<bindings::sg_table>>,
}

/// A scatter-gather table listing a buffer's pages, optionally mapped for
/// one device.
///
/// # Invariants
///
/// `table` was set up by `sg_alloc_table()` and lists pages of `_pages`,
/// which this value keeps alive. If `mapping` is `Some`, the table is
/// DMA-mapped for that device and direction, and `mapping.export` is a
/// copy of it set up by `rdh_sg_table_mirror()`.
pub(crate) struct SgTable<B: Backing> {
    table: KBox<Opaque<bindings::sg_table>>,
    mapping: Option<DmaMapping>,
    _pages: Arc<B>,
}

// SAFETY: the table is plain memory owned by this value; the DMA API may be
// called on it from any thread.
unsafe impl<B: Backing> Send for SgTable<B> {}
// SAFETY: shared access only syncs the mapping, which the DMA API allows
// concurrently.
unsafe impl<B: Backing> Sync for SgTable<B> {}

impl<B: Backing> SgTable<B> {
    /// Builds a table over all of `pages` for a device that takes segments
    /// of at most `max_segment` bytes: one entry per contiguous run, or
    /// several where a run is longer than that.
    pub(crate) fn new(pages: &BufferPages<B>, max_segment: usize) -> Result<Self> {
        // Whole pages, at least one; no arithmetic here can overflow.
        let seg_pages = (max_segment.min(MAX_SEGMENT) / PAGE_SIZE).max(1);
        let mut nents: u32 = 0;
        for run in pages.runs() {
            let n = u32::try_from(run.pages().div_ceil(seg_pages)).map_err(|_| ENOMEM)?;
            nents = nents.checked_add(n).ok_or(ENOMEM)?;
        }
        let table = KBox::new(Opaque::<bindings::sg_table>::uninit(), GFP_KERNEL)?;

        // SAFETY: `table` points to writable memory for an `sg_table`.
        let ret = unsafe { bindings::sg_alloc_table(table.get(), nents, bindings::GFP_KERNEL) };
        kernel::error::to_result(ret)?;

        // SAFETY: `sg_alloc_table()` succeeded, so the list holds `nents`
        // entries starting at `sgl`.
        let mut sg = unsafe { ffi::rdh_sg_first(table.get()) };
        for run in pages.runs() {
            let mut rest = Some(run);
            while let Some(part) = rest {
                let take = part.pages().min(seg_pages);
                let head = part.take(take);
                rest = part.skip(take);
                let Some(page) = head.page_ptr(0) else { break };
                // SAFETY: `sg` is one of the `nents` entries (we counted the
                // same segments above); `page` heads `head.bytes()` bytes of
                // contiguous pages that `pages` keeps alive.
                unsafe { ffi::rdh_sg_set_page(sg, page, head.bytes() as u32) };
                // SAFETY: `sg` is a valid entry; the last call returns NULL.
                sg = unsafe { bindings::sg_next(sg) };
            }
        }
        // INVARIANT: the table lists the pages of `pages`, whose `Arc` we keep.
        Ok(Self {
            table,
            mapping: None,
            _pages: pages.arc().clone(),
        })
    }

    /// Maps the table for `dev`. A table is mapped at most once at a time.
    ///
    /// The importer gets a copy of the mapped table, so that what it (or the
    /// dma-buf core's debug checks) does to its table never reaches the one
    /// this value syncs and unmaps.
    pub(crate) fn map(&mut self, dev: &DeviceRef, dir: DataDirection) -> Result<MappedTable> {
        if self.mapping.is_some() {
            return Err(EBUSY);
        }
        let export = KBox::new(Opaque::<bindings::sg_table>::uninit(), GFP_KERNEL)?;
        // SAFETY: `dev` is a live device; the table is valid (invariant) and
        // not mapped.
        let ret = unsafe { ffi::rdh_dma_map_sgtable(dev.as_raw(), self.table.get(), dir.as_raw()) };
        kernel::error::to_result(ret)?;
        // SAFETY: `export` is writable memory for a table; ours is mapped.
        let ret = unsafe { ffi::rdh_sg_table_mirror(export.get(), self.table.get()) };
        if let Err(e) = kernel::error::to_result(ret) {
            // SAFETY: we just mapped the table for `dev` and `dir`.
            unsafe { ffi::rdh_dma_unmap_sgtable(dev.as_raw(), self.table.get(), dir.as_raw()) };
            return Err(e);
        }
        // SAFETY: `Opaque::get` never returns NULL for a boxed value.
        let handed_out = MappedTable(unsafe { NonNull::new_unchecked(export.get()) });
        let dev = dev.clone();
        // INVARIANT: the table was just mapped for `dev` and `dir`, and
        // `export` mirrors it.
        self.mapping = Some(DmaMapping { dev, dir, export });
        Ok(handed_out)
    }

    /// Unmaps the table, if it is mapped, and frees the importer's copy.
    pub(crate) fn unmap(&mut self) {
        if let Some(m) = self.mapping.take() {
            // SAFETY: by the type invariant the table is mapped for `m.dev`
            // and `m.dir`, and `m.export` was set up by `sg_alloc_table()`.
            unsafe {
                ffi::rdh_dma_unmap_sgtable(m.dev.as_raw(), self.table.get(), m.dir.as_raw());
                bindings::sg_free_table(m.export.get());
            }
        }
    }

    /// Makes the device's writes visible to the CPU, if the table is mapped.
    ///
    /// The DMA API wants a sync in the direction of the mapping, whatever the
    /// CPU is about to do, so that is the direction used.
    pub(crate) fn sync_for_cpu(&self) {
        if let Some(m) = &self.mapping {
            // SAFETY: the table is mapped for `m.dev` with `m.dir` (type
            // invariant).
            unsafe { ffi::rdh_dma_sync_for_cpu(m.dev.as_raw(), self.table.get(), m.dir.as_raw()) };
        }
    }

    /// Makes the CPU's writes visible to the device, if the table is mapped.
    pub(crate) fn sync_for_device(&self) {
        if let Some(m) = &self.mapping {
            // SAFETY: as in `sync_for_cpu`.
            unsafe {
                ffi::rdh_dma_sync_for_device(m.dev.as_raw(), self.table.get(), m.dir.as_raw())
            };
        }
    }
}

impl<B: Backing> Drop for SgTable<B> {
    fn drop(&mut self) {
        self.unmap();
        // SAFETY: the table was set up by `sg_alloc_table()` (type invariant)
        // and is no longer mapped.
        unsafe { bindings::sg_free_table(self.table.get()) };
    }
}
