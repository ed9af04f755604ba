// SPDX-License-Identifier: GPL-2.0

//! Hosted mode: heaps added to the kernel's own heap core.
//!
//! Where the kernel has the C heap core (`CONFIG_DMABUF_HEAPS=y`, as every
//! Android GKI kernel has) and exports `dma_heap_add()` to modules, that core
//! owns the `dma_heap` class, the `/dev/dma_heap/<name>` nodes and
//! `DMA_HEAP_IOCTL_ALLOC`, and this module adds its heaps to it. The core
//! validates a request and calls the heap's `allocate` op, which ends in
//! [`rdh_rust_hosted_allocate`]: the heaps, and the dma-buf operations of
//! their buffers, are the same as in standalone mode.
//!
//! [`Registry`] has the interface of the standalone registry
//! (`registry.rs`), so `heaps/` does not know which mode it runs in; the
//! build picks one (see `Kbuild`).
//!
//! # What cannot be undone
//!
//! 6.12's heap core cannot remove a heap. Once one is added, the core may
//! call into this module for as long as the kernel runs, so the module pins
//! itself (`rmmod` is refused: the module is in use) and every added heap,
//! with its name, is kept for good. Each name is therefore checked before it
//! is added, and a name that cannot be added leaves nothing behind; the
//! names added before it stay, and the log says which they are.

use crate::{
    compat::{
        cstr_bytes,
        ffi,
        fmt, //
    },
    exporter::dma_buf::DmaBuf,
    frontend::params,
    heap::{
        self,
        DynHeap,
        Heap,
        Payer,
        Request, //
    },
    memory::page::total_ram_pages, //
    stats::{
        accounting::HeapStats, //
        live::{
            BuffersFile,
            LiveBuffers, //
        },
    },
};
use kernel::{
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    prelude::*,
    str::{
        BStr,
        CString, //
    },
    sync::Arc, //
};

/// The heaps this module has added to the kernel's heap core.
pub(crate) struct Registry {
    added: usize,
    /// The heaps' live buffers, in debugfs.
    buffers: BuffersFile,
}

impl Registry {
    pub(crate) fn new() -> Result<Self> {
        pr_info!("hosted mode: adding heaps to the kernel's dma-buf heap core\n");
        Ok(Self {
            added: 0,
            buffers: BuffersFile::new(LiveBuffers::new()?),
        })
    }

    /// Adds `heap` under its own name and then under each of `aliases`
    /// (empty ones are ignored), each with `name_prefix=` in front, logging
    /// rather than failing: a name that is taken (by the kernel's own heaps
    /// or another module's) or cannot be added is skipped, and the others
    /// are still added.
    pub(crate) fn add_or_warn<'a, H: Heap>(
        &mut self,
        heap: Result<H>,
        aliases: impl IntoIterator<Item = &'a [u8]>,
    ) {
        let heap = match heap.and_then(heap::into_dyn) {
            Ok(heap) => heap,
            Err(e) => return pr_err!("a heap failed to initialise ({:?})\n", e),
        };
        let stats = match heap::stats(&heap, self.buffers.live(), params::cgroup_dmem()) {
            Ok(stats) => stats,
            Err(e) => return pr_err!("heap {}: not added ({:?})\n", heap.name(), e),
        };
        let own = cstr_bytes(heap.name());
        self.add_name(&heap, &stats, own);
        for alias in aliases {
            if !alias.is_empty() && alias != own {
                self.add_name(&heap, &stats, alias);
            }
        }
    }

    fn add_name(&mut self, heap: &Arc<dyn DynHeap>, stats: &Arc<HeapStats>, name: &[u8]) {
        let prefix = params::name_prefix();
        let full = match full_name(prefix, name) {
            Ok(full) => full,
            Err(e) => {
                return pr_err!(
                    "heap name {}{}: not usable ({:?})\n",
                    prefix,
                    BStr::from_bytes(name),
                    e
                )
            }
        };
        // SAFETY: `full` is a NUL-terminated string, only read.
        if unsafe { ffi::rdh_dma_heap_name_taken(full.as_char_ptr().cast()) } {
            return pr_info!(
                "heap name {} is already registered (by the kernel or another module): \
                 left to it, ours not added (name_prefix= gives ours other names)\n",
                &*full
            );
        }
        let hosted = HostedHeap {
            name: full,
            heap: heap.clone(),
            stats: stats.clone(),
        };
        if add(hosted).is_ok() {
            self.added += 1;
        }
    }

    /// Ends registration: init fails if no heap was added (nothing then
    /// pins the module or stays behind); otherwise the module stays.
    pub(crate) fn finish(&self) -> Result {
        if self.added == 0 {
            pr_err!("hosted mode: no heap added to the kernel's heap core; not loading\n");
            return Err(ENODEV);
        }
        pr_info!(
            "hosted mode: {} heap(s) added to the kernel's heap core, which cannot remove \
             them: the module stays loaded until reboot\n",
            self.added
        );
        Ok(())
    }
}

/// `prefix` followed by `name`, if that makes a name a device node can have.
fn full_name(prefix: &CStr, name: &[u8]) -> Result<CString> {
    let name = core::str::from_utf8(name).map_err(|_| EINVAL)?;
    if name.contains('/') || cstr_bytes(prefix).contains(&b'/') {
        return Err(EINVAL);
    }
    CString::try_from_fmt(fmt!("{}{}", prefix, name))
}

/// A heap as the kernel's heap core holds it: the private data of one
/// `/dev/dma_heap/<name>`, with that name (which the core does not copy).
struct HostedHeap {
    name: CString,
    heap: Arc<dyn DynHeap>,
    stats: Arc<HeapStats>,
}

/// Adds a heap to the kernel's heap core, or logs why not; on failure
/// nothing is left behind.
fn add(hosted: HostedHeap) -> Result {
    let hosted = KBox::new(hosted, GFP_KERNEL)
        .inspect_err(|_| pr_err!("a heap could not be added (out of memory)\n"))?;
    let private: *const HostedHeap = &*hosted;
    // SAFETY: The name is a NUL-terminated string and `private` a valid
    // `HostedHeap`; if the core keeps them, both are leaked below, so they
    // stay valid for as long as it may use them.
    let ret = unsafe { ffi::rdh_dma_heap_add(hosted.name.as_char_ptr().cast(), private.cast()) };
    if ret != 0 {
        // The core kept nothing: dropping `hosted` frees all of it.
        let e = Error::from_errno(ret);
        pr_err!("heap {}: not added ({:?})\n", &*hosted.name, e);
        return Err(e);
    }
    // The core holds both pointers for good and may call the heap's
    // `allocate` from now on: keep them, and keep this module loaded.
    let hosted = KBox::leak(hosted);
    // SAFETY: Takes a module reference; no preconditions.
    unsafe { ffi::rdh_module_pin() };
    let stats: *const HeapStats = &*hosted.stats;
    // SAFETY: The name is a NUL-terminated string, and `stats` stays valid
    // for good (it is kept by the leaked `hosted`).
    let ret = unsafe { ffi::rdh_stats_dir_add(hosted.name.as_char_ptr().cast(), stats.cast()) };
    if ret != 0 {
        pr_warn!(
            "heap {}: its figures are not in sysfs (error {})\n",
            &*hosted.name,
            ret
        );
    }
    Ok(())
}

fn allocate(hosted: &HostedHeap, len: usize, fd_flags: u32, heap_flags: u64) -> Result<DmaBuf> {
    // The kernel's core has checked the request; the heaps rely on the
    // checks, so they are made again here (the same as standalone mode's).
    let request = Request::check(len as u64, fd_flags, heap_flags, total_ram_pages())?;
    let payer = Payer::caller_if(params::mem_accounting());
    heap::allocate(&*hosted.heap, &hosted.stats, request, &payer)
}

/// Called by `glue/hosted.c`'s `dma_heap_ops.allocate` for one of our heaps.
///
/// # Safety
///
/// `heap` is the private data of a heap this module added (a leaked
/// [`HostedHeap`]); `out` is writable.
#[no_mangle]
unsafe extern "C" fn rdh_rust_hosted_allocate(
    heap: *const c_void,
    len: c_ulong,
    fd_flags: u32,
    heap_flags: u64,
    out: *mut *mut ffi::dma_buf,
) -> c_int {
    // SAFETY: As the caller guarantees, `heap` is a `HostedHeap`, which is
    // never freed once added.
    let hosted = unsafe { &*heap.cast::<HostedHeap>() };
    // (The kernel's `c_ulong` is `usize`.)
    match allocate(hosted, len, fd_flags, heap_flags) {
        Ok(buf) => {
            // SAFETY: `out` is writable, as the caller guarantees; the core
            // takes over the buffer's reference.
            unsafe { *out = buf.into_raw() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Heap names (7.3's KUnit, run when the module loads on a kernel with
/// `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_hosted)]
mod tests {
    use super::full_name;
    use crate::compat::cstr_bytes;
    use kernel::prelude::*;

    #[test]
    fn the_prefix_comes_before_the_name() -> Result {
        assert_eq!(cstr_bytes(&full_name(c"rdh_", b"system")?), b"rdh_system");
        assert_eq!(cstr_bytes(&full_name(c"", b"linux,cma")?), b"linux,cma");
        assert_eq!(
            cstr_bytes(&full_name(c"vendor-", b"camera@60000000")?),
            b"vendor-camera@60000000"
        );
        Ok(())
    }

    #[test]
    fn a_name_that_is_no_node_name_is_refused() {
        assert_eq!(full_name(c"", b"a/b").err(), Some(EINVAL));
        assert_eq!(full_name(c"rdh/", b"system").err(), Some(EINVAL));
        assert_eq!(full_name(c"", b"sys\xfftem").err(), Some(EINVAL));
    }
}
