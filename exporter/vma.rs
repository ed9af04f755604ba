// SPDX-License-Identifier: GPL-2.0

//! Mapping a buffer into a process (`mmap`).
//!
//! A child of `dma_buf.rs`. A heap's `mmap` hook gets an [`MmapRequest`]:
//! it may look at the request and then either refuse it or map it, once,
//! with the buffer's own pages.

use crate::{
    compat::ffi, //
    memory::{
        buffer::{
            Backing,
            BufferPages,
            InsertableBacking, //
        },
        page::{
            cond_resched,
            PageRun,
            PAGE_SIZE, //
        }, //
    },
};
use kernel::{
    bindings,
    ffi::c_ulong,
    prelude::*,
    types::Opaque, //
};

/// A process's mapping of a dma-buf, while the buffer's `mmap` runs.
///
/// # Invariants
///
/// Wraps a `vm_area_struct` that the dma-buf core is setting up for this
/// buffer's file (so the mapping keeps the buffer alive), with the mmap lock
/// held, for as long as the reference lives; the core has checked that it
/// does not extend past the buffer.
#[repr(transparent)]
pub(super) struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// # Safety
    ///
    /// `ptr` must be a VMA being set up by the dma-buf core's `mmap` for the
    /// buffer whose pages will be mapped into it, valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `Vma` is a transparent wrapper; validity is the caller's
        // guarantee.
        unsafe { &*ptr.cast() }
    }

    fn raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    fn start(&self) -> usize {
        // SAFETY: The VMA is valid (type invariant) and its range is stable
        // while the mmap lock is held.
        unsafe { (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    fn end(&self) -> usize {
        // SAFETY: As in `start`.
        unsafe { (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// The offset into the buffer, in pages.
    fn pgoff(&self) -> usize {
        // SAFETY: As in `start`.
        unsafe { (*self.raw()).vm_pgoff }
    }

    fn flags(&self) -> c_ulong {
        // SAFETY: As in `start`; the flags only change under the mmap lock,
        // which is held.
        unsafe { (*self.raw()).__bindgen_anon_2.vm_flags }
    }

    /// Shared (`MAP_SHARED`, even of a read-only file) rather than private.
    fn is_shared(&self) -> bool {
        self.flags() & (bindings::VM_SHARED | bindings::VM_MAYSHARE) as c_ulong != 0
    }

    /// A private mapping that may become writable: its pages would be
    /// copied on write (`is_cow_mapping()`).
    fn is_cow(&self) -> bool {
        let f = self.flags();
        f & (bindings::VM_SHARED | bindings::VM_MAYWRITE) as c_ulong
            == (bindings::VM_MAYWRITE) as c_ulong
    }

    /// Gives the mapping, once made, the core's `vm_operations`, and counts
    /// it as one of the buffer's mappings (a copy counts through `open`,
    /// and every one goes through `close`). `pages`: its pages are ordinary
    /// pages of the buffer (`vm_insert_pages()`), which its fault handler
    /// maps again once zapped; else (`VM_PFNMAP`) it has no fault handler.
    fn set_ops(&self, pages: bool) {
        // SAFETY: The VMA is being set up under the mmap lock (type
        // invariant); its file is the buffer's, set by the dma-buf core, so
        // the operations find the buffer through it, for as long as the VMA
        // (which holds the file) lives.
        unsafe { ffi::rdh_vma_set_ops(self.raw(), pages) };
    }

    /// Makes the mapping write-combined, before any page is in it.
    fn set_writecombine(&self) {
        // SAFETY: The VMA is being set up, under the mmap lock (type
        // invariant), which is when its protection may be changed; nothing
        // is mapped in it yet.
        unsafe { ffi::rdh_vma_set_writecombine(self.raw()) };
    }

    /// Maps `len` bytes of `run` at `addr`, as `VM_PFNMAP`.
    ///
    /// `remap_pfn_range()` over a whole shared VMA takes x86 PAT's whole-VMA
    /// tracking, and if it then fails part-way (a page table cannot be
    /// allocated), 6.12 tears it down through a path that WARNs in
    /// `untrack_pfn()`, as fault injection showed. So a shared VMA is never
    /// handed to it whole: the first page of a multi-page VMA is mapped on
    /// its own, and a one-page VMA with `vmf_insert_pfn()`. A private (COW)
    /// mapping must be remapped whole or not at all (`remap_pfn_range()`
    /// refuses part of one); only one-page ones get here.
    fn remap(&self, addr: usize, run: PageRun<'_>, len: usize) -> Result {
        let whole = addr == self.start() && len == self.end() - self.start();
        if self.is_cow() || !whole {
            return self.remap_pfn_range(addr, run.pfn(), len);
        }
        if len > PAGE_SIZE {
            self.remap_pfn_range(addr, run.pfn(), PAGE_SIZE)?;
            return self.remap_pfn_range(addr + PAGE_SIZE, run.pfn() + 1, len - PAGE_SIZE);
        }
        let flags =
            bindings::VM_IO | bindings::VM_PFNMAP | bindings::VM_DONTEXPAND | bindings::VM_DONTDUMP;
        // SAFETY: The VMA is being set up, under the mmap lock (type
        // invariant), which is when its flags may be changed.
        unsafe { ffi::rdh_vm_flags_set(self.raw(), flags as c_ulong) };
        // SAFETY: `addr` is the VMA's one page and `run` a page of the buffer
        // it maps, kept alive by the mapping (type invariant).
        let fault = unsafe { bindings::vmf_insert_pfn(self.raw(), addr, run.pfn()) };
        match fault {
            bindings::vm_fault_reason_VM_FAULT_NOPAGE => Ok(()),
            f if f & bindings::vm_fault_reason_VM_FAULT_OOM != 0 => Err(ENOMEM),
            _ => Err(EFAULT),
        }
    }

    /// Maps the pages of `run` from `addr` as ordinary pages, each
    /// referenced by the mapping.
    ///
    /// # Safety
    ///
    /// The pages must be whole buddy-allocator pages that stay referenced
    /// by their owner while the VMA lives (`InsertableBacking`), and
    /// `[addr, addr + run.bytes())` must lie inside the VMA.
    unsafe fn insert_pages(&self, addr: usize, run: PageRun<'_>) -> Result {
        // SAFETY: The VMA is being set up under the mmap lock (type
        // invariant); the run's pages lie inside it and are ours to map
        // (the function's safety requirements).
        let ret = unsafe {
            ffi::rdh_vm_insert_run(
                self.raw(),
                addr as c_ulong,
                run.first().as_ptr(),
                run.pages() as c_ulong,
            )
        };
        kernel::error::to_result(ret)
    }

    fn remap_pfn_range(&self, addr: usize, pfn: usize, len: usize) -> Result {
        // SAFETY: `[addr, addr + len)` lies inside the VMA, which is being
        // set up under the mmap lock, and the `len` bytes from `pfn` are
        // contiguous pages of the buffer it maps, which the mapping keeps
        // alive (type invariant). `vm_page_prot` is read under the same lock.
        let ret = unsafe {
            bindings::remap_pfn_range(self.raw(), addr, pfn, len, (*self.raw()).vm_page_prot)
        };
        kernel::error::to_result(ret)
    }
}

/// A request to map a buffer into a process, handed to a heap's `mmap`.
///
/// It can be inspected, and mapped at most once ([`MmapRequest::map`]
/// consumes it); it only ever maps the pages of the buffer being mapped.
pub(crate) struct MmapRequest<'a, B: Backing> {
    vma: &'a Vma,
    pages: &'a BufferPages<B>,
}

impl<'a, B: Backing> MmapRequest<'a, B> {
    pub(super) fn new(vma: &'a Vma, pages: &'a BufferPages<B>) -> Self {
        Self { vma, pages }
    }

    /// Whether the mapping is shared (`MAP_SHARED`) rather than private.
    pub(crate) fn is_shared(&self) -> bool {
        self.vma.is_shared()
    }

    /// The runs of the buffer's pages that the mapping covers, from its
    /// `vm_pgoff` on, each cut to what is left of the mapping. They cover
    /// less than the mapping if the buffer ends first.
    fn covered_runs(&self) -> impl Iterator<Item = PageRun<'a>> + 'a {
        let skip = self.vma.pgoff();
        let left = (self.vma.end() - self.vma.start()) / PAGE_SIZE;
        let runs = self.pages.runs().scan((skip, left), |(skip, left), run| {
            if *left == 0 {
                return None;
            }
            let Some(run) = run.skip(*skip) else {
                *skip -= run.pages();
                return Some(None);
            };
            *skip = 0;
            let run = run.take(*left);
            *left -= run.pages();
            Some(Some(run))
        });
        runs.flatten()
    }

    /// Like [`MmapRequest::map`], but a private mapping of any size is
    /// `EINVAL`: the rule of upstream's CMA heap, for buffers that devices
    /// share with the CPU and that a copy-on-write page would fork.
    pub(crate) fn map_shared(self) -> Result {
        if !self.is_shared() {
            return Err(EINVAL);
        }
        self.map()
    }

    /// Maps the buffer's pages from `vm_pgoff` on, one `remap_pfn_range()`
    /// per contiguous run: no page faults later, and (as `VM_PFNMAP`) not
    /// counted in anyone's RSS.
    ///
    /// A private mapping of more than one page is `EINVAL`, always: 6.12's
    /// `remap_pfn_range()` refuses to map part of one, so upstream's heaps
    /// fail such mappings (or, for a buffer of one contiguous run, succeed
    /// by chance). A private mapping of a write-combined backing is
    /// `EINVAL` whatever its size: its copy-on-write page would be an
    /// ordinary cached page mapped write-combined. A mapping past the
    /// buffer's end is `EINVAL` too (the dma-buf core has already refused
    /// those).
    pub(crate) fn map(self) -> Result {
        let vma = self.vma;
        let (mut addr, end) = (vma.start(), vma.end());
        if !vma.is_shared() && (B::WRITE_COMBINED || end - addr > PAGE_SIZE) {
            return Err(EINVAL);
        }
        if B::WRITE_COMBINED {
            vma.set_writecombine();
        }
        for run in self.covered_runs() {
            vma.remap(addr, run, run.bytes())?;
            addr += run.bytes();
            cond_resched();
        }
        if addr < end {
            return Err(EINVAL);
        }
        vma.set_ops(false);
        Ok(())
    }
}

impl<'a, B: InsertableBacking> MmapRequest<'a, B> {
    /// Like [`MmapRequest::map`], but a shared mapping gets the pages as
    /// ordinary, reference-counted pages (`vm_insert_pages()`, all at once:
    /// no faults later) rather than as `VM_PFNMAP`. Direct I/O and every
    /// other `get_user_pages()` user can then reach them; such a mapping
    /// counts in the process's RSS as a shared file mapping does.
    ///
    /// As with `map`, the mapping can neither grow (`VM_DONTEXPAND`) nor be
    /// dumped (`VM_DONTDUMP`). Unlike `map`'s, its pages can be zapped
    /// (`MADV_DONTNEED`); a fault maps them again. A private mapping is
    /// `map`'s.
    pub(crate) fn map_pages(self) -> Result {
        let vma = self.vma;
        if !vma.is_shared() {
            return self.map();
        }
        let (start, end) = (vma.start(), vma.end());
        if B::WRITE_COMBINED {
            vma.set_writecombine();
        }
        let flags = bindings::VM_DONTEXPAND | bindings::VM_DONTDUMP;
        // SAFETY: The VMA is being set up, under the mmap lock (type
        // invariant), which is when its flags may be changed.
        unsafe { ffi::rdh_vm_flags_set(vma.raw(), flags as c_ulong) };

        let mut addr = start;
        for run in self.covered_runs() {
            // SAFETY: `B: InsertableBacking`, and the buffer's pages outlive
            // the mapping (type invariant); `run` is cut to what is left of
            // the VMA.
            unsafe { vma.insert_pages(addr, run)? };
            addr += run.bytes();
        }
        if addr < end {
            return Err(EINVAL);
        }
        // A page zapped later (`MADV_DONTNEED`) faults back in: the fault
        // handler maps the buffer's page at that offset again, so no access
        // ever gets SIGBUS. (`VM_PFNMAP` mappings, `map`'s, cannot be
        // zapped that way: the kernel refuses with `EINVAL`.)
        vma.set_ops(true);
        Ok(())
    }
}
