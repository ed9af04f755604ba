// SPDX-License-Identifier: GPL-2.0

//! Scatter-gather tables over a buffer's pages, and their DMA mappings.
//!
//! A child of `dma_buf.rs`: only the core's dma-buf operations map and
//! unmap tables, so every mapping is paired with its unmapping by the core.
//!
//! # Cache maintenance
//!
//! An importer that only reads (`DMA_TO_DEVICE`: a display, an encoder) gets
//! a `DMA_TO_DEVICE` mapping; every other importer gets a
//! `DMA_BIDIRECTIONAL` one, whatever it asked for. Then:
//! - right after mapping, one sync for the device in the mapping's
//!   direction writes back what the CPU wrote (a new buffer's zeroes
//!   included) before the device can see the memory. Syncing a
//!   `DMA_FROM_DEVICE` mapping there would, on CPUs where that only
//!   invalidates (32-bit ARM), throw those writes away and let the device,
//!   and later the CPU, see the previous owner's data;
//! - `begin_cpu_access`/`end_cpu_access` sync every bidirectional table in
//!   the direction the CPU gives, as upstream's heaps do, so a buffer mapped
//!   `FROM_DEVICE` by a capture device never has the CPU's writes
//!   invalidated at `SYNC_END`. A read-only importer's table is never synced
//!   for the CPU (its device writes nothing, and with bounce buffers a copy
//!   back would overwrite what another device wrote), and is synced for its
//!   device whenever the CPU may have written;
//! - unmapping syncs a bidirectional table for the CPU in the importer's
//!   direction, as a plain `dma_unmap_sgtable()` would.
//!
//! Every sync is in a direction its mapping allows, so this is quiet under
//! `CONFIG_DMA_API_DEBUG`. Tables are mapped with `DMA_ATTR_SKIP_CPU_SYNC`
//! and synced explicitly, because the DMA-API debug code reports overlapping
//! mappings (one buffer, several devices) unless the mapping skips the CPU
//! sync; it still counts overlapping writable mappings of a cache line and
//! warns past seven, so more than seven devices that write, mapping one
//! buffer at once, would be reported there.
//!
//! Limits: with bounce buffers (swiotlb) and two devices that both write,
//! `begin_cpu_access` copies both bounce buffers back, in attachment order,
//! as upstream's heaps do; which one's bytes the CPU sees is undefined.
//! Segments are cut to the device's maximum segment and mapping sizes, but
//! not to its segment boundary mask.

use crate::{
    compat::{
        ffi,
        ARef, //
    },
    exporter::device::Device, //
    memory::{
        buffer::{
            Backing,
            BufferPages, //
        },
        page::PAGE_SIZE, //
    },
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*,
    sync::Arc,
    types::Opaque, //
};

pub(crate) use crate::compat::DataDirection;

/// The longest scatterlist entry we ever build: `sg->length` is 32 bits.
const MAX_SEGMENT: usize = 1 << 31;

/// How every table is mapped; see the module documentation.
const MAP_ATTRS: usize = bindings::DMA_ATTR_SKIP_CPU_SYNC as usize;

struct DmaMapping {
    /// The direction the importer asked for.
    importer_dir: DataDirection,
    /// The direction the table is mapped in: `ToDevice` or `Bidirectional`.
    mapped_dir: DataDirection,
    /// The importer's copy of the mapped table, where the dma-buf core
    /// mangles the table it hands out (see [`SgTable::map`]).
    export: Option<KBox<Opaque<bindings::sg_table>>>,
}

/// A scatter-gather table listing a buffer's pages for one device, and
/// optionally mapped for it.
///
/// The table holds its device for its whole life, so that mapping and
/// unmapping it (a driver's steady state) take no reference of their own.
///
/// # Invariants
///
/// `table` was set up by `sg_alloc_table()` and lists pages of `_pages`,
/// which this value keeps alive. If `mapping` is `Some`, the table is
/// DMA-mapped for `dev` in `mapping.mapped_dir` with `MAP_ATTRS`, and
/// `mapping.export`, if any, is a copy of it set up by
/// `rdh_sg_table_mirror()`.
pub(super) struct SgTable<B: Backing> {
    table: KBox<Opaque<bindings::sg_table>>,
    dev: ARef<Device>,
    mapping: Option<DmaMapping>,
    _pages: Arc<B>,
}

// SAFETY: The table is plain memory owned by this value; the DMA API may be
// called on it from any thread.
unsafe impl<B: Backing> Send for SgTable<B> {}
// SAFETY: Shared access only syncs the mapping, which the DMA API allows
// concurrently.
unsafe impl<B: Backing> Sync for SgTable<B> {}

impl<B: Backing> SgTable<B> {
    /// Builds a table over all of `pages` for `dev`, in the segments it
    /// takes: one entry per contiguous run, or several where a run is
    /// longer than its maximum segment size.
    pub(super) fn new(pages: &BufferPages<B>, dev: ARef<Device>) -> Result<Self> {
        // Whole pages, at least one; no arithmetic here can overflow.
        let seg_pages = (dev.max_segment_size().min(MAX_SEGMENT) / PAGE_SIZE).max(1);
        let mut nents: u32 = 0;
        for run in pages.runs() {
            let n = u32::try_from(run.pages().div_ceil(seg_pages)).map_err(|_| ENOMEM)?;
            nents = nents.checked_add(n).ok_or(ENOMEM)?;
        }
        let table = KBox::new(Opaque::<bindings::sg_table>::uninit(), GFP_KERNEL)?;

        // SAFETY: `table` points to writable memory for an `sg_table`.
        let ret = unsafe { bindings::sg_alloc_table(table.get(), nents, bindings::GFP_KERNEL) };
        kernel::error::to_result(ret)?;

        let (runs, nr_runs) = pages.raw_runs();
        // SAFETY: `sg_alloc_table()` succeeded with the `nents` entries that
        // cutting `runs` (the runs of `pages`, each of contiguous pages that
        // `pages` keeps alive) into `seg_pages` pages makes, as counted
        // above; each entry is then at most `MAX_SEGMENT` bytes.
        let ret = unsafe { ffi::rdh_sg_fill(table.get(), runs, nr_runs, seg_pages) };
        if let Err(e) = kernel::error::to_result(ret) {
            // SAFETY: Set up by `sg_alloc_table()` above, used by nothing.
            unsafe { bindings::sg_free_table(table.get()) };
            return Err(e);
        }
        // INVARIANT: The table lists the pages of `pages`, kept alive.
        Ok(Self {
            table,
            dev,
            mapping: None,
            _pages: pages.keep_alive(),
        })
    }

    /// The device the table is for.
    pub(super) fn dev(&self) -> &Device {
        &self.dev
    }

    /// Maps the table for its device, for an importer that asked for `dir`, and
    /// returns the table the importer gets, valid until [`SgTable::unmap`]
    /// or drop. A table is mapped at most once at a time.
    ///
    /// The importer gets this table, as from upstream's heaps, except on 6.12
    /// with `CONFIG_DMABUF_DEBUG`, whose dma-buf core scrambles the page
    /// links of the table it hands out until the unmap: there it gets a
    /// copy, so that the table this value syncs and unmaps stays intact.
    /// (7.3's core copies the table itself under that option.)
    pub(super) fn map(&mut self, dir: DataDirection) -> Result<NonNull<bindings::sg_table>> {
        let dev = &self.dev;
        if self.mapping.is_some() {
            return Err(EBUSY);
        }
        let mapped_dir = match dir {
            DataDirection::ToDevice => DataDirection::ToDevice,
            _ => DataDirection::Bidirectional,
        };
        // SAFETY: A constant of the kernel's configuration.
        let export = if unsafe { ffi::rdh_dma_buf_mangles_tables() } {
            Some(KBox::new(
                Opaque::<bindings::sg_table>::uninit(),
                GFP_KERNEL,
            )?)
        } else {
            None
        };
        // SAFETY: `dev` is a live device; the table is valid (invariant) and
        // not mapped.
        let ret = unsafe {
            bindings::dma_map_sgtable(dev.as_raw(), self.table.get(), mapped_dir.into(), MAP_ATTRS)
        };
        kernel::error::to_result(ret)?;
        // SAFETY: Just mapped for `dev` in `mapped_dir`; see the module
        // documentation for this first sync.
        unsafe { ffi::rdh_dma_sync_for_device(dev.as_raw(), self.table.get(), mapped_dir.into()) };
        let handed_out = export.as_ref().map_or(self.table.get(), |e| e.get());
        let ret = match &export {
            // SAFETY: `e` is writable memory for a table; ours is mapped.
            Some(e) => unsafe { ffi::rdh_sg_table_mirror(e.get(), self.table.get()) },
            None => 0,
        };
        if let Err(e) = kernel::error::to_result(ret) {
            // SAFETY: We just mapped the table for `dev` this way.
            unsafe {
                ffi::rdh_dma_unmap_sgtable(
                    dev.as_raw(),
                    self.table.get(),
                    mapped_dir.into(),
                    MAP_ATTRS,
                )
            };
            return Err(e);
        }
        // SAFETY: `Opaque::get` never returns NULL for a boxed value.
        let handed_out = unsafe { NonNull::new_unchecked(handed_out) };
        // INVARIANT: The table was just mapped for `dev` in `mapped_dir`,
        // and `export`, if any, mirrors it.
        self.mapping = Some(DmaMapping {
            importer_dir: dir,
            mapped_dir,
            export,
        });
        Ok(handed_out)
    }

    /// Unmaps the table, if it is mapped, and frees the importer's copy.
    /// Returns whether it was mapped.
    pub(super) fn unmap(&mut self) -> bool {
        let Some(m) = self.mapping.take() else {
            return false;
        };
        // SAFETY: By the type invariant the table is mapped for `self.dev` in
        // `m.mapped_dir` with `MAP_ATTRS`; a bidirectional mapping may be
        // synced in the importer's direction.
        unsafe {
            if m.mapped_dir == DataDirection::Bidirectional {
                ffi::rdh_dma_sync_for_cpu(
                    self.dev.as_raw(),
                    self.table.get(),
                    m.importer_dir.into(),
                );
            }
            ffi::rdh_dma_unmap_sgtable(
                self.dev.as_raw(),
                self.table.get(),
                m.mapped_dir.into(),
                MAP_ATTRS,
            );
        }
        if let Some(export) = m.export {
            // SAFETY: By the type invariant `export` was set up by
            // `sg_alloc_table()` (in `rdh_sg_table_mirror()`), and the
            // importer has given it back.
            unsafe { bindings::sg_free_table(export.get()) };
        }
        true
    }

    /// Makes the device's writes visible to the CPU, which is about to
    /// access the buffer in direction `dir`: for a mapped table whose device
    /// may write.
    pub(super) fn sync_for_cpu(&self, dir: DataDirection) {
        if let Some(m) = &self.mapping {
            if m.mapped_dir == DataDirection::Bidirectional {
                // SAFETY: The table is mapped bidirectionally for `self.dev`
                // (type invariant), so any direction may be synced.
                unsafe {
                    ffi::rdh_dma_sync_for_cpu(self.dev.as_raw(), self.table.get(), dir.into())
                };
            }
        }
    }

    /// Makes what the CPU did in direction `dir` visible to the device, if
    /// the table is mapped: for a read-only device, unless the CPU only
    /// read, a sync for the device in the direction it was mapped.
    pub(super) fn sync_for_device(&self, dir: DataDirection) {
        if let Some(m) = &self.mapping {
            let dir = match m.mapped_dir {
                DataDirection::Bidirectional => dir,
                _ if dir == DataDirection::FromDevice => return,
                mapped => mapped,
            };
            // SAFETY: The table is mapped for `self.dev` (type invariant), in
            // `m.mapped_dir`, which allows `dir`.
            unsafe {
                ffi::rdh_dma_sync_for_device(self.dev.as_raw(), self.table.get(), dir.into())
            };
        }
    }
}

impl<B: Backing> Drop for SgTable<B> {
    fn drop(&mut self) {
        self.unmap();
        // SAFETY: The table was set up by `sg_alloc_table()` (type invariant)
        // and is no longer mapped.
        unsafe { bindings::sg_free_table(self.table.get()) };
    }
}
