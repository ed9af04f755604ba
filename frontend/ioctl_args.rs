// SPDX-License-Identifier: GPL-2.0

//! `DMA_HEAP_IOCTL_ALLOC`'s argument: its layout, and how much of it one
//! call reads and writes, as upstream 6.12's `dma_heap_ioctl()` decides.
//!
//! Beyond upstream's fields, the kernel's copy holds the two that a
//! proposed extension appends (`charge_pid_fd` and padding, posted in May
//! 2026 and not merged; `frontend/ioctl.rs` reads them only with
//! `charge_pid_fd=1`). A caller of upstream's size has them zeroed.
//!
//! The command is chosen by its number alone (a number past ALLOC's is
//! `EINVAL`, any type and size are accepted); the caller's struct is copied
//! in and out at the caller's size (read only if the command has the write
//! bit, written back only if it has the read bit), zero-extended when
//! shorter than ours, so older and newer callers both work.

use kernel::{
    bindings,
    ioctl::{
        _IOC_DIR,
        _IOC_NR,
        _IOC_SIZE,
        _IOWR, //
    },
    prelude::*, //
};

/// `struct dma_heap_allocation_data` from `uapi/dma-heap.h`.
#[repr(C)]
struct AllocationData {
    len: u64,
    fd: u32,
    fd_flags: u32,
    heap_flags: u64,
}

/// [`AllocationData`] with the fields of the proposed extension.
#[repr(C)]
struct AllocationDataExt {
    upstream: AllocationData,
    charge_pid_fd: u32,
    padding: u32,
}

/// `DMA_HEAP_IOCTL_ALLOC`, with upstream's struct.
pub(crate) const DMA_HEAP_IOCTL_ALLOC: u32 = _IOWR::<AllocationData>(b'H' as u32, 0);

/// The size of the argument as this module reads it: upstream's fields and
/// the extension's.
pub(crate) const ARG_SIZE: usize = core::mem::size_of::<AllocationDataExt>();

/// How much of the caller's argument one call copies, and the size of the
/// kernel's copy.
pub(crate) struct ArgSizes {
    /// Bytes read from the caller: its size if the command has the write
    /// bit, else none.
    pub(crate) copy_in: usize,
    /// Bytes written back: its size if the command has the read bit, else
    /// none.
    pub(crate) copy_out: usize,
    /// The kernel's copy: the larger of those and [`ARG_SIZE`], zeroed
    /// before the caller's bytes are read into it.
    pub(crate) kernel: usize,
}

impl ArgSizes {
    /// The sizes of a call with command `cmd`; `EINVAL` for a command
    /// number past `DMA_HEAP_IOCTL_ALLOC`'s.
    pub(crate) fn of(cmd: u32) -> Result<Self> {
        if _IOC_NR(cmd) >= 1 {
            return Err(EINVAL);
        }
        let size = _IOC_SIZE(cmd);
        // Only the directions both the caller's and our command have.
        let both = _IOC_DIR(cmd) & _IOC_DIR(DMA_HEAP_IOCTL_ALLOC);
        let copy_in = if both & bindings::_IOC_WRITE != 0 {
            size
        } else {
            0
        };
        let copy_out = if both & bindings::_IOC_READ != 0 {
            size
        } else {
            0
        };
        Ok(Self {
            copy_in,
            copy_out,
            kernel: copy_in.max(copy_out).max(ARG_SIZE),
        })
    }
}

/// The argument's fields, read from the kernel's copy.
pub(crate) struct AllocationArgs {
    pub(crate) len: u64,
    pub(crate) fd: u32,
    pub(crate) fd_flags: u32,
    pub(crate) heap_flags: u64,
    /// The extension's pidfd of the process to charge, 0 for none.
    pub(crate) charge_pid_fd: u32,
    /// The extension's padding, which must be 0.
    pub(crate) padding: u32,
}

const OFF_LEN: usize = core::mem::offset_of!(AllocationData, len);
const OFF_FD: usize = core::mem::offset_of!(AllocationData, fd);
const OFF_FD_FLAGS: usize = core::mem::offset_of!(AllocationData, fd_flags);
const OFF_HEAP_FLAGS: usize = core::mem::offset_of!(AllocationData, heap_flags);
const OFF_CHARGE_PID_FD: usize = core::mem::offset_of!(AllocationDataExt, charge_pid_fd);
const OFF_PADDING: usize = core::mem::offset_of!(AllocationDataExt, padding);

fn field<const N: usize>(data: &[u8; ARG_SIZE], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&data[offset..offset + N]);
    out
}

impl AllocationArgs {
    /// Reads the fields of the kernel's copy `data`.
    pub(crate) fn read(data: &[u8; ARG_SIZE]) -> Self {
        Self {
            len: u64::from_ne_bytes(field(data, OFF_LEN)),
            fd: u32::from_ne_bytes(field(data, OFF_FD)),
            fd_flags: u32::from_ne_bytes(field(data, OFF_FD_FLAGS)),
            heap_flags: u64::from_ne_bytes(field(data, OFF_HEAP_FLAGS)),
            charge_pid_fd: u32::from_ne_bytes(field(data, OFF_CHARGE_PID_FD)),
            padding: u32::from_ne_bytes(field(data, OFF_PADDING)),
        }
    }

    /// Writes the new buffer's descriptor number into the kernel's copy.
    pub(crate) fn write_fd(data: &mut [u8; ARG_SIZE], fd: u32) {
        data[OFF_FD..OFF_FD + 4].copy_from_slice(&fd.to_ne_bytes());
    }
}

/// The argument's layout and sizes (7.3's KUnit, run when the module loads
/// on a kernel with `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_ioctl)]
mod tests {
    use super::{AllocationArgs, ArgSizes, ARG_SIZE, DMA_HEAP_IOCTL_ALLOC};
    use kernel::ioctl::{_IO, _IOR, _IOW, _IOWR};
    use kernel::prelude::*;

    const H: u32 = b'H' as u32;

    /// (bytes copied in, bytes copied out, the kernel's copy) for `cmd`.
    fn sizes(cmd: u32) -> Result<(usize, usize, usize)> {
        let s = ArgSizes::of(cmd)?;
        Ok((s.copy_in, s.copy_out, s.kernel))
    }

    #[test]
    fn the_command_and_struct_are_upstreams() {
        // uapi/linux/dma-heap.h: _IOWR('H', 0x0, struct
        // dma_heap_allocation_data), 24 bytes; the kernel's copy has room
        // for the extension's 8 more.
        assert_eq!(DMA_HEAP_IOCTL_ALLOC, 0xc018_4800);
        assert_eq!(ARG_SIZE, 32);
    }

    #[test]
    fn a_call_of_our_size_copies_it_both_ways() -> Result {
        assert_eq!(sizes(DMA_HEAP_IOCTL_ALLOC)?, (24, 24, 32));
        Ok(())
    }

    #[test]
    fn a_shorter_struct_is_zero_extended() -> Result {
        assert_eq!(sizes(_IOWR::<[u8; 16]>(H, 0))?, (16, 16, 32));
        Ok(())
    }

    #[test]
    fn a_longer_struct_is_copied_whole() -> Result {
        assert_eq!(sizes(_IOWR::<[u8; 40]>(H, 0))?, (40, 40, 40));
        Ok(())
    }

    #[test]
    fn only_the_directions_of_the_callers_command_are_copied() -> Result {
        assert_eq!(sizes(_IOW::<[u8; 24]>(H, 0))?, (24, 0, 32));
        assert_eq!(sizes(_IOR::<[u8; 24]>(H, 0))?, (0, 24, 32));
        assert_eq!(sizes(_IO(H, 0))?, (0, 0, 32));
        Ok(())
    }

    #[test]
    fn the_command_is_chosen_by_its_number_alone() -> Result {
        // Another type letter with number 0 is ALLOC, as upstream has it.
        assert_eq!(sizes(_IOWR::<[u8; 24]>(u32::from(b'X'), 0))?, (24, 24, 32));
        assert_eq!(ArgSizes::of(_IOWR::<[u8; 24]>(H, 1)).err(), Some(EINVAL));
        assert_eq!(ArgSizes::of(_IO(H, 0xff)).err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn the_fields_are_read_and_the_fd_written_in_place() {
        let mut data = [0u8; ARG_SIZE];
        data[0..8].copy_from_slice(&0x1_0000_1000u64.to_ne_bytes());
        data[8..12].copy_from_slice(&7u32.to_ne_bytes());
        data[12..16].copy_from_slice(&0o2_000_002u32.to_ne_bytes());
        data[16..24].copy_from_slice(&(1u64 << 63).to_ne_bytes());
        data[24..28].copy_from_slice(&5u32.to_ne_bytes());
        data[28..32].copy_from_slice(&9u32.to_ne_bytes());
        let args = AllocationArgs::read(&data);
        assert_eq!(args.len, 0x1_0000_1000);
        assert_eq!(args.fd, 7);
        assert_eq!(args.fd_flags, 0o2_000_002);
        assert_eq!(args.heap_flags, 1 << 63);
        assert_eq!((args.charge_pid_fd, args.padding), (5, 9));
        AllocationArgs::write_fd(&mut data, 42);
        assert_eq!(AllocationArgs::read(&data).fd, 42);
        assert_eq!(AllocationArgs::read(&data).len, 0x1_0000_1000);
    }
}
