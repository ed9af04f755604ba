// SPDX-License-Identifier: GPL-2.0

//! The kernel objects that drive a heap's page pools: a worker thread, a
//! shrinker and a debugfs file, each calling into the pools' [`PoolWork`].
//!
//! Each is a typed owner that removes its object when dropped, and
//! [`PoolHooks`] holds the three in the order they must go: the file and
//! the shrinker first, then the worker, then the pointer all three were
//! given. The pools themselves (`memory/page_pool.rs`) are then policy
//! only, with no kernel object and no `unsafe` of this kind in them.
//!
//! 6.12's `kernel` crate has no kthread, shrinker or debugfs abstraction;
//! 7.3's has debugfs (`kernel::debugfs`), but not for a `seq_file` that
//! reads through a pointer the module keeps, so both kernels use the glue
//! (`glue/pools.c`, `glue/debugfs.c`).

use crate::compat::{
    ffi,
    fmt, //
};
use core::ptr::NonNull;
use kernel::{
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    prelude::*,
    str::CString,
    sync::Arc, //
};

/// What the worker thread, the shrinker and the debugfs file do with a
/// heap's pools.
pub(crate) trait PoolWork: Send + Sync {
    /// The worker's loop, until [`PoolWork::stop`] is called.
    fn work(&self);
    /// Makes [`PoolWork::work`] return (now, or as soon as it is called).
    fn stop(&self);
    /// Pages the shrinker may free.
    fn reclaimable(&self) -> usize;
    /// Frees about `nr` pages for the shrinker; how many it freed.
    fn shrink(&self, nr: usize) -> usize;
    /// The counters, for debugfs.
    fn stats(&self, out: &mut ffi::PoolStats);
}

/// The pointer the C side is given: a thin one, to this.
struct PoolHandle(Arc<dyn PoolWork>);

/// The worker's nice value: the lowest priority there is, as zeroing can
/// always wait for a busy machine.
const WORKER_NICE: c_int = 19;

/// A started worker thread running [`PoolWork::work`].
///
/// # Invariants
///
/// `task` was returned by `rdh_pool_worker_start` for a handle that
/// outlives this value, and is stopped only in `drop`.
struct Worker {
    task: NonNull<ffi::task_struct>,
    work: Arc<dyn PoolWork>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.work.stop();
        // SAFETY: `task` was started by `rdh_pool_worker_start` and is
        // stopped only here, once (type invariant).
        unsafe { ffi::rdh_pool_worker_stop(self.task.as_ptr()) };
    }
}

/// A registered shrinker that calls [`PoolWork::reclaimable`] and
/// [`PoolWork::shrink`].
///
/// # Invariants
///
/// `shrinker` was returned by `rdh_pool_shrinker_add` for a handle that
/// outlives this value, and is removed only in `drop`.
struct Shrinker(NonNull<ffi::shrinker>);

impl Drop for Shrinker {
    fn drop(&mut self) {
        // SAFETY: Registered by `rdh_pool_shrinker_add` and removed only
        // here (type invariant); once this returns it no longer runs.
        unsafe { ffi::rdh_pool_shrinker_remove(self.0.as_ptr()) };
    }
}

/// A debugfs file that shows [`PoolWork::stats`].
///
/// # Invariants
///
/// The file was made by `rdh_pool_debugfs_add` for a handle that outlives
/// this value, and is removed only in `drop`.
struct DebugfsFile(NonNull<ffi::dentry>);

impl Drop for DebugfsFile {
    fn drop(&mut self) {
        // SAFETY: Made by `rdh_pool_debugfs_add` and removed only here (type
        // invariant); once this returns no read of it runs.
        unsafe { ffi::rdh_pool_debugfs_remove(self.0.as_ptr()) };
    }
}

/// A heap's pools' worker thread, shrinker and debugfs file (if debugfs
/// could make it). Fields drop in declaration order: nothing calls into
/// the handle once the first three are gone.
pub(crate) struct PoolHooks {
    _debugfs: Option<DebugfsFile>,
    _shrinker: Shrinker,
    _worker: Worker,
    /// Read only by C, through the pointer the three were given.
    _handle: KBox<PoolHandle>,
}

// SAFETY: The kernel objects may be removed from any thread, and the
// handle is an `Arc` of a `Send + Sync` trait object.
unsafe impl Send for PoolHooks {}
// SAFETY: Shared references give access to nothing.
unsafe impl Sync for PoolHooks {}

impl PoolHooks {
    /// Starts `work`'s worker thread (`rdh-pool-<name>`) and registers its
    /// shrinker (`rdh-<name>-pool`) and debugfs file (`<name>-pool`).
    pub(crate) fn start(work: Arc<dyn PoolWork>, name: &str) -> Result<Self> {
        let handle = KBox::new(PoolHandle(work.clone()), GFP_KERNEL)?;
        let ptr: *const c_void = core::ptr::from_ref::<PoolHandle>(&*handle).cast();

        let thread_name = CString::try_from_fmt(fmt!("rdh-pool-{}", name))?;
        // The worker borrows the handle rather than owning a reference: a
        // thread stopped before it first runs never calls its function, so
        // it could not be relied on to drop one.
        //
        // SAFETY: `thread_name` is a NUL-terminated string that C copies;
        // `ptr` stays valid until the worker is stopped, as the handle is
        // dropped after it (field order).
        let task = unsafe {
            ffi::rdh_pool_worker_start(ptr, thread_name.as_char_ptr().cast(), WORKER_NICE)
        };
        let task = NonNull::new(task).ok_or(ENOMEM)?;
        // INVARIANT: Started just above, with the handle kept below.
        let worker = Worker { task, work };

        let shrinker_name = CString::try_from_fmt(fmt!("rdh-{}-pool", name))?;
        // SAFETY: The name is copied; `ptr` stays valid until the shrinker
        // is removed, as the handle is dropped after it.
        let shrinker =
            unsafe { ffi::rdh_pool_shrinker_add(ptr, shrinker_name.as_char_ptr().cast()) };
        // INVARIANT: Registered just above, with the handle kept below. (If
        // it failed, `worker` stops the thread.)
        let shrinker = Shrinker(NonNull::new(shrinker).ok_or(ENOMEM)?);

        // debugfs is optional: without the file the pools work all the same.
        let debugfs = CString::try_from_fmt(fmt!("{}", name))
            .ok()
            .and_then(|file_name| {
                // SAFETY: As for the shrinker; debugfs copies the name.
                NonNull::new(unsafe {
                    ffi::rdh_pool_debugfs_add(ptr, file_name.as_char_ptr().cast())
                })
            })
            // INVARIANT: Made just above, with the handle kept below.
            .map(DebugfsFile);

        Ok(Self {
            _debugfs: debugfs,
            _shrinker: shrinker,
            _worker: worker,
            _handle: handle,
        })
    }
}

// The `rdh_rust_pool_*` functions are called by the glue (`glue/pools.c`,
// `glue/debugfs.c`): the worker thread, the shrinker and the debugfs file,
// each with the pointer to the `PoolHandle` it was started or registered
// with, which stays valid until `PoolHooks` has stopped or removed it.

/// # Safety
///
/// `pool` points to a `PoolHandle` that stays alive until this returns.
#[no_mangle]
unsafe extern "C" fn rdh_rust_pool_worker(pool: *const c_void) {
    // SAFETY: See the function's safety requirements.
    let handle = unsafe { &*pool.cast::<PoolHandle>() };
    handle.0.work();
}

/// # Safety
///
/// `pool` points to a live `PoolHandle`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_pool_count(pool: *const c_void) -> c_ulong {
    // SAFETY: See the function's safety requirements.
    let handle = unsafe { &*pool.cast::<PoolHandle>() };
    handle.0.reclaimable() as c_ulong
}

/// # Safety
///
/// `pool` points to a live `PoolHandle`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_pool_scan(pool: *const c_void, nr: c_ulong) -> c_ulong {
    // SAFETY: See the function's safety requirements.
    let handle = unsafe { &*pool.cast::<PoolHandle>() };
    handle.0.shrink(nr) as c_ulong
}

/// # Safety
///
/// `pool` points to a live `PoolHandle`, `out` to a writable `PoolStats`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_pool_stats(pool: *const c_void, out: *mut ffi::PoolStats) {
    // SAFETY: See the function's safety requirements.
    let handle = unsafe { &*pool.cast::<PoolHandle>() };
    let mut stats = ffi::PoolStats::default();
    handle.0.stats(&mut stats);
    // SAFETY: `out` is writable (see the function's safety requirements).
    unsafe { out.write(stats) };
}
