// SPDX-License-Identifier: GPL-2.0

//! `DMA_HEAP_IOCTL_ALLOC`, with upstream 6.12's exact argument handling.
//!
//! Like `drivers/dma-buf/dma-heap.c`: the command is chosen by its number
//! alone (a number past ALLOC's is `EINVAL`); the caller's struct is copied
//! in and out at the caller's size (read only if the command has the write
//! bit, written back only if it has the read bit), zero-extended when shorter
//! than ours, so older and newer callers both work.

use crate::chardev::NodeTarget;
use crate::compat;
use crate::dma_buf::{DmaBuf, FdFlags};
use crate::fd::FdReservation;
use crate::heap;
use crate::page::{total_ram_pages, PAGE_SIZE};
use kernel::bindings;
use kernel::ffi::{c_long, c_uint, c_ulong, c_void};
use kernel::ioctl::{_IOC_DIR, _IOC_NR, _IOC_SIZE, _IOWR};
use kernel::prelude::*;

/// `struct dma_heap_allocation_data` from `uapi/dma-heap.h`.
#[repr(C)]
struct AllocationData {
    len: u64,
    fd: u32,
    fd_flags: u32,
    heap_flags: u64,
}

const OFF_LEN: usize = core::mem::offset_of!(AllocationData, len);
const OFF_FD: usize = core::mem::offset_of!(AllocationData, fd);
const OFF_FD_FLAGS: usize = core::mem::offset_of!(AllocationData, fd_flags);
const OFF_HEAP_FLAGS: usize = core::mem::offset_of!(AllocationData, heap_flags);

/// `DMA_HEAP_IOCTL_ALLOC`.
const DMA_HEAP_IOCTL_ALLOC: u32 = _IOWR::<AllocationData>(b'H' as u32, 0);

/// Heap flags a caller may pass (upstream defines none).
const VALID_HEAP_FLAGS: u64 = 0;

fn field<const N: usize>(data: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&data[offset..offset + N]);
    out
}

/// Validates one allocation request and carries it out, writing the new
/// descriptor's number into `data`. The descriptor is installed by the
/// caller once the result has reached userspace.
fn allocate(target: &NodeTarget, data: &mut [u8]) -> Result<(DmaBuf, FdReservation)> {
    let len = u64::from_ne_bytes(field(data, OFF_LEN));
    let fd = u32::from_ne_bytes(field(data, OFF_FD));
    let fd_flags = u32::from_ne_bytes(field(data, OFF_FD_FLAGS));
    let heap_flags = u64::from_ne_bytes(field(data, OFF_HEAP_FLAGS));

    if fd != 0 || heap_flags & !VALID_HEAP_FLAGS != 0 {
        return Err(EINVAL);
    }
    let flags = FdFlags::new(fd_flags).ok_or(EINVAL)?;
    // PAGE_ALIGN, where a length within a page of 2^64 wraps to zero.
    let len = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_next_multiple_of(PAGE_SIZE))
        .filter(|&l| l != 0)
        .ok_or(EINVAL)?;
    // Hardening beyond upstream: a buffer larger than RAM can never be
    // allocated; refuse it before driving the machine into the OOM killer.
    if len / PAGE_SIZE > total_ram_pages() {
        return Err(ENOMEM);
    }

    let buf = heap::allocate(&*target.heap, &target.stats, len, flags)?;
    let fd = FdReservation::new(flags.raw())?;
    data[OFF_FD..OFF_FD + 4].copy_from_slice(&fd.number().to_ne_bytes());
    Ok((buf, fd))
}

/// Handles an ioctl on a heap node.
fn heap_ioctl(target: &NodeTarget, cmd: u32, arg: usize) -> Result {
    if _IOC_NR(cmd) >= 1 {
        return Err(EINVAL);
    }
    let kcmd = DMA_HEAP_IOCTL_ALLOC;
    let drv_size = _IOC_SIZE(kcmd);
    let mut in_size = _IOC_SIZE(cmd);
    let mut out_size = in_size;
    let both = _IOC_DIR(cmd) & _IOC_DIR(kcmd);
    if both & bindings::_IOC_WRITE == 0 {
        in_size = 0;
    }
    if both & bindings::_IOC_READ == 0 {
        out_size = 0;
    }
    let ksize = in_size.max(out_size).max(drv_size);

    // Like upstream: on the stack when small (always, for today's ABI).
    let mut on_stack = [0u8; 128];
    let mut on_heap;
    let kdata: &mut [u8] = if ksize <= on_stack.len() {
        &mut on_stack[..ksize]
    } else {
        on_heap = KVec::from_elem(0u8, ksize, GFP_KERNEL)?;
        &mut on_heap[..]
    };
    compat::user_slice(arg, in_size)
        .reader()
        .read_slice(&mut kdata[..in_size])?;

    let (buf, fd) = allocate(target, &mut kdata[..drv_size])?;
    // On failure, dropping `buf` and `fd` frees the buffer and the
    // descriptor: nothing leaks and userspace never saw the number.
    compat::user_slice(arg, out_size)
        .writer()
        .write_slice(&kdata[..out_size])?;
    fd.install(buf);
    Ok(())
}

/// Called by `glue.c` for `unlocked_ioctl` on a heap node.
///
/// # Safety
///
/// `target` is the private data of a live heap node (a `NodeTarget`).
#[no_mangle]
unsafe extern "C" fn rdh_rust_heap_ioctl(
    target: *const c_void,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: open files of a node keep its target alive (`HeapNode`'s
    // invariant), and the caller passes the node's target.
    let target = unsafe { &*target.cast::<NodeTarget>() };
    match heap_ioctl(target, cmd, arg) {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}
