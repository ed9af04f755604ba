// SPDX-License-Identifier: GPL-2.0

//! The memory behind a buffer, as the core sees it.
//!
//! A heap hands the core a [`Backing`]: a value that owns the buffer's
//! pages. Only the core implements the trait (it is `unsafe`, and `heaps/`
//! has no `unsafe`), for page owners whose guarantees it has checked:
//! [`KVVec<BuddyPages>`] here, `PooledPages` in `page_pool.rs`,
//! `WriteCombined` (`PooledPages` of `uncached.rs`'s `WcChunk`s) and
//! `CmaPages` in `cma.rs`.
//!
//! At export the core lists the runs of contiguous pages once
//! ([`BufferPages::new`]) and uses that list, never the backing, for every
//! table and mapping it builds: what it counts is what it fills.

use crate::{
    compat::ffi, //
    memory::page::{
        kvvec_may_fail,
        BuddyPages,
        PageRun,
        PAGE_SIZE, //
    },
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*,
    sync::Arc, //
};

/// An owner of a buffer's pages.
///
/// # Safety
///
/// Implementers guarantee that every page in the runs [`Backing::runs`]
/// returns stays allocated, and is used for nothing else, until the value is
/// dropped. The core maps these pages into devices, the kernel and processes
/// for as long as it holds the value, so a page freed or reused earlier would
/// be a use-after-free. (The core lists the runs once, so it does not rely
/// on later calls returning the same runs.)
///
/// An implementer that sets [`Backing::WRITE_COMBINED`] guarantees too that
/// its pages may be mapped write-combined for as long as it lives: their
/// cache lines hold nothing that memory lacks, and on x86 their memory type
/// is write-combining.
pub(crate) unsafe trait Backing: Send + Sync + 'static {
    /// Whether every CPU mapping of the pages (`mmap`, `vmap`) is
    /// write-combined rather than cached.
    const WRITE_COMBINED: bool = false;

    /// Whether every page has an address in the kernel's linear map
    /// (`page_address()`). A carveout's pages on x86 have none (a range
    /// taken out of RAM with `memmap=`), and swiotlb copies a bounced
    /// mapping through that address: the core refuses to attach such a
    /// buffer to a device whose every mapping bounces (`swiotlb=force`,
    /// SEV and TDX guests), rather than let the first map or sync fault in
    /// the kernel.
    const LINEAR_MAPPED: bool = true;

    /// The buffer's pages as runs of contiguous pages, in buffer order.
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_;
}

/// An owner of a buffer's pages whose pages a process may map as ordinary,
/// reference-counted pages (`vm_insert_pages()`), which direct I/O and
/// other `get_user_pages()` users can then reach.
///
/// # Safety
///
/// Implementers guarantee, besides [`Backing`]'s contract, that every page
/// of every run is part of a page the buddy allocator handed out whole (a
/// single page or a compound one, never slab, anonymous or typed memory),
/// holding a reference for as long as the value lives: a mapping takes and
/// drops references of its own, and the memory must not go back to the
/// allocator while the owner's reference remains. An owner must also be
/// ready for references to outlive it: what it frees is freed only on the
/// last put. And its pages are never write-combined: a pin of one (which
/// ordinary PTEs allow) could give the kernel a cached mapping of it.
pub(crate) unsafe trait InsertableBacking: Backing {}

// SAFETY: Every `BuddyPages` owns its pages until it is dropped (its type
// invariant), and the vector is never changed through a shared reference,
// so the runs are the same on every call.
unsafe impl Backing for KVVec<BuddyPages> {
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.iter().map(BuddyPages::run)
    }
}

/// One run of the core's own list; `struct rdh_page_run` to the C glue.
#[derive(Clone, Copy)]
#[repr(C)]
struct Run {
    first: NonNull<bindings::page>,
    count: usize,
    /// The buffer's page index of `first`.
    start: usize,
}

// `struct rdh_page_run` (glue/glue.h, `ffi::PageRunRaw`) is a page pointer
// and two `size_t`s, in this order, as `Run` is.
const _: () = assert!(core::mem::size_of::<Run>() == core::mem::size_of::<ffi::PageRunRaw>());
const _: () = assert!(
    core::mem::offset_of!(Run, first) == core::mem::offset_of!(ffi::PageRunRaw, first)
        && core::mem::offset_of!(Run, count) == core::mem::offset_of!(ffi::PageRunRaw, count)
        && core::mem::offset_of!(Run, start) == core::mem::offset_of!(ffi::PageRunRaw, start)
);

/// How many runs a buffer lists without an allocation of its own: a system
/// heap buffer of one chunk (4 KiB, 64 KiB, 1 MiB), and a CMA or carveout
/// buffer. (A second inline run would take the buffer's object past 256
/// bytes, into a 512-byte slab object.)
const INLINE_RUNS: usize = 1;

/// The core's list of a buffer's runs: inside the buffer for the few runs
/// of a small or contiguous one, else an array of its own.
///
/// # Invariants
///
/// `Inline`'s `len` is at most `INLINE_RUNS`; its runs past `len` are
/// placeholders, never handed out.
enum RunList {
    Inline {
        runs: [Run; INLINE_RUNS],
        len: usize,
    },
    Heap(KVVec<Run>),
}

impl RunList {
    /// A list with room for `count` runs.
    fn with_capacity(count: usize) -> Result<Self> {
        if count > INLINE_RUNS {
            return Ok(Self::Heap(kvvec_may_fail(count)?));
        }
        let unused = Run {
            first: NonNull::dangling(),
            count: 0,
            start: 0,
        };
        // INVARIANT: No run yet.
        Ok(Self::Inline {
            runs: [unused; INLINE_RUNS],
            len: 0,
        })
    }

    /// Adds `run`; `EINVAL` past the room asked for, if inline.
    fn push(&mut self, run: Run) -> Result {
        match self {
            Self::Inline { runs, len } => {
                *runs.get_mut(*len).ok_or(EINVAL)? = run;
                // INVARIANT: Checked to be below `INLINE_RUNS` just above.
                *len += 1;
                Ok(())
            }
            Self::Heap(v) => v.push(run, GFP_KERNEL).map_err(Into::into),
        }
    }

    fn as_slice(&self) -> &[Run] {
        match self {
            Self::Inline { runs, len } => &runs[..*len],
            Self::Heap(v) => v,
        }
    }
}

/// A buffer's pages, from export to release.
///
/// Only [`BufferPages::new`] makes one, from a [`Backing`] the core then
/// keeps; tables and mappings take a clone of the `Arc` so that the pages
/// outlive them.
///
/// # Invariants
///
/// `runs` lists the runs of `backing`, taken once, each with its first
/// page's index in the buffer (so in increasing order); each is non-empty
/// (a `PageRun` is), there is at least one, and their pages stay allocated
/// while `backing` lives (`Backing`'s contract). `pages` is their total, and
/// `pages * PAGE_SIZE` does not overflow.
pub(crate) struct BufferPages<B: Backing> {
    backing: Arc<B>,
    runs: RunList,
    pages: usize,
}

// SAFETY: The raw page pointers are only read; the pages themselves are
// owned by `backing`, which is `Send + Sync`.
unsafe impl<B: Backing> Send for BufferPages<B> {}
// SAFETY: As above; nothing is mutated through a shared reference.
unsafe impl<B: Backing> Sync for BufferPages<B> {}

impl<B: Backing> BufferPages<B> {
    /// Takes over `backing` and lists its runs.
    pub(crate) fn new(backing: B) -> Result<Self> {
        let backing = Arc::new(backing, GFP_KERNEL)?;
        let mut runs = RunList::with_capacity(backing.runs().count())?;
        let mut pages: usize = 0;
        for run in backing.runs() {
            let start = pages;
            pages = pages.checked_add(run.pages()).ok_or(ENOMEM)?;
            runs.push(Run {
                first: run.first(),
                count: run.pages(),
                start,
            })?;
        }
        if pages == 0 {
            return Err(EINVAL);
        }
        pages.checked_mul(PAGE_SIZE).ok_or(ENOMEM)?;
        // INVARIANT: `runs` was taken from `backing`, which we keep.
        Ok(Self {
            backing,
            runs,
            pages,
        })
    }

    /// The buffer's runs of contiguous pages, in buffer order.
    pub(crate) fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.runs.as_slice().iter().map(|r| {
            // SAFETY: By the type invariant the run's pages stay allocated
            // while `backing` lives, which is at least as long as `self`.
            unsafe { PageRun::from_raw(r.first, r.count) }
        })
    }

    /// The runs as they are stored, for the C glue to walk
    /// (`rdh_sg_fill()`, `rdh_vmap_runs()`): a pointer to that many runs
    /// laid out as `struct rdh_page_run`, the same runs
    /// [`BufferPages::runs`] gives. The first runs may be stored inside
    /// `self`, so the pointer is valid only while `self` stays borrowed
    /// (which also keeps it from moving): for the C call it is taken for.
    pub(crate) fn raw_runs(&self) -> (*const ffi::PageRunRaw, usize) {
        let runs = self.runs.as_slice();
        (runs.as_ptr().cast(), runs.len())
    }

    /// The buffer's `index`th page, or `None` past its end: a binary
    /// search of the runs (a 4 GiB buffer of single pages has a million).
    pub(crate) fn page(&self, index: usize) -> Option<NonNull<bindings::page>> {
        let runs = self.runs.as_slice();
        let after = runs.partition_point(|r| r.start <= index);
        let r = runs.get(after.checked_sub(1)?)?;
        // SAFETY: By the type invariant the run's pages stay allocated
        // while `backing` lives, which is at least as long as `self`.
        let run = unsafe { PageRun::from_raw(r.first, r.count) };
        NonNull::new(run.page_ptr(index - r.start)?)
    }

    /// The buffer's size in pages.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// The buffer's size in bytes (checked not to overflow at creation).
    pub(crate) fn size(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// A reference that keeps the pages alive, for a table or a mapping.
    pub(crate) fn keep_alive(&self) -> Arc<B> {
        self.backing.clone()
    }
}
