// SPDX-License-Identifier: GPL-2.0

//! The one place where the kernel releases this module supports differ.
//!
//! The module builds against Linux 6.12 (LTS) and Linux 7.3. `Kbuild` reads
//! the version of the kernel it builds against and, from 7.0 on, passes
//! `--cfg rdh_kernel_7` to Rust and `-DRDH_KERNEL_7` to the C glue. Everything
//! that depends on it lives in this file (and, for the C glue, in
//! `glue/compat.h`); the other layers call the items below, and
//! `heaps/` never sees a difference.
//!
//! What differs, 6.12 → 7.3:
//! - `module!` takes `authors: [..]` instead of `author:` (in `rust_dma_heap_main.rs`,
//!   which must hold the macro);
//! - `CStr` is `core::ffi::CStr` (bytes through `to_bytes()`, not
//!   `as_bytes()`) and `fmt!` is a procedural macro in the prelude;
//! - `CStr::from_char_ptr()` is a method of the `CStrExt` trait;
//! - `enum dma_data_direction` is a newtype with associated constants;
//! - a plain value is a `PinInit` only with an infallible error type
//!   (`DmaBuf::export()` takes an infallible exporter initialiser);
//! - `ForeignOwnable` passes `*mut c_void` rather than `*const c_void`;
//! - `UserSlice::new()` takes a `UserPtr` rather than an address;
//! - the CMA areas are listed with `dma_contiguous_get_area_by_idx()`, as
//!   `cma_for_each_area()` and `cma_get_size()` are not exported (see
//!   `cma_areas()` below);
//! - `KVVec` is `Default` (so clippy asks for `mem::take()`, which 6.12
//!   cannot do: [`take_kvvec`]);
//! - C (`glue/compat.h`): `MODULE_IMPORT_NS()` takes a string, and
//!   `nth_page()` is gone, among others.
//!
//! 7.3 has Rust abstractions 6.12 lacks. Where one fits, 7.3 uses it:
//! - `kernel::fs::file::FileDescriptorReservation` reserves and installs
//!   the descriptor of a new buffer ([`FileDescriptorReservation`], which
//!   6.12 gets as a stand-in of that name);
//! - `kernel::dma::DataDirection` is the direction of a mapping or a sync
//!   ([`DataDirection`], the same: 6.12 has no `kernel::dma`);
//!
//! and the others do not fit:
//! - `kernel::scatterlist::SGTable` builds and maps a table from pages it
//!   owns (`AsPageIter`) for a bound driver device (`Device<Bound>`); an
//!   exporter gets an importer's bare `struct device`, maps with its own
//!   attributes and syncs, and hands the importer a copy of the table
//!   (`sg_table.rs`), none of which it allows;
//! - `kernel::page::Page` is a single order-0 page; the heaps allocate
//!   higher orders and take CMA ranges;
//! - `kernel::mm::virt::VmaNew` has no `remap_pfn_range()`,
//!   `vmf_insert_pfn()`, `VM_PFNMAP` or `vm_pgoff`, which `vma.rs` needs,
//!   so wrapping it would still leave the raw VMA in use;
//! - `module!`'s parameters have no string (`charp`) type, and two of the
//!   four parameters are strings: they stay together in `glue/params.c`.

#[cfg(any(rdh_cma, all(rdh_kernel_7, not(rdh_hosted))))]
use core::ptr::NonNull;
use kernel::bindings;
#[cfg(all(rdh_cma, not(rdh_kernel_7)))]
use kernel::ffi::c_int;
use kernel::ffi::c_void;
use kernel::str::CStr;
use kernel::types::ForeignOwnable;

pub(crate) mod dmem;
pub(crate) mod ffi;
#[cfg(not(rdh_hosted))]
pub(crate) mod memcg;
pub(crate) mod pool_hooks;

/// Reference-counted handles (`ARef`) and the trait of what they count:
/// `kernel::sync::aref` on 7.3; on 6.12 `kernel::types` (which 7.3 no
/// longer re-exports them from). The 6.12 line goes with 6.12.
#[cfg(rdh_kernel_7)]
pub(crate) use kernel::sync::aref::{ARef, AlwaysRefCounted};
#[cfg(not(rdh_kernel_7))]
pub(crate) use kernel::types::{ARef, AlwaysRefCounted};

/// `fmt!`, to build a `CString` from format arguments.
#[cfg(not(rdh_kernel_7))]
pub(crate) use kernel::fmt;
#[cfg(rdh_kernel_7)]
pub(crate) use kernel::prelude::fmt;

/// Empties `v`, returning what it held.
pub(crate) fn take_kvvec<T>(v: &mut kernel::alloc::KVVec<T>) -> kernel::alloc::KVVec<T> {
    #[cfg(rdh_kernel_7)]
    return core::mem::take(v);
    #[cfg(not(rdh_kernel_7))]
    return core::mem::replace(v, kernel::alloc::KVVec::new());
}

/// Removes and returns the last element of `v`: 7.3's `Vec::pop`, which
/// 6.12 lacks (replaced by it once 6.12 is dropped).
pub(crate) fn kvvec_pop<T>(v: &mut kernel::alloc::KVVec<T>) -> Option<T> {
    #[cfg(rdh_kernel_7)]
    return v.pop();
    #[cfg(not(rdh_kernel_7))]
    {
        let last = v.len().checked_sub(1)?;
        // SAFETY: Element `last` is initialised. Shortening the vector first
        // makes it no longer the vector's, so reading it moves it out once.
        unsafe {
            v.set_len(last);
            Some(core::ptr::read(v.as_ptr().add(last)))
        }
    }
}

/// The bytes of a C string, without its NUL.
pub(crate) fn cstr_bytes(s: &CStr) -> &[u8] {
    #[cfg(not(rdh_kernel_7))]
    return s.as_bytes();
    #[cfg(rdh_kernel_7)]
    return s.to_bytes();
}

/// [`ForeignOwnable::into_foreign`], as the `*const` pointer the C glue
/// stores.
pub(crate) fn into_foreign<T: ForeignOwnable>(value: T) -> *const c_void {
    #[cfg(not(rdh_kernel_7))]
    return value.into_foreign();
    #[cfg(rdh_kernel_7)]
    return value.into_foreign().cast_const();
}

/// [`ForeignOwnable::from_foreign`].
///
/// # Safety
///
/// As [`ForeignOwnable::from_foreign`]: `ptr` came from [`into_foreign`]
/// for `T` and is given back once, after its last borrow.
pub(crate) unsafe fn from_foreign<T: ForeignOwnable>(ptr: *const c_void) -> T {
    #[cfg(not(rdh_kernel_7))]
    // SAFETY: Guaranteed by the caller.
    return unsafe { T::from_foreign(ptr) };
    #[cfg(rdh_kernel_7)]
    // SAFETY: Guaranteed by the caller.
    return unsafe { T::from_foreign(ptr.cast_mut()) };
}

/// [`ForeignOwnable::borrow`].
///
/// # Safety
///
/// As [`ForeignOwnable::borrow`]: `ptr` came from [`into_foreign`] for `T`,
/// and is not given back while the borrow lives.
pub(crate) unsafe fn borrow<'a, T: ForeignOwnable>(ptr: *const c_void) -> T::Borrowed<'a> {
    #[cfg(not(rdh_kernel_7))]
    // SAFETY: Guaranteed by the caller.
    return unsafe { T::borrow(ptr) };
    #[cfg(rdh_kernel_7)]
    // SAFETY: Guaranteed by the caller.
    return unsafe { T::borrow(ptr.cast_mut()) };
}

/// Every CMA area a heap may be made of, the default one included, in the
/// order they were created.
///
/// 6.12 (with the project's patch) walks all of them with
/// `cma_for_each_area()`. 7.3 does not export that, but lists the areas the
/// DMA API created (the default one and every reusable `shared-dma-pool`
/// reserved-memory region) for `dma_contiguous_get_area_by_idx()`, as its
/// own CMA heap does; areas other subsystems made for themselves (such as
/// `hugetlb_cma=`) are not among them.
#[cfg(rdh_cma)]
pub(crate) fn cma_areas() -> kernel::error::Result<kernel::alloc::KVec<NonNull<ffi::cma>>> {
    use kernel::prelude::*;

    let mut areas = KVec::new();
    #[cfg(not(rdh_kernel_7))]
    {
        /// Adds one area to the `KVec` behind `data`.
        ///
        /// # Safety
        ///
        /// `data` must point to a `KVec<NonNull<ffi::cma>>` nobody else uses
        /// meanwhile.
        unsafe extern "C" fn collect(cma: *mut ffi::cma, data: *mut c_void) -> c_int {
            // SAFETY: `data` is the `KVec` passed below, exclusively ours for
            // the duration of `cma_for_each_area()`.
            let areas = unsafe { &mut *data.cast::<KVec<NonNull<ffi::cma>>>() };
            match NonNull::new(cma).map(|ptr| areas.push(ptr, GFP_KERNEL)) {
                Some(Err(_)) => ENOMEM.to_errno(),
                _ => 0,
            }
        }
        // SAFETY: `collect` matches the iterator's signature and `areas`
        // outlives the call.
        let ret = unsafe {
            ffi::cma_for_each_area(
                Some(collect),
                core::ptr::addr_of_mut!(areas).cast::<c_void>(),
            )
        };
        kernel::error::to_result(ret)?;
    }
    #[cfg(rdh_kernel_7)]
    {
        let mut idx = 0;
        // SAFETY: Any index may be asked for; past the last area the answer
        // is NULL. The areas are set up at boot and never freed.
        while let Some(ptr) = NonNull::new(unsafe { ffi::dma_contiguous_get_area_by_idx(idx) }) {
            areas.push(ptr, GFP_KERNEL)?;
            idx += 1;
        }
    }
    Ok(areas)
}

/// The size of a CMA area in bytes, where the kernel tells (6.12 with the
/// project's patch); 7.3 does not export `cma_get_size()`, and
/// `cma_alloc()` itself refuses what does not fit.
///
/// # Safety
///
/// `cma` must be a CMA area.
#[cfg(rdh_cma)]
pub(crate) unsafe fn cma_size(cma: NonNull<ffi::cma>) -> Option<usize> {
    #[cfg(not(rdh_kernel_7))]
    // SAFETY: A CMA area, as the caller guarantees.
    return Some(unsafe { ffi::cma_get_size(cma.as_ptr()) } as usize);
    #[cfg(rdh_kernel_7)]
    {
        let _ = cma;
        None
    }
}

/// The user memory at `addr`, `len` bytes long (7.3 wraps the address in a
/// `UserPtr`). (Hosted mode has no ioctl of its own.)
#[cfg(not(rdh_hosted))]
pub(crate) fn user_slice(addr: usize, len: usize) -> kernel::uaccess::UserSlice {
    #[cfg(not(rdh_kernel_7))]
    return kernel::uaccess::UserSlice::new(addr, len);
    #[cfg(rdh_kernel_7)]
    return kernel::uaccess::UserSlice::new(kernel::uaccess::UserPtr::from_addr(addr), len);
}

/// `EOPNOTSUPP`: 7.3's kernel crate names it, 6.12's does not (the 6.12
/// branch goes with 6.12).
pub(crate) fn eopnotsupp() -> kernel::error::Error {
    #[cfg(rdh_kernel_7)]
    return kernel::error::code::EOPNOTSUPP;
    #[cfg(not(rdh_kernel_7))]
    return kernel::error::Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32));
}

/// A C string the kernel handed out, e.g. a module parameter's value.
///
/// # Safety
///
/// `ptr` must point to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn cstr_from_ptr<'a>(ptr: *const u8) -> &'a CStr {
    #[cfg(rdh_kernel_7)]
    use kernel::str::CStrExt;
    // SAFETY: Guaranteed by the caller.
    unsafe { CStr::from_char_ptr(ptr.cast()) }
}

/// The direction of a DMA mapping or sync: 7.3's own type.
#[cfg(rdh_kernel_7)]
pub(crate) use kernel::dma::DataDirection;

/// 6.12's stand-in for 7.3's `kernel::dma::DataDirection`, with its
/// variants and its conversion to C; deleted with 6.12.
#[cfg(not(rdh_kernel_7))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataDirection {
    /// `DMA_BIDIRECTIONAL`.
    Bidirectional,
    /// `DMA_TO_DEVICE`.
    ToDevice,
    /// `DMA_FROM_DEVICE`.
    FromDevice,
    /// `DMA_NONE`.
    None,
}

#[cfg(not(rdh_kernel_7))]
impl From<DataDirection> for bindings::dma_data_direction {
    fn from(direction: DataDirection) -> Self {
        match direction {
            DataDirection::Bidirectional => bindings::dma_data_direction_DMA_BIDIRECTIONAL,
            DataDirection::ToDevice => bindings::dma_data_direction_DMA_TO_DEVICE,
            DataDirection::FromDevice => bindings::dma_data_direction_DMA_FROM_DEVICE,
            DataDirection::None => bindings::dma_data_direction_DMA_NONE,
        }
    }
}

/// The direction of a C `enum dma_data_direction` that moves data: `EINVAL`
/// for `DMA_NONE` and for values the enum does not have.
pub(crate) fn data_direction(
    raw: bindings::dma_data_direction,
) -> kernel::error::Result<DataDirection> {
    [
        DataDirection::Bidirectional,
        DataDirection::ToDevice,
        DataDirection::FromDevice,
    ]
    .into_iter()
    .find(|&dir| bindings::dma_data_direction::from(dir) == raw)
    .ok_or(kernel::error::code::EINVAL)
}

/// A reserved, not yet installed descriptor of the current task: 7.3's
/// own type. On 6.12 the type of that name below stands in for it.
#[cfg(all(rdh_kernel_7, not(rdh_hosted)))]
pub(crate) use kernel::fs::file::FileDescriptorReservation;

/// Installs `file` in the reserved descriptor, taking over the reference the
/// caller owns on it (7.3's `fd_install()` takes an `ARef<File>`, which 6.12
/// has no type for).
///
/// # Safety
///
/// `file` must be a valid file on which the caller owns a reference, which
/// it hands over, and which nobody uses through `fdget_pos()`.
#[cfg(all(rdh_kernel_7, not(rdh_hosted)))]
pub(crate) unsafe fn fd_install_raw(
    reservation: FileDescriptorReservation,
    file: *mut kernel::bindings::file,
) {
    use kernel::fs::File;
    use kernel::sync::aref::ARef;
    // SAFETY: The caller hands over its reference on the valid `file`,
    // which nobody uses through `fdget_pos()` (the function's safety
    // requirements); `ARef` now owns that reference.
    let file = unsafe { ARef::from_raw(NonNull::from(File::from_raw_file(file))) };
    reservation.fd_install(file);
}

/// 6.12's stand-in for 7.3's `kernel::fs::file::FileDescriptorReservation`
/// (same names, the part this module uses); goes with 6.12. A reserved, not
/// yet installed descriptor of the current task, released on drop; not
/// `Send`, as it acts on the current task's table.
///
/// # Invariants
///
/// `fd` was returned by `get_unused_fd_flags()` in the current task and is
/// neither installed nor released yet.
#[cfg(all(not(rdh_kernel_7), not(rdh_hosted)))]
pub(crate) struct FileDescriptorReservation {
    fd: u32,
    _not_send: core::marker::PhantomData<*mut ()>,
}

#[cfg(all(not(rdh_kernel_7), not(rdh_hosted)))]
impl FileDescriptorReservation {
    pub(crate) fn get_unused_fd_flags(flags: u32) -> kernel::error::Result<Self> {
        // SAFETY: Only touches the current task's descriptor table.
        let fd = unsafe { kernel::bindings::get_unused_fd_flags(flags) };
        let fd = u32::try_from(fd).map_err(|_| kernel::error::Error::from_errno(fd))?;
        // INVARIANT: A fresh reservation of the current task, which the
        // value cannot leave (it is not `Send`).
        Ok(Self {
            fd,
            _not_send: core::marker::PhantomData,
        })
    }

    pub(crate) fn reserved_fd(&self) -> u32 {
        self.fd
    }
}

#[cfg(all(not(rdh_kernel_7), not(rdh_hosted)))]
impl Drop for FileDescriptorReservation {
    fn drop(&mut self) {
        // SAFETY: Reserved and not installed (type invariant).
        unsafe { kernel::bindings::put_unused_fd(self.fd) };
    }
}

/// As the 7.3 function of this name above, for 6.12's stand-in.
///
/// # Safety
///
/// `file` must be a valid file on which the caller owns a reference, which
/// it hands over, and which nobody uses through `fdget_pos()`.
#[cfg(all(not(rdh_kernel_7), not(rdh_hosted)))]
pub(crate) unsafe fn fd_install_raw(
    reservation: FileDescriptorReservation,
    file: *mut kernel::bindings::file,
) {
    // SAFETY: `fd` is reserved and not installed (type invariant);
    // `fd_install()` takes over the caller's reference on the valid `file`
    // (the function's safety requirements).
    unsafe { kernel::bindings::fd_install(reservation.fd, file) };
    core::mem::forget(reservation);
}
