// SPDX-License-Identifier: GPL-2.0

//! The dmem cgroup controller: each heap a region, each buffer a charge.
//!
//! With `cgroup_dmem=1`, every heap registers a region named
//! `dma_heap/<name>`, and every buffer is charged to the allocating task's
//! cgroup on it until the buffer is released. An administrator then limits
//! what a cgroup may take of each heap with its `dmem.max` (for example
//! `dma_heap/camera@60000000 33554432`), sees its use in `dmem.current`,
//! and the heap refuses an allocation past the limit with `ENOMEM`. This
//! holds for every kind of heap, CMA and carveouts included, whose memory
//! the memory controller cannot be charged with by a module.
//!
//! The glue (`glue/dmem.c`) is written against 7.3's controller, built
//! where `CONFIG_CGROUP_DMEM` is: its `struct dmem_cgroup_init`, and pools
//! that a charge keeps alive, so that a charge may be given back after its
//! region is unregistered (6.14 had neither). 6.12 has no controller, and
//! [`DmemRegion::new`] says so with `ENODEV`.

#[cfg(CONFIG_CGROUP_DMEM)]
use crate::compat::ffi;
#[cfg(CONFIG_CGROUP_DMEM)]
use core::ptr::NonNull;
use kernel::prelude::*;

/// A heap as a region of the dmem controller.
///
/// # Invariants
///
/// `region` was returned by `rdh_dmem_region_register` and is unregistered
/// only in `drop`.
pub(crate) struct DmemRegion {
    #[cfg(CONFIG_CGROUP_DMEM)]
    region: NonNull<ffi::dmem_cgroup_region>,
}

// SAFETY: The controller's regions are used and unregistered from any
// task; it locks what it shares.
unsafe impl Send for DmemRegion {}
// SAFETY: Shared references only charge, which the controller makes safe
// from any number of tasks at once.
unsafe impl Sync for DmemRegion {}

impl DmemRegion {
    /// Registers `name` (shown in cgroups' `dmem.*` files) as a region of
    /// `size` bytes.
    #[cfg(CONFIG_CGROUP_DMEM)]
    pub(crate) fn new(name: &CStr, size: u64) -> Result<Self> {
        if size == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `name` is a NUL-terminated string, which the controller
        // copies.
        let region = unsafe { ffi::rdh_dmem_region_register(name.as_char_ptr().cast(), size) };
        // INVARIANT: Registered just above.
        Ok(Self {
            region: NonNull::new(region).ok_or(ENOMEM)?,
        })
    }

    /// Without the controller there are no regions.
    #[cfg(not(CONFIG_CGROUP_DMEM))]
    pub(crate) fn new(_name: &CStr, _size: u64) -> Result<Self> {
        Err(ENODEV)
    }

    /// Charges `size` bytes of the region to the current task's cgroup;
    /// `EAGAIN` if that would take it or one of its ancestors past its
    /// `dmem.max`.
    #[cfg(CONFIG_CGROUP_DMEM)]
    pub(crate) fn try_charge(&self, size: u64) -> Result<DmemCharge> {
        let mut pool = core::ptr::null_mut();
        // SAFETY: `region` is registered (type invariant) and `pool` is
        // writable.
        let ret = unsafe { ffi::rdh_dmem_try_charge(self.region.as_ptr(), size, &mut pool) };
        kernel::error::to_result(ret)?;
        // INVARIANT: Charged just above, `size` bytes, which `pool` stands
        // for.
        Ok(DmemCharge {
            pool: NonNull::new(pool).ok_or(ENOMEM)?,
            size,
        })
    }

    /// Without the controller no region exists to charge.
    #[cfg(not(CONFIG_CGROUP_DMEM))]
    pub(crate) fn try_charge(&self, _size: u64) -> Result<DmemCharge> {
        Err(ENODEV)
    }
}

impl Drop for DmemRegion {
    fn drop(&mut self) {
        // SAFETY: Registered in `new` and unregistered only here (type
        // invariant). Charges still held on it keep what they need of it:
        // they can be given back after this.
        #[cfg(CONFIG_CGROUP_DMEM)]
        unsafe {
            ffi::rdh_dmem_region_unregister(self.region.as_ptr())
        };
    }
}

/// Bytes of a region charged to a cgroup, given back when dropped.
///
/// # Invariants
///
/// `pool` was set by a successful `rdh_dmem_try_charge` of `size` bytes,
/// and is given back only in `drop`.
pub(crate) struct DmemCharge {
    #[cfg(CONFIG_CGROUP_DMEM)]
    pool: NonNull<ffi::dmem_cgroup_pool_state>,
    #[cfg(CONFIG_CGROUP_DMEM)]
    size: u64,
}

// SAFETY: A charge may be given back by any task (the buffer's last user's).
unsafe impl Send for DmemCharge {}
// SAFETY: Shared references give access to nothing.
unsafe impl Sync for DmemCharge {}

impl Drop for DmemCharge {
    fn drop(&mut self) {
        // SAFETY: `pool` and `size` are a charge that is given back only
        // here (type invariant).
        #[cfg(CONFIG_CGROUP_DMEM)]
        unsafe {
            ffi::rdh_dmem_uncharge(self.pool.as_ptr(), self.size)
        };
    }
}
