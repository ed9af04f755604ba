// SPDX-License-Identifier: GPL-2.0

//! Exporting buffers as dma-bufs.
//!
//! A heap describes a buffer with two things: the owner of its pages (a
//! [`Backing`]) and an [`Exporter`], the buffer's policy. [`DmaBuf::export`]
//! puts both, with the state the core keeps per buffer (attached devices,
//! kernel mapping), in one object owned by the dma-buf, and registers it
//! with the dma-buf core.
//!
//! # What the core does and what a heap decides
//!
//! The core implements every dma-buf operation whose pairing matters for
//! memory safety: `attach`/`detach`, `map`/`unmap` (per-device tables, see
//! `sg_table.rs`), `vmap`/`vunmap` (one counted kernel mapping) and
//! `release`. Those live in child modules of this file and are private to
//! it, so no heap can call an undo function or keep a table or an address
//! past its unmapping. A heap decides through the [`Exporter`] hooks, each
//! of which gets a handle that can only do safe things: `mmap` gets an
//! [`MmapRequest`] it may refuse or map once; `begin_cpu_access` and
//! `end_cpu_access` get a [`CpuAccess`] whose syncs may be called any number
//! of times. `Documentation/soundness.rst` goes through every item `heaps/`
//! can reach.
//!
//! `glue/dma_buf.c` has a single `struct dma_buf_ops` for every heap; each of its
//! entries calls an `rdh_rust_*` function below, which finds the buffer's
//! [`VTable`] (a `const`, one per exporter type) at the start of the
//! buffer's object and calls the core's implementation for that type.
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
//! In 6.12 the dma-buf core calls `map`, `unmap`, `vmap` and `vunmap` with
//! the buffer's reservation lock held, and `attach`, `detach`, `mmap`,
//! `begin_cpu_access` and `end_cpu_access` without it (the last two declare
//! `might_lock()` on it). The core has one lock per buffer
//! (`mappings.rs`), taken inside the reservation lock (`map`, `unmap`,
//! `vmap`, `vunmap`) or alone (`attach`, `detach`, CPU-access syncs, which
//! skip it while nothing is mapped), and inside the list lock of live
//! buffers for a buffer's debugfs line. It is never held while calling back
//! into the dma-buf core; lockdep checks this in the debug kernel.

pub(crate) use super::sg_table::DataDirection;
pub(crate) use super::vma::MmapRequest;

use super::{
    mappings::{
        Attachment,
        Mappings, //
    },
    vma::Vma, //
};
use crate::{
    compat,
    compat::ffi,
    exporter::device::Device, //
    memory::buffer::{
        Backing,
        BufferPages, //
    },
    stats::{
        accounting::Charge, //
        live::{
            LiveLink,
            Owner,
            SeqWriter, //
        },
    },
};
use core::{
    fmt::{
        self,
        Write, //
    },
    marker::PhantomData,
    ptr::NonNull, //
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    prelude::*,
    sync::Arc, //
};

/// A buffer's policy: what a heap decides about its buffers.
///
/// `Self` is the heap (`heap.rs`): each buffer holds a reference to it,
/// dropped at the buffer's release (before its pages). Every hook has a default that does what a buffer of
/// ordinary cached pages needs; a heap overrides what it does differently.
pub(crate) trait Exporter: Send + Sync + Sized + 'static {
    /// The owner of the buffer's pages.
    type Backing: Backing;

    /// Maps the buffer into a process: by default, any mapping the request
    /// allows (see [`MmapRequest::map`]).
    fn mmap(&self, request: MmapRequest<'_, Self::Backing>) -> Result {
        request.map()
    }

    /// The CPU is about to access the buffer in direction `dir`: by default,
    /// make what devices wrote visible to it.
    fn begin_cpu_access(&self, cpu: CpuAccess<'_, Self::Backing>, dir: DataDirection) -> Result {
        cpu.sync_for_cpu(dir);
        Ok(())
    }

    /// The CPU has finished accessing the buffer in direction `dir`: by
    /// default, make what it wrote visible to devices.
    fn end_cpu_access(&self, cpu: CpuAccess<'_, Self::Backing>, dir: DataDirection) -> Result {
        cpu.sync_for_device(dir);
        Ok(())
    }
}

/// The exporter that a heap's buffers share: the heap itself, each buffer
/// keeping a reference to it (`heap.rs`).
impl<E: Exporter> Exporter for Arc<E> {
    type Backing = E::Backing;

    fn mmap(&self, request: MmapRequest<'_, Self::Backing>) -> Result {
        (**self).mmap(request)
    }

    fn begin_cpu_access(&self, cpu: CpuAccess<'_, Self::Backing>, dir: DataDirection) -> Result {
        (**self).begin_cpu_access(cpu, dir)
    }

    fn end_cpu_access(&self, cpu: CpuAccess<'_, Self::Backing>, dir: DataDirection) -> Result {
        (**self).end_cpu_access(cpu, dir)
    }
}

/// Cache maintenance of one buffer for CPU access, handed to the
/// [`Exporter`] hooks. Syncing is always safe, as often as a heap likes.
pub(crate) struct CpuAccess<'a, B: Backing> {
    mappings: &'a Mappings<B>,
}

impl<B: Backing> CpuAccess<'_, B> {
    /// Makes what devices wrote visible to the CPU, which is about to access
    /// the buffer in direction `dir`: through every mapped table, in that
    /// direction, and through the kernel mapping. Nothing for
    /// [`DataDirection::None`], which moves no data (and which the DMA API's
    /// syncs meet with a `BUG_ON`).
    pub(crate) fn sync_for_cpu(&self, dir: DataDirection) {
        if dir != DataDirection::None {
            self.mappings.sync_for_cpu(dir);
        }
    }

    /// Makes what the CPU did in direction `dir` visible to devices, through
    /// the kernel mapping and every mapped table. Nothing for
    /// [`DataDirection::None`], as above.
    pub(crate) fn sync_for_device(&self, dir: DataDirection) {
        if dir != DataDirection::None {
            self.mappings.sync_for_device(dir);
        }
    }
}

/// The flags of a new buffer's file: `O_ACCMODE` and
/// `O_CLOEXEC` bits only (the ioctl has rejected any other).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FdFlags(u32);

impl FdFlags {
    /// Flags the ioctl accepts, as upstream's `DMA_HEAP_VALID_FD_FLAGS`.
    pub(crate) const VALID: u32 = kernel::bindings::O_CLOEXEC | kernel::bindings::O_ACCMODE;

    /// Returns the flags if they hold only valid bits.
    pub(crate) fn new(raw: u32) -> Option<Self> {
        (raw & !Self::VALID == 0).then_some(Self(raw))
    }

    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

/// What every buffer's object starts with, whatever its exporter type.
#[repr(C)]
struct Header {
    vtable: &'static VTable,
    /// The buffer's user mappings now: VMAs with the core's
    /// `vm_operations` (`glue/vma.c`), counted by their `open` and `close`, so
    /// that the count never needs the buffer's file, which may be gone
    /// before the buffer is released.
    mmaps: AtomicUsize,
    /// The buffer's place on the debugfs list of live buffers.
    link: LiveLink,
}

/// Type-erased entry points of one exporter type.
struct VTable {
    attach: unsafe fn(*const c_void, NonNull<bindings::device>) -> Result<*const c_void>,
    detach: unsafe fn(*const c_void, *const c_void),
    map: unsafe fn(
        *const c_void,
        *const c_void,
        DataDirection,
    ) -> Result<NonNull<bindings::sg_table>>,
    unmap: unsafe fn(*const c_void, *const c_void),
    begin_cpu_access: unsafe fn(*const c_void, DataDirection) -> Result,
    end_cpu_access: unsafe fn(*const c_void, DataDirection) -> Result,
    mmap: unsafe fn(*const c_void, *mut bindings::vm_area_struct) -> Result,
    page: unsafe fn(*const c_void, usize) -> Option<NonNull<bindings::page>>,
    vmap: unsafe fn(*const c_void) -> Result<NonNull<c_void>>,
    vunmap: unsafe fn(*const c_void),
    release: unsafe fn(*const c_void),
}

/// The object behind a dma-buf's `priv`.
///
/// Fields drop in declaration order: the heap's state, the core's
/// (attachments and kernel mapping, all undone by then), the pages, then
/// the buffer's charge on its heap.
///
/// # Invariants
///
/// `header.vtable` is `Ops::<X>::VTABLE`. `header` is the first field of a
/// `#[repr(C)]` struct, so a `priv` pointer can be read as `*const Header`
/// without knowing `E`.
#[repr(C)]
#[pin_data]
struct Exported<X: Exporter> {
    header: Header,
    #[pin]
    exporter: X,
    #[pin]
    mappings: Mappings<X::Backing>,
    pages: BufferPages<X::Backing>,
    /// The heap's name (its exporter name), for the release tracepoint
    /// and the buffer's debugfs line.
    heap: &'static CStr,
    /// Who allocated the buffer, for its debugfs line.
    owner: Owner,
    /// Given back to the heap's figures last, once the pages have gone.
    charge: Charge,
}

impl<X: Exporter> Exported<X> {
    fn cpu(&self) -> CpuAccess<'_, X::Backing> {
        CpuAccess {
            mappings: &self.mappings,
        }
    }
}

type ExportedBox<E> = Pin<KBox<Exported<E>>>;
type AttachmentArc<E> = Arc<Attachment<<E as Exporter>::Backing>>;

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
        page: Self::page,
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
        unsafe { compat::borrow::<ExportedBox<E>>(buf) }
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `dev` must be valid for the call.
    unsafe fn attach(buf: *const c_void, dev: NonNull<bindings::device>) -> Result<*const c_void> {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: `dev` is valid for the call, as the caller guarantees.
        let dev = unsafe { Device::get(dev) };
        // (Once the attachment is recorded nothing may fail and leave the
        // record behind: handing the `Arc` to C allocates nothing.)
        let attachment = this.mappings.attach(&this.pages, dev)?;
        Ok(compat::into_foreign(attachment))
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `att` must come from [`Ops::attach`] on the same
    /// buffer and is consumed.
    unsafe fn detach(buf: *const c_void, att: *const c_void) {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: `att` came from `into_foreign` in `attach` and is given
        // back exactly once, here.
        let att = unsafe { compat::from_foreign::<AttachmentArc<E>>(att) };
        this.mappings.detach(&att);
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `att` must be a live attachment of this buffer.
    unsafe fn map(
        buf: *const c_void,
        att: *const c_void,
        dir: DataDirection,
    ) -> Result<NonNull<bindings::sg_table>> {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: Guaranteed by the caller.
        let att = unsafe { compat::borrow::<AttachmentArc<E>>(att) };
        this.mappings.map(&att, dir)
    }

    /// # Safety
    ///
    /// As [`Ops::map`].
    unsafe fn unmap(buf: *const c_void, att: *const c_void) {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        // SAFETY: Guaranteed by the caller.
        let att = unsafe { compat::borrow::<AttachmentArc<E>>(att) };
        this.mappings.unmap(&att);
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn begin_cpu_access(buf: *const c_void, dir: DataDirection) -> Result {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        this.exporter.begin_cpu_access(this.cpu(), dir)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn end_cpu_access(buf: *const c_void, dir: DataDirection) -> Result {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        this.exporter.end_cpu_access(this.cpu(), dir)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; `vma` must be a VMA the dma-buf core is setting up
    /// for this buffer, not extending past it.
    unsafe fn mmap(buf: *const c_void, vma: *mut bindings::vm_area_struct) -> Result {
        // SAFETY: Guaranteed by the caller.
        let (this, vma) = unsafe { (Self::buffer(buf), Vma::from_raw(vma)) };
        this.exporter.mmap(MmapRequest::new(vma, &this.pages))
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn page(buf: *const c_void, index: usize) -> Option<NonNull<bindings::page>> {
        // SAFETY: Guaranteed by the caller.
        unsafe { Self::buffer(buf) }.pages.page(index)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`].
    unsafe fn vmap(buf: *const c_void) -> Result<NonNull<c_void>> {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        this.mappings.vmap(&this.pages)
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; pairs with one successful [`Ops::vmap`].
    unsafe fn vunmap(buf: *const c_void) {
        // SAFETY: Guaranteed by the caller.
        unsafe { Self::buffer(buf) }.mappings.vunmap()
    }

    /// # Safety
    ///
    /// As [`Ops::buffer`]; the buffer is consumed.
    unsafe fn release(buf: *const c_void) {
        // Off the list first, so that no read of it still describes the
        // buffer when its box is taken back below.
        // SAFETY: The buffer is live until this function frees it, and was
        // listed at export (`DmaBuf::export`), once.
        unsafe {
            let this = Self::buffer(buf);
            this.charge.live().remove(NonNull::from(&this.header.link));
        }
        // SAFETY: `buf` came from `into_foreign` and the dma-buf core
        // releases a buffer once, after its last use.
        let exported = unsafe { compat::from_foreign::<ExportedBox<E>>(buf) };
        exported.charge.released(exported.heap);
        drop(exported);
    }

    /// The buffer's debugfs line, after its ID: `SIZE HEAP PID COMM MMAPS
    /// VMAPS DEVICES` (devices by name, separated by commas, `-` if none).
    ///
    /// # Safety
    ///
    /// As [`Ops::buffer`]; `dmabuf` must be the buffer's dma-buf.
    unsafe fn describe(
        buf: *const c_void,
        dmabuf: NonNull<ffi::dma_buf>,
        out: &mut SeqWriter,
    ) -> fmt::Result {
        // SAFETY: Guaranteed by the caller.
        let this = unsafe { Self::buffer(buf) };
        let mmaps = this.header.mmaps.load(Ordering::Relaxed);
        // SAFETY: The buffer is live, and so is its dma-buf (never its file,
        // which may be gone already).
        let vmaps = unsafe { ffi::rdh_dma_buf_vmaps(dmabuf.as_ptr()) };
        write!(out, "{} ", this.pages.size())?;
        out.bytes(compat::cstr_bytes(this.heap));
        out.bytes(b" ");
        this.owner.write(out)?;
        write!(out, " {} {} ", mmaps, vmaps)?;
        let mut devices = 0;
        this.mappings.for_each_device(|dev| {
            out.bytes(if devices == 0 { b"" } else { b"," });
            out.bytes(dev.name());
            devices += 1;
            Ok::<(), fmt::Error>(())
        })?;
        out.bytes(if devices == 0 { b"-\n" } else { b"\n" });
        Ok(())
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

// SAFETY: Dma-buf references may be dropped on any thread.
unsafe impl Send for DmaBuf {}

impl DmaBuf {
    /// Exports a buffer of the pages `backing` owns, with the policy of `E`.
    ///
    /// `name` becomes the exporter name shown in
    /// `/sys/kernel/debug/dma_buf/bufinfo`; `charge` is given back when the
    /// buffer is released. On failure everything is freed.
    pub(crate) fn export<E: Exporter>(
        name: &'static CStr,
        flags: FdFlags,
        backing: E::Backing,
        // Infallible: 7.3's pin-init makes a plain value an initialiser only
        // of that kind (see `compat/mod.rs`).
        exporter: impl PinInit<E>,
        charge: Charge,
    ) -> Result<Self> {
        // Every buffer is one of these: past 256 bytes it takes a 512-byte
        // slab object (`Documentation/performance.rst`, kernel memory per
        // buffer). Lock debugging makes each lock larger, so it is exempt.
        #[cfg(not(CONFIG_DEBUG_LOCK_ALLOC))]
        const {
            assert!(core::mem::size_of::<Exported<E>>() <= 256)
        };
        let pages = BufferPages::new(backing)?;
        let size = pages.size();
        let live = charge.live().clone();
        let init = try_pin_init!(Exported::<E> {
            header: Header {
                vtable: &Ops::<E>::VTABLE,
                mmaps: AtomicUsize::new(0),
                link: LiveLink::new(),
            },
            exporter <- exporter,
            mappings <- Mappings::new(),
            pages,
            heap: name,
            owner: Owner::current(),
            charge,
        }? Error);
        let buf = compat::into_foreign(KBox::pin_init(init, GFP_KERNEL)?);
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
            // SAFETY: The export failed, so the dma-buf core never took `buf`;
            // it is ours to free.
            drop(unsafe { compat::from_foreign::<ExportedBox<E>>(buf) });
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: A successful export returns a dma-buf holding one
        // reference, which is now ours.
        let ptr = NonNull::new(out).ok_or(EINVAL)?;
        // SAFETY: `buf` is the `priv` of the live dma-buf `ptr`, exported for
        // `E`; its link is on no list yet, in an object that is pinned, and
        // its `release` takes it off the list before freeing it.
        unsafe {
            let link = NonNull::from(&header(buf).link);
            live.add(link, buf, ptr, Ops::<E>::describe);
        }
        Ok(Self { ptr })
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
        // SAFETY: We own one reference (type invariant).
        unsafe { ffi::dma_buf_put(self.ptr.as_ptr()) };
    }
}

/// The header at the start of a buffer's object.
///
/// # Safety
///
/// `buf` must be the `priv` of a live buffer exported by [`DmaBuf::export`],
/// which stays live for `'a`.
unsafe fn header<'a>(buf: *const c_void) -> &'a Header {
    // SAFETY: Every such object starts with its `Header` (type invariant of
    // `Exported`), and lives for `'a`.
    unsafe { &*buf.cast::<Header>() }
}

/// Reads the vtable at the start of a buffer's object.
///
/// # Safety
///
/// `buf` must be the `priv` of a live buffer exported by [`DmaBuf::export`].
unsafe fn vtable(buf: *const c_void) -> &'static VTable {
    // SAFETY: As the caller guarantees; the vtable itself is static.
    unsafe { header(buf) }.vtable
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

// The `rdh_rust_*` functions are called by `glue/dma_buf.c`'s `dma_buf_ops`, only for
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
    // SAFETY: See the function's safety requirements.
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
    // SAFETY: See the function's safety requirements.
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
    let dir = match compat::data_direction(dir) {
        Ok(dir) => dir,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: See the function's safety requirements.
    match unsafe { (vtable(buf).map)(buf, att, dir) } {
        Ok(table) => {
            // SAFETY: `out` is writable.
            unsafe { *out = table.as_ptr() };
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
    // The core remembers how it mapped the table; `dir` is the importer's,
    // given at map time.
    let _ = dir;
    // SAFETY: See the function's safety requirements.
    unsafe { (vtable(buf).unmap)(buf, att) }
}

/// # Safety
///
/// `buf` is a live buffer's `priv`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_begin_cpu_access(
    buf: *const c_void,
    dir: bindings::dma_data_direction,
) -> c_int {
    // SAFETY: See the function's safety requirements.
    errno(
        compat::data_direction(dir).and_then(|d| unsafe { (vtable(buf).begin_cpu_access)(buf, d) }),
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
    // SAFETY: See the function's safety requirements.
    errno(compat::data_direction(dir).and_then(|d| unsafe { (vtable(buf).end_cpu_access)(buf, d) }))
}

/// # Safety
///
/// `buf` is a live buffer's `priv`; `vma` is being set up for its file.
#[no_mangle]
unsafe extern "C" fn rdh_rust_mmap(
    buf: *const c_void,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: See the function's safety requirements.
    errno(unsafe { (vtable(buf).mmap)(buf, vma) })
}

/// One more user mapping of the buffer: a VMA given the core's
/// `vm_operations` (`glue/vma.c`'s `rdh_vma_set_ops()`), or a copy of one
/// (fork, split, `mremap()`: its `open`).
///
/// # Safety
///
/// `buf` is a live buffer's `priv`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_vma_open(buf: *const c_void) {
    // SAFETY: See the function's safety requirements.
    unsafe { header(buf) }.mmaps.fetch_add(1, Ordering::Relaxed);
}

/// One user mapping of the buffer fewer (its VMA's `close`).
///
/// # Safety
///
/// `buf` is a live buffer's `priv`, and one of its VMAs was counted by
/// [`rdh_rust_vma_open`] and is being closed.
#[no_mangle]
unsafe extern "C" fn rdh_rust_vma_close(buf: *const c_void) {
    // SAFETY: See the function's safety requirements.
    unsafe { header(buf) }.mmaps.fetch_sub(1, Ordering::Relaxed);
}

/// The buffer's page at `index` (in pages from its start), or NULL past
/// its end: the page a fault in one of its `vm_insert_pages()` mappings
/// maps again (`glue/vma.c`'s `rdh_vma_fault()`, after `MADV_DONTNEED` emptied
/// part of such a mapping). The caller takes its own reference on it.
///
/// # Safety
///
/// `buf` is a live buffer's `priv`.
#[no_mangle]
unsafe extern "C" fn rdh_rust_page(buf: *const c_void, index: c_ulong) -> *mut bindings::page {
    // SAFETY: See the function's safety requirements.
    unsafe { (vtable(buf).page)(buf, index) }.map_or(core::ptr::null_mut(), NonNull::as_ptr)
}

/// # Safety
///
/// `buf` is a live buffer's `priv`; `out` is writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_vmap(buf: *const c_void, out: *mut *mut c_void) -> c_int {
    // SAFETY: See the function's safety requirements.
    match unsafe { (vtable(buf).vmap)(buf) } {
        Ok(addr) => {
            // SAFETY: `out` is writable.
            unsafe { *out = addr.as_ptr() };
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
    // SAFETY: See the function's safety requirements.
    unsafe { (vtable(buf).vunmap)(buf) }
}

/// # Safety
///
/// `buf` is a buffer's `priv`, released exactly once, after its last use.
#[no_mangle]
unsafe extern "C" fn rdh_rust_release(buf: *const c_void) {
    // SAFETY: See the function's safety requirements.
    unsafe { (vtable(buf).release)(buf) }
}
