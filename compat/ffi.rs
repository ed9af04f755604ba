// SPDX-License-Identifier: GPL-2.0

//! What the C glue (`glue/`) provides to Rust.
//!
//! 6.12's `bindings` crate lacks these; `glue/` wraps each in a few lines.
//! Structs that `bindings` does not describe are only ever handled here as
//! opaque pointers: their layout is known to C alone. `glue/glue.h` declares the
//! same functions; `tools/testing/lint` checks that the two agree.

use kernel::{
    bindings, //
    ffi::{
        c_int,
        c_long,
        c_uint,
        c_ulong,
        c_void, //
    },
};

/// Declares an opaque C type that Rust only passes around by pointer.
macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub(crate) struct $name {
            _private: [u8; 0],
        }
    )*};
}

opaque!(dma_buf, dentry, seq_file, shrinker, task_struct);
#[cfg(not(rdh_hosted))]
opaque!(rdh_node, class);
#[cfg(rdh_cma)]
opaque!(cma);
#[cfg(CONFIG_CGROUP_DMEM)]
opaque!(dmem_cgroup_region, dmem_cgroup_pool_state);
#[cfg(all(CONFIG_MEMCG, not(rdh_hosted)))]
opaque!(mem_cgroup);

/// `struct rdh_page_run`: a run of contiguous pages, as a buffer keeps its
/// list of them (`memory/buffer.rs`'s `Run`, which has this layout).
#[repr(C)]
pub(crate) struct PageRunRaw {
    pub(crate) first: *mut bindings::page,
    pub(crate) count: usize,
    pub(crate) start: usize,
}

/// `struct rdh_gfp_bits` in `glue.h`: GFP bits the bindings lack.
#[repr(C)]
pub(crate) struct GfpBits {
    pub(crate) highuser: bindings::gfp_t,
    pub(crate) user: bindings::gfp_t,
    pub(crate) dma32: bindings::gfp_t,
    pub(crate) zero: bindings::gfp_t,
    pub(crate) nowarn: bindings::gfp_t,
    pub(crate) noretry: bindings::gfp_t,
    pub(crate) retry_mayfail: bindings::gfp_t,
    pub(crate) reclaim: bindings::gfp_t,
    pub(crate) comp: bindings::gfp_t,
    pub(crate) account: bindings::gfp_t,
}

/// The GFP bits, as `glue/mm.c` defines them.
pub(crate) fn gfp() -> &'static GfpBits {
    // SAFETY: `rdh_gfp` is a `const` object in `glue/mm.c`, initialised at
    // build time and never written.
    unsafe { &rdh_gfp }
}

// Some `bindings` structs (`lockdep_map` without lockdep, for one) are empty
// in some configurations, which makes the lint fire on pointers to them in
// those configurations only; `expect` would fail in the others.
#[allow(improper_ctypes)]
extern "C" {
    static rdh_gfp: GfpBits;

    pub(crate) fn rdh_param_system() -> bool;
    pub(crate) fn rdh_param_system_uncached() -> bool;
    pub(crate) fn rdh_param_system_dma32() -> bool;
    pub(crate) fn rdh_param_cgroup_dmem() -> bool;
    pub(crate) fn rdh_param_charge_pid_fd() -> bool;
    pub(crate) fn rdh_param_carveout() -> *const u8;
    pub(crate) fn rdh_param_carveout_base() -> u64;
    pub(crate) fn rdh_param_carveout_size() -> u64;
    pub(crate) fn rdh_of_reserved_region(
        name: *const u8,
        base: *mut u64,
        size: *mut u64,
        reusable: *mut bool,
        nomap: *mut bool,
        owned: *mut bool,
        compatible: *mut bool,
        used: *mut bool,
    ) -> c_int;
    pub(crate) fn rdh_reserved_page(pfn: u64) -> *mut bindings::page;
    pub(crate) fn rdh_range_outside_ram(base: u64, size: u64) -> bool;
    pub(crate) fn rdh_e820_has_ram(base: u64, size: u64, firmware: bool) -> c_int;
    pub(crate) fn rdh_request_mem_region(base: u64, size: u64, name: *const u8) -> bool;
    pub(crate) fn rdh_release_mem_region(base: u64, size: u64);
    pub(crate) fn rdh_memremap_wb(base: u64, size: u64) -> *mut c_void;
    pub(crate) fn rdh_memunmap(addr: *mut c_void);
    pub(crate) fn rdh_param_cma() -> bool;

    pub(crate) fn rdh_dma_buf_export(
        private: *const c_void,
        name: *const u8,
        size: usize,
        flags: c_int,
        out: *mut *mut dma_buf,
    ) -> c_int;
    pub(crate) fn dma_buf_put(dmabuf: *mut dma_buf);

    pub(crate) fn rdh_nth_page(page: *mut bindings::page, n: c_ulong) -> *mut bindings::page;
    pub(crate) fn rdh_page_to_pfn(page: *mut bindings::page) -> c_ulong;
    pub(crate) fn rdh_sg_fill(
        table: *mut bindings::sg_table,
        runs: *const PageRunRaw,
        nr_runs: usize,
        seg_pages: usize,
    ) -> c_int;
    pub(crate) fn rdh_dma_unmap_sgtable(
        dev: *mut bindings::device,
        table: *mut bindings::sg_table,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    );
    pub(crate) fn rdh_dma_sync_for_cpu(
        dev: *mut bindings::device,
        table: *mut bindings::sg_table,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn rdh_dma_sync_for_device(
        dev: *mut bindings::device,
        table: *mut bindings::sg_table,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn rdh_sg_table_mirror(
        dst: *mut bindings::sg_table,
        src: *mut bindings::sg_table,
    ) -> c_int;
    pub(crate) fn rdh_dma_buf_mangles_tables() -> bool;
    pub(crate) fn rdh_dma_max_seg_size(dev: *mut bindings::device) -> c_uint;
    pub(crate) fn rdh_dma_bounces(
        dev: *mut bindings::device,
        phys: bindings::phys_addr_t,
        size: usize,
    ) -> bool;
    pub(crate) fn rdh_dma_needs_shared_memory(dev: *mut bindings::device) -> bool;
    pub(crate) fn rdh_vm_flags_set(vma: *mut bindings::vm_area_struct, flags: c_ulong);
    pub(crate) fn rdh_vm_insert_run(
        vma: *mut bindings::vm_area_struct,
        addr: c_ulong,
        page: *mut bindings::page,
        count: c_ulong,
    ) -> c_int;
    pub(crate) fn rdh_vmap_runs(
        scratch: *mut *mut bindings::page,
        runs: *const PageRunRaw,
        nr_runs: usize,
        count: c_uint,
        wc: bool,
    ) -> *mut c_void;
    pub(crate) fn rdh_vma_set_writecombine(vma: *mut bindings::vm_area_struct);
    pub(crate) fn rdh_vma_set_ops(vma: *mut bindings::vm_area_struct, pages: bool);
    pub(crate) fn rdh_set_pages_wc(pages: *mut *mut bindings::page, count: c_int) -> c_int;
    pub(crate) fn rdh_set_pages_wb(pages: *mut *mut bindings::page, count: c_int) -> c_int;
    pub(crate) fn rdh_maint_device_create() -> *mut bindings::device;
    pub(crate) fn rdh_maint_device_destroy(dev: *mut bindings::device);
    pub(crate) fn rdh_dma_writeback_invalidate(
        dev: *mut bindings::device,
        page: *mut bindings::page,
        size: usize,
    ) -> c_int;
    pub(crate) fn rdh_lowmem_address(page: *mut bindings::page) -> *mut c_void;
    pub(crate) fn rdh_vunmap(vaddr: *const c_void);
    pub(crate) fn rdh_invalidate_kernel_vmap_range(vaddr: *mut c_void, size: c_int);
    pub(crate) fn rdh_flush_kernel_vmap_range(vaddr: *mut c_void, size: c_int);
    pub(crate) fn rdh_fatal_signal_pending() -> bool;
    pub(crate) fn rdh_totalram_pages() -> c_ulong;
    pub(crate) fn rdh_trace_alloc_enabled() -> bool;
    pub(crate) fn rdh_trace_alloc(heap: *const u8, len: usize, err: c_int, ns: u64);
    pub(crate) fn rdh_trace_free(heap: *const u8, len: usize);
    pub(crate) fn rdh_clear_highpage(page: *mut bindings::page);
    pub(crate) fn rdh_page_count(page: *mut bindings::page) -> c_int;
    pub(crate) fn rdh_cond_resched();
    pub(crate) fn rdh_kvmalloc_mayfail(bytes: usize) -> *mut c_void;

    pub(crate) fn rdh_param_pool_max_kb() -> c_long;
    pub(crate) fn rdh_param_mem_accounting() -> bool;
    pub(crate) fn rdh_pool_worker_start(
        pool: *const c_void,
        name: *const u8,
        nice: c_int,
    ) -> *mut task_struct;
    pub(crate) fn rdh_pool_worker_stop(task: *mut task_struct);
    pub(crate) fn rdh_pool_shrinker_add(pool: *const c_void, name: *const u8) -> *mut shrinker;
    pub(crate) fn rdh_pool_shrinker_remove(shrinker: *mut shrinker);
    pub(crate) fn rdh_pool_debugfs_add(pool: *const c_void, name: *const u8) -> *mut dentry;
    pub(crate) fn rdh_pool_debugfs_remove(file: *mut dentry);

    pub(crate) fn rdh_buffers_debugfs_add(live: *const c_void) -> *mut dentry;
    pub(crate) fn rdh_buffers_debugfs_remove(file: *mut dentry);
    pub(crate) fn rdh_seq_write(m: *mut seq_file, s: *const u8, len: usize);
    pub(crate) fn rdh_current_owner(tgid: *mut c_int, comm: *mut u8);
    pub(crate) fn rdh_dma_buf_vmaps(dmabuf: *mut dma_buf) -> c_uint;
    pub(crate) fn rdh_dev_name(dev: *mut bindings::device) -> *const u8;

    pub(crate) fn rdh_pages_debugfs_add() -> *mut dentry;
    pub(crate) fn rdh_pages_debugfs_remove(file: *mut dentry);
}

/// `RDH_COMM_LEN` in `glue.h`: a task's name, NUL included.
pub(crate) const COMM_LEN: usize = 16;

/// `RDH_POOL_ORDERS` in `glue.h`: the most orders a pool's counters show.
pub(crate) const POOL_ORDERS: usize = 4;

/// `struct rdh_pool_stats` in `glue.h`: a pool's counters, for debugfs.
#[repr(C)]
#[derive(Default)]
pub(crate) struct PoolStats {
    pub(crate) nr_orders: c_uint,
    pub(crate) order: [c_uint; POOL_ORDERS],
    pub(crate) pages: [c_ulong; POOL_ORDERS],
    pub(crate) hits: [c_ulong; POOL_ORDERS],
    pub(crate) misses: [c_ulong; POOL_ORDERS],
    pub(crate) pooled_pages: c_ulong,
    pub(crate) pending_pages: c_ulong,
    pub(crate) max_pages: c_ulong,
    pub(crate) recycled_pages: c_ulong,
    pub(crate) referenced_pages: c_ulong,
    pub(crate) over_max_pages: c_ulong,
    pub(crate) shrunk_pages: c_ulong,
    pub(crate) taken_pending_pages: c_ulong,
    pub(crate) inline_pages: c_ulong,
}

// Standalone mode: the module's own `dma_heap` class and nodes, and the
// file a new buffer's descriptor gets.
#[cfg(not(rdh_hosted))]
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rdh_class_create() -> *mut class;
    pub(crate) fn class_destroy(class: *const class);
    pub(crate) fn rdh_node_add(
        class: *mut class,
        devt: bindings::dev_t,
        name: *const u8,
        heap: *const c_void,
        stats: *const c_void,
    ) -> *mut rdh_node;
    pub(crate) fn rdh_node_remove(node: *mut rdh_node);
    pub(crate) fn rdh_dma_buf_file(dmabuf: *mut dma_buf) -> *mut bindings::file;
}

// The dmem cgroup controller (`glue/dmem.c`), where the kernel has it.
#[cfg(CONFIG_CGROUP_DMEM)]
extern "C" {
    pub(crate) fn rdh_dmem_region_register(name: *const u8, size: u64) -> *mut dmem_cgroup_region;
    pub(crate) fn rdh_dmem_region_unregister(region: *mut dmem_cgroup_region);
    pub(crate) fn rdh_dmem_try_charge(
        region: *mut dmem_cgroup_region,
        size: u64,
        pool: *mut *mut dmem_cgroup_pool_state,
    ) -> c_int;
    pub(crate) fn rdh_dmem_uncharge(pool: *mut dmem_cgroup_pool_state, size: u64);
}

// Memory cgroups (`glue/memcg.c`), for the standalone ioctl.
#[cfg(all(CONFIG_MEMCG, not(rdh_hosted)))]
extern "C" {
    pub(crate) fn rdh_memcg_of_pidfd(fd: c_uint, memcg: *mut *mut mem_cgroup) -> c_int;
    pub(crate) fn rdh_memcg_put(memcg: *mut mem_cgroup);
    pub(crate) fn rdh_memcg_of_current() -> *mut mem_cgroup;
    pub(crate) fn rdh_memcg_is_root(memcg: *mut mem_cgroup) -> bool;
    pub(crate) fn rdh_memcg_is_descendant(memcg: *mut mem_cgroup, root: *mut mem_cgroup) -> bool;
    pub(crate) fn rdh_memcg_set_active(memcg: *mut mem_cgroup) -> *mut mem_cgroup;
}

// The CMA allocator, exported to modules by the project's kernel patch
// (0001-mm-cma-export-the-CMA-allocator-to-modules), Android's GKI and
// mainline 7.2 and later, and the glue only the CMA heaps use.
#[cfg(rdh_cma)]
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rdh_param_cma_aliases() -> *const u8;
    pub(crate) fn rdh_page_is_highmem(page: *mut bindings::page) -> bool;
    pub(crate) fn rdh_clear_lowmem_pages(page: *mut bindings::page, count: c_uint);
    pub(crate) fn rdh_param_cma_regions() -> *const u8;
    pub(crate) fn dev_get_cma_area(dev: *mut bindings::device) -> *mut cma;
    pub(crate) fn rdh_of_reserved_memory_node(
        name: *const u8,
        shared_dma_pool: *mut bool,
        reusable: *mut bool,
    ) -> bool;
    pub(crate) fn cma_alloc(
        cma: *mut cma,
        count: c_ulong,
        align: c_uint,
        no_warn: bool,
    ) -> *mut bindings::page;
    pub(crate) fn cma_release(cma: *mut cma, pages: *const bindings::page, count: c_ulong) -> bool;
    pub(crate) fn cma_get_name(cma: *const cma) -> *const u8;
}

// How the CMA areas are found and measured differs (see `compat/mod.rs`).
#[cfg(all(rdh_cma, not(rdh_kernel_7)))]
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn cma_get_size(cma: *const cma) -> c_ulong;
    pub(crate) fn cma_for_each_area(
        it: Option<unsafe extern "C" fn(cma: *mut cma, data: *mut c_void) -> c_int>,
        data: *mut c_void,
    ) -> c_int;
}

// Hosted mode: registering with the kernel's own heap core, which exports
// `dma_heap_add()` to modules there (see Kbuild).
#[cfg(rdh_hosted)]
extern "C" {
    pub(crate) fn rdh_param_name_prefix() -> *const u8;
    pub(crate) fn rdh_host_mem_accounting() -> bool;
    pub(crate) fn rdh_dma_heap_add(name: *const u8, heap: *const c_void) -> c_int;
    pub(crate) fn rdh_dma_heap_name_taken(name: *const u8) -> bool;
    pub(crate) fn rdh_module_pin();
    pub(crate) fn rdh_stats_dir_add(name: *const u8, stats: *const c_void) -> c_int;
}

#[cfg(all(rdh_cma, rdh_kernel_7))]
extern "C" {
    pub(crate) fn dma_contiguous_get_area_by_idx(idx: c_uint) -> *mut cma;
}
