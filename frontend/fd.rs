// SPDX-License-Identifier: GPL-2.0

//! Reserving a file descriptor and installing a buffer's file in it.

use crate::{
    compat,
    exporter::dma_buf::DmaBuf, //
};
use kernel::prelude::*;

/// An unused file descriptor of the current process, reserved for a buffer.
///
/// A reservation belongs to the task that made it (descriptors are per
/// process, and `fd_install()`/`put_unused_fd()` act on the current task's
/// table), so, like mainline's `FileDescriptorReservation`, it is neither
/// `Send` nor `Sync`. Released on drop unless installed.
///
/// On 7.3 this is the kernel's `FileDescriptorReservation`, on 6.12 a
/// stand-in of that name (see `compat/mod.rs`).
pub(crate) struct FdReservation(compat::FileDescriptorReservation);

impl FdReservation {
    /// Reserves a descriptor with `flags` (`O_CLOEXEC` is the one that
    /// matters). Fails with `EMFILE` when the process has none left.
    pub(crate) fn new(flags: u32) -> Result<Self> {
        compat::FileDescriptorReservation::get_unused_fd_flags(flags).map(Self)
    }

    /// The descriptor's number, as userspace will see it.
    pub(crate) fn number(&self) -> u32 {
        self.0.reserved_fd()
    }

    /// Makes the descriptor refer to `buf`'s file, consuming both.
    pub(crate) fn install(self, buf: DmaBuf) {
        // SAFETY: `into_file()` hands over the buffer's reference on its
        // file, a new dma-buf file nobody uses through `fdget_pos()` yet.
        unsafe { compat::fd_install_raw(self.0, buf.into_file()) };
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
