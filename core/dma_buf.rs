// SPDX-License-Identifier: GPL-2.0

//! Exporting buffers as dma-bufs.
//!
//! A heap describes a buffer with two things: its pages (a [`Backing`]) and
//! an [`Exporter`], the dma-buf operations it implements. [`DmaBuf::export`]
//! puts both in one object owned by the dma-buf and registers it with the
//! dma-buf core.
//!
//! `glue.c` has a single `struct dma_buf_ops` for every heap; each of its
//! entries calls an `rdh_rust_*` function below, which finds the buffer's
//! [`VTable`] (a `const`, one per exporter type) at the start of the
//! buffer's object and calls the exporter's method through it.
//!
//! # Lifetimes the dma-buf core guarantees
//!
//! - `release` is the last call on a buffer and comes after every
//!   attachment was detached, every kernel mapping (`vmap`) undone and every
//!   user mapping (`mmap`) torn down (a VMA holds a reference on the
//!   buffer's file).
//! - `map`/`unmap` take an attachment between its `attach` and `detach`.
//!
//! # Locking
//!
//! The dma-buf core calls `map`, `unmap`, `vmap`, `vunmap` and `mmap` with
//! the buffer's reservation lock held, and `attach`, `detach`,
//! `begin_cpu_access` and `end_cpu_access` without it. An exporter's own
//! locks therefore nest inside the reservation lock and must never be held
//! while calling back into the dma-buf core; lockdep checks this in the
//! debug kernel.

use crate::attachments::{Attachment, Attachments};
use crate::device::DeviceRef;
use crate::ffi;
use crate::heap::FdFlags;
use crate::mapping::{KernelAddress, SharedVmap, Vma};
use crate::page::PageRun;
use crate::sg_table::{DataDirection, MappedTable};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ForeignOwnable;

/// The memory behind a buffer.
pub(crate) trait Backing: Send + Sync + 'static {
    /// The buffer's pages as runs of contiguous pages, in buffer order.
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_;
}

/// The pages of one exported buffer.
///
/// Only [`DmaBuf::export`] makes one, and only the buffer's own operations
/// see it, so whatever is mapped from it (into a device, the kernel, or a
/// process) belongs to the buffer being operated on and outlives the mapping.
pub(crate) struct BufferPages<B: Backing>(Arc<B>);

impl<B: Backing> BufferPages<B> {
    /// The pages, shared: tables and mappings keep them alive with this.
    pub(crate) fn arc(&self) -> &Arc<B> {
        &self.0
    }

    /// The buffer's runs of pages.
    pub(crate) fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.0.runs()
    }

    /// The buffer's size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.runs().map(|r| r.bytes()).sum()
    }
}

/// The dma-buf operations of a heap's buffers.
///
/// `Self` is the heap's per-buffer state; dropping it (with the pages) is the
/// buffer's release. Every operation has a default that does what a buffer
/// of CPU-accessible pages needs: a table per attached device, mapped and
/// synced for that device, a kernel mapping shared by every `vmap` user, and
/// `mmap` of the whole buffer from `vm_pgoff` on. A heap gives the state the
/// defaults work on ([`Exporter::state`]) and overrides what it does
/// differently.
pub(crate) trait Exporter: Send + Sync + Sized + 'static {
    /// The buffer's memory.
    type Backing: Backing;

    /// The state the default operations keep.
    fn state(&self) -> &BufferState<Self::Backing>;

    /// The buffer's attached devices.
    fn attachments(&self) -> &Attachments<Self::Backing> {
        &self.state().attachments
    }

    /// The buffer's kernel mapping.
    fn kernel_mapping(&self) -> &SharedVmap<Self::Backing> {
        &self.state().vmap
    }

    /// A device attaches: it gets its own table over the buffer's pages.
    fn attach(
        &self,
        pages: &BufferPages<Self::Backing>,
        dev: DeviceRef,
    ) -> Result<AttachmentRef<Self>> {
        self.attachments().attach(pages, dev)
    }

    /// A device detaches; the attachment is dropped afterwards.
    fn detach(&self, attachment: &AttachmentRef<Self>) {
        self.attachments().detach(attachment)
    }

    /// Maps the buffer for the attached device.
    fn map(&self, attachment: &AttachmentRef<Self>, dir: DataDirection) -> Result<MappedTable> {
        attachment.map(dir)
    }

    /// Undoes [`Exporter::map`].
    fn unmap(&self, attachment: &AttachmentRef<Self>, _dir: DataDirection) {
        attachment.unmap()
    }

    /// The CPU is about to access the buffer: make what devices wrote
    /// visible to it, through the kernel mapping and every mapped table.
    fn begin_cpu_access(&self, _dir: DataDirection) -> Result {
        self.kernel_mapping().invalidate();
        self.attachments().sync_for_cpu();
        Ok(())
    }

    /// The CPU has finished: make what it wrote visible to devices.
    fn end_cpu_access(&self, _dir: DataDirection) -> Result {
        self.kernel_mapping().flush();
        self.attachments().sync_for_device();
        Ok(())
    }

    /// Maps the buffer into a process. The dma-buf core has checked that
    /// `vma` does not extend past the buffer.
    fn mmap(&self, pages: &BufferPages<Self::Backing>, vma: &Vma) -> Result {
        vma.map_pages(pages)
    }

    /// Maps the whole buffer into kernel virtual memory.
    fn vmap(&self, pages: &BufferPages<Self::Backing>) -> Result<KernelAddress> {
        self.kernel_mapping().get(pages)
    }

    /// Undoes one [`Exporter::vmap`].
    fn vunmap(&self) {
        self.kernel_mapping().put()
    }
}

/// What the default operations keep for a buffer: its attached devices and
/// its kernel mapping.
#[pin_data]
pub(crate) struct BufferState<B: Backing> {
    #[pin]
    attachments: Attachments<B>,
    #[pin]
    vmap: SharedVmap<B>,
}

impl<B: Backing> BufferState<B> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            attachments <- Attachments::new(),
            vmap <- SharedVmap::new(),
        })
    }
}

/// What an exporter keeps per attached device.
pub(crate) type AttachmentRef<E> = Arc<Attachment<<E as Exporter>::Backing>>;

/// Type-erased entry points of one exporter type.
struct VTable {
    attach: unsafe fn(*const c_void, NonNull<bindings::device>) -> Result<*const c_void>,
    detach: unsafe fn(*const c_void, *const c_void),
    map: unsafe fn(*const c_void, *const c_void, DataDirection) -> Result<MappedTable>,
    unmap: unsafe fn(*const c_void, *const c_void, DataDirection),
    begin_cpu_access: unsafe fn(*const c_void, DataDirection) -> Result,
    end_cpu_access: unsafe fn(*const c_void, DataDirection) -> Result,
    mmap: unsafe fn(*const c_void, *mut bindings::vm_area_struct) -> Result,
    vmap: unsafe fn(*const c_void) -> Result<KernelAddress>,
    vunmap: unsafe fn(*const c_void),
    release: unsafe fn(*const c_void),
}

/// The object behind a dma-buf's `priv`.
///
/// # Invariants
///
/// `vtable` is `Ops::<X>::VTABLE`. It is the first field of a `#[repr(C)]`
/// struct, so a `priv` pointer can be read as `*const &VTable` without
/// knowing `E`.
#[repr(C)]
#[pin_data]
struct Exported<X: Exporter> {
    vtable: &'static VTable,
    pages: BufferPages<X::Backing>,
    #[pin]
    exporter: X,
}

type ExportedBox<E> = Pin<KBox<Exported<E>>>;
type AttachmentBox<E> = KBox<AttachmentRef<E>>;

struct Ops<E: Exporter>(PhantomData<E>);

impl<E: Exporter> Ops<E> {
    const VTABLE: VTable = VTable {
        attach: Self::attach,
        detach: Self::detach,
        map: Self::map,
        unmap: Self::unmap,
        begin_cpu_access: Self::begin_cpu_access,
        end_cpu_access: Self::end_cpu_access,
        mmap: Self::mmap,
        vmap: Self::vmap,
        vunmap: Self::vunmap,
        release: Self::release,
    };

    /// # Safety
    ///
    /// `buf` must be the `priv` of a live buffer exported by
    /// [`DmaBuf::export`] for `E`.
    unsafe fn buffer<'a>(buf: *const c_void) -> Pin<&'a Exported<E>> {
        // SAFETY: `buf` came from `ExportedBox::<E>::into_foreign` and the
        // buffer is live (not yet released), as the caller guarantees.
        unsafe { <ExportedBox<E> as ForeignOwnable>::borrow(buf) }
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `dev` must be valid for the call.
    unsafe fn attach(buf: *const c_void, dev: NonNull<bindings::device>) -> Result<*const c_void> {
        // SAFETY: guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: `dev` is valid for the call, as the caller guarantees.
        let dev = unsafe { DeviceRef::get(dev) };
        // Allocated first: once the exporter has recorded the attachment,
        // nothing may fail and leave that record behind.
        let slot = KBox::<AttachmentRef<E>>::new_uninit(GFP_KERNEL)?;
        let attachment = this.exporter.attach(&this.pages, dev)?;
        Ok(slot.write(attachment).into_foreign())
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `att` must come from [`Ops::attach`] on the same
    /// buffer and is consumed.
    unsafe fn detach(buf: *const c_void, att: *const c_void) {
        // SAFETY: guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: `att` came from `into_foreign` in `attach` and is given
        // back exactly once, here.
        let att = unsafe { AttachmentBox::<E>::from_foreign(att) };
        this.exporter.detach(&att);
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `att` must be a live attachment of this buffer.
    unsafe fn map(
        buf: *const c_void,
        att: *const c_void,
        dir: DataDirection,
    ) -> Result<MappedTable> {
        // SAFETY: guaranteed by the caller.
        let (this, att) = unsafe { (Self::buffer(buf), AttachmentBox::<E>::borrow(att)) };
        this.exporter.map(att, dir)
    }

    /// # Safety
    ///
    /// As [`Ops::map`].
    unsafe fn unmap(buf: *const c_void, att: *const c_void, dir: DataDirection) {
        // SAFETY: guaranteed by the caller.
        let (this, att) = unsafe { (Self::buffer(buf), AttachmentBox::<E>::borrow(att)) };
        this.exporter.unmap(att, dir)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn begin_cpu_access(buf: *const c_void, dir: DataDirection) -> Result {
        // SAFETY: guaranteed by the caller.
        unsafe { Self::buffer(buf) }.exporter.begin_cpu_access(dir)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn end_cpu_access(buf: *const c_void, dir: DataDirection) -> Result {
        // SAFETY: guaranteed by the caller.
        unsafe { Self::buffer(buf) }.exporter.end_cpu_access(dir)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `vma` must be a VMA the dma-buf core is setting up
    /// for this buffer.
    unsafe fn mmap(buf: *const c_void, vma: *mut bindings::vm_area_struct) -> Result {
        // SAFETY: guaranteed by the caller.
        let (this, vma) = unsafe { (Self::buffer(buf), Vma::from_raw(vma)) };
        this.exporter.mmap(&this.pages, vma)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn vmap(buf: *const c_void) -> Result<KernelAddress> {
        // SAFETY: guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        this.exporter.vmap(&this.pages)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn vunmap(buf: *const c_void) {
        // SAFETY: guaranteed by the caller.
        unsafe { Self::buffer(buf) }.exporter.vunmap()
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; the buffer is consumed.
    unsafe fn release(buf: *const c_void) {
        // SAFETY: `buf` came from `into_foreign` and the dma-buf core
        // releases a buffer once, after its last use.
        drop(unsafe { ExportedBox::<E>::from_foreign(buf) });
    }
}

/// A reference to a dma-buf, dropped with `dma_buf_put()`.
///
/// # Invariants
///
/// `ptr` is a valid dma-buf on which this value owns one reference.
pub(crate) struct DmaBuf {
    ptr: NonNull<ffi::dma_buf>,
}

// SAFETY: dma-buf references may be dropped on any thread.
unsafe impl Send for DmaBuf {}

impl DmaBuf {
    /// Exports a buffer made of `pages` with the operations of `E`.
    ///
    /// `name` becomes the exporter name shown in
    /// `/sys/kernel/debug/dma_buf/bufinfo`. On failure everything is freed.
    pub(crate) fn export<E: Exporter>(
        name: &'static CStr,
        flags: FdFlags,
        pages: Arc<E::Backing>,
        exporter: impl PinInit<E, Error>,
    ) -> Result<Self> {
        let pages = BufferPages(pages);
        let size = pages.size();
        let init = try_pin_init!(Exported::<E> {
            vtable: &Ops::<E>::VTABLE,
            pages,
            exporter <- exporter,
        }? Error);
        let buf = KBox::pin_init(init, GFP_KERNEL)?.into_foreign();
        let mut out = core::ptr::null_mut();
        // SAFETY: `buf` is a valid object for the ops table's `rdh_rust_*`
        // callbacks; `name` is static; `out` is writable.
        let ret = unsafe {
            ffi::rdh_dma_buf_export(
                buf,
                name.as_char_ptr().cast(),
                size,
                flags.raw() as c_int,
                &mut out,
            )
        };
        if ret != 0 {
            // SAFETY: the export failed, so the dma-buf core never took `buf`;
            // it is ours to free.
            drop(unsafe { ExportedBox::<E>::from_foreign(buf) });
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: a successful export returns a dma-buf holding one
        // reference, which is now ours.
        NonNull::new(out).map(|ptr| Self { ptr }).ok_or(EINVAL)
    }

    /// Gives up the reference, as a raw pointer (for the kernel's heap core,
    /// which installs the buffer's file in a descriptor or puts it).
    #[cfg(rdh_hosted)]
    pub(crate) fn into_raw(self) -> *mut ffi::dma_buf {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Gives the reference to the buffer's file (for `fd_install()`).
    #[cfg(not(rdh_hosted))]
    pub(crate) fn into_file(self) -> *mut bindings::file {
        // SAFETY: `ptr` is a valid dma-buf (type invariant).
        let file = unsafe { ffi::rdh_dma_buf_file(self.ptr.as_ptr()) };
        // The buffer's reference is its file's reference: it moves with it.
        core::mem::forget(self);
        file
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant).
        unsafe { ffi::dma_buf_put(self.ptr.as_ptr()) };
    }
}

/// Reads the vtable at the start of a buffer's object.
///
/// # Safety
///
/// `buf` must be the `priv` of a live buffer exported by [`DmaBuf::export`].
unsafe fn vtable(buf: *const c_void) -> &'static VTable {
    // SAFETY: every such object starts with its `&'static VTable` (type
    // invariant of `Exported`).
    unsafe { *buf.cast::<&'static VTable>() }
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

// The `rdh_rust_*` functions are called by `glue.c`'s `dma_buf_ops`, only for
// buffers exported by `DmaBuf::export`, with the `priv` of that buffer and,
// for attachment calls, the attachment's `priv`. These are the safety
// requirements of each.

/// # Safety
///
/// `buf` is a live buffer's `priv`, `dev` a valid device, `out` writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_attach(
    buf: *const c_void,
    dev: *mut bindings::device,
    out: *mut *mut c_void,
) -> c_int {
    let Some(dev) = NonNull::new(dev) else {
        return EINVAL.to_errno();
    };
    // SAFETY: see the function's safety requirements.
    match unsafe { (vtable(buf).attach)(buf, dev) } {
        Ok(att) => {
            // SAFETY: `out` is writable.
            unsafe { *out = att.cast_mut() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`, `att` its attachment's, consumed.
#[no_mangle]
unsafe extern "C" fn rdh_rust_detach(buf: *const c_void, att: *mut c_void) {
    // SAFETY: see the function's safety requirements.
    unsafe { (vtable(buf).detach)(buf, att) }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`, `att` a live attachment's, `out` writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_map(
    buf: *const c_void,
    att: *mut c_void,
    dir: bindings::dma_data_direction,
    out: *mut *mut bindings::sg_table,
) -> c_int {
    let dir = match DataDirection::from_raw(dir) {
        Ok(dir) => dir,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: see the function's safety requirements.
    match unsafe { (vtable(buf).map)(buf, att, dir) } {
        Ok(table) => {
            // SAFETY: `out` is writable.
            unsafe { *out = table.as_raw() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`, `att` a live attachment's.
#[no_mangle]
unsafe extern "C" fn rdh_rust_unmap(
    buf: *const c_void,
    att: *mut c_void,
    dir: bindings::dma_data_direction,
) {
    if let Ok(dir) = DataDirection::from_raw(dir) {
        // SAFETY: see the function's safety requirements.
        unsafe { (vtable(buf).unmap)(buf, att, dir) }
    }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_begin_cpu_access(
    buf: *const c_void,
    dir: bindings::dma_data_direction,
) -> c_int {
    // SAFETY: see the function's safety requirements.
    errno(
        DataDirection::from_raw(dir)
            .and_then(|d| unsafe { (vtable(buf).begin_cpu_access)(buf, d) }),
    )
}

/// # Safety
///
/// `buf` is a live buffer's `priv`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_end_cpu_access(
    buf: *const c_void,
    dir: bindings::dma_data_direction,
) -> c_int {
    // SAFETY: see the function's safety requirements.
    errno(
        DataDirection::from_raw(dir).and_then(|d| unsafe { (vtable(buf).end_cpu_access)(buf, d) }),
    )
}

/// # Safety
///
/// `buf` is a live buffer's `priv`; `vma` is being set up for its file.
#[no_mangle]
unsafe extern "C" fn rdh_rust_mmap(
    buf: *const c_void,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: see the function's safety requirements.
    errno(unsafe { (vtable(buf).mmap)(buf, vma) })
}

/// # Safety
///
/// `buf` is a live buffer's `priv`; `out` is writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_vmap(buf: *const c_void, out: *mut *mut c_void) -> c_int {
    // SAFETY: see the function's safety requirements.
    match unsafe { (vtable(buf).vmap)(buf) } {
        Ok(addr) => {
            // SAFETY: `out` is writable.
            unsafe { *out = addr.as_raw() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`, previously `vmap`ped.
#[no_mangle]
unsafe extern "C" fn rdh_rust_vunmap(buf: *const c_void) {
    // SAFETY: see the function's safety requirements.
    unsafe { (vtable(buf).vunmap)(buf) }
}

/// # Safety
///
/// `buf` is a buffer's `priv`, released exactly once, after its last use.
#[no_mangle]
unsafe extern "C" fn rdh_rust_release(buf: *const c_void) {
    // SAFETY: see the function's safety requirements.
    unsafe { (vtable(buf).release)(buf) }
}
