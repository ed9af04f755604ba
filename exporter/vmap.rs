// SPDX-License-Identifier: GPL-2.0

//! A buffer's mapping into the kernel's address space (`vmap`).
//!
//! A child of `dma_buf.rs`: the core counts `vmap`/`vunmap` calls and maps
//! and unmaps, under the buffer's lock (`mappings.rs`); heaps never see a
//! kernel address.

use crate::{
    compat::ffi, //
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
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    sync::Arc, //
};

/// All pages of a buffer mapped contiguously into kernel virtual memory.
///
/// # Invariants
///
/// `addr` is the start of a contiguous, cached or (if the backing says so)
/// write-combined mapping of the `len` bytes of `_pages`, which this value
/// keeps alive: a `vmap()` of them if `vmapped`, unmapped on drop, else
/// their range of the kernel's linear map.
struct KernelMapping<B: Backing> {
    addr: NonNull<c_void>,
    len: usize,
    vmapped: bool,
    _pages: Arc<B>,
}

// SAFETY: The mapping may be torn down from any thread.
unsafe impl<B: Backing> Send for KernelMapping<B> {}
// SAFETY: Shared access only does cache maintenance on the range.
unsafe impl<B: Backing> Sync for KernelMapping<B> {}

/// The largest range one cache-maintenance call takes (its size is an
/// `int`), whole pages.
const MAX_MAINTAIN: usize = (i32::MAX as usize) & !(PAGE_SIZE - 1);

impl<B: Backing> KernelMapping<B> {
    /// Maps every page of `pages`.
    ///
    /// A buffer of one run of cached pages in the linear map (a CMA
    /// buffer, a carveout's outside x86, a system-heap buffer of one chunk)
    /// is mapped contiguously there already: that address serves, with no
    /// page array to build, no vmalloc space taken and nothing to tear
    /// down. (Upstream's heaps build a page array and `vmap()` it for
    /// every buffer.)
    fn new(pages: &BufferPages<B>) -> Result<Self> {
        if let Some(addr) = Self::linear(pages) {
            // INVARIANT: `addr` starts the linear map's range of the single
            // run, of `pages.size()` bytes, kept alive.
            return Ok(Self {
                addr,
                len: pages.size(),
                vmapped: false,
                _pages: pages.keep_alive(),
            });
        }
        let count = pages.pages();
        let nr = u32::try_from(count).map_err(|_| ENOMEM)?;
        // Room for the page pointers `vmap()` takes, filled in C from the
        // runs in one call and dropped once the mapping is made.
        let mut scratch = KVVec::<*mut bindings::page>::with_capacity(count, GFP_KERNEL)?;
        let (runs, nr_runs) = pages.raw_runs();
        // SAFETY: `scratch` has room for `nr` pointers (written, never read
        // back here); `runs` is the buffer's `nr_runs` runs, `nr` pages in
        // all, which `pages` keeps alive for as long as the mapping (we keep
        // a reference); they may be mapped write-combined if the backing
        // says so (`Backing`'s contract).
        let addr = unsafe {
            ffi::rdh_vmap_runs(scratch.as_mut_ptr(), runs, nr_runs, nr, B::WRITE_COMBINED)
        };
        let addr = NonNull::new(addr).ok_or(ENOMEM)?;
        // INVARIANT: `addr` maps the `len` bytes of `pages`, kept alive.
        Ok(Self {
            addr,
            len: count * PAGE_SIZE,
            vmapped: true,
            _pages: pages.keep_alive(),
        })
    }

    /// The linear-map address of `pages`, if they are one run of cached
    /// pages that the linear map holds (not highmem, not a carveout taken
    /// out of RAM).
    fn linear(pages: &BufferPages<B>) -> Option<NonNull<c_void>> {
        if B::WRITE_COMBINED || !B::LINEAR_MAPPED {
            return None;
        }
        let mut runs = pages.runs();
        let run = runs.next()?;
        if runs.next().is_some() {
            return None;
        }
        // SAFETY: `run.first()` is a page the buffer keeps allocated.
        NonNull::new(unsafe { ffi::rdh_lowmem_address(run.first().as_ptr()) })
    }

    /// Runs `f` on the whole mapping, in pieces the C calls can take. Not
    /// on the linear map: it is no alias, and the DMA API's syncs maintain
    /// it.
    fn for_each_piece(&self, f: unsafe extern "C" fn(*mut c_void, c_int)) {
        if !self.vmapped {
            return;
        }
        let mut off = 0;
        while off < self.len {
            let len = (self.len - off).min(MAX_MAINTAIN);
            // SAFETY: `[addr + off, addr + off + len)` lies inside our live
            // mapping (type invariant), and `len` fits an `int`.
            unsafe { f(self.addr.as_ptr().byte_add(off), len as c_int) };
            off += len;
        }
    }

    /// Makes what devices wrote visible through the mapping (discards the
    /// CPU's cached view where caches are not coherent).
    fn invalidate(&self) {
        self.for_each_piece(ffi::rdh_invalidate_kernel_vmap_range);
    }

    /// Writes what the CPU wrote through the mapping back to memory.
    fn flush(&self) {
        self.for_each_piece(ffi::rdh_flush_kernel_vmap_range);
    }
}

impl<B: Backing> Drop for KernelMapping<B> {
    fn drop(&mut self) {
        if self.vmapped {
            // SAFETY: `addr` came from `vmap()` (type invariant) and is
            // unmapped only here.
            unsafe { ffi::rdh_vunmap(self.addr.as_ptr()) };
        }
    }
}

/// A buffer's kernel mapping, shared by every `vmap` caller and torn down by
/// the last `vunmap`; guarded by the buffer's lock (`mappings.rs`).
pub(super) struct SharedVmap<B: Backing> {
    users: usize,
    mapping: Option<KernelMapping<B>>,
}

impl<B: Backing> SharedVmap<B> {
    pub(super) const fn new() -> Self {
        Self {
            users: 0,
            mapping: None,
        }
    }

    /// Maps the buffer on first use; later calls share the mapping. Returns
    /// the address, valid until the matching [`SharedVmap::put`], and
    /// whether this call made the mapping.
    pub(super) fn get(&mut self, pages: &BufferPages<B>) -> Result<(NonNull<c_void>, bool)> {
        let (addr, first) = match &self.mapping {
            Some(m) => (m.addr, false),
            None => {
                let m = KernelMapping::new(pages)?;
                let addr = m.addr;
                self.mapping = Some(m);
                (addr, true)
            }
        };
        self.users += 1;
        Ok((addr, first))
    }

    /// Drops one user; the last one unmaps. Returns whether it did.
    pub(super) fn put(&mut self) -> bool {
        self.users = self.users.saturating_sub(1);
        self.users == 0 && self.mapping.take().is_some()
    }

    /// Before CPU access: see what devices wrote (as upstream's heaps, in
    /// every direction). Nothing to do when unmapped.
    pub(super) fn sync_for_cpu(&self) {
        if let Some(m) = &self.mapping {
            m.invalidate();
        }
    }

    /// After CPU access: write back what the CPU wrote (in every direction,
    /// as upstream's heaps). Nothing to do when unmapped.
    pub(super) fn sync_for_device(&self) {
        if let Some(m) = &self.mapping {
            m.flush();
        }
    }
}
