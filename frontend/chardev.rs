// SPDX-License-Identifier: GPL-2.0

//! The `dma_heap` device class and the `/dev/dma_heap/<name>` nodes.

use crate::{
    compat::ffi,
    heap::DynHeap,
    stats::accounting::HeapStats, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::c_void,
    prelude::*,
    sync::Arc, //
};

/// The `dma_heap` device class; devtmpfs names its nodes `dma_heap/<name>`.
///
/// # Invariants
///
/// `ptr` is a class created by `rdh_class_create()`, destroyed on drop.
pub(crate) struct HeapClass {
    ptr: NonNull<ffi::class>,
}

// SAFETY: Class registration is safe from any thread.
unsafe impl Send for HeapClass {}
// SAFETY: Shared access only reads the pointer.
unsafe impl Sync for HeapClass {}

impl HeapClass {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No preconditions.
        let ptr = kernel::error::from_err_ptr(unsafe { ffi::rdh_class_create() })?;
        // INVARIANT: A class just created.
        NonNull::new(ptr).map(|ptr| Self { ptr }).ok_or(ENOMEM)
    }
}

impl Drop for HeapClass {
    fn drop(&mut self) {
        // SAFETY: Created by us and destroyed only here (type invariant).
        unsafe { ffi::class_destroy(self.ptr.as_ptr()) };
    }
}

/// A range of character device numbers.
///
/// # Invariants
///
/// `base..base + count` was allocated by `alloc_chrdev_region()`.
pub(crate) struct DevtRegion {
    base: bindings::dev_t,
    count: u32,
}

impl DevtRegion {
    pub(crate) fn new(count: u32, name: &'static CStr) -> Result<Self> {
        let mut base: bindings::dev_t = 0;
        // SAFETY: `base` is writable and `name` a static string.
        let ret = unsafe { bindings::alloc_chrdev_region(&mut base, 0, count, name.as_char_ptr()) };
        kernel::error::to_result(ret)?;
        // INVARIANT: The region was just allocated.
        Ok(Self { base, count })
    }

    /// The `n`th device number of the region, if it has one.
    pub(crate) fn devt(&self, n: u32) -> Option<bindings::dev_t> {
        (n < self.count).then(|| self.base + n)
    }
}

impl Drop for DevtRegion {
    fn drop(&mut self) {
        // SAFETY: Allocated by us and released only here (type invariant).
        unsafe { bindings::unregister_chrdev_region(self.base, self.count) };
    }
}

/// What a node's open files point to: the heap behind it, and its figures
/// (shared by all the heap's names, and shown in the node's sysfs files).
pub(crate) struct NodeTarget {
    pub(crate) heap: Arc<dyn DynHeap>,
    pub(crate) stats: Arc<HeapStats>,
}

/// One `/dev/dma_heap/<name>` node.
///
/// # Invariants
///
/// `node` was added by `rdh_node_add()` in a class that outlives this value,
/// with `target` as its private data and `target.stats` as its sysfs
/// files' data; it is removed and freed on drop (the kernel frees its
/// device and cdev once nothing uses them). `target` outlives every open
/// file of the node, because open files pin this module (`fops.owner`) and
/// nodes are only dropped when the module goes away.
pub(crate) struct HeapNode {
    node: NonNull<ffi::rdh_node>,
    _target: Pin<KBox<NodeTarget>>,
}

// SAFETY: Nodes may be removed from any thread.
unsafe impl Send for HeapNode {}
// SAFETY: Shared access only reads pointers.
unsafe impl Sync for HeapNode {}

impl HeapNode {
    /// Creates the node `name` for `heap`, with device number `devt`.
    ///
    /// `class` must outlive the node, which the registry ensures by dropping
    /// its nodes first.
    pub(crate) fn new(
        class: &HeapClass,
        devt: bindings::dev_t,
        name: &CStr,
        heap: Arc<dyn DynHeap>,
        stats: Arc<HeapStats>,
    ) -> Result<Self> {
        let target = KBox::pin(NodeTarget { heap, stats }, GFP_KERNEL)?;
        let private: *const NodeTarget = &*target;
        let stats: *const HeapStats = &*target.stats;
        // SAFETY: `class` is live, `name` a valid string (copied by the
        // device core), and `private` and `stats` stay valid until the
        // node is removed (they are dropped after it, in `target`).
        let node = unsafe {
            ffi::rdh_node_add(
                class.ptr.as_ptr(),
                devt,
                name.as_char_ptr().cast(),
                private.cast::<c_void>(),
                stats.cast::<c_void>(),
            )
        };
        let node = kernel::error::from_err_ptr(node)?;
        // INVARIANT: The node was just added with `target` as private data.
        Ok(Self {
            node: NonNull::new(node).ok_or(ENOMEM)?,
            _target: target,
        })
    }
}

impl Drop for HeapNode {
    fn drop(&mut self) {
        // SAFETY: The node was added in a class that is still live (type
        // invariant), and is removed only here.
        unsafe { ffi::rdh_node_remove(self.node.as_ptr()) };
    }
}
