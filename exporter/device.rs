// SPDX-License-Identifier: GPL-2.0

//! An importer's `struct device`, reference-counted as mainline's
//! `kernel::device::Device` is (`ARef<Device>`).
//!
//! The kernel crate's `Device` keeps its raw pointer crate-private (6.12
//! and 7.3), and the DMA API needs it, so this module has its own
//! transparent wrapper, shaped the same way: replaced by the kernel's once
//! its `as_raw()` is public.

use crate::{
    compat::{
        ARef,
        AlwaysRefCounted, //
    },
    memory::page::PageRun, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    types::Opaque, //
};

/// A `struct device`, only ever reached through a reference a caller holds
/// or an [`ARef<Device>`] (its `get_device()`/`put_device()` count).
///
/// # Invariants
///
/// A `&Device` points to a valid device with at least one reference held
/// for as long as the borrow lasts.
#[repr(transparent)]
pub(crate) struct Device(Opaque<bindings::device>);

// SAFETY: Device references may be taken and dropped on any thread.
unsafe impl Send for Device {}
// SAFETY: Everything `&Device` offers may be called from any thread at
// once (it reads the device, or takes and drops references).
unsafe impl Sync for Device {}

// SAFETY: A device's lifetime is its embedded kobject's reference count,
// which `get_device()` and `put_device()` take and drop; the device stays
// valid while one is held.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: The device is valid (type invariant).
        unsafe { bindings::get_device(self.as_raw()) };
    }

    /// # Safety
    ///
    /// As [`AlwaysRefCounted::dec_ref`]: the caller owns a reference to
    /// `obj` and gives it up.
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which it gives up here.
        unsafe { bindings::put_device(obj.cast::<bindings::device>().as_ptr()) };
    }
}

impl Device {
    /// Takes a new reference on `dev`.
    ///
    /// # Safety
    ///
    /// `dev` must point to a valid `struct device` for the duration of the call.
    pub(crate) unsafe fn get(dev: NonNull<bindings::device>) -> ARef<Self> {
        // SAFETY: `Device` is a transparent wrapper of a valid device, as
        // the caller guarantees for the duration of this call, in which
        // `ARef::from` takes the reference the result owns.
        ARef::from(unsafe { dev.cast::<Self>().as_ref() })
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::device {
        self.0.get()
    }

    /// The device's name, as the kernel logs it (without its NUL).
    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: A live device (type invariant).
        let name = unsafe { crate::compat::ffi::rdh_dev_name(self.as_raw()) };
        if name.is_null() {
            return b"?";
        }
        // SAFETY: A device's name is a NUL-terminated string owned by the
        // device, which our reference keeps. It is replaced only by a rename
        // (`device_rename()`, which network devices use, never a DMA
        // importer); the kernel's logs and dma-buf's own debugfs read it
        // the same way, without a lock.
        crate::compat::cstr_bytes(unsafe { crate::compat::cstr_from_ptr(name) })
    }

    /// Whether a streaming DMA mapping of `run` for the device would be
    /// bounced through swiotlb: swiotlb forced for it (`swiotlb=force`,
    /// memory-encrypted guests), or the run out of its reach.
    pub(crate) fn would_bounce(&self, run: PageRun<'_>) -> bool {
        let phys = (run.pfn() as u64) << bindings::PAGE_SHIFT;
        // SAFETY: A live device (type invariant); the range is only
        // compared with what the device can reach.
        unsafe { crate::compat::ffi::rdh_dma_bounces(self.as_raw(), phys, run.bytes()) }
    }

    /// The longest scatterlist segment the device can take, in bytes: its
    /// maximum segment size, and no more than one mapping may cover (which
    /// bounce buffers limit, 256 KiB with swiotlb).
    pub(crate) fn max_segment_size(&self) -> usize {
        // SAFETY: A live device (type invariant).
        let seg = unsafe { crate::compat::ffi::rdh_dma_max_seg_size(self.as_raw()) as usize };
        // SAFETY: As above.
        let mapping = unsafe { bindings::dma_max_mapping_size(self.as_raw()) };
        seg.min(mapping)
    }
}
