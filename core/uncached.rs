// SPDX-License-Identifier: GPL-2.0

//! Write-combined buffers: pages the CPU reaches through no cache.
//!
//! A heap hands [`WriteCombined::new`] zeroed chunks and gets back a
//! [`Backing`] whose every mapping the core makes write-combined: the
//! process's (`mmap`) and the kernel's (`vmap`). Before any mapping exists
//! the core makes the pages fit for that:
//!
//! - on x86, where a page of RAM has one memory type (PAT) that all of its
//!   mappings must share, the linear map of every page is switched to
//!   write-combining, and back to write-back before the pages are freed
//!   (which `set_pages_array_wc()` makes visible as the page's type, so that
//!   a `VM_PFNMAP` mapping gets the same type too);
//! - the cache lines that zeroing left are written back and invalidated
//!   once, so that no device reads stale memory under a zero the CPU still
//!   holds in its cache: on x86 by the switch itself (a change of memory
//!   type flushes the range), elsewhere through the DMA API for a device
//!   that is never registered ([`CacheDevice`]) and has no swiotlb, so that
//!   the maintenance reaches the pages even where swiotlb is forced
//!   (`swiotlb=force`, Arm CCA realms) and would otherwise clean a bounce
//!   slot instead.
//!
//! Other architectures keep the kernel's cached linear map next to the
//! write-combined mappings, as Android's heap of this kind does. Every
//! architecture maps the pages into processes as `VM_PFNMAP` only, which
//! no pin gets past (see the end of this file).

use crate::buffer::Backing;
use crate::ffi;
use crate::page::{cond_resched, BuddyPages, PageRun};
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::c_int;
use kernel::prelude::*;

/// A device of the module's own, never registered, that the DMA API does
/// cache maintenance for: not coherent wherever devices are not by default,
/// and never bounced (no swiotlb).
///
/// # Invariants
///
/// `dev` was returned by `rdh_maint_device_create()`; this value holds its
/// one reference, put by `rdh_maint_device_destroy()`.
pub(crate) struct CacheDevice {
    dev: NonNull<bindings::device>,
}

// SAFETY: the device is only used through the DMA API, from any thread,
// and put once.
unsafe impl Send for CacheDevice {}
// SAFETY: as above; mapping for it needs no exclusion.
unsafe impl Sync for CacheDevice {}

impl CacheDevice {
    /// The device; `ENODEV` where no device can reach private memory
    /// without swiotlb (a memory-encrypted guest), which ours must not use:
    /// there the heap cannot make its pages' cache lines reach memory.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no requirement; NULL on failure.
        let dev = unsafe { ffi::rdh_maint_device_create() };
        // INVARIANT: the reference `rdh_maint_device_create()` returned.
        let this = Self {
            dev: NonNull::new(dev).ok_or(ENOMEM)?,
        };
        // SAFETY: a live device (type invariant).
        if unsafe { ffi::rdh_dma_needs_shared_memory(this.dev.as_ptr()) } {
            pr_warn!("system-uncached: DMA here goes through memory shared with the host (a memory-encrypted guest), and no cache maintenance can reach the heap's pages: not registered\n");
            return Err(ENODEV);
        }
        Ok(this)
    }

    /// Writes the cache lines of `run` back to memory and invalidates them.
    fn writeback_invalidate(&self, run: PageRun<'_>) -> Result {
        // SAFETY: the device is live (type invariant) and `run` is
        // `run.bytes()` of allocated, contiguous pages, which the borrow
        // keeps for the call; mapping them for a device only touches the
        // cache.
        let ret = unsafe {
            ffi::rdh_dma_writeback_invalidate(self.dev.as_ptr(), run.first().as_ptr(), run.bytes())
        };
        kernel::error::to_result(ret)
    }
}

impl Drop for CacheDevice {
    fn drop(&mut self) {
        // SAFETY: our reference (type invariant), dropped once.
        unsafe { ffi::rdh_maint_device_destroy(self.dev.as_ptr()) };
    }
}

/// Pages switched per call (each call flushes the TLB once). On the stack:
/// switching back must not allocate, or a shortage of memory would leak
/// the pages.
const TYPE_BATCH: usize = 128;

/// Sets the memory type of every page of `chunks` (x86; nothing elsewhere):
/// write-combining if `wc`, write-back if not. Allocates nothing.
fn set_type(chunks: &KVVec<BuddyPages>, wc: bool) -> Result {
    let mut batch = [core::ptr::null_mut(); TYPE_BATCH];
    let flush = |batch: &mut [*mut bindings::page; TYPE_BATCH], n: usize| -> Result {
        if n == 0 {
            return Ok(());
        }
        // SAFETY: the first `n` entries of `batch` are pages of `chunks`,
        // allocated and ours for the duration of the call, and mapped by
        // nothing but the linear map (no buffer mapping exists yet, or any
        // longer).
        let ret = unsafe {
            if wc {
                ffi::rdh_set_pages_wc(batch.as_mut_ptr(), n as c_int)
            } else {
                ffi::rdh_set_pages_wb(batch.as_mut_ptr(), n as c_int)
            }
        };
        kernel::error::to_result(ret)
    };
    let mut n = 0;
    for chunk in chunks.iter() {
        let run = chunk.run();
        for i in 0..run.pages() {
            if let Some(page) = run.page_ptr(i) {
                batch[n] = page;
                n += 1;
            }
            if n == TYPE_BATCH {
                flush(&mut batch, n)?;
                n = 0;
                // Each batch is a TLB shootdown on every CPU: a large
                // buffer must not hold the CPU for all of them at once.
                cond_resched();
            }
        }
    }
    flush(&mut batch, n)
}

/// Zeroed pages, write-combined for the CPU; see the module documentation.
///
/// # Invariants
///
/// Every page of `chunks` has had its cache lines written back and
/// invalidated since it was zeroed, and, on x86, has the write-combining
/// memory type until this value is dropped. `chunks` is `Some` until then.
pub(crate) struct WriteCombined {
    chunks: Option<KVVec<BuddyPages>>,
}

impl WriteCombined {
    /// Makes `chunks` (zeroed pages, mapped by nothing yet) write-combined.
    /// On failure they are freed.
    pub(crate) fn new(chunks: KVVec<BuddyPages>, cache: &CacheDevice) -> Result<Self> {
        if set_type(&chunks, true).is_err() {
            // Some may have switched: back before they go to the allocator.
            // The switch fails for want of memory (the page tables it
            // splits), as an allocation would.
            release(chunks);
            return Err(ENOMEM);
        }
        // On x86 the switch has written the lines back and invalidated
        // them (a change of memory type flushes the range), and devices
        // are coherent: the DMA API would only add its debug tracking.
        if !cfg!(target_arch = "x86_64") {
            for chunk in chunks.iter() {
                if let Err(e) = cache.writeback_invalidate(chunk.run()) {
                    release(chunks);
                    return Err(e);
                }
            }
        }
        // INVARIANT: all switched (x86) and written back just above.
        Ok(Self {
            chunks: Some(chunks),
        })
    }
}

/// Attempts at switching pages back before they are leaked instead: the
/// switch can fail only for want of a page-table page (splitting the
/// linear map), which a moment later is usually there.
const RESTORE_TRIES: u32 = 5;

/// Frees `chunks` once they are write-back again; if they cannot be made
/// so, they are leaked rather than handed out cached elsewhere with a
/// write-combined linear map.
fn release(chunks: KVVec<BuddyPages>) {
    // Switching back is idempotent: every try covers every page.
    if (0..RESTORE_TRIES).any(|_| {
        cond_resched();
        set_type(&chunks, false).is_ok()
    }) {
        drop(chunks);
    } else {
        pr_err!(
            "system-uncached: {} chunks leaked (their memory type could not be restored)\n",
            chunks.len()
        );
        core::mem::forget(chunks);
    }
}

impl Drop for WriteCombined {
    fn drop(&mut self) {
        if let Some(chunks) = self.chunks.take() {
            release(chunks);
        }
    }
}

// SAFETY: every `BuddyPages` owns its pages until it is dropped, which is
// only in `release` (from `drop`); the vector is not changed through a
// shared reference. The pages are write-combined (type invariant), so they
// may be mapped so.
unsafe impl Backing for WriteCombined {
    const WRITE_COMBINED: bool = true;

    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.chunks.iter().flatten().map(BuddyPages::run)
    }
}

// Not an `InsertableBacking`, on any architecture: a page reached through
// `get_user_pages()` (which ordinary PTEs allow, GUP-fast even in a `VM_IO`
// mapping) can be mapped by the kernel with `vmap()` or `vm_map_ram()`
// (V4L2's `USERPTR`): a cached alias of write-combined memory. Processes
// map these pages as `VM_PFNMAP` only, whose special PTEs no pin gets past.
