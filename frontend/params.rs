// SPDX-License-Identifier: GPL-2.0

//! Module parameters.
//!
//! 6.12's `module!` macro cannot declare parameters, so they are declared
//! with `module_param()` in `glue/params.c` (`name_prefix` in
//! `glue/hosted.c`) and read here.

use crate::{
    compat,
    compat::ffi, //
};
use kernel::str::CStr;

/// Whether the system heap is registered (`system=`, default on).
pub(crate) fn system_heap_enabled() -> bool {
    // SAFETY: `rdh_param_system` only reads a module parameter.
    unsafe { ffi::rdh_param_system() }
}

/// Whether the system-uncached heap is registered (`system_uncached=`,
/// default on).
pub(crate) fn system_uncached_heap_enabled() -> bool {
    // SAFETY: `rdh_param_system_uncached` only reads a module parameter.
    unsafe { ffi::rdh_param_system_uncached() }
}

/// Whether the system-dma32 heap is registered (`system_dma32=`, default
/// off).
pub(crate) fn system_dma32_heap_enabled() -> bool {
    // SAFETY: `rdh_param_system_dma32` only reads a module parameter.
    unsafe { ffi::rdh_param_system_dma32() }
}

/// Whether each heap is a region of the dmem cgroup controller
/// (`cgroup_dmem=`, default off; `compat/dmem.rs`).
pub(crate) fn cgroup_dmem() -> bool {
    // SAFETY: `rdh_param_cgroup_dmem` only reads a module parameter.
    unsafe { ffi::rdh_param_cgroup_dmem() }
}

/// Whether `DMA_HEAP_IOCTL_ALLOC` reads the `charge_pid_fd` field that a
/// proposed extension appends to its argument (`charge_pid_fd=`, default
/// off, writable at run time; `frontend/ioctl.rs`).
pub(crate) fn charge_pid_fd() -> bool {
    // SAFETY: `rdh_param_charge_pid_fd` only reads a module parameter.
    unsafe { ffi::rdh_param_charge_pid_fd() }
}

/// Whether CMA heaps are registered (`cma=`, default on).
pub(crate) fn cma_heaps_enabled() -> bool {
    // SAFETY: `rdh_param_cma` only reads a module parameter.
    unsafe { ffi::rdh_param_cma() }
}

/// Whether system-heap pages are charged to the allocating task's memory
/// cgroup (`mem_accounting=`, default off, as upstream's parameter of that
/// name since 7.0). Hosted, the heap core's own switch
/// (`dma_heap.mem_accounting=` on the kernel's command line, where the
/// core exports it) turns it on as well: an administrator who asked the
/// kernel to charge heap memory gets every heap in `/dev/dma_heap` charged.
pub(crate) fn mem_accounting() -> bool {
    // SAFETY: `rdh_param_mem_accounting` only reads a module parameter.
    let ours = unsafe { ffi::rdh_param_mem_accounting() };
    ours || host_mem_accounting()
}

/// The heap core's `dma_heap.mem_accounting` (hosted mode).
#[cfg(rdh_hosted)]
fn host_mem_accounting() -> bool {
    // SAFETY: `rdh_host_mem_accounting` only reads the heap core's
    // parameter (or returns false where the core has none).
    unsafe { ffi::rdh_host_mem_accounting() }
}

#[cfg(not(rdh_hosted))]
fn host_mem_accounting() -> bool {
    false
}

/// Reads a string parameter.
///
/// # Safety
///
/// `ptr` must be a NUL-terminated string that stays unchanged while the
/// module is loaded (a read-only `charp` parameter).
unsafe fn string_param(ptr: *const u8) -> &'static CStr {
    // SAFETY: Guaranteed by the caller; the parameters are read-only (0444),
    // so the string outlives every use inside the module.
    unsafe { compat::cstr_from_ptr(ptr) }
}

/// A ':'-separated list of names, as `cma_aliases=` and `cma_regions=`
/// take (device-tree node names never contain ':').
#[cfg(rdh_cma)]
#[derive(Clone, Copy)]
pub(crate) struct Names(&'static CStr);

#[cfg(rdh_cma)]
impl Names {
    /// Each name, in order (empty ones included).
    pub(crate) fn iter(self) -> impl Iterator<Item = &'static [u8]> {
        compat::cstr_bytes(self.0).split(|&b| b == b':')
    }

    /// Whether `name` is one of them.
    pub(crate) fn contains(self, name: &CStr) -> bool {
        self.iter().any(|n| n == compat::cstr_bytes(name))
    }
}

/// Further names of the default CMA area's heap (`cma_aliases=`).
#[cfg(rdh_cma)]
pub(crate) fn cma_aliases() -> Names {
    // SAFETY: A read-only charp parameter.
    Names(unsafe { string_param(ffi::rdh_param_cma_aliases()) })
}

/// Which CMA areas other than the default one become heaps
/// (`cma_regions=`).
#[cfg(rdh_cma)]
pub(crate) enum CmaRegions {
    /// `all`: every one that may.
    All,
    /// `none`, or empty.
    None,
    /// Those named.
    Named(Names),
}

#[cfg(rdh_cma)]
impl CmaRegions {
    /// Whether the area `name` is to become a heap (if it may).
    pub(crate) fn selects(&self, name: &CStr) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::Named(names) => names.contains(name),
        }
    }

    /// Whether the parameter names the area `name` explicitly.
    pub(crate) fn names(&self, name: &CStr) -> bool {
        matches!(self, Self::Named(names) if names.contains(name))
    }
}

/// `cma_regions=`: `all`, `none`, or ':'-separated area names.
#[cfg(rdh_cma)]
pub(crate) fn cma_regions() -> CmaRegions {
    // SAFETY: A read-only charp parameter.
    let value = unsafe { string_param(ffi::rdh_param_cma_regions()) };
    match compat::cstr_bytes(value) {
        b"all" => CmaRegions::All,
        b"none" | b"" => CmaRegions::None,
        _ => CmaRegions::Named(Names(value)),
    }
}

/// The carveout heap's region (`carveout=`): a reserved-memory node's name,
/// or the heap's name when `carveout_size=` is set; empty for none.
pub(crate) fn carveout() -> &'static CStr {
    // SAFETY: A read-only charp parameter.
    unsafe { string_param(ffi::rdh_param_carveout()) }
}

/// The carveout's physical base and size in bytes when given as parameters
/// (`carveout_base=`, `carveout_size=`); `None` if the size is 0.
pub(crate) fn carveout_range() -> Option<(u64, u64)> {
    // SAFETY: Both only read a module parameter.
    let (base, size) = unsafe {
        (
            ffi::rdh_param_carveout_base(),
            ffi::rdh_param_carveout_size(),
        )
    };
    (size != 0).then_some((base, size))
}

/// Hosted mode: the prefix of every name this module registers
/// (`name_prefix=`, default none).
#[cfg(rdh_hosted)]
pub(crate) fn name_prefix() -> &'static CStr {
    // SAFETY: A read-only charp parameter.
    unsafe { string_param(ffi::rdh_param_name_prefix()) }
}
