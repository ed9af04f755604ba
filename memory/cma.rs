// SPDX-License-Identifier: GPL-2.0

//! CMA areas and contiguous allocations from them.
//!
//! Available when the kernel exports its CMA allocator to modules (see
//! `Kbuild`); the module is then built with `--cfg rdh_cma`.

use crate::{
    compat,
    compat::ffi,
    memory::{
        buffer::Backing, //
        page::{
            cond_resched,
            fatal_signal_pending,
            PageRun, //
        },
    },
    stats::ledger, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::c_uint,
    prelude::*,
    str::CStr, //
};

/// The largest alignment, as a page order, CMA gives an allocation
/// (`CONFIG_CMA_ALIGNMENT`).
pub(crate) const MAX_ALIGN_ORDER: u32 = bindings::CONFIG_CMA_ALIGNMENT;

/// The alignment upstream's CMA heap gives a buffer of `pages` pages, as a
/// page order: its size's order (`get_order()`), at most
/// [`MAX_ALIGN_ORDER`].
pub(crate) fn buffer_align_order(pages: usize) -> u32 {
    pages
        .next_power_of_two()
        .trailing_zeros()
        .min(MAX_ALIGN_ORDER)
}

/// One CMA area.
///
/// # Invariants
///
/// `ptr` is a CMA area; areas are set up at boot and never freed.
#[derive(Clone, Copy)]
pub(crate) struct CmaArea {
    ptr: NonNull<ffi::cma>,
}

// SAFETY: CMA areas are global and the CMA API locks internally.
unsafe impl Send for CmaArea {}
// SAFETY: As above.
unsafe impl Sync for CmaArea {}

impl CmaArea {
    /// The default area (`cma=` or a `linux,cma-default` node), if any.
    pub(crate) fn default_area() -> Option<Self> {
        // SAFETY: With no device, `dev_get_cma_area()` only reads the
        // default area, set at boot.
        let ptr = unsafe { ffi::dev_get_cma_area(core::ptr::null_mut()) };
        // INVARIANT: A non-NULL default area is a CMA area.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Every CMA area a heap may be made of, the default one included, in
    /// creation order (which ones differs by kernel: see `compat/mod.rs`).
    pub(crate) fn all() -> Result<KVec<Self>> {
        let mut areas = KVec::new();
        for ptr in compat::cma_areas()? {
            // INVARIANT: The kernel lists only CMA areas.
            areas.push(Self { ptr }, GFP_KERNEL)?;
        }
        Ok(areas)
    }

    /// The area's name: `reserved` for the command line's area, the
    /// reserved-memory node's name for a device-tree area.
    pub(crate) fn name(&self) -> &'static CStr {
        // SAFETY: An area's name is a NUL-terminated string inside the area,
        // which is never freed (type invariant).
        unsafe { CStr::from_char_ptr(ffi::cma_get_name(self.ptr.as_ptr()).cast()) }
    }

    /// The area's size in bytes, where the kernel tells it (6.12 exports
    /// `cma_get_size()`; 7.3 does not).
    pub(crate) fn size(&self) -> Option<usize> {
        // SAFETY: A valid area (type invariant).
        unsafe { compat::cma_size(self.ptr) }
    }

    /// Whether a buffer of `len` bytes could ever be allocated from the
    /// area: not if it is larger than the area, where the kernel tells its
    /// size (otherwise `cma_alloc()` finds out).
    pub(crate) fn could_hold(&self, len: usize) -> bool {
        match self.size() {
            Some(size) => len <= size,
            None => true,
        }
    }

    /// What the device tree says about the `/reserved-memory` region this
    /// area was made from: `None` if no available region has its name
    /// (command-line, hugetlb and per-NUMA areas, areas a driver sets up).
    fn reserved_memory_node(&self) -> Option<ReservedMemoryNode> {
        let (mut shared_dma_pool, mut reusable) = (false, false);
        // SAFETY: The name is a valid string (see `name()`) and both flags
        // are writable for the duration of the call.
        let found = unsafe {
            ffi::rdh_of_reserved_memory_node(
                self.name().as_char_ptr().cast(),
                &mut shared_dma_pool,
                &mut reusable,
            )
        };
        found.then_some(ReservedMemoryNode {
            shared_dma_pool,
            reusable,
        })
    }

    /// Whether the device tree describes the area as a reusable
    /// `shared-dma-pool` region, the binding for memory set aside for
    /// buffers.
    pub(crate) fn is_dma_pool_region(&self) -> bool {
        self.reserved_memory_node()
            .is_some_and(|node| node.shared_dma_pool && node.reusable)
    }

    /// Whether two handles name the same area.
    pub(crate) fn is(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }

    /// Allocates `count` contiguous pages aligned to `2^align_order` pages
    /// (at most `2^MAX_ALIGN_ORDER`: a larger order is clamped, as
    /// `dma_alloc_from_contiguous()` does). The pages are not zeroed. Fails
    /// quietly with `ENOMEM`.
    pub(crate) fn alloc(&self, count: usize, align_order: u32) -> Result<UnzeroedCmaPages> {
        if count == 0 {
            return Err(EINVAL);
        }
        // `cma_alloc()` shifts by the order unchecked: an order of the word
        // size or more would be undefined behaviour in C.
        let align_order = align_order.min(MAX_ALIGN_ORDER);
        // SAFETY: A valid area (type invariant), an order below the word
        // size; `no_warn`, since running out is an ordinary outcome for a
        // heap.
        let first = unsafe { ffi::cma_alloc(self.ptr.as_ptr(), count, align_order, true) };
        let first = NonNull::new(first).ok_or(ENOMEM)?;
        ledger::CMA.took(count);
        // INVARIANT: `cma_alloc()` just gave us these pages, counted just
        // above.
        Ok(UnzeroedCmaPages(CmaPages {
            area: *self,
            first,
            count,
        }))
    }
}

/// Pages just taken from a CMA area, still holding whatever their last
/// user left there (CMA lends its free pages to movable allocations).
///
/// Not a [`Backing`]: the only way to a buffer's [`CmaPages`] is
/// [`UnzeroedCmaPages::zero`], so no heap can export them unzeroed.
pub(crate) struct UnzeroedCmaPages(CmaPages);

impl UnzeroedCmaPages {
    /// Zeroes the pages, 1 MiB at a time through the direct map (or a page
    /// at a time, each mapped for it, if they are highmem). Gives up, and
    /// the pages back, with `EINTR` when the calling task is killed: a
    /// dying process should not wait for gigabytes.
    pub(crate) fn zero(mut self) -> Result<CmaPages> {
        self.0.zero()?;
        Ok(self.0)
    }
}

/// A child of the device tree's `/reserved-memory` node, as far as the
/// CMA heaps care.
pub(crate) struct ReservedMemoryNode {
    /// `compatible = "shared-dma-pool"`.
    pub(crate) shared_dma_pool: bool,
    /// The `reusable` property: free pages are lent to movable allocations.
    pub(crate) reusable: bool,
}

/// Physically contiguous pages from a CMA area, given back on drop.
///
/// The pages are counted in the ledger's `cma` (`ledger.rs`) until the area
/// has them back: forever, if the value is leaked.
///
/// # Invariants
///
/// `first..first + count` was allocated from `area` by `cma_alloc()` and is
/// owned by this value; its `count` pages are counted in [`ledger::CMA`].
pub(crate) struct CmaPages {
    area: CmaArea,
    first: NonNull<bindings::page>,
    count: usize,
}

// SAFETY: The pages are plain memory owned by this value.
unsafe impl Send for CmaPages {}
// SAFETY: Shared access only reads the pointers.
unsafe impl Sync for CmaPages {}

impl CmaPages {
    /// The pages, as one run.
    pub(crate) fn run(&self) -> PageRun<'_> {
        // SAFETY: By the type invariant we own `count` contiguous pages from
        // `first`, alive as long as `self`.
        unsafe { PageRun::from_raw(self.first, self.count) }
    }

    /// See [`UnzeroedCmaPages::zero`].
    fn zero(&mut self) -> Result {
        const STEP: usize = 256;
        let run = self.run();
        // SAFETY: The first page of a run of ours (type invariant); only
        // its flags are read. A CMA area never crosses the lowmem/highmem
        // boundary (the CMA reservation refuses one that would).
        let highmem = unsafe { ffi::rdh_page_is_highmem(self.first.as_ptr()) };
        let mut n = 0;
        while n < run.pages() {
            cond_resched();
            if fatal_signal_pending() {
                return Err(EINTR);
            }
            let count = STEP.min(run.pages() - n);
            // `n` is below the run's length, so there is a page: an error,
            // not a silent stop, if there were not, since the pages must
            // come out zeroed or not at all.
            let page = run.page_ptr(n).ok_or(EINVAL)?;
            if highmem {
                for i in n..n + count {
                    let page = run.page_ptr(i).ok_or(EINVAL)?;
                    // SAFETY: A page of ours (type invariant) that nobody
                    // else uses yet: we hold `&mut self`, and pages are
                    // only shared once they are exported, which takes
                    // `self` by value.
                    unsafe { ffi::rdh_clear_highpage(page) };
                }
            } else {
                // SAFETY: `count` pages of ours from `page`, as above;
                // contiguous in lowmem, so also in the direct map.
                unsafe { ffi::rdh_clear_lowmem_pages(page, count as c_uint) };
            }
            n += count;
        }
        Ok(())
    }
}

// SAFETY: The pages stay allocated, ours alone, until `CmaPages` is dropped
// (type invariant), and `runs` returns the same single run every time.
unsafe impl Backing for CmaPages {
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        core::iter::once(self.run())
    }
}

impl Drop for CmaPages {
    fn drop(&mut self) {
        // SAFETY: The pages came from `area` and are given back only here
        // (type invariant).
        let released =
            unsafe { ffi::cma_release(self.area.ptr.as_ptr(), self.first.as_ptr(), self.count) };
        // The area refuses only pages that are not its own, which ours are:
        // if it ever did, they would stay ours, and counted.
        if released {
            ledger::CMA.gave_back(self.count);
        }
    }
}

/// Buffer alignment (7.3's KUnit, run when the module loads on a kernel
/// with `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_cma)]
mod tests {
    use super::{buffer_align_order, MAX_ALIGN_ORDER};

    #[test]
    fn a_buffer_is_aligned_to_its_size_order() {
        assert_eq!(buffer_align_order(1), 0);
        assert_eq!(buffer_align_order(2), 1);
        // Not a power of two: rounded up, as get_order() does.
        assert_eq!(buffer_align_order(3), 2);
        assert_eq!(buffer_align_order(5), 3);
        assert_eq!(buffer_align_order(256), 8.min(MAX_ALIGN_ORDER));
    }

    #[test]
    fn the_alignment_stops_at_the_kernels_limit() {
        assert_eq!(buffer_align_order(1 << MAX_ALIGN_ORDER), MAX_ALIGN_ORDER);
        assert_eq!(
            buffer_align_order((1 << MAX_ALIGN_ORDER) + 1),
            MAX_ALIGN_ORDER
        );
        assert_eq!(buffer_align_order(1 << 20), MAX_ALIGN_ORDER);
    }
}
