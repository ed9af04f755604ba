// SPDX-License-Identifier: GPL-2.0

//! The contract between the heap core and a heap.
//!
//! A heap says three things: its name, how it gets a buffer's memory
//! ([`Heap::allocate`], returning the owner of the pages), and, through the
//! [`Exporter`] hooks it may override, how its buffers are mapped and
//! synced. Everything else is the core's, around it and the same for every
//! heap: the request's checks ([`Request::check`]), the charge against the
//! heap's limit, export as a dma-buf, the live-buffer list, accounting and
//! the tracepoint ([`allocate`]). The front end holds heaps of every type
//! as [`DynHeap`]s.

use crate::{
    compat::{
        dmem::DmemRegion,
        fmt, //
    },
    exporter::dma_buf::{
        DmaBuf,
        Exporter,
        FdFlags, //
    },
    memory::page::{
        total_ram_pages,
        Memcg,
        PAGE_SIZE, //
    },
    stats::{
        accounting::{
            Charge,
            HeapSizes,
            HeapStats, //
        },
        live::LiveBuffers,
        trace, //
    }, //
};
use kernel::{
    prelude::*,
    str::CString,
    sync::Arc, //
};

/// A source of dma-bufs, exposed as one or more `/dev/dma_heap/<name>` nodes.
///
/// Its buffers' [`Exporter`] is the heap itself: each buffer keeps a
/// reference to it, so the heap outlives every buffer it allocated.
pub(crate) trait Heap: Exporter {
    /// The heap's primary name: its first device node and the exporter name
    /// of every buffer it allocates.
    fn name(&self) -> &'static CStr;

    /// Whether the heap's pages are main memory that it charges to a memory
    /// cgroup when [`Heap::allocate`] is given [`Memcg::Caller`]. The
    /// memory cgroup cannot be charged with the others' by a module.
    const CHARGES_MEMCG: bool = false;

    /// Allocates the zeroed memory of a buffer of `len` bytes, charging its
    /// pages to `memcg` if the heap [charges memory
    /// cgroups](Heap::CHARGES_MEMCG).
    ///
    /// The core has already checked the request: `len` is a non-zero
    /// multiple of the page size, no larger than the machine's RAM, and
    /// within the heap's limit. Fails with `ENOMEM` when memory runs out
    /// (or the memory cgroup is at its limit) and `EINTR` when the caller
    /// is killed; on failure nothing stays allocated.
    fn allocate(&self, len: usize, memcg: Memcg) -> Result<Self::Backing>;

    /// Bytes kept in the heap's page pools (sysfs `pool_bytes`), for a heap
    /// that has pools. (A heap without a size has no such sysfs file.)
    fn pool_bytes(&self) -> Option<usize> {
        None
    }

    /// The size of the memory region the heap allocates from (sysfs
    /// `region_bytes`, and its dmem region's size), for a heap that has one.
    fn region_bytes(&self) -> Option<usize> {
        None
    }
}

/// A heap of any type, as the front end holds it (see [`into_dyn`]).
pub(crate) trait DynHeap: Send + Sync {
    /// [`Heap::name`].
    fn name(&self) -> &'static CStr;

    /// Allocates a buffer of `len` bytes, as [`Heap::allocate`] says, its
    /// pages charged to `payer`, and exports it with `flags`, keeping
    /// `charge` for as long as it lives.
    fn export(&self, len: usize, flags: FdFlags, charge: Charge, payer: &Payer) -> Result<DmaBuf>;

    /// [`Heap::CHARGES_MEMCG`] (for requests that name a cgroup, which
    /// only the standalone ioctl reads).
    #[cfg(not(rdh_hosted))]
    fn charges_memcg(&self) -> bool;

    /// [`Heap::pool_bytes`].
    fn pool_bytes(&self) -> Option<usize>;

    /// [`Heap::region_bytes`].
    fn region_bytes(&self) -> Option<usize>;
}

/// A heap, and the reference to it that each of its buffers takes.
struct Registered<H: Heap>(Arc<H>);

impl<H: Heap> DynHeap for Registered<H> {
    fn name(&self) -> &'static CStr {
        self.0.name()
    }

    fn export(&self, len: usize, flags: FdFlags, charge: Charge, payer: &Payer) -> Result<DmaBuf> {
        let memcg = match payer {
            Payer::Nobody => Memcg::Uncharged,
            _ if !H::CHARGES_MEMCG => Memcg::Uncharged,
            _ => Memcg::Caller,
        };
        let backing = match payer {
            // (A heap that charges no cgroup was refused by `allocate`.)
            #[cfg(not(rdh_hosted))]
            Payer::Cgroup(cgroup) => cgroup.charging(|| self.0.allocate(len, memcg))?,
            _ => self.0.allocate(len, memcg)?,
        };
        DmaBuf::export(self.0.name(), flags, backing, self.0.clone(), charge)
    }

    #[cfg(not(rdh_hosted))]
    fn charges_memcg(&self) -> bool {
        H::CHARGES_MEMCG
    }

    fn pool_bytes(&self) -> Option<usize> {
        self.0.pool_bytes()
    }

    fn region_bytes(&self) -> Option<usize> {
        self.0.region_bytes()
    }
}

/// `heap`, ready for the front end to register.
pub(crate) fn into_dyn<H: Heap>(heap: H) -> Result<Arc<dyn DynHeap>> {
    Ok(Arc::new(
        Registered(Arc::new(heap, GFP_KERNEL)?),
        GFP_KERNEL,
    )?)
}

/// A heap's figures and limit, for all its names; its buffers join `live`.
/// With `dmem`, the heap is also a region of the dmem cgroup controller,
/// `dma_heap/<name>`, of the size of its memory region (or of RAM).
pub(crate) fn stats(
    heap: &Arc<dyn DynHeap>,
    live: &Arc<LiveBuffers>,
    dmem: bool,
) -> Result<Arc<HeapStats>> {
    let region = if dmem {
        let name = CString::try_from_fmt(fmt!("dma_heap/{}", heap.name()))?;
        let size = heap.region_bytes().map_or_else(
            || total_ram_pages() as u64 * PAGE_SIZE as u64,
            |bytes| bytes as u64,
        );
        Some(DmemRegion::new(&name, size)?)
    } else {
        None
    };
    let sizes: Arc<dyn HeapSizes> = Arc::new(SizesOf(heap.clone()), GFP_KERNEL)?;
    HeapStats::new(sizes, live.clone(), region)
}

/// A heap as the source of its own sizes.
struct SizesOf(Arc<dyn DynHeap>);

impl HeapSizes for SizesOf {
    fn pool_bytes(&self) -> Option<usize> {
        self.0.pool_bytes()
    }

    fn region_bytes(&self) -> Option<usize> {
        self.0.region_bytes()
    }
}

/// Whom a buffer's pages are charged to, on heaps that [charge memory
/// cgroups](Heap::CHARGES_MEMCG).
pub(crate) enum Payer {
    /// Nobody (upstream's default).
    Nobody,
    /// The allocating task's memory cgroup (`mem_accounting=1`).
    Caller,
    /// The memory cgroup of another process (`charge_pid_fd`), which the
    /// allocating task has been found allowed to charge. A heap that
    /// cannot charge memory cgroups refuses the request (`EOPNOTSUPP`).
    /// (Hosted, the kernel's heap core reads the request, which has none.)
    #[cfg(not(rdh_hosted))]
    Cgroup(crate::compat::memcg::MemCgroup),
}

impl Payer {
    /// The allocating task's cgroup if `mem_accounting`, else nobody.
    pub(crate) fn caller_if(mem_accounting: bool) -> Self {
        if mem_accounting {
            Self::Caller
        } else {
            Self::Nobody
        }
    }
}

/// Heap flags a caller may pass (upstream defines none).
const VALID_HEAP_FLAGS: u64 = 0;

/// An allocation request that passed the checks every heap relies on.
///
/// # Invariants
///
/// `len` is a non-zero multiple of the page size, no larger than the
/// machine's RAM was when the request was checked.
#[derive(Clone, Copy)]
pub(crate) struct Request {
    len: usize,
    flags: FdFlags,
}

impl Request {
    /// Checks a request as upstream's heap core does, in both modes (in
    /// hosted mode the kernel's core has checked it already, and this
    /// repeats it for the heaps' sake), and rounds its length up to whole
    /// pages.
    ///
    /// `EINVAL` for `fd_flags` other than the access mode and close-on-exec,
    /// any heap flag, and a length that is 0 or within a page of the top of
    /// the address space (where upstream's `PAGE_ALIGN` wraps it to 0).
    /// Beyond upstream, `ENOMEM` for a length of more pages than `ram_pages`,
    /// the machine's memory: such a buffer can never be allocated, and is
    /// refused before the OOM killer is woken.
    pub(crate) fn check(
        len: u64,
        fd_flags: u32,
        heap_flags: u64,
        ram_pages: usize,
    ) -> Result<Self> {
        let flags = FdFlags::new(fd_flags).ok_or(EINVAL)?;
        if heap_flags & !VALID_HEAP_FLAGS != 0 {
            return Err(EINVAL);
        }
        let len = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_next_multiple_of(PAGE_SIZE))
            .filter(|&l| l != 0)
            .ok_or(EINVAL)?;
        if len / PAGE_SIZE > ram_pages {
            return Err(ENOMEM);
        }
        // INVARIANT: `len` is rounded up to a page, is not 0, and is
        // within `ram_pages`.
        Ok(Self { len, flags })
    }

    /// The buffer's length in bytes, a whole number of pages.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The flags of the buffer's file descriptor.
    pub(crate) fn flags(&self) -> FdFlags {
        self.flags
    }
}

/// Allocates a checked `request` from `heap`, within the heap's limit,
/// counting the failure if it fails.
pub(crate) fn allocate(
    heap: &dyn DynHeap,
    stats: &Arc<HeapStats>,
    request: Request,
    payer: &Payer,
) -> Result<DmaBuf> {
    let (len, flags) = (request.len(), request.flags());
    // Whoever named a cgroup expects a charge that this heap cannot make:
    // refused before the heap's limit is charged or an error counted.
    #[cfg(not(rdh_hosted))]
    if matches!(payer, Payer::Cgroup(_)) && !heap.charges_memcg() {
        return Err(crate::compat::eopnotsupp());
    }
    let start = trace::Start::now();
    let result = stats.charge(len).and_then(|charge| {
        heap.export(len, flags, charge, payer)
            .inspect_err(|e| stats.count_error(*e))
    });
    trace::alloc(heap.name(), len, &result, start);
    result
}

/// The checks of an allocation request (7.3's KUnit, run when the module
/// loads on a kernel with `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_request)]
mod tests {
    use super::Request;
    use crate::memory::page::PAGE_SIZE;
    use kernel::bindings::{
        O_ACCMODE, O_APPEND, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY,
    };
    use kernel::prelude::*;

    const RAM: usize = 1 << 10;
    const PAGE: u64 = PAGE_SIZE as u64;

    fn len_of(len: u64) -> Result<usize> {
        Request::check(len, O_RDWR, 0, RAM).map(|r| r.len())
    }

    #[test]
    fn every_access_mode_with_or_without_cloexec_is_accepted() -> Result {
        for mode in [O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE] {
            for cloexec in [0, O_CLOEXEC] {
                let request = Request::check(PAGE, mode | cloexec, 0, RAM)?;
                assert_eq!(request.flags().raw(), mode | cloexec);
            }
        }
        Ok(())
    }

    #[test]
    fn other_fd_flags_and_any_heap_flag_are_einval() {
        let einval = Some(EINVAL);
        assert_eq!(
            Request::check(PAGE, O_RDWR | O_NONBLOCK, 0, RAM).err(),
            einval
        );
        assert_eq!(
            Request::check(PAGE, O_RDWR | O_APPEND, 0, RAM).err(),
            einval
        );
        assert_eq!(Request::check(PAGE, 1 << 31, 0, RAM).err(), einval);
        assert_eq!(Request::check(PAGE, O_RDWR, 1, RAM).err(), einval);
        assert_eq!(Request::check(PAGE, O_RDWR, 1 << 63, RAM).err(), einval);
    }

    #[test]
    fn lengths_are_rounded_up_to_whole_pages() -> Result {
        assert_eq!(len_of(1)?, PAGE_SIZE);
        assert_eq!(len_of(PAGE)?, PAGE_SIZE);
        assert_eq!(len_of(PAGE + 1)?, 2 * PAGE_SIZE);
        assert_eq!(len_of(3 * PAGE - 1)?, 3 * PAGE_SIZE);
        Ok(())
    }

    #[test]
    fn an_empty_or_wrapping_length_is_einval() {
        let einval = Some(EINVAL);
        assert_eq!(len_of(0).err(), einval);
        // PAGE_ALIGN of these wraps to 0 (on 64-bit), or they do not fit
        // a size (on 32-bit).
        assert_eq!(len_of(u64::MAX).err(), einval);
        assert_eq!(len_of(u64::MAX - PAGE + 2).err(), einval);
    }

    #[test]
    fn a_buffer_larger_than_memory_is_enomem() -> Result {
        assert_eq!(len_of(RAM as u64 * PAGE)?, RAM * PAGE_SIZE);
        assert_eq!(len_of(RAM as u64 * PAGE + 1).err(), Some(ENOMEM));
        // Checked after the flags: a malformed request is EINVAL first.
        assert_eq!(
            Request::check(u64::MAX / 2, O_RDWR, 1, RAM).err(),
            Some(EINVAL)
        );
        Ok(())
    }
}
