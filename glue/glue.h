/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seam between the Rust and C halves of rust_dma_heap.
 *
 * Linux 6.12's Rust `bindings` crate has no dma-buf, cdev, CMA or vmap API,
 * and an out-of-tree module cannot extend it. Each function the .c files of
 * this directory provide does one thing Rust cannot reach on 6.12 (a macro,
 * an inline function, a struct field absent from `bindings`, or a table of
 * function pointers that must be a static with .owner = THIS_MODULE), one
 * kernel subsystem per file, and is called from one Rust wrapper.
 * No policy lives in C: the Rust side decides, the glue translates.
 *
 * Rust declares the same functions in compat/ffi.rs (what C provides) and
 * defines the rdh_rust_* ones (frontend/ioctl.rs, exporter/dma_buf.rs,
 * compat/pool_hooks.rs and others);
 * tools/testing/check-ffi checks that both sides agree on every signature.
 */
#ifndef RDH_GLUE_H
#define RDH_GLUE_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct class;
struct cma;
struct dentry;
struct device;
struct dma_buf;
struct file;
struct page;
struct rdh_node;
struct scatterlist;
struct seq_file;
struct sg_table;
struct shrinker;
struct task_struct;
struct vm_area_struct;

/* Implemented in Rust. */
long rdh_rust_heap_ioctl(const void *heap, unsigned int cmd, unsigned long arg);
int rdh_rust_attach(const void *buf, struct device *dev, void **attachment);
void rdh_rust_detach(const void *buf, void *attachment);
int rdh_rust_map(const void *buf, void *attachment, enum dma_data_direction dir,
		 struct sg_table **table);
void rdh_rust_unmap(const void *buf, void *attachment, enum dma_data_direction dir);
int rdh_rust_begin_cpu_access(const void *buf, enum dma_data_direction dir);
int rdh_rust_end_cpu_access(const void *buf, enum dma_data_direction dir);
int rdh_rust_mmap(const void *buf, struct vm_area_struct *vma);
int rdh_rust_vmap(const void *buf, void **vaddr);
struct page *rdh_rust_page(const void *buf, unsigned long index);
void rdh_rust_vma_open(const void *buf);
void rdh_rust_vma_close(const void *buf);
void rdh_rust_vunmap(const void *buf);
void rdh_rust_release(const void *buf);

/* Each heap's figures (stats/accounting.rs), in the order of its `Stat`. */
enum rdh_stat {
	RDH_STAT_BYTES,
	RDH_STAT_BUFFERS,
	RDH_STAT_PEAK_BYTES,
	RDH_STAT_MAX_BYTES,
	RDH_STAT_FAILED_NOMEM,
	RDH_STAT_FAILED_LIMIT,
	RDH_STAT_FAILED_INTERRUPTED,
	RDH_STAT_POOL_BYTES,
	RDH_STAT_REGION_BYTES,
};
int rdh_rust_stat_read(const void *stats, unsigned int which, u64 *out);
int rdh_rust_stat_set_max_bytes(const void *stats, u64 max);

/* The system heaps' page pools (memory/page_pool.rs, compat/pool_hooks.rs). */
#define RDH_POOL_ORDERS 4
struct rdh_pool_stats {
	unsigned int nr_orders;
	unsigned int order[RDH_POOL_ORDERS];
	unsigned long pages[RDH_POOL_ORDERS], hits[RDH_POOL_ORDERS], misses[RDH_POOL_ORDERS];
	unsigned long pooled_pages, pending_pages, max_pages, recycled_pages, referenced_pages,
		over_max_pages, shrunk_pages, taken_pending_pages, inline_pages;
};
void rdh_rust_pool_worker(const void *pool);
unsigned long rdh_rust_pool_count(const void *pool);
unsigned long rdh_rust_pool_scan(const void *pool, unsigned long nr);
void rdh_rust_pool_stats(const void *pool, struct rdh_pool_stats *stats);

/* Provided by the glue's .c files. */
struct rdh_gfp_bits {
	gfp_t highuser, user, dma32, zero, nowarn, noretry, retry_mayfail, reclaim, comp, account;
};
extern const struct rdh_gfp_bits rdh_gfp;

bool rdh_param_system(void);
bool rdh_param_system_uncached(void);
bool rdh_param_system_dma32(void);
bool rdh_param_cgroup_dmem(void);
bool rdh_param_charge_pid_fd(void);
const char *rdh_param_carveout(void);
u64 rdh_param_carveout_base(void);
u64 rdh_param_carveout_size(void);
int rdh_of_reserved_region(const char *name, u64 *base, u64 *size, bool *reusable, bool *nomap,
			   bool *owned, bool *compatible, bool *used);
struct page *rdh_reserved_page(u64 pfn);
bool rdh_range_outside_ram(u64 base, u64 size);
int rdh_e820_has_ram(u64 base, u64 size, bool firmware);
bool rdh_request_mem_region(u64 base, u64 size, const char *name);
void rdh_release_mem_region(u64 base, u64 size);
void *rdh_memremap_wb(u64 base, u64 size);
void rdh_memunmap(void *addr);
bool rdh_param_cma(void);
const char *rdh_param_cma_aliases(void);
const char *rdh_param_cma_regions(void);
struct class *rdh_class_create(void);
struct rdh_node *rdh_node_add(struct class *class, dev_t devt, const char *name, const void *heap,
			      const void *stats);
void rdh_node_remove(struct rdh_node *node);
int rdh_dma_buf_export(const void *priv, const char *name, size_t size, int flags, struct dma_buf **out);
struct file *rdh_dma_buf_file(struct dma_buf *dmabuf);
struct page *rdh_nth_page(struct page *page, unsigned long n);
unsigned long rdh_page_to_pfn(struct page *page);
bool rdh_trace_alloc_enabled(void);
void rdh_trace_alloc(const char *heap, size_t len, int err, u64 ns);
void rdh_trace_free(const char *heap, size_t len);
void rdh_clear_highpage(struct page *page);
bool rdh_page_is_highmem(struct page *page);
void rdh_clear_lowmem_pages(struct page *page, unsigned int count);
/* A run of a buffer's pages, as memory/buffer.rs keeps it (struct Run). */
struct rdh_page_run {
	struct page *first;
	size_t count;
	size_t start;
};

int rdh_sg_fill(struct sg_table *table, const struct rdh_page_run *runs, size_t nr_runs,
		size_t seg_pages);
void rdh_dma_unmap_sgtable(struct device *dev, struct sg_table *table, enum dma_data_direction dir,
			   unsigned long attrs);
void rdh_dma_sync_for_cpu(struct device *dev, struct sg_table *table, enum dma_data_direction dir);
void rdh_dma_sync_for_device(struct device *dev, struct sg_table *table, enum dma_data_direction dir);
unsigned int rdh_dma_max_seg_size(struct device *dev);
bool rdh_dma_bounces(struct device *dev, phys_addr_t phys, size_t size);
bool rdh_dma_needs_shared_memory(struct device *dev);
int rdh_sg_table_mirror(struct sg_table *dst, struct sg_table *src);
bool rdh_dma_buf_mangles_tables(void);
void rdh_vm_flags_set(struct vm_area_struct *vma, unsigned long flags);
int rdh_vm_insert_run(struct vm_area_struct *vma, unsigned long addr, struct page *page,
		      unsigned long count);
void *rdh_vmap_runs(struct page **scratch, const struct rdh_page_run *runs, size_t nr_runs,
		    unsigned int count, bool wc);
void rdh_vma_set_writecombine(struct vm_area_struct *vma);
void rdh_vma_set_ops(struct vm_area_struct *vma, bool pages);
int rdh_set_pages_wc(struct page **pages, int count);
int rdh_set_pages_wb(struct page **pages, int count);
struct device *rdh_maint_device_create(void);
void rdh_maint_device_destroy(struct device *dev);
int rdh_dma_writeback_invalidate(struct device *dev, struct page *page, size_t size);
void *rdh_lowmem_address(struct page *page);
void rdh_vunmap(const void *vaddr);
void rdh_invalidate_kernel_vmap_range(void *vaddr, int size);
void rdh_flush_kernel_vmap_range(void *vaddr, int size);
bool rdh_fatal_signal_pending(void);
unsigned long rdh_totalram_pages(void);
int rdh_page_count(struct page *page);
void rdh_cond_resched(void);
void *rdh_kvmalloc_mayfail(size_t bytes);
long rdh_param_pool_max_kb(void);
bool rdh_param_mem_accounting(void);
struct task_struct *rdh_pool_worker_start(const void *pool, const char *name, int nice);
void rdh_pool_worker_stop(struct task_struct *task);
struct shrinker *rdh_pool_shrinker_add(const void *pool, const char *name);
void rdh_pool_shrinker_remove(struct shrinker *shrinker);
struct dentry *rdh_pool_debugfs_add(const void *pool, const char *name);
void rdh_pool_debugfs_remove(struct dentry *file);

/* The dmem cgroup controller (dmem.c, where the kernel has it). */
struct dmem_cgroup_region;
struct dmem_cgroup_pool_state;
struct dmem_cgroup_region *rdh_dmem_region_register(const char *name, u64 size);
void rdh_dmem_region_unregister(struct dmem_cgroup_region *region);
int rdh_dmem_try_charge(struct dmem_cgroup_region *region, u64 size,
			struct dmem_cgroup_pool_state **pool);
void rdh_dmem_uncharge(struct dmem_cgroup_pool_state *pool, u64 size);

/* Memory cgroups (memcg.c, where the kernel has them). */
struct mem_cgroup;
int rdh_memcg_of_pidfd(unsigned int fd, struct mem_cgroup **memcg);
void rdh_memcg_put(struct mem_cgroup *memcg);
struct mem_cgroup *rdh_memcg_of_current(void);
bool rdh_memcg_is_root(struct mem_cgroup *memcg);
bool rdh_memcg_is_descendant(struct mem_cgroup *memcg, struct mem_cgroup *root);
struct mem_cgroup *rdh_memcg_set_active(struct mem_cgroup *memcg);

/* The live buffers' debugfs file (stats/live.rs). */
#define RDH_COMM_LEN 16
int rdh_rust_buffers_show(const void *live, struct seq_file *m);
struct dentry *rdh_buffers_debugfs_add(const void *live);
void rdh_buffers_debugfs_remove(struct dentry *file);
void rdh_seq_write(struct seq_file *m, const char *s, size_t len);
void rdh_current_owner(int *tgid, char *comm);
unsigned int rdh_dma_buf_vmaps(struct dma_buf *dmabuf);
const char *rdh_dev_name(struct device *dev);
bool rdh_of_reserved_memory_node(const char *name, bool *shared_dma_pool, bool *reusable);

/* The page ledger's debugfs file (stats/ledger.rs). */
int rdh_rust_pages_show(struct seq_file *m);
struct dentry *rdh_pages_debugfs_add(void);
void rdh_pages_debugfs_remove(struct dentry *file);

/* Hosted mode only (RDH_HOSTED): implemented in Rust (frontend/hosted.rs)... */
int rdh_rust_hosted_allocate(const void *heap, unsigned long len, u32 fd_flags,
			     u64 heap_flags, struct dma_buf **out);
/* ...and provided by hosted.c. */
const char *rdh_param_name_prefix(void);
bool rdh_host_mem_accounting(void);
int rdh_dma_heap_add(const char *name, const void *heap);
bool rdh_dma_heap_name_taken(const char *name);
void rdh_module_pin(void);
int rdh_stats_dir_add(const char *name, const void *stats);

#endif /* RDH_GLUE_H */
