// SPDX-License-Identifier: GPL-2.0

//! Mapping a buffer's pages for the CPU: into the kernel's address space
//! (`vmap`) and into a process (`mmap`).

use crate::dma_buf::{Backing, BufferPages};
use crate::ffi;
use crate::page::PAGE_SIZE;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::c_void;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use kernel::types::Opaque;

/// A kernel virtual address handed to an importer by `vmap`.
///
/// Only [`KernelMapping`] makes one.
#[derive(Clone, Copy)]
pub(crate) struct KernelAddress(NonNull<c_void>);

impl KernelAddress {
    pub(crate) fn as_raw(self) -> *mut c_void {
        self.0.as_ptr()
    }
}

/// All pages of a buffer mapped contiguously into kernel virtual memory.
///
/// # Invariants
///
/// `addr` is the start of a `vmap()` of the `len` bytes of `_pages`, which
/// this value keeps alive; it is unmapped on drop.
pub(crate) struct KernelMapping<B: Backing> {
    addr: NonNull<c_void>,
    len: usize,
    _pages: Arc<B>,
}

// SAFETY: the mapping may be torn down from any thread.
unsafe impl<B: Backing> Send for KernelMapping<B> {}
// SAFETY: shared access only does cache maintenance on the range.
unsafe impl<B: Backing> Sync for KernelMapping<B> {}

impl<B: Backing> KernelMapping<B> {
    /// Maps every page of `pages`.
    pub(crate) fn new(pages: &BufferPages<B>) -> Result<Self> {
        let count: usize = pages.runs().map(|r| r.pages()).sum();
        let mut array = KVVec::with_capacity(count, GFP_KERNEL)?;
        for run in pages.runs() {
            for n in 0..run.pages() {
                if let Some(page) = run.page_ptr(n) {
                    array.push(page, GFP_KERNEL)?;
                }
            }
        }
        let nr = u32::try_from(array.len()).map_err(|_| ENOMEM)?;
        // SAFETY: `array` holds `nr` valid pages, which `pages` keeps alive
        // for as long as the mapping (we hold its `Arc`).
        let addr = unsafe { ffi::rdh_vmap(array.as_mut_ptr(), nr) };
        let addr = NonNull::new(addr).ok_or(ENOMEM)?;
        // INVARIANT: `addr` maps the `len` bytes of `pages`, kept alive.
        Ok(Self {
            addr,
            len: array.len() * PAGE_SIZE,
            _pages: pages.arc().clone(),
        })
    }

    /// The address to hand to an importer.
    pub(crate) fn address(&self) -> KernelAddress {
        KernelAddress(self.addr)
    }

    /// Discards the CPU's cached view of the mapping before the CPU reads
    /// what a device wrote (a no-op where caches are coherent).
    pub(crate) fn invalidate(&self) {
        // SAFETY: the range is our live mapping (type invariant).
        unsafe { ffi::rdh_invalidate_kernel_vmap_range(self.addr.as_ptr(), self.len_c()) };
    }

    /// Writes the mapping's dirty cache lines back before a device reads.
    pub(crate) fn flush(&self) {
        // SAFETY: the range is our live mapping (type invariant).
        unsafe { ffi::rdh_flush_kernel_vmap_range(self.addr.as_ptr(), self.len_c()) };
    }

    fn len_c(&self) -> i32 {
        i32::try_from(self.len).unwrap_or(i32::MAX)
    }
}

impl<B: Backing> Drop for KernelMapping<B> {
    fn drop(&mut self) {
        // SAFETY: `addr` came from `vmap()` and is unmapped only here.
        unsafe { ffi::rdh_vunmap(self.addr.as_ptr()) };
    }
}

/// A process's mapping of a dma-buf, while the buffer's `mmap` runs.
///
/// # Invariants
///
/// Wraps a `vm_area_struct` that the dma-buf core is setting up for this
/// buffer's file (so the mapping keeps the buffer alive), with the mmap lock
/// held, for as long as the reference lives.
#[repr(transparent)]
pub(crate) struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// # Safety
    ///
    /// `ptr` must be a VMA being set up by the dma-buf core's `mmap` for the
    /// buffer whose pages will be mapped into it, valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `Vma` is a transparent wrapper; validity is the caller's
        // guarantee.
        unsafe { &*ptr.cast() }
    }

    fn raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// The first user address of the mapping.
    pub(crate) fn start(&self) -> usize {
        // SAFETY: the VMA is valid (type invariant) and its range is stable
        // while the mmap lock is held.
        unsafe { (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// One past the last user address of the mapping.
    pub(crate) fn end(&self) -> usize {
        // SAFETY: as in `start`.
        unsafe { (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// The offset into the buffer, in pages.
    pub(crate) fn pgoff(&self) -> usize {
        // SAFETY: as in `start`.
        unsafe { (*self.raw()).vm_pgoff }
    }

    /// Whether the mapping is shared (`MAP_SHARED`, even of a read-only
    /// file) rather than private.
    pub(crate) fn is_shared(&self) -> bool {
        // SAFETY: the VMA is valid (type invariant).
        unsafe { ffi::rdh_vma_is_shared(self.raw()) }
    }

    /// Maps the buffer's pages from `vm_pgoff` on, one `remap_pfn_range()`
    /// per contiguous run: no page faults later, and (as `VM_PFNMAP`) not
    /// counted in anyone's RSS. A mapping past the buffer's end is `EINVAL`.
    ///
    /// A private (copy-on-write) mapping larger than one page is `EINVAL`
    /// too, whatever the buffer's layout: `remap_pfn_range()` maps a private
    /// VMA only whole, in one call, which a buffer made of several runs
    /// cannot do. Upstream's system heap, remapping page by page, fails the
    /// same way (its CMA heap refuses every private mapping).
    pub(crate) fn map_pages<B: Backing>(&self, pages: &BufferPages<B>) -> Result {
        let (mut addr, end) = (self.start(), self.end());
        if !self.is_shared() && end - addr > PAGE_SIZE {
            return Err(EINVAL);
        }
        let mut skip = self.pgoff();
        for run in pages.runs() {
            if addr >= end {
                break;
            }
            let Some(run) = run.skip(skip) else {
                skip -= run.pages();
                continue;
            };
            skip = 0;
            let len = run.bytes().min(end - addr);
            let Some(page) = run.page_ptr(0) else { break };
            // SAFETY: the VMA is being set up for the buffer that owns
            // `pages` (type invariant), so the mapping keeps them alive;
            // `[addr, addr + len)` lies inside the VMA and `len` bytes from
            // `page` lie inside one contiguous run.
            let ret = unsafe { ffi::rdh_remap_pages(self.raw(), addr as _, page, len as _) };
            kernel::error::to_result(ret)?;
            addr += len;
        }
        if addr < end {
            return Err(EINVAL);
        }
        Ok(())
    }
}

/// A buffer's kernel mapping, shared by every `vmap` caller and torn down by
/// the last `vunmap`.
#[pin_data]
pub(crate) struct SharedVmap<B: Backing> {
    #[pin]
    state: Mutex<VmapState<B>>,
}

struct VmapState<B: Backing> {
    users: usize,
    mapping: Option<KernelMapping<B>>,
}

impl<B: Backing> SharedVmap<B> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(VmapState { users: 0, mapping: None }),
        })
    }

    /// Maps the buffer on first use; later calls share the mapping.
    pub(crate) fn get(&self, pages: &BufferPages<B>) -> Result<KernelAddress> {
        let mut state = self.state.lock();
        let addr = match &state.mapping {
            Some(m) => m.address(),
            None => {
                let m = KernelMapping::new(pages)?;
                let addr = m.address();
                state.mapping = Some(m);
                addr
            }
        };
        state.users += 1;
        Ok(addr)
    }

    /// Drops one user; the last one unmaps.
    pub(crate) fn put(&self) {
        let mut state = self.state.lock();
        state.users = state.users.saturating_sub(1);
        if state.users == 0 {
            state.mapping = None;
        }
    }

    /// See [`KernelMapping::invalidate`]; nothing to do when unmapped.
    pub(crate) fn invalidate(&self) {
        if let Some(m) = &self.state.lock().mapping {
            m.invalidate();
        }
    }

    /// See [`KernelMapping::flush`]; nothing to do when unmapped.
    pub(crate) fn flush(&self) {
        if let Some(m) = &self.state.lock().mapping {
            m.flush();
        }
    }
}
