// SPDX-License-Identifier: GPL-2.0

//! Carveouts: memory reserved at boot that no allocator of the kernel
//! manages, handed out in contiguous runs by the core alone.
//!
//! A region comes from the device tree (a child of `/reserved-memory`
//! without `reusable`, which CMA would lend to movable pages: the kernel
//! reserved exactly that range for that node) or from module parameters (on
//! x86, a range `memmap=SIZE$BASE` took out of RAM, which must then not be
//! System RAM at all: the kernel image and early allocations are reserved
//! pages of System RAM). Every page must also have a `struct page` that is
//! reserved (belongs to no allocator). A misnamed or mistyped region is
//! refused before a single page is lent, never handed out from under the
//! kernel's allocators. Regions with `no-map` are refused too: they are not in the
//! kernel's linear map, through which the DMA API does cache maintenance
//! on architectures whose devices are not coherent.
//!
//! Within a region, buffers are first-fit runs of pages kept in a bitmap.
//! Each is zeroed through a mapping of the whole region the core keeps.

use crate::buffer::Backing;
use crate::ffi;
use crate::page::{PageRun, PAGE_SIZE};
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::{c_ulong, c_void};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// Which pages of a region are lent.
struct Bitmap {
    words: KVVec<u64>,
}

impl Bitmap {
    fn is_set(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, first: usize, count: usize, on: bool) {
        for i in first..first + count {
            if on {
                self.words[i / 64] |= 1 << (i % 64);
            } else {
                self.words[i / 64] &= !(1 << (i % 64));
            }
        }
    }

    /// The first run of `count` free pages among `pages`, its start a
    /// multiple of `align` pages.
    fn find(&self, pages: usize, count: usize, align: usize) -> Option<usize> {
        let mut start = 0;
        while start + count <= pages {
            match (start..start + count).find(|&i| self.is_set(i)) {
                None => return Some(start),
                Some(used) => start = (used + 1).next_multiple_of(align),
            }
        }
        None
    }
}

/// A carveout region.
///
/// # Invariants
///
/// The `pages` pages from `first` have consecutive pfns and `struct
/// page`s that are reserved (no allocator hands them out), and belong to
/// this value alone: it is the only one made for this range (one carveout
/// per module, see [`Carveout::new`]). `map` maps all of them, write-back,
/// until drop. A page whose bit is set is lent to exactly one
/// [`CarveoutPages`].
#[pin_data(PinnedDrop)]
pub(crate) struct Carveout {
    name: &'static CStr,
    first: NonNull<bindings::page>,
    base: u64,
    pages: usize,
    map: NonNull<c_void>,
    #[pin]
    lent: Mutex<Bitmap>,
}

// SAFETY: the pages and the mapping are the region's own; the bitmap is
// under its mutex.
unsafe impl Send for Carveout {}
// SAFETY: as above.
unsafe impl Sync for Carveout {}

/// Why a region cannot become a carveout, for the log.
pub(crate) enum Refused {
    NoSuchNode,
    Reusable,
    NoMap,
    Unaligned,
    NotReserved(u64),
    SystemRam,
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Failed(e)
    }
}

impl Carveout {
    /// The module's carveout, as its parameters describe it: the
    /// reserved-memory node `name`, or the range `(base, size)`.
    ///
    /// Called once, at module load: the range cannot be lent twice.
    pub(crate) fn new(
        name: &'static CStr,
        range: Option<(u64, u64)>,
    ) -> core::result::Result<Arc<Self>, Refused> {
        let page = PAGE_SIZE as u64;
        let (base, size) = match range {
            Some((base, size)) => {
                if base % page != 0 || size % page != 0 {
                    return Err(Refused::Unaligned);
                }
                // SAFETY: any range may be asked about.
                if !unsafe { ffi::rdh_range_outside_ram(base, size) } {
                    return Err(Refused::SystemRam);
                }
                (base, size)
            }
            None => device_tree_region(name)?,
        };
        if base % page != 0 || size % page != 0 || size == 0 {
            return Err(Refused::Unaligned);
        }
        let pages = usize::try_from(size / page).map_err(|_| Refused::Unaligned)?;
        let first_pfn = base / page;
        let mut first = None;
        for n in 0..pages as u64 {
            // SAFETY: any pfn may be asked about.
            let p = unsafe { ffi::rdh_reserved_page(first_pfn + n) };
            let Some(p) = NonNull::new(p) else {
                return Err(Refused::NotReserved(base + n * page));
            };
            first.get_or_insert(p);
        }
        let first = first.ok_or(Refused::Unaligned)?;
        // SAFETY: a physical range; checked above to be reserved pages.
        let map = unsafe { ffi::rdh_memremap_wb(base, size) };
        let map = NonNull::new(map).ok_or(Refused::Failed(ENOMEM))?;
        let mut words = KVVec::new();
        for _ in 0..pages.div_ceil(64) {
            if let Err(e) = words.push(0, GFP_KERNEL) {
                // SAFETY: mapped just above, used by nothing yet.
                unsafe { ffi::rdh_memunmap(map.as_ptr()) };
                return Err(Refused::Failed(e.into()));
            }
        }
        // INVARIANT: the pages (consecutive pfns, which `nth_page()` walks)
        // were checked reserved one by one; this is the module's one
        // carveout.
        let lent = Bitmap { words };
        Arc::pin_init(
            pin_init!(Self {
                name,
                first,
                base,
                pages,
                map,
                lent <- new_mutex!(lent, "rdh_carveout"),
            }),
            GFP_KERNEL,
        )
        .map_err(Refused::Failed)
    }

    pub(crate) fn name(&self) -> &'static CStr {
        self.name
    }

    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// The region's size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// Lends `count` contiguous pages, their first a multiple of `align`
    /// pages into the region, zeroed. `ENOMEM` if no such run is free.
    pub(crate) fn alloc(self: &Arc<Self>, count: usize, align: usize) -> Result<CarveoutPages> {
        if count == 0 || count > self.pages {
            return Err(ENOMEM);
        }
        let start = {
            let mut lent = self.lent.lock();
            let start = lent.find(self.pages, count, align.max(1)).ok_or(ENOMEM)?;
            lent.set(start, count, true);
            start
        };
        // INVARIANT: the run's bits were clear and are now set for it.
        let pages = CarveoutPages {
            region: self.clone(),
            start,
            count,
        };
        // SAFETY: `[start, start + count)` lies inside the region, which
        // `map` maps, and is lent to `pages` alone: nothing else reads or
        // writes it now.
        unsafe {
            self.map
                .as_ptr()
                .cast::<u8>()
                .add(start * PAGE_SIZE)
                .write_bytes(0, count * PAGE_SIZE)
        };
        Ok(pages)
    }
}

#[pinned_drop]
impl PinnedDrop for Carveout {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: mapped in `new`, unmapped only here; no `CarveoutPages`
        // is left (each holds a reference).
        unsafe { ffi::rdh_memunmap(self.map.as_ptr()) };
    }
}

/// The base and size of the reserved-memory node `name`, if it may be a
/// carveout.
fn device_tree_region(name: &CStr) -> core::result::Result<(u64, u64), Refused> {
    let (mut base, mut size, mut reusable, mut nomap) = (0, 0, false, false);
    // SAFETY: `name` is NUL-terminated; the outputs are writable.
    let ret = unsafe {
        ffi::rdh_of_reserved_region(
            name.as_char_ptr().cast(),
            &mut base,
            &mut size,
            &mut reusable,
            &mut nomap,
        )
    };
    if ret != 0 {
        return Err(Refused::NoSuchNode);
    }
    if reusable {
        return Err(Refused::Reusable);
    }
    if nomap {
        return Err(Refused::NoMap);
    }
    Ok((base, size))
}

/// A run of a carveout's pages, lent to one buffer until dropped.
///
/// # Invariants
///
/// The region's pages `[start, start + count)` are lent to this value:
/// their bits are set, for it alone. `count` is non-zero.
pub(crate) struct CarveoutPages {
    region: Arc<Carveout>,
    start: usize,
    count: usize,
}

impl Drop for CarveoutPages {
    fn drop(&mut self) {
        let mut lent = self.region.lent.lock();
        lent.set(self.start, self.count, false);
    }
}

// SAFETY: the run is lent to this value alone until it is dropped (type
// invariant), and the region (kept by the `Arc`) never gives its pages to
// anyone else; they are reserved, so no allocator does either. The run is
// the same on every call.
unsafe impl Backing for CarveoutPages {
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        // SAFETY: the region's pages from `first` have consecutive pfns (its
        // invariant), so `nth_page()` gives a page of it, never NULL;
        // `start + count` lies inside it, and the run stays lent to us for as
        // long as we are borrowed.
        let run = unsafe {
            let first = NonNull::new_unchecked(ffi::rdh_nth_page(
                self.region.first.as_ptr(),
                self.start as c_ulong,
            ));
            PageRun::from_raw(first, self.count)
        };
        core::iter::once(run)
    }
}
