// SPDX-License-Identifier: GPL-2.0

//! Reserving a file descriptor and installing a buffer's file in it.

use crate::dma_buf::DmaBuf;
use core::marker::PhantomData;
use kernel::bindings;
use kernel::prelude::*;

/// An unused file descriptor of the current process, reserved for a buffer.
///
/// A reservation belongs to the task that made it (descriptors are per
/// process, and `fd_install()`/`put_unused_fd()` act on the current task's
/// table), so, like mainline's `FileDescriptorReservation`, it is neither
/// `Send` nor `Sync`.
///
/// # Invariants
///
/// `fd` was returned by `get_unused_fd_flags()` in the current task and is
/// neither installed nor released yet.
pub(crate) struct FdReservation {
    fd: u32,
    _not_send: PhantomData<*mut ()>,
}

impl FdReservation {
    /// Reserves a descriptor with `flags` (`O_CLOEXEC` is the one that
    /// matters). Fails with `EMFILE` when the process has none left.
    pub(crate) fn new(flags: u32) -> Result<Self> {
        // SAFETY: only touches the current task's descriptor table.
        let fd = unsafe { bindings::get_unused_fd_flags(flags) };
        let fd = u32::try_from(fd).map_err(|_| Error::from_errno(fd))?;
        // INVARIANT: a fresh reservation of the current task, which the
        // value cannot leave (it is not `Send`).
        Ok(Self {
            fd,
            _not_send: PhantomData,
        })
    }

    /// The descriptor's number, as userspace will see it.
    pub(crate) fn number(&self) -> u32 {
        self.fd
    }

    /// Makes the descriptor refer to `buf`'s file, consuming both.
    pub(crate) fn install(self, buf: DmaBuf) {
        let file = buf.into_file();
        // SAFETY: `fd` is reserved and not installed (type invariant);
        // `fd_install()` takes over the file reference `buf` gave us.
        unsafe { bindings::fd_install(self.fd, file) };
        core::mem::forget(self);
    }
}

impl Drop for FdReservation {
    fn drop(&mut self) {
        // SAFETY: reserved and not installed (type invariant).
        unsafe { bindings::put_unused_fd(self.fd) };
    }
}

/// Fails to build if `FdReservation` is ever `Send` or `Sync`: one of the
/// calls below is then ambiguous between two impls.
const _: fn() = || {
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <FdReservation as AmbiguousIfSend<_>>::check();

    trait AmbiguousIfSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}
    <FdReservation as AmbiguousIfSync<_>>::check();
};
