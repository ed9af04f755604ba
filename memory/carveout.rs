// SPDX-License-Identifier: GPL-2.0

//! Carveouts: memory reserved at boot that no allocator of the kernel
//! manages, handed out in contiguous runs by the core alone.
//!
//! A region comes from the device tree (a child of `/reserved-memory`
//! without `reusable`, which CMA would lend to movable pages: the kernel
//! reserved exactly that range for that node, no reserved-memory driver
//! of the kernel set it up for a device, and no driver can be using it:
//! it has no `compatible` and no node names it in `memory-region`) or
//! from module parameters
//! (x86 only, a range `memmap=SIZE$BASE` took out of RAM: the firmware's
//! E820 table says RAM, the kernel's says reserved, where the kernel lets a
//! module read both, and nothing else claimed it in iomem). Every page must
//! also have a `struct page` that is reserved (belongs to no allocator). A
//! misnamed or mistyped region is refused before a single page is lent,
//! never handed out from under the kernel's allocators, the firmware or
//! another driver. Regions with `no-map` are refused too: they are not in
//! the kernel's linear map, through which the DMA API does cache
//! maintenance on architectures whose devices are not coherent.
//!
//! A module has one carveout at most: a second [`Carveout::new`] while the
//! first lives is refused, so no two values ever lend the same pages.
//!
//! Within a region, buffers are first-fit runs of pages kept in a bitmap.
//! Each is zeroed through a mapping of the whole region the core keeps.

use crate::{
    compat::ffi,
    memory::{
        buffer::Backing, //
        page::{
            cond_resched,
            PageRun,
            PAGE_SIZE, //
        },
    },
    stats::ledger, //
};
use core::{
    ptr::NonNull, //
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::{
    bindings,
    ffi::{
        c_ulong,
        c_void, //
    },
    new_mutex,
    prelude::*, //
    sync::{
        Arc,
        Mutex, //
    },
};

/// Pages zeroed between two chances to reschedule.
const ZERO_STEP: usize = 256;

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

    /// The first run of `count` free pages among `pages` whose start `s`
    /// has `phase + s` a multiple of `align` (`phase` is the region's first
    /// pfn, so that the run's first pfn is aligned).
    fn find(&self, pages: usize, count: usize, align: usize, phase: usize) -> Option<usize> {
        let aligned = |from: usize| (phase % align + from).next_multiple_of(align) - phase % align;
        let mut start = aligned(0);
        while start + count <= pages {
            match (start..start + count).find(|&i| self.is_set(i)) {
                None => return Some(start),
                Some(used) => start = aligned(used + 1),
            }
        }
        None
    }
}

/// Set while a [`Claim`] exists: the module's one carveout.
static CLAIMED: AtomicBool = AtomicBool::new(false);

/// The module's claim on its one carveout and, for a range given as
/// parameters, on that range in iomem.
///
/// # Invariants
///
/// [`CLAIMED`] is set for this value alone. If `iomem`, the range `size`
/// bytes from `base` is claimed in iomem for it.
struct Claim {
    base: u64,
    size: u64,
    iomem: bool,
}

impl Claim {
    fn take() -> core::result::Result<Self, Refused> {
        CLAIMED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| Refused::Claimed)?;
        // INVARIANT: `CLAIMED` was clear and is now set, by this call.
        Ok(Self {
            base: 0,
            size: 0,
            iomem: false,
        })
    }

    /// Claims `size` bytes from `base` in iomem, under the carveout's name
    /// (`/proc/iomem` shows it); `Busy` if any of them is claimed already.
    fn iomem(
        &mut self,
        name: &'static CStr,
        base: u64,
        size: u64,
    ) -> core::result::Result<(), Refused> {
        // SAFETY: `name` is NUL-terminated and outlives the claim
        // (`'static`); any range may be asked for.
        if !unsafe { ffi::rdh_request_mem_region(base, size, name.as_char_ptr().cast()) } {
            return Err(Refused::Busy);
        }
        // INVARIANT: Claimed just above, released by `drop` alone.
        (self.base, self.size, self.iomem) = (base, size, true);
        Ok(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.iomem {
            // SAFETY: Claimed in `iomem`, released only here.
            unsafe { ffi::rdh_release_mem_region(self.base, self.size) };
        }
        CLAIMED.store(false, Ordering::Release);
    }
}

/// A write-back mapping of a physical range.
///
/// # Invariants
///
/// `ptr` is what `memremap()` returned for the range, unmapped only by
/// `drop`.
struct Mapping {
    ptr: NonNull<c_void>,
}

impl Mapping {
    /// # Safety
    ///
    /// `size` bytes from `base` must be memory that nothing but the caller
    /// reads or writes through the mapping's lifetime.
    unsafe fn new(base: u64, size: u64) -> Option<Self> {
        // SAFETY: The caller owns the range.
        let ptr = NonNull::new(unsafe { ffi::rdh_memremap_wb(base, size) })?;
        // INVARIANT: Mapped just above.
        Some(Self { ptr })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: Mapped in `new`, unmapped only here.
        unsafe { ffi::rdh_memunmap(self.ptr.as_ptr()) };
    }
}

/// A carveout region.
///
/// # Invariants
///
/// The `pages` pages from `first` (pfn `first_pfn`) have consecutive pfns
/// and `struct page`s that are reserved (no allocator hands them out), and
/// belong to this value alone: `_claim` makes it the module's only
/// carveout, the region was checked to be no other driver's, and no other
/// allocator has reserved pages. `map` maps all of them, write-back. A page
/// whose bit is set is lent to exactly one [`CarveoutPages`].
#[pin_data]
pub(crate) struct Carveout {
    name: &'static CStr,
    first: NonNull<bindings::page>,
    first_pfn: u64,
    pages: usize,
    map: Mapping,
    #[pin]
    lent: Mutex<Bitmap>,
    _claim: Claim,
}

// SAFETY: The pages and the mapping are the region's own; the bitmap is
// under its mutex.
unsafe impl Send for Carveout {}
// SAFETY: As above.
unsafe impl Sync for Carveout {}

/// Why a region cannot become a carveout, for the log.
pub(crate) enum Refused {
    NoSuchNode,
    Reusable,
    NoMap,
    Owned,
    Compatible,
    InUse,
    Unaligned,
    NotReserved(u64),
    SystemRam,
    NoE820,
    Firmware(u64),
    Busy,
    Claimed,
    Failed(Error),
}

impl Refused {
    /// Says in the log why the carveout `name` was refused, and what to do
    /// about it.
    pub(crate) fn report(&self, name: &CStr) {
        let why = match self {
            Refused::NoSuchNode => "no such reserved-memory node",
            Refused::Reusable => "the region is reusable (a CMA area: the CMA heaps serve it)",
            Refused::NoMap => {
                "no-map regions are not supported (the DMA API maintains caches through the linear map)"
            }
            Refused::Owned => {
                "a driver of the kernel set the region up (e.g. a device's coherent pool)"
            }
            Refused::Compatible => {
                "the node has a compatible: a driver of the kernel may use it (e.g. ramoops)"
            }
            Refused::InUse => "another node names it in memory-region: its device's driver uses it",
            Refused::Unaligned => "base and size must be whole pages",
            Refused::SystemRam => {
                "the range is System RAM (reserve it at boot, e.g. with memmap=)"
            }
            Refused::NoE820 => {
                "ranges are for x86 (E820) alone; name a reserved-memory node instead"
            }
            Refused::Busy => "the range is claimed in iomem already (/proc/iomem says by whom)",
            Refused::Claimed => "the module has a carveout already",
            Refused::NotReserved(addr) => {
                return pr_err!(
                    "carveout {}: the memory at {:#x} is not reserved (another allocator may use it)\n",
                    name,
                    addr
                );
            }
            Refused::Firmware(addr) => {
                return pr_err!(
                    "carveout {}: the firmware reserved the memory at {:#x} (take the range out of RAM with memmap=)\n",
                    name,
                    addr
                );
            }
            Refused::Failed(e) => return pr_err!("carveout {}: {:?}\n", name, e),
        };
        pr_err!("carveout {}: {}\n", name, why);
    }
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
    /// `Claimed` while another carveout of this module exists.
    pub(crate) fn new(
        name: &'static CStr,
        range: Option<(u64, u64)>,
    ) -> core::result::Result<Arc<Self>, Refused> {
        let mut claim = Claim::take()?;
        let page = PAGE_SIZE as u64;
        let (base, size) = match range {
            Some((base, size)) => {
                if base % page != 0 || size % page != 0 || size == 0 {
                    return Err(Refused::Unaligned);
                }
                taken_from_ram(base, size)?;
                claim.iomem(name, base, size)?;
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
            // SAFETY: Any pfn may be asked about.
            let p = unsafe { ffi::rdh_reserved_page(first_pfn + n) };
            let Some(p) = NonNull::new(p) else {
                return Err(Refused::NotReserved(base + n * page));
            };
            first.get_or_insert(p);
        }
        let first = first.ok_or(Refused::Unaligned)?;
        // SAFETY: Reserved pages (checked above) of a range no other driver
        // has (checked by `taken_from_ram()` and the iomem claim, or by
        // `device_tree_region()`), and this module's one carveout (`claim`).
        let map = unsafe { Mapping::new(base, size) }.ok_or(Refused::Failed(ENOMEM))?;
        let mut words = KVVec::new();
        for _ in 0..pages.div_ceil(64) {
            words
                .push(0, GFP_KERNEL)
                .map_err(|e| Refused::Failed(e.into()))?;
        }
        // INVARIANT: The pages (consecutive pfns, which `nth_page()` walks)
        // were checked reserved one by one and the region no one else's;
        // `claim` makes this the module's one carveout.
        let lent = Bitmap { words };
        Arc::pin_init(
            pin_init!(Self {
                name,
                first,
                first_pfn,
                pages,
                map,
                lent <- new_mutex!(lent, "rdh_carveout"),
                _claim: claim,
            }),
            GFP_KERNEL,
        )
        .map_err(Refused::Failed)
    }

    pub(crate) fn name(&self) -> &'static CStr {
        self.name
    }

    pub(crate) fn base(&self) -> u64 {
        self.first_pfn * PAGE_SIZE as u64
    }

    /// The region's size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// Lends `count` contiguous pages, the first one's pfn a multiple of
    /// `align`, zeroed. `ENOMEM` if no such run is free.
    pub(crate) fn alloc(self: &Arc<Self>, count: usize, align: usize) -> Result<CarveoutPages> {
        if count == 0 || count > self.pages {
            return Err(ENOMEM);
        }
        let align = align.max(1);
        let phase = (self.first_pfn % align as u64) as usize;
        let start = {
            let mut lent = self.lent.lock();
            let start = lent.find(self.pages, count, align, phase).ok_or(ENOMEM)?;
            lent.set(start, count, true);
            start
        };
        ledger::CARVEOUT.took(count);
        // INVARIANT: The run's bits were clear and are now set for it, and
        // its pages are counted just above.
        let pages = CarveoutPages {
            region: self.clone(),
            start,
            count,
        };
        let mut done = 0;
        while done < count {
            let step = ZERO_STEP.min(count - done);
            // SAFETY: `[start + done, start + done + step)` lies inside the
            // run, inside the region, which `map` maps; the run is lent to
            // `pages` alone: nothing else reads or writes it now.
            unsafe {
                self.map
                    .ptr
                    .as_ptr()
                    .cast::<u8>()
                    .add((start + done) * PAGE_SIZE)
                    .write_bytes(0, step * PAGE_SIZE)
            };
            done += step;
            cond_resched();
        }
        Ok(pages)
    }
}

/// Checks that `size` bytes from `base` are memory taken out of RAM at boot
/// (`memmap=SIZE$BASE`): none of it System RAM in iomem or in the kernel's
/// E820 table, all of it RAM in the firmware's (page by page; skipped where
/// the kernel does not let a module read that table).
fn taken_from_ram(base: u64, size: u64) -> core::result::Result<(), Refused> {
    // SAFETY: Any range may be asked about.
    match unsafe { ffi::rdh_e820_has_ram(base, size, false) } {
        0 => {}
        1 => return Err(Refused::SystemRam),
        _ => return Err(Refused::NoE820),
    }
    // SAFETY: As above.
    if !unsafe { ffi::rdh_range_outside_ram(base, size) } {
        return Err(Refused::SystemRam);
    }
    let page = PAGE_SIZE as u64;
    for addr in (base..base + size).step_by(PAGE_SIZE) {
        // SAFETY: As above.
        match unsafe { ffi::rdh_e820_has_ram(addr, page, true) } {
            0 => return Err(Refused::Firmware(addr)),
            1 => {}
            _ => break,
        }
    }
    Ok(())
}

/// The base and size of the reserved-memory node `name`, if it may be a
/// carveout.
fn device_tree_region(name: &CStr) -> core::result::Result<(u64, u64), Refused> {
    let (mut base, mut size) = (0, 0);
    let (mut reusable, mut nomap, mut owned) = (false, false, false);
    let (mut compatible, mut used) = (false, false);
    // SAFETY: `name` is NUL-terminated; the outputs are writable.
    let ret = unsafe {
        ffi::rdh_of_reserved_region(
            name.as_char_ptr().cast(),
            &mut base,
            &mut size,
            &mut reusable,
            &mut nomap,
            &mut owned,
            &mut compatible,
            &mut used,
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
    if owned {
        return Err(Refused::Owned);
    }
    // Drivers that use their region without reserved-memory ops: a node
    // with a compatible is some driver's (ramoops), one another node names
    // in memory-region is that device's (remoteproc, display engines).
    if compatible {
        return Err(Refused::Compatible);
    }
    if used {
        return Err(Refused::InUse);
    }
    Ok((base, size))
}

/// A run of a carveout's pages, lent to one buffer until dropped.
///
/// The pages are counted in the ledger's `carveout` (`ledger.rs`) until the
/// region has them back: forever, if the value is leaked.
///
/// # Invariants
///
/// The region's pages `[start, start + count)` are lent to this value:
/// their bits are set, for it alone, and they are counted in
/// [`ledger::CARVEOUT`]. `count` is non-zero.
pub(crate) struct CarveoutPages {
    region: Arc<Carveout>,
    start: usize,
    count: usize,
}

impl Drop for CarveoutPages {
    fn drop(&mut self) {
        let mut lent = self.region.lent.lock();
        lent.set(self.start, self.count, false);
        drop(lent);
        ledger::CARVEOUT.gave_back(self.count);
    }
}

// SAFETY: The run is lent to this value alone until it is dropped (type
// invariant), and the region (kept by the `Arc`) never gives its pages to
// anyone else; they are reserved, so no allocator does either. The run is
// the same on every call.
unsafe impl Backing for CarveoutPages {
    // On x86 the range is one `memmap=` took out of RAM, which the kernel
    // gives no linear map; a device-tree region has one (`no-map` nodes are
    // refused, see `device_tree_region()`).
    const LINEAR_MAPPED: bool = !cfg!(target_arch = "x86_64");

    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        // SAFETY: The region's pages from `first` have consecutive pfns (its
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

/// The first-fit search, on bitmaps built by hand (7.3's KUnit, run when
/// the module loads on a kernel with `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_carveout)]
mod tests {
    use super::Bitmap;
    use kernel::prelude::*;

    /// A bitmap of `pages` pages with the runs `used` lent.
    fn bitmap(pages: usize, used: &[(usize, usize)]) -> Result<Bitmap> {
        let mut words = KVVec::new();
        words.extend_with(pages.div_ceil(64), 0u64, GFP_KERNEL)?;
        let mut map = Bitmap { words };
        for &(first, count) in used {
            map.set(first, count, true);
        }
        Ok(map)
    }

    #[test]
    fn an_empty_region_lends_from_its_start() -> Result {
        let map = bitmap(128, &[])?;
        assert_eq!(map.find(128, 4, 1, 0), Some(0));
        assert_eq!(map.find(128, 128, 1, 0), Some(0));
        Ok(())
    }

    #[test]
    fn a_run_never_overlaps_a_lent_page() -> Result {
        let map = bitmap(128, &[(0, 3), (10, 1)])?;
        assert_eq!(map.find(128, 4, 1, 0), Some(3));
        assert_eq!(map.find(128, 8, 1, 0), Some(11));
        Ok(())
    }

    #[test]
    fn the_first_pfn_of_a_run_is_aligned() -> Result {
        let map = bitmap(128, &[(0, 1)])?;
        // The region starts at pfn 0 mod 4: runs start at multiples of 4.
        assert_eq!(map.find(128, 4, 4, 0), Some(4));
        // At pfn 3 mod 4 (phase 3): the first aligned page is the second.
        let map = bitmap(128, &[])?;
        assert_eq!(map.find(128, 4, 4, 3), Some(1));
        assert_eq!(map.find(128, 2, 64, 63), Some(1));
        Ok(())
    }

    #[test]
    fn a_run_past_the_region_is_not_found() -> Result {
        let map = bitmap(128, &[(64, 1)])?;
        assert_eq!(map.find(128, 64, 1, 0), Some(0));
        assert_eq!(map.find(128, 65, 1, 0), None);
        assert_eq!(map.find(128, 129, 1, 0), None);
        // Aligned to 64 at phase 1, only pfn 64 (page 63) could start one.
        assert_eq!(map.find(128, 64, 64, 1), None);
        Ok(())
    }

    #[test]
    fn a_full_region_lends_nothing() -> Result {
        let map = bitmap(100, &[(0, 100)])?;
        assert_eq!(map.find(100, 1, 1, 0), None);
        Ok(())
    }

    #[test]
    fn a_returned_run_is_found_again() -> Result {
        let mut map = bitmap(64, &[(0, 64)])?;
        map.set(16, 16, false);
        assert_eq!(map.find(64, 16, 16, 0), Some(16));
        assert_eq!(map.find(64, 17, 1, 0), None);
        Ok(())
    }
}
