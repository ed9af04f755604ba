// SPDX-License-Identifier: GPL-2.0

//! What each heap has handed out, and the per-heap limit.
//!
//! Every allocation first takes a [`Charge`] of its length on its heap's
//! [`HeapStats`]; the charge travels with the buffer and is given back when
//! the buffer is released, by whichever process drops the last reference,
//! or at once if the allocation fails. A charge is refused, before any page
//! is taken, when it would take the heap past its `max_bytes`: the check and
//! the addition are one atomic step, so racing allocators cannot overshoot
//! the limit between them.
//!
//! With `cgroup_dmem=1` the heap is also a region of the dmem cgroup
//! controller (`compat/dmem.rs`), and a charge is refused as well when it
//! would take the allocating task's cgroup past its `dmem.max` for it.
//!
//! The figures are readable in sysfs (`glue/sysfs.h` lists the files, and
//! `Documentation/ABI/testing/sysfs-class-dma_heap-rust` says what each one
//! means); `max_bytes` is the only one that can be written.

use crate::{
    compat::dmem::{
        DmemCharge,
        DmemRegion, //
    },
    stats::{
        live::LiveBuffers,
        trace, //
    }, //
};
use core::sync::atomic::{
    AtomicU64,
    AtomicUsize,
    Ordering, //
};
use kernel::{
    ffi::{
        c_int,
        c_uint,
        c_void, //
    },
    prelude::*,
    sync::Arc, //
};

/// Why an allocation failed, for the failure counters.
#[derive(Clone, Copy)]
enum Failure {
    /// Out of memory (`ENOMEM` from the heap).
    NoMemory,
    /// The heap's `max_bytes` would have been exceeded.
    Limit,
    /// The caller was killed while the heap allocated (`EINTR`).
    Interrupted,
}

/// The sizes that only some kinds of heap have (from the heap, through
/// `heap.rs`); `None` where a heap has no such size.
pub(crate) trait HeapSizes: Send + Sync {
    /// Bytes held in the heap's page pools, zeroed and ready.
    fn pool_bytes(&self) -> Option<usize>;

    /// The size of the memory region the heap allocates from.
    fn region_bytes(&self) -> Option<usize>;
}

/// One heap's figures, shared by all its names.
pub(crate) struct HeapStats {
    /// The sizes only its kind of heap has.
    heap: Arc<dyn HeapSizes>,
    /// Bytes of live buffers and of allocations in progress.
    bytes: AtomicUsize,
    /// Live buffers.
    buffers: AtomicUsize,
    /// The highest `bytes` has been.
    peak: AtomicUsize,
    /// The limit on `bytes`; 0 is none.
    max_bytes: AtomicUsize,
    failed: [AtomicU64; 3],
    /// The module's list of live buffers, which its buffers join.
    live: Arc<LiveBuffers>,
    /// The heap as a region of the dmem cgroup controller, if it is one.
    dmem: Option<DmemRegion>,
}

impl HeapStats {
    pub(crate) fn new(
        heap: Arc<dyn HeapSizes>,
        live: Arc<LiveBuffers>,
        dmem: Option<DmemRegion>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                heap,
                live,
                dmem,
                bytes: AtomicUsize::new(0),
                buffers: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                max_bytes: AtomicUsize::new(0),
                failed: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            },
            GFP_KERNEL,
        )?)
    }

    /// Charges `len` bytes to the heap (and to the current task's cgroup,
    /// if the heap is a dmem region), or fails with `ENOMEM` (and counts
    /// the failure) if that would take either past its limit.
    pub(crate) fn charge(self: &Arc<Self>, len: usize) -> Result<Charge> {
        let max = self.max_bytes.load(Ordering::Relaxed);
        let updated = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                let new = now.checked_add(len)?;
                (max == 0 || new <= max).then_some(new)
            });
        match updated {
            Ok(before) => {
                let dmem = match self.dmem.as_ref().map(|r| r.try_charge(len as u64)) {
                    Some(Err(e)) => {
                        // Past the cgroup's dmem.max (EAGAIN), or no memory
                        // to track the charge with: ENOMEM either way.
                        self.bytes.fetch_sub(len, Ordering::Relaxed);
                        self.count(if e == EAGAIN {
                            Failure::Limit
                        } else {
                            Failure::NoMemory
                        });
                        return Err(ENOMEM);
                    }
                    Some(Ok(charge)) => Some(charge),
                    None => None,
                };
                self.peak.fetch_max(before + len, Ordering::Relaxed);
                self.buffers.fetch_add(1, Ordering::Relaxed);
                Ok(Charge {
                    _dmem: dmem,
                    stats: self.clone(),
                    len,
                })
            }
            Err(_) => {
                self.count(Failure::Limit);
                Err(ENOMEM)
            }
        }
    }

    /// Counts a failed allocation of the heap's (after its charge was
    /// taken) by its cause; errors that are no shortage (a bad argument)
    /// are not counted.
    pub(crate) fn count_error(&self, e: Error) {
        if e == ENOMEM {
            self.count(Failure::NoMemory);
        } else if e == EINTR {
            self.count(Failure::Interrupted);
        }
    }

    fn count(&self, why: Failure) {
        self.failed[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The figure `which` names (`enum rdh_stat` in `glue.h`), if the heap
    /// has it.
    fn read(&self, which: Stat) -> Option<u64> {
        let failed = |why: Failure| Some(self.failed[why as usize].load(Ordering::Relaxed));
        let n = match which {
            Stat::Bytes => self.bytes.load(Ordering::Relaxed),
            Stat::Buffers => self.buffers.load(Ordering::Relaxed),
            Stat::PeakBytes => self.peak.load(Ordering::Relaxed),
            Stat::MaxBytes => self.max_bytes.load(Ordering::Relaxed),
            Stat::FailedNoMemory => return failed(Failure::NoMemory),
            Stat::FailedLimit => return failed(Failure::Limit),
            Stat::FailedInterrupted => return failed(Failure::Interrupted),
            Stat::PoolBytes => self.heap.pool_bytes()?,
            Stat::RegionBytes => self.heap.region_bytes()?,
        };
        Some(n as u64)
    }

    /// Sets the limit. One below what is allocated now is accepted: live
    /// buffers stay, and allocations fail until enough of them are freed.
    fn set_max_bytes(&self, max: u64) -> Result {
        let max = usize::try_from(max).map_err(|_| ERANGE)?;
        self.max_bytes.store(max, Ordering::Relaxed);
        Ok(())
    }
}

/// `len` bytes charged to a heap, given back when dropped.
///
/// # Invariants
///
/// `len` bytes and one buffer were added to `stats` when this was made.
pub(crate) struct Charge {
    /// The cgroup's share of it, given back with it (first: before `stats`,
    /// which may hold the region's last reference).
    _dmem: Option<DmemCharge>,
    stats: Arc<HeapStats>,
    len: usize,
}

impl Charge {
    /// The list the buffer holding this charge joins.
    pub(crate) fn live(&self) -> &Arc<LiveBuffers> {
        &self.stats.live
    }

    /// Records, for the tracepoint, that the buffer holding this charge, a
    /// buffer of `heap`'s, is being released.
    pub(crate) fn released(&self, heap: &CStr) {
        trace::free(heap, self.len);
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        // INVARIANT: Removes exactly what `charge()` added.
        self.stats.bytes.fetch_sub(self.len, Ordering::Relaxed);
        self.stats.buffers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `enum rdh_stat` in `glue/glue.h`: the files `glue/sysfs.h` declares.
#[derive(Clone, Copy)]
enum Stat {
    Bytes,
    Buffers,
    PeakBytes,
    MaxBytes,
    FailedNoMemory,
    FailedLimit,
    FailedInterrupted,
    PoolBytes,
    RegionBytes,
}

impl Stat {
    fn from_raw(raw: c_uint) -> Option<Self> {
        const ALL: [Stat; 9] = [
            Stat::Bytes,
            Stat::Buffers,
            Stat::PeakBytes,
            Stat::MaxBytes,
            Stat::FailedNoMemory,
            Stat::FailedLimit,
            Stat::FailedInterrupted,
            Stat::PoolBytes,
            Stat::RegionBytes,
        ];
        ALL.get(usize::try_from(raw).ok()?).copied()
    }
}

/// Called by `glue/sysfs.c` to show one of a heap's figures.
///
/// # Safety
///
/// `stats` must point to a live [`HeapStats`], and `out` must be writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_stat_read(
    stats: *const c_void,
    which: c_uint,
    out: *mut u64,
) -> c_int {
    // SAFETY: The caller guarantees that `stats` is live.
    let stats = unsafe { &*stats.cast::<HeapStats>() };
    let Some(which) = Stat::from_raw(which) else {
        return EINVAL.to_errno();
    };
    match stats.read(which) {
        Some(value) => {
            // SAFETY: `out` is writable, as the caller guarantees.
            unsafe { *out = value };
            0
        }
        // This heap has no such figure: glue/sysfs.c hides the file.
        None => ENOENT.to_errno(),
    }
}

/// Called by `glue/sysfs.c` when root writes a heap's `max_bytes`.
///
/// # Safety
///
/// `stats` must point to a live [`HeapStats`].
#[no_mangle]
unsafe extern "C" fn rdh_rust_stat_set_max_bytes(stats: *const c_void, max: u64) -> c_int {
    // SAFETY: The caller guarantees that `stats` is live.
    let stats = unsafe { &*stats.cast::<HeapStats>() };
    match stats.set_max_bytes(max) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
