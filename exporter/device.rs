// SPDX-License-Identifier: GPL-2.0

//! A counted reference to an importer's `struct device`.
//!
//! 6.12's `kernel::device::Device` keeps its raw pointer crate-private, and
//! the DMA API needs it, so this module keeps its own small handle.

use crate::memory::page::PageRun;
use core::ptr::NonNull;
use kernel::bindings;

/// A reference to a `struct device`, dropped with `put_device()`.
///
/// # Invariants
///
/// `dev` is a valid device on which this value holds one reference.
pub(crate) struct DeviceRef {
    dev: NonNull<bindings::device>,
}

// SAFETY: Device references may be taken and dropped on any thread.
unsafe impl Send for DeviceRef {}
// SAFETY: A shared `DeviceRef` only hands out the pointer.
unsafe impl Sync for DeviceRef {}

impl DeviceRef {
    /// Takes a new reference on `dev`.
    ///
    /// # Safety
    ///
    /// `dev` must point to a valid `struct device` for the duration of the call.
    pub(crate) unsafe fn get(dev: NonNull<bindings::device>) -> Self {
        // SAFETY: `dev` is valid, as the caller guarantees.
        unsafe { bindings::get_device(dev.as_ptr()) };
        // INVARIANT: We just took the reference this value owns.
        Self { dev }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::device {
        self.dev.as_ptr()
    }

    /// The device's name, as the kernel logs it (without its NUL).
    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: A live device (type invariant).
        let name = unsafe { crate::compat::ffi::rdh_dev_name(self.dev.as_ptr()) };
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
        unsafe { crate::compat::ffi::rdh_dma_bounces(self.dev.as_ptr(), phys, run.bytes()) }
    }

    /// The longest scatterlist segment the device can take, in bytes: its
    /// maximum segment size, and no more than one mapping may cover (which
    /// bounce buffers limit, 256 KiB with swiotlb).
    pub(crate) fn max_segment_size(&self) -> usize {
        // SAFETY: A live device (type invariant).
        let seg = unsafe { crate::compat::ffi::rdh_dma_max_seg_size(self.dev.as_ptr()) as usize };
        // SAFETY: As above.
        let mapping = unsafe { bindings::dma_max_mapping_size(self.dev.as_ptr()) };
        seg.min(mapping)
    }
}

impl Clone for DeviceRef {
    fn clone(&self) -> Self {
        // SAFETY: We hold a reference, so `dev` is valid (type invariant).
        unsafe { Self::get(self.dev) }
    }
}

impl Drop for DeviceRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference.
        unsafe { bindings::put_device(self.dev.as_ptr()) };
    }
}
