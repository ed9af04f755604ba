// SPDX-License-Identifier: GPL-2.0

//! `DMA_HEAP_IOCTL_ALLOC` on a heap node, with upstream 6.12's exact
//! argument handling (`ioctl_args.rs`) and request checks
//! ([`Request::check`]).
//!
//! With `charge_pid_fd=1` it also reads the field of that name that a
//! series posted in May 2026 (not merged) appends to the argument, so that
//! an allocator written for it (gralloc allocating for an app whose pid
//! binder gave it) needs no change: a pidfd whose process's memory cgroup
//! is charged with the buffer's pages instead of the caller's, until the
//! buffer is freed. As in the series, 0 means none and the padding after
//! it must be 0 (the series does not check it; `EINVAL` here). Unlike the
//! series, which lets any caller charge any cgroup unless a security module
//! objects, charging a cgroup other than one's own or one below it takes
//! `CAP_SYS_RESOURCE` (`EPERM`), and only heaps whose pages the memory
//! cgroup can be charged with take it (`EOPNOTSUPP` from CMA and carveout
//! heaps, for which the series adds a charge that no kernel exports).
//! Without the parameter the field is not read, as upstream ignores every
//! byte past its struct. A caller in the root memory cgroup needs the
//! capability too (every cgroup is below the root), and a client in the
//! root cgroup is charged nothing, as the kernel charges nothing there.

use crate::{
    compat::{
        self,
        memcg::{
            capable_sys_resource,
            MemCgroup, //
        },
    },
    exporter::dma_buf::DmaBuf,
    frontend::{
        chardev::NodeTarget,
        fd::FdReservation,
        ioctl_args::{
            AllocationArgs,
            ArgSizes,
            ARG_SIZE, //
        },
        params, //
    },
    heap::{
        self,
        Payer,
        Request, //
    },
    memory::page::total_ram_pages, //
};
use kernel::{
    ffi::{
        c_long,
        c_uint,
        c_ulong,
        c_void, //
    },
    prelude::*, //
};

/// Validates one allocation request and carries it out, writing the new
/// descriptor's number into `data`. The descriptor is installed by the
/// caller once the result has reached userspace.
fn allocate(target: &NodeTarget, data: &mut [u8; ARG_SIZE]) -> Result<(DmaBuf, FdReservation)> {
    let args = AllocationArgs::read(data);
    // Upstream's rule: the output field must come in as 0.
    if args.fd != 0 {
        return Err(EINVAL);
    }
    let request = Request::check(args.len, args.fd_flags, args.heap_flags, total_ram_pages())?;
    let payer = payer(&args)?;
    let buf = heap::allocate(&*target.heap, &target.stats, request, &payer)?;
    let fd = FdReservation::new(request.flags().raw())?;
    AllocationArgs::write_fd(data, fd.number());
    Ok((buf, fd))
}

/// Whom the buffer's pages are charged to: the process of `charge_pid_fd`
/// if the parameter lets it be read and it is set, and the caller may
/// charge that process's cgroup; else the caller with `mem_accounting=1`,
/// else nobody.
fn payer(args: &AllocationArgs) -> Result<Payer> {
    let own = Payer::caller_if(params::mem_accounting());
    if !params::charge_pid_fd() {
        return Ok(own);
    }
    if args.padding != 0 {
        return Err(EINVAL);
    }
    if args.charge_pid_fd == 0 {
        return Ok(own);
    }
    let memcg = MemCgroup::of_pidfd(args.charge_pid_fd)?;
    // A task may charge its own cgroup's subtree, as it may create cgroups
    // there, but not from the root, below which every cgroup is. (The
    // capability is asked for last: asking is audited as using it.)
    let own_subtree =
        MemCgroup::of_caller().is_some_and(|own| !own.is_root() && memcg.is_within(&own));
    if !own_subtree && !capable_sys_resource() {
        return Err(EPERM);
    }
    Ok(Payer::Cgroup(memcg))
}

/// Handles an ioctl on a heap node.
fn heap_ioctl(target: &NodeTarget, cmd: u32, arg: usize) -> Result {
    let sizes = ArgSizes::of(cmd)?;
    // Like upstream: on the stack when small (always, for today's ABI).
    let mut on_stack = [0u8; 128];
    let mut on_heap;
    let kdata: &mut [u8] = if sizes.kernel <= on_stack.len() {
        &mut on_stack[..sizes.kernel]
    } else {
        on_heap = KVec::from_elem(0u8, sizes.kernel, GFP_KERNEL)?;
        &mut on_heap[..]
    };
    compat::user_slice(arg, sizes.copy_in)
        .reader()
        .read_slice(&mut kdata[..sizes.copy_in])?;

    // (`kernel` is at least `ARG_SIZE`.)
    let ours = <&mut [u8; ARG_SIZE]>::try_from(&mut kdata[..ARG_SIZE]).map_err(|_| EINVAL)?;
    let (buf, fd) = allocate(target, ours)?;
    // On failure, dropping `buf` and `fd` frees the buffer and the
    // descriptor: nothing leaks and userspace never saw the number.
    compat::user_slice(arg, sizes.copy_out)
        .writer()
        .write_slice(&kdata[..sizes.copy_out])?;
    fd.install(buf);
    Ok(())
}

/// Called by `glue/chardev.c` for `unlocked_ioctl` on a heap node.
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
    // SAFETY: Open files of a node keep its target alive (`HeapNode`'s
    // invariant), and the caller passes the node's target.
    let target = unsafe { &*target.cast::<NodeTarget>() };
    match heap_ioctl(target, cmd, arg) {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}
