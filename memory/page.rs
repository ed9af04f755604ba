// SPDX-License-Identifier: GPL-2.0

//! Pages from the buddy allocator, and runs of contiguous pages.

use crate::{
    compat::ffi,
    stats::ledger, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    prelude::*, //
};

/// The size of a page, in bytes.
pub(crate) const PAGE_SIZE: usize = kernel::page::PAGE_SIZE;

/// A run of physically contiguous pages, borrowed from their owner.
///
/// # Invariants
///
/// `first` points to the first of `count` (> 0) physically contiguous pages
/// that stay allocated for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct PageRun<'a> {
    first: NonNull<bindings::page>,
    count: usize,
    _owner: PhantomData<&'a ()>,
}

impl<'a> PageRun<'a> {
    /// Creates a run.
    ///
    /// # Safety
    ///
    /// `first` must point to the first of `count` physically contiguous
    /// pages that stay allocated for `'a`, and `count` must be non-zero.
    pub(crate) unsafe fn from_raw(first: NonNull<bindings::page>, count: usize) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            first,
            count,
            _owner: PhantomData,
        }
    }

    /// The number of pages in the run.
    pub(crate) fn pages(&self) -> usize {
        self.count
    }

    /// The length of the run in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.count * PAGE_SIZE
    }

    /// The first page.
    pub(crate) fn first(&self) -> NonNull<bindings::page> {
        self.first
    }

    /// The `n`th page of the run, as a raw pointer for the C side.
    ///
    /// Returns `None` past the end of the run.
    pub(crate) fn page_ptr(&self, n: usize) -> Option<*mut bindings::page> {
        if n >= self.count {
            return None;
        }
        // SAFETY: By the type invariant the run holds `count` contiguous
        // pages, and `n` is within it.
        Some(unsafe { ffi::rdh_nth_page(self.first.as_ptr(), n) })
    }

    /// The run from its `n`th page on, or `None` if `n` is past its end.
    pub(crate) fn skip(&self, n: usize) -> Option<PageRun<'a>> {
        let first = NonNull::new(self.page_ptr(n)?)?;
        // INVARIANT: The tail of a contiguous run is a contiguous run with the
        // same owner; `n < count`, so it is non-empty.
        Some(Self {
            first,
            count: self.count - n,
            _owner: PhantomData,
        })
    }

    /// The first `n` pages of the run (all of it if `n` is larger).
    pub(crate) fn take(&self, n: usize) -> PageRun<'a> {
        // INVARIANT: A non-empty prefix of a contiguous run is contiguous.
        Self {
            first: self.first,
            count: n.clamp(1, self.count),
            _owner: PhantomData,
        }
    }

    /// The page frame number of the first page.
    pub(crate) fn pfn(&self) -> usize {
        // SAFETY: `first` is a valid page (type invariant).
        unsafe { ffi::rdh_page_to_pfn(self.first.as_ptr()) as usize }
    }
}

/// How hard an allocation may try before it fails: the allocator's retry
/// modifiers, `__GFP_NORETRY` and `__GFP_RETRY_MAYFAIL`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// `__GFP_NORETRY`, and no reclaim at all (neither direct nor by
    /// waking kswapd): try once, no warning. For high orders, where a failure just means falling back
    /// to a smaller order (upstream's system heap asks the same).
    NoRetry,
    /// `__GFP_RETRY_MAYFAIL`: reclaim, compact and swap, but fail rather
    /// than call the OOM killer: a heap buffer is charged to no process, so
    /// the killer would pick an innocent one. A failure is an ordinary
    /// `ENOMEM` for the caller, so it is not warned about either.
    MayFail,
}

/// Whom the pages are charged to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Memcg {
    /// Nobody: the heap's own figures count them.
    Uncharged,
    /// The allocating task's memory cgroup (`__GFP_ACCOUNT`), until the
    /// pages are freed, by whichever task drops the last reference. Past
    /// the cgroup's `memory.max` the allocation fails (with
    /// [`Retry::MayFail`], without the cgroup's OOM killer).
    Caller,
}

/// Which memory a heap's pages may come from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// Any, highmem included.
    Any,
    /// Below 4 GiB (`ZONE_DMA32`, and `ZONE_DMA` under it), where a device
    /// with a 32-bit DMA mask reaches it without bounce buffers or an
    /// IOMMU. Where the kernel has no `ZONE_DMA32`, any low memory.
    Dma32,
}

/// The GFP flags the allocator gets for a heap's pages.
fn gfp(order: u32, retry: Retry, memcg: Memcg, zone: Zone) -> bindings::gfp_t {
    let f = ffi::gfp();
    let mut gfp = match zone {
        Zone::Any => f.highuser,
        Zone::Dma32 => f.user | f.dma32,
    } | f.zero
        | f.nowarn;
    if memcg == Memcg::Caller {
        gfp |= f.account;
    }
    gfp = match retry {
        Retry::NoRetry => (gfp | f.noretry) & !f.reclaim,
        Retry::MayFail => gfp | f.retry_mayfail,
    };
    if order > 0 {
        gfp |= f.comp;
    }
    gfp
}

/// An empty [`KVVec`] with room for `capacity` elements, allocated the way
/// `KVVec` allocates (`kvmalloc()`, and freed or grown with `kvfree()` and
/// `kvrealloc()`) but with [`Retry::MayFail`]: it may reclaim, and fails
/// with `ENOMEM` rather than call the OOM killer. For the bookkeeping of a
/// heap's allocation and of its page pools, which with memory short would
/// otherwise kill a process over memory that is in no process.
pub(crate) fn kvvec_may_fail<T>(capacity: usize) -> Result<KVVec<T>> {
    // `kvmalloc()` memory is aligned to at least 8 bytes.
    if core::mem::align_of::<T>() > 8 {
        return Err(EINVAL);
    }
    let bytes = capacity
        .checked_mul(core::mem::size_of::<T>())
        .ok_or(ENOMEM)?;
    if bytes == 0 {
        return Ok(KVVec::new());
    }
    // SAFETY: Any size may be asked for; NULL is returned on failure.
    let ptr = unsafe { ffi::rdh_kvmalloc_mayfail(bytes) }.cast::<T>();
    if ptr.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `ptr` is `kvmalloc()` memory for `capacity` elements of `T`,
    // aligned for it (checked above), as `KVVec`'s allocator (`KVmalloc`)
    // would have allocated them, and it frees and resizes it with
    // `kvfree()` and `kvrealloc()`; no element is initialised (length 0).
    Ok(unsafe { KVVec::from_raw_parts(ptr, 0, capacity) })
}

/// Below this much unused room a list is left as it is: a smaller
/// allocation would save less than it costs.
const FIT_MIN_SPARE: usize = 128;

/// `v` moved into a vector of its own length, where the room it does not
/// use is [`FIT_MIN_SPARE`] bytes or more and a new vector can be had
/// without calling the OOM killer; else `v` as it is. For lists sized for
/// the worst case that then live as long as a buffer.
pub(crate) fn kvvec_fit<T>(v: KVVec<T>) -> KVVec<T> {
    if (v.capacity() - v.len()).saturating_mul(core::mem::size_of::<T>()) < FIT_MIN_SPARE {
        return v;
    }
    let Ok(mut fit) = kvvec_may_fail::<T>(v.len()) else {
        return v;
    };
    for x in v {
        // Within the capacity just made: `push` neither allocates nor
        // fails, so no element is dropped here.
        let _ = fit.push(x, GFP_KERNEL);
    }
    fit
}

/// `2^order` zeroed, physically contiguous pages from the buddy allocator,
/// freed on drop.
///
/// The pages are counted in the ledger's `buddy` (`ledger.rs`) from their
/// allocation until they are freed: forever, if the value is leaked.
///
/// # Invariants
///
/// `page` was returned by `alloc_pages()` for `order` and is owned by this
/// value; its `2^order` pages are counted in [`ledger::BUDDY`].
pub(crate) struct BuddyPages {
    page: NonNull<bindings::page>,
    order: u32,
}

// SAFETY: The pages are plain memory owned by this value; any thread may
// free them.
unsafe impl Send for BuddyPages {}
// SAFETY: Shared access only reads the pointer and the order.
unsafe impl Sync for BuddyPages {}

impl BuddyPages {
    /// The largest order the buddy allocator hands out.
    pub(crate) const MAX_ORDER: u32 = bindings::MAX_PAGE_ORDER;

    /// Allocates `2^order` zeroed pages from `zone`, charged as `memcg`
    /// says.
    pub(crate) fn alloc_zeroed(order: u32, retry: Retry, memcg: Memcg, zone: Zone) -> Result<Self> {
        if order > Self::MAX_ORDER {
            return Err(EINVAL);
        }
        // SAFETY: Any order up to MAX_PAGE_ORDER may be requested, with any
        // combination of GFP flags.
        let page = unsafe { bindings::alloc_pages(gfp(order, retry, memcg, zone), order) };
        let page = NonNull::new(page).ok_or(ENOMEM)?;
        ledger::BUDDY.took(1 << order);
        // INVARIANT: The allocator returned these pages for `order`, and
        // they are counted just above.
        Ok(Self { page, order })
    }

    /// The order of the allocation.
    pub(crate) fn order(&self) -> u32 {
        self.order
    }

    /// The pages, as one run.
    pub(crate) fn run(&self) -> PageRun<'_> {
        // SAFETY: By the type invariant, `page` heads `2^order` contiguous
        // pages owned by `self`, so they live as long as the borrow.
        unsafe { PageRun::from_raw(self.page, 1 << self.order) }
    }

    /// Whether this value holds the only reference to the pages.
    ///
    /// Chunks of more than one page are compound pages, whose references
    /// (from a mapping, a pin or `get_page()` on any of them) are all counted
    /// on the head page.
    pub(crate) fn is_exclusive(&self) -> bool {
        // SAFETY: `page` is a page we hold a reference to (type invariant).
        unsafe { ffi::rdh_page_count(self.page.as_ptr()) == 1 }
    }

    /// Zeroes the pages, one at a time (highmem pages are mapped for it).
    pub(crate) fn zero(&mut self) {
        let run = self.run();
        for n in 0..run.pages() {
            if let Some(page) = run.page_ptr(n) {
                // SAFETY: A page of ours (type invariant); `&mut self` means
                // that no mapping the core made of it is alive, since those
                // hold a reference to the value they map.
                unsafe { ffi::rdh_clear_highpage(page) };
            }
        }
    }
}

impl Drop for BuddyPages {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the pages were allocated with this
        // order and are owned by `self`; nothing else frees them.
        unsafe { bindings::__free_pages(self.page.as_ptr(), self.order) };
        ledger::BUDDY.gave_back(1 << self.order);
    }
}

/// Lets a long loop give up the CPU to a task that needs it: on kernels
/// without full preemption (`PREEMPT_NONE`, `PREEMPT_VOLUNTARY`) a loop in
/// the kernel otherwise runs to its end, and the tasks waiting for its CPU
/// (one sending the allocator a `SIGKILL`, say) with it. Sleeps, like
/// taking a mutex: for process context without a spinlock held, which the
/// debug kernel's `might_sleep()` checks.
pub(crate) fn cond_resched() {
    // SAFETY: `cond_resched()` has no precondition that concerns memory;
    // calling it in atomic context is a bug the kernel reports, not undefined
    // behaviour.
    unsafe { ffi::rdh_cond_resched() };
}

/// Stops a long allocation loop early when the calling task has been killed.
pub(crate) fn fatal_signal_pending() -> bool {
    // SAFETY: Only reads the current task's signal state.
    unsafe { ffi::rdh_fatal_signal_pending() }
}

/// The machine's RAM, in pages.
pub(crate) fn total_ram_pages() -> usize {
    // SAFETY: Only reads a global counter.
    unsafe { ffi::rdh_totalram_pages() as usize }
}
