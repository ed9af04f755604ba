// SPDX-License-Identifier: GPL-2.0

//! Write-combined buffers: pages the CPU reaches through no cache.
//!
//! A heap hands [`WcChunk::from_zeroed`] zeroed chunks and gets back
//! chunks whose buffer ([`WriteCombined`]) the core maps write-combined
//! wherever it maps it: the process's mappings (`mmap`) and the kernel's
//! (`vmap`). Before any mapping exists the core makes the pages fit for
//! that:
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
//! A released buffer's chunks go to the heap's pools (`page_pool.rs`) as
//! they are, still write-combined: the worker zeroes them there (through
//! the write-combined linear map on x86; elsewhere through the cached one,
//! then writing the lines back), and the next buffers take them, so that a
//! steady state switches no memory type and flushes no TLB. A chunk
//! switches back to write-back only when it is freed (by the shrinker, over
//! the pools' limit, or with `mem_accounting=1`, which bypasses the pools).
//!
//! Other architectures keep the kernel's cached linear map next to the
//! write-combined mappings, as Android's heap of this kind does. Every
//! architecture maps the pages into processes as `VM_PFNMAP` only, which
//! no pin gets past (see the end of this file).

use crate::{
    compat::ffi, //
    memory::{
        chunks::alloc_chunks, //
        page::{
            cond_resched,
            fatal_signal_pending,
            kvvec_fit,
            kvvec_may_fail,
            BuddyPages,
            Memcg,
            PageRun,
            Zone,
            PAGE_SIZE, //
        },
        page_pool::{
            BufferChunk,
            PagePools,
            PoolChunk,
            PooledPages, //
        },
    },
};
use core::{
    mem::ManuallyDrop,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    ffi::c_int,
    prelude::*,
    sync::Arc, //
};

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

// SAFETY: The device is only used through the DMA API, from any thread,
// and put once.
unsafe impl Send for CacheDevice {}
// SAFETY: As above; mapping for it needs no exclusion.
unsafe impl Sync for CacheDevice {}

impl CacheDevice {
    /// The device; `ENODEV` where no device can reach private memory
    /// without swiotlb (a memory-encrypted guest), which ours must not use:
    /// there the heap cannot make its pages' cache lines reach memory.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No requirement; NULL on failure.
        let dev = unsafe { ffi::rdh_maint_device_create() };
        // INVARIANT: The reference `rdh_maint_device_create()` returned.
        let this = Self {
            dev: NonNull::new(dev).ok_or(ENOMEM)?,
        };
        // SAFETY: A live device (type invariant).
        if unsafe { ffi::rdh_dma_needs_shared_memory(this.dev.as_ptr()) } {
            pr_warn!("system-uncached: DMA here goes through memory shared with the host (a memory-encrypted guest), and no cache maintenance can reach the heap's pages: not registered\n");
            return Err(ENODEV);
        }
        Ok(this)
    }

    /// Writes the cache lines of `run` back to memory and invalidates them.
    fn writeback_invalidate(&self, run: PageRun<'_>) -> Result {
        // SAFETY: The device is live (type invariant) and `run` is
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
        // SAFETY: Our reference (type invariant), dropped once.
        unsafe { ffi::rdh_maint_device_destroy(self.dev.as_ptr()) };
    }
}

/// Pages switched per call (each call flushes the TLB once). On the stack:
/// switching back must not allocate, or a shortage of memory would leak
/// the pages.
const TYPE_BATCH: usize = 128;

/// Sets the memory type of every page of `runs` (x86; nothing elsewhere):
/// write-combining if `wc`, write-back if not. Allocates nothing. Switching
/// to write-combining stops with `EINTR` between batches once the caller
/// has been killed (the allocation it is part of is then of no use);
/// switching back always goes to the end.
fn set_type<'a>(runs: impl Iterator<Item = PageRun<'a>>, wc: bool) -> Result {
    let mut batch = [core::ptr::null_mut(); TYPE_BATCH];
    let flush = |batch: &mut [*mut bindings::page; TYPE_BATCH], n: usize| -> Result {
        if n == 0 {
            return Ok(());
        }
        // SAFETY: The first `n` entries of `batch` are pages of `runs`,
        // which the caller holds for the duration of the call, and mapped
        // by nothing but the linear map (no buffer mapping exists yet, or
        // any longer).
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
    for run in runs {
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
                if wc && fatal_signal_pending() {
                    return Err(EINTR);
                }
            }
        }
    }
    flush(&mut batch, n)
}

/// Attempts at switching a chunk back before it is leaked instead: the
/// switch can fail only for want of a page-table page (splitting the
/// linear map), which a moment later is usually there.
const RESTORE_TRIES: u32 = 5;

/// A chunk of zeroed pages, write-combined for the CPU; see the module
/// documentation. The system-uncached heap's buffers and pools hold these:
/// a pooled chunk keeps its memory type, so that a buffer made of pooled
/// chunks switches nothing, and a chunk switches back to write-back only
/// when it is freed.
///
/// # Invariants
///
/// `pages` is dropped only in `drop`, and there only once `switched` is
/// false or the pages are write-back again. Once [`WcChunk::from_zeroed`]
/// has returned the chunk, and until it is dropped, `switched` is true and
/// the pages are fit to be mapped write-combined: every page has had its
/// cache lines written back and invalidated since it was last written
/// through a cached mapping (on x86 there is none: its linear map is
/// write-combined too), and, on x86, has the write-combining memory type.
/// `cache` is the device that maintenance goes through.
pub(crate) struct WcChunk {
    pages: ManuallyDrop<BuddyPages>,
    cache: Arc<CacheDevice>,
    /// Whether the pages may have the write-combining memory type (x86),
    /// so that they must be switched back before they are freed.
    switched: bool,
}

impl WcChunk {
    /// Makes `chunks` (zeroed pages, mapped by nothing yet) write-combined,
    /// all at once: a TLB flush per [`TYPE_BATCH`] pages, not per chunk.
    /// On failure they are freed.
    pub(crate) fn from_zeroed(
        chunks: KVVec<BuddyPages>,
        cache: &Arc<CacheDevice>,
    ) -> Result<KVVec<WcChunk>> {
        let mut out = kvvec_may_fail(chunks.len())?;
        for pages in chunks {
            // Not fit yet, and not handed out until they are (below). Marked
            // switched from the start: switching back a page that was not
            // switched changes nothing, so one dropped before, during or
            // after the switch goes back write-back all the same.
            let chunk = WcChunk {
                pages: ManuallyDrop::new(pages),
                cache: cache.clone(),
                switched: true,
            };
            // (Within the capacity just reserved.)
            out.push(chunk, GFP_KERNEL)?;
        }
        if let Err(e) = set_type(out.iter().map(|c| c.pages.run()), true) {
            // Some may have switched: back before they go to the
            // allocator. The switch fails for want of memory (the page
            // tables it splits), as an allocation would, or because the
            // caller was killed.
            Self::free_all(out);
            return Err(if e == EINTR { EINTR } else { ENOMEM });
        }
        // On x86 the switch has written the lines back and invalidated
        // them (a change of memory type flushes the range), and devices
        // are coherent: the DMA API would only add its debug tracking.
        if !cfg!(target_arch = "x86_64") {
            for chunk in out.iter() {
                if let Err(e) = cache.writeback_invalidate(chunk.pages.run()) {
                    Self::free_all(out);
                    return Err(e);
                }
            }
        }
        // INVARIANT: Switched (x86) and written back just above.
        Ok(out)
    }
}

/// Allocates `len` bytes of write-combined chunks of `orders` (largest
/// first, the last 0), charged as `memcg` says: pooled ones from `pools`
/// first (write-combined already, and charged to nobody: an allocation
/// charged to a cgroup bypasses the pools), then new ones for the rest,
/// switched together through `cache`.
pub(crate) fn alloc_write_combined(
    pools: &PagePools<WcChunk>,
    cache: &Arc<CacheDevice>,
    len: usize,
    orders: &[u32],
    memcg: Memcg,
) -> Result<WriteCombined> {
    let pooled = memcg == Memcg::Uncharged;
    let (mut chunks, taken) = if pooled {
        pools.take_up_to(len, orders)?
    } else {
        (kvvec_may_fail(len / PAGE_SIZE)?, 0)
    };
    if taken < len {
        let fresh = alloc_chunks(None, len - taken, orders, memcg, Zone::Any)
            .and_then(|fresh| WcChunk::from_zeroed(fresh, cache));
        match fresh {
            Ok(fresh) => {
                for chunk in fresh {
                    // (Within the room `take_up_to` made.)
                    chunks.push(chunk, GFP_KERNEL)?;
                }
            }
            Err(e) => {
                // The pooled chunks taken go back as they are.
                drop(pools.backing(chunks, pooled));
                return Err(e);
            }
        }
    }
    pools.backing(kvvec_fit(chunks), pooled)
}

impl PoolChunk for WcChunk {
    fn run(&self) -> PageRun<'_> {
        self.pages.run()
    }

    fn order(&self) -> u32 {
        self.pages.order()
    }

    fn is_exclusive(&self) -> bool {
        self.pages.is_exclusive()
    }

    fn zero(mut self) -> Option<Self> {
        // On x86 through the write-combined linear map, which leaves no
        // cache line (and the next locked instruction drains the
        // write-combining buffers: the pool's lock on the worker's path,
        // the buffer's export on an allocation's);
        // elsewhere through the cached one, whose lines are then written
        // back and invalidated.
        BuddyPages::zero(&mut self.pages);
        if !cfg!(target_arch = "x86_64") {
            // INVARIANT: A chunk whose lines could not be written back is
            // dropped here, so that it is in no buffer again.
            self.cache.writeback_invalidate(self.pages.run()).ok()?;
        }
        Some(self)
    }

    /// Switches every chunk back in [`TYPE_BATCH`]es; a chunk that could
    /// not be switched so tries again alone as it is dropped.
    ///
    /// # Safety
    ///
    /// As the trait's: the chunks are dropped right after, unused.
    unsafe fn before_free(chunks: &mut [Self]) {
        // The caller frees the chunks next, and nothing maps them: they may
        // be switched back now.
        if set_type(chunks.iter().map(|c| c.pages.run()), false).is_ok() {
            for chunk in chunks.iter_mut() {
                chunk.switched = false;
            }
        }
    }
}

// SAFETY: The run is always that of `pages`, which stays allocated until the
// chunk is dropped (type invariant); a chunk that code outside this file
// holds has pages fit to be mapped write-combined (type invariant).
unsafe impl BufferChunk for WcChunk {
    const WRITE_COMBINED: bool = true;
}

impl Drop for WcChunk {
    fn drop(&mut self) {
        // Switching back is idempotent: every try covers every page. If the
        // pages cannot be made write-back, they are leaked rather than
        // handed out cached elsewhere with a write-combined linear map.
        let freeable = !self.switched
            || (0..RESTORE_TRIES).any(|_| {
                cond_resched();
                set_type(core::iter::once(self.pages.run()), false).is_ok()
            });
        if freeable {
            // SAFETY: Dropped only here, once; `pages` is not used after.
            unsafe { ManuallyDrop::drop(&mut self.pages) };
        } else {
            pr_err!(
                "system-uncached: {} pages leaked (their memory type could not be restored)\n",
                self.pages.run().pages()
            );
        }
    }
}

/// The pages of a system-uncached buffer: write-combined chunks that go back
/// to the heap's pools, keeping their memory type, when it is released.
pub(crate) type WriteCombined = PooledPages<WcChunk>;

// Not an `InsertableBacking`, on any architecture: a page reached through
// `get_user_pages()` (which ordinary PTEs allow, GUP-fast even in a `VM_IO`
// mapping) can be mapped by the kernel with `vmap()` or `vm_map_ram()`
// (V4L2's `USERPTR`): a cached alias of write-combined memory. Processes
// map these pages as `VM_PFNMAP` only, whose special PTEs no pin gets past.
