// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the Rust dma-buf heaps module.
 *
 * Linux 6.12's Rust `bindings` crate has no dma-buf, cdev, CMA or vmap API,
 * and an out-of-tree module cannot extend it.  Each function here does one
 * thing Rust cannot reach on 6.12 (a macro, an inline function, a struct
 * field absent from `bindings`, or a table of function pointers that must be
 * a static with .owner = THIS_MODULE) and is called from exactly one Rust
 * wrapper in core/.  No policy lives here: the Rust side decides, this file
 * translates.
 *
 * Functions named rdh_rust_* are implemented in Rust (core/ioctl.rs and
 * core/dma_buf.rs); everything else is provided to Rust (core/ffi.rs).
 * tools/testing/check-ffi checks that both sides agree on every signature.
 */
#include <linux/cdev.h>
#include <linux/cma.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#ifdef CONFIG_X86
#include <asm/e820/api.h>
#include <asm/set_memory.h>
#endif

#include "glue.h"

#define CREATE_TRACE_POINTS
#include "rdh_trace.h"

/*
 * RDH_KERNEL_7 is set by Kbuild for Linux 7.x (see core/compat.rs, which
 * lists every difference between the kernels this module supports).
 */
#ifdef RDH_KERNEL_7
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

/* ---- module parameters (6.12's module! macro has no parameter support) ---- */

static bool system = true;
module_param(system, bool, 0444);
MODULE_PARM_DESC(system, "Register the system heap (default: Y)");

bool rdh_param_system(void)
{
	return system;
}

static bool system_uncached = true;
module_param(system_uncached, bool, 0444);
MODULE_PARM_DESC(system_uncached,
		 "Register the system-uncached heap (write-combined mappings, default: Y)");

bool rdh_param_system_uncached(void)
{
	return system_uncached;
}

static bool cma = true;
module_param(cma, bool, 0444);
MODULE_PARM_DESC(cma, "Register CMA heaps, where the kernel exports its CMA allocator (default: Y)");

static char *cma_aliases = "linux,cma:default_cma_region";
module_param(cma_aliases, charp, 0444);
MODULE_PARM_DESC(cma_aliases,
		 "Further names of the default CMA area's heap, ':'-separated (default: linux,cma:default_cma_region)");

static char *cma_regions = "all";
module_param(cma_regions, charp, 0444);
MODULE_PARM_DESC(cma_regions,
		 "Which device-tree shared-dma-pool regions become heaps: all, none, or node names ':'-separated (default: all)");

bool rdh_param_cma(void)
{
	return cma;
}

const char *rdh_param_cma_aliases(void)
{
	return cma_aliases ?: "";
}

const char *rdh_param_cma_regions(void)
{
	return cma_regions ?: "";
}

static char *carveout = "";
module_param(carveout, charp, 0444);
MODULE_PARM_DESC(carveout,
		 "A carveout heap: the reserved-memory node it takes (device tree), or its name with carveout_base and carveout_size (default: none)");
static unsigned long long carveout_base, carveout_size;
module_param(carveout_base, ullong, 0444);
MODULE_PARM_DESC(carveout_base, "The carveout heap's physical base, if not from the device tree");
module_param(carveout_size, ullong, 0444);
MODULE_PARM_DESC(carveout_size, "The carveout heap's size in bytes, if not from the device tree");

const char *rdh_param_carveout(void)
{
	return carveout ?: "";
}

u64 rdh_param_carveout_base(void)
{
	return carveout_base;
}

u64 rdh_param_carveout_size(void)
{
	return carveout_size;
}

/* (Not named mem_accounting: 7.x's <linux/dma-heap.h> declares the heap
 * core's switch of that name, which hosted mode reads.) */
static bool rdh_mem_accounting;
module_param_named(mem_accounting, rdh_mem_accounting, bool, 0444);
MODULE_PARM_DESC(mem_accounting,
		 "Charge system-heap pages to the allocating task's memory cgroup (default: N)");

bool rdh_param_mem_accounting(void)
{
	return rdh_mem_accounting;
}

static long pool_max_kb = -1;
module_param(pool_max_kb, long, 0644);
MODULE_PARM_DESC(pool_max_kb,
		 "Most memory the system heap's page pools hold, in KiB; 0 turns them off (default: -1, a sixteenth of RAM)");

long rdh_param_pool_max_kb(void)
{
	/* Written through sysfs at any time. */
	return READ_ONCE(pool_max_kb);
}

/*
 * ---- each heap's figures in sysfs (core/accounting.rs) ----
 *
 * The files of Documentation/ABI/testing/sysfs-class-dma_heap-rust: under
 * the heap's class device in standalone mode, under
 * /sys/kernel/rust_dma_heap/<name>/ in hosted mode. Each shows one number
 * that Rust reads out; max_bytes takes a number, which Rust stores. A file
 * whose figure the heap does not have (pool_bytes of a CMA heap, say) is
 * not shown.
 */
static ssize_t rdh_stat_show(const void *stats, enum rdh_stat which, char *buf)
{
	u64 value;
	int ret = rdh_rust_stat_read(stats, which, &value);

	return ret ?: sysfs_emit(buf, "%llu\n", value);
}

static ssize_t rdh_stat_store(const void *stats, const char *buf, size_t count)
{
	u64 value;
	/* Decimal, 0x hex or 0 octal, one trailing newline allowed; a sign, a
	 * non-number (-EINVAL) or more than 64 bits (-ERANGE) is refused. */
	int ret = kstrtou64(buf, 0, &value);

	if (!ret)
		ret = rdh_rust_stat_set_max_bytes(stats, value);
	return ret ?: count;
}

/* Shows the files whose figure @stats has: Rust says -ENOENT for others. */
static umode_t rdh_stat_visible(const void *stats, struct attribute *attr, int n)
{
	static const enum rdh_stat optional[] = { RDH_STAT_POOL_BYTES, RDH_STAT_REGION_BYTES };
	u64 value;

	/* The optional files come last in every list (RDH_STAT_FILES). */
	if (n >= RDH_STAT_POOL_BYTES &&
	    rdh_rust_stat_read(stats, optional[n - RDH_STAT_POOL_BYTES], &value))
		return 0;
	return attr->mode;
}

/* Declares rdh_<name>_attr_<file> for one file, with show/store taking the
 * stats pointer out of the attribute's object with @get. */
#define RDH_STAT_RO(kind, file, which, get)						\
	static ssize_t rdh_##kind##_##file##_show(RDH_##kind##_ARGS, char *buf)		\
	{ return rdh_stat_show(get, which, buf); }					\
	static RDH_##kind##_ATTR_TYPE rdh_##kind##_attr_##file =			\
		__ATTR(file, 0444, rdh_##kind##_##file##_show, NULL)
#define RDH_STAT_RW(kind, file, get)							\
	static ssize_t rdh_##kind##_##file##_show(RDH_##kind##_ARGS, char *buf)		\
	{ return rdh_stat_show(get, RDH_STAT_MAX_BYTES, buf); }			\
	static ssize_t rdh_##kind##_##file##_store(RDH_##kind##_ARGS, const char *buf,	\
						   size_t count)			\
	{ return rdh_stat_store(get, buf, count); }					\
	static RDH_##kind##_ATTR_TYPE rdh_##kind##_attr_##file =			\
		__ATTR(file, 0644, rdh_##kind##_##file##_show, rdh_##kind##_##file##_store)
/* Every file, for one kind of object; and the list of their attributes. */
#define RDH_STAT_FILES(kind, get)							\
	RDH_STAT_RO(kind, bytes, RDH_STAT_BYTES, get);					\
	RDH_STAT_RO(kind, buffers, RDH_STAT_BUFFERS, get);				\
	RDH_STAT_RO(kind, peak_bytes, RDH_STAT_PEAK_BYTES, get);			\
	RDH_STAT_RW(kind, max_bytes, get);						\
	RDH_STAT_RO(kind, failed_nomem, RDH_STAT_FAILED_NOMEM, get);			\
	RDH_STAT_RO(kind, failed_limit, RDH_STAT_FAILED_LIMIT, get);			\
	RDH_STAT_RO(kind, failed_interrupted, RDH_STAT_FAILED_INTERRUPTED, get);	\
	RDH_STAT_RO(kind, pool_bytes, RDH_STAT_POOL_BYTES, get);			\
	RDH_STAT_RO(kind, region_bytes, RDH_STAT_REGION_BYTES, get);			\
	/* In the order of enum rdh_stat (rdh_stat_visible() relies on it). */	\
	static struct attribute *rdh_##kind##_stat_attrs[] = {				\
		&rdh_##kind##_attr_bytes.attr, &rdh_##kind##_attr_buffers.attr,		\
		&rdh_##kind##_attr_peak_bytes.attr, &rdh_##kind##_attr_max_bytes.attr,	\
		&rdh_##kind##_attr_failed_nomem.attr, &rdh_##kind##_attr_failed_limit.attr,	\
		&rdh_##kind##_attr_failed_interrupted.attr,				\
		&rdh_##kind##_attr_pool_bytes.attr, &rdh_##kind##_attr_region_bytes.attr,	\
		NULL,									\
	};										\
	static umode_t rdh_##kind##_stat_visible(struct kobject *kobj,			\
						 struct attribute *attr, int n)		\
	{ return rdh_stat_visible(RDH_##kind##_FROM_KOBJ(kobj), attr, n); }		\
	static const struct attribute_group rdh_##kind##_stat_group = {			\
		.attrs = rdh_##kind##_stat_attrs,					\
		.is_visible = rdh_##kind##_stat_visible,				\
	};										\
	__ATTRIBUTE_GROUPS(rdh_##kind##_stat)

#ifndef RDH_HOSTED
/* ---- the /dev/dma_heap/<name> character devices (standalone mode) ---- */

/*
 * One node per heap name. Its device comes from device_create() and its
 * cdev from cdev_alloc(), so both are freed by the kernel's own release
 * functions, whenever their last reference goes: no code of this module
 * runs after a node is removed (a release of ours could run late, after
 * the last file goes or seconds later with CONFIG_DEBUG_KOBJECT_RELEASE,
 * and would return into the module's text after the module had waited
 * for it and gone). The node itself is the device's drvdata, freed by
 * rdh_node_remove() once the device and the cdev are gone from view.
 */
struct rdh_node {
	struct device *dev;
	struct cdev *cdev;
	const void *heap;
	const void *stats;
};

/* The heap's figures, as files of its class device. */
#define RDH_dev_NODE(d) ((const struct rdh_node *)dev_get_drvdata(d))
#define RDH_dev_ARGS struct device *dev, struct device_attribute *attr
#define RDH_dev_ATTR_TYPE struct device_attribute
#define RDH_dev_FROM_KOBJ(k) RDH_dev_NODE(kobj_to_dev(k))->stats
RDH_STAT_FILES(dev, RDH_dev_NODE(dev)->stats);

/* The module's one dma_heap class, for rdh_heap_open()'s lookup. */
static struct class *rdh_class;

/*
 * The node is found by its device number. An open file pins the module
 * (fops.owner), and nodes are removed only while the module goes away, so
 * the heap stays valid as long as the file.
 */
static int rdh_heap_open(struct inode *inode, struct file *file)
{
	struct device *dev = class_find_device_by_devt(rdh_class, inode->i_rdev);

	if (!dev)
		return -ENODEV;
	file->private_data = (void *)RDH_dev_NODE(dev)->heap;
	put_device(dev);
	return nonseekable_open(inode, file);
}

static long rdh_heap_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return rdh_rust_heap_ioctl(file->private_data, cmd, arg);
}

/* A static table is the only way to set .owner = THIS_MODULE, which pins
 * the module while a heap fd is open. */
static const struct file_operations rdh_heap_fops = {
	.owner = THIS_MODULE,
	.open = rdh_heap_open,
	.unlocked_ioctl = rdh_heap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* devtmpfs places heaps under /dev/dma_heap/ (kasprintf is variadic). */
static char *rdh_devnode(const struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "dma_heap/%s", dev_name(dev));
}

struct class *rdh_class_create(void)
{
	struct class *class = class_create("dma_heap");

	if (!IS_ERR(class)) {
		class->devnode = rdh_devnode;
		rdh_class = class;
	}
	return class;
}

/*
 * Returns a node or an ERR_PTR; @heap is handed to the ioctl as is, @stats to
 * its sysfs files. Both must stay valid until rdh_node_remove() returns,
 * which removes the files and waits for any read or write of them.
 */
struct rdh_node *rdh_node_add(struct class *class, dev_t devt, const char *name,
			      const void *heap, const void *stats)
{
	struct rdh_node *node;
	struct device *dev;
	int ret;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return ERR_PTR(-ENOMEM);
	node->heap = heap;
	node->stats = stats;
	node->cdev = cdev_alloc();
	if (!node->cdev) {
		ret = -ENOMEM;
		goto err_free;
	}
	node->cdev->ops = &rdh_heap_fops;
	node->cdev->owner = THIS_MODULE;
	ret = cdev_add(node->cdev, devt, 1);
	if (ret) {
		/* Never mapped: only the reference cdev_alloc() gave to drop. */
		kobject_put(&node->cdev->kobj);
		goto err_free;
	}
	dev = device_create_with_groups(class, NULL, devt, node, rdh_dev_stat_groups, "%s", name);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		cdev_del(node->cdev);
		goto err_free;
	}
	node->dev = dev;
	return node;

err_free:
	kfree(node);
	return ERR_PTR(ret);
}

/*
 * Removes the device (its sysfs files first: no read or write of them runs
 * once this returns) and the cdev (no new open reaches the node), then
 * frees the node. The kernel frees the device and the cdev when their last
 * users go.
 *
 * One window remains with CONFIG_DEBUG_KOBJECT_RELEASE alone, as for every
 * module with a cdev: the cdev's release, which detaches it from the
 * inodes that were opened through it, runs 1-4 s after cdev_del(), and a
 * reopen of such an inode meanwhile (an O_PATH fd reopened through
 * /proc/self/fd) would take a reference on the unloaded module.
 */
void rdh_node_remove(struct rdh_node *node)
{
	device_unregister(node->dev);
	cdev_del(node->cdev);
	kfree(node);
}
#endif /* !RDH_HOSTED */

/* ---- dma-buf export ---- */

static int rdh_op_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	return rdh_rust_attach(dmabuf->priv, a->dev, &a->priv);
}

static void rdh_op_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	rdh_rust_detach(dmabuf->priv, a->priv);
}

static struct sg_table *rdh_op_map(struct dma_buf_attachment *a,
				enum dma_data_direction dir)
{
	struct sg_table *table;
	int ret = rdh_rust_map(a->dmabuf->priv, a->priv, dir, &table);

	return ret ? ERR_PTR(ret) : table;
}

static void rdh_op_unmap(struct dma_buf_attachment *a, struct sg_table *table,
		      enum dma_data_direction dir)
{
	rdh_rust_unmap(a->dmabuf->priv, a->priv, dir);
}

static int rdh_op_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return rdh_rust_begin_cpu_access(dmabuf->priv, dir);
}

static int rdh_op_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return rdh_rust_end_cpu_access(dmabuf->priv, dir);
}

static int rdh_op_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	return rdh_rust_mmap(dmabuf->priv, vma);
}

static int rdh_op_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	void *vaddr;
	int ret = rdh_rust_vmap(dmabuf->priv, &vaddr);

	if (!ret)
		iosys_map_set_vaddr(map, vaddr);
	return ret;
}

static void rdh_op_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	rdh_rust_vunmap(dmabuf->priv);
	iosys_map_clear(map);
}

static void rdh_op_release(struct dma_buf *dmabuf)
{
	rdh_rust_release(dmabuf->priv);
}

/* One table for every heap: each op forwards to the buffer's Rust vtable. */
static const struct dma_buf_ops rdh_dma_buf_ops = {
	.attach = rdh_op_attach,
	.detach = rdh_op_detach,
	.map_dma_buf = rdh_op_map,
	.unmap_dma_buf = rdh_op_unmap,
	.begin_cpu_access = rdh_op_begin_cpu_access,
	.end_cpu_access = rdh_op_end_cpu_access,
	.mmap = rdh_op_mmap,
	.vmap = rdh_op_vmap,
	.vunmap = rdh_op_vunmap,
	.release = rdh_op_release,
};

/* DEFINE_DMA_BUF_EXPORT_INFO sets .owner = THIS_MODULE, pinning the module
 * for as long as any buffer it exported lives. */
int rdh_dma_buf_export(const void *priv, const char *name, size_t size, int flags,
		       struct dma_buf **out)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dma_buf *dmabuf;

	exp_info.exp_name = name;
	exp_info.ops = &rdh_dma_buf_ops;
	exp_info.size = size;
	exp_info.flags = flags;
	exp_info.priv = (void *)priv;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	*out = dmabuf;
	return 0;
}

struct file *rdh_dma_buf_file(struct dma_buf *dmabuf)
{
	return dmabuf->file;
}

/* ---- pages, tables, mappings: macros and inline functions ---- */

/*
 * GFP bits the Rust side composes its allocation policy from: 6.12's
 * bindings lack them (they are macros over an enum of bit numbers).
 */
const struct rdh_gfp_bits rdh_gfp = {
	.highuser = GFP_HIGHUSER,
	.zero = __GFP_ZERO,
	.nowarn = __GFP_NOWARN,
	.noretry = __GFP_NORETRY,
	.retry_mayfail = __GFP_RETRY_MAYFAIL,
	.reclaim = __GFP_RECLAIM,
	.comp = __GFP_COMP,
	.account = __GFP_ACCOUNT,
};

struct page *rdh_nth_page(struct page *page, unsigned long n)
{
#ifdef RDH_KERNEL_7
	/* nth_page() is gone; going through the PFN is right in every memory model. */
	return pfn_to_page(page_to_pfn(page) + n);
#else
	return nth_page(page, n);
#endif
}

unsigned long rdh_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

/* The tracepoints of rdh_trace.h (trace_*() are inline). */
void rdh_trace_alloc(const char *heap, size_t len, int err, u64 ns)
{
	trace_heap_alloc(heap, len, err, ns);
}

void rdh_trace_free(const char *heap, size_t len)
{
	trace_heap_free(heap, len);
}

void rdh_clear_highpage(struct page *page)
{
	clear_highpage(page);
}

bool rdh_page_is_highmem(struct page *page)
{
	return PageHighMem(page);
}

/*
 * Zeroes @count physically contiguous lowmem pages from @page through the
 * direct map: with one clear_pages() where the kernel has it (7.x; on
 * x86_64 one string instruction over the range), else a page at a time.
 */
void rdh_clear_lowmem_pages(struct page *page, unsigned int count)
{
	void *addr = page_address(page);
#ifdef RDH_KERNEL_7
	clear_pages(addr, count);
#else
	for (unsigned int i = 0; i < count; i++)
		clear_page(addr + i * PAGE_SIZE);
#endif
}

void rdh_sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len)
{
	sg_set_page(sg, page, len, 0);
}

struct scatterlist *rdh_sg_first(struct sg_table *table)
{
	return table->sgl;
}

void rdh_dma_unmap_sgtable(struct device *dev, struct sg_table *table,
			   enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_sgtable(dev, table, dir, attrs);
}

void rdh_dma_sync_for_cpu(struct device *dev, struct sg_table *table,
			  enum dma_data_direction dir)
{
	dma_sync_sgtable_for_cpu(dev, table, dir);
}

void rdh_dma_sync_for_device(struct device *dev, struct sg_table *table,
			     enum dma_data_direction dir)
{
	dma_sync_sgtable_for_device(dev, table, dir);
}

/* Copies a mapped table, DMA addresses included, into @dst (set up here);
 * both tables then have the same layout, entry for entry. */
int rdh_sg_table_mirror(struct sg_table *dst, struct sg_table *src)
{
	struct scatterlist *s, *d;
	int i, ret;

	ret = sg_alloc_table(dst, src->orig_nents, GFP_KERNEL);
	if (ret)
		return ret;
	d = dst->sgl;
	for_each_sgtable_sg(src, s, i) {
		*d = *s;
		d = sg_next(d);
	}
	dst->nents = src->nents;
	return 0;
}

unsigned int rdh_dma_max_seg_size(struct device *dev)
{
	return dma_get_max_seg_size(dev);
}

/*
 * Whether a streaming mapping of the @size bytes at @phys for @dev would be
 * bounced through swiotlb, by dma-direct's own rule: swiotlb forced for the
 * device, or in use for it and the range out of the device's reach. (A
 * device behind an IOMMU is answered as if it had none: it may be refused
 * what it could have mapped, never allowed what would bounce.)
 */
bool rdh_dma_bounces(struct device *dev, phys_addr_t phys, size_t size)
{
#ifdef CONFIG_SWIOTLB
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (is_swiotlb_force_bounce(dev))
		return true;
	if (!mem || !mem->nslabs)
		return false;
#ifdef RDH_KERNEL_7
	return !dma_capable(dev, phys_to_dma(dev, phys), size, true, 0);
#else
	return !dma_capable(dev, phys_to_dma(dev, phys), size, true);
#endif
#else
	return false;
#endif
}

void rdh_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vm_flags_set(vma, flags);
}

void *rdh_vmap(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

void *rdh_vmap_wc(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, pgprot_writecombine(PAGE_KERNEL));
}

void rdh_vma_set_writecombine(struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
}

/*
 * Every user mapping of a buffer: the VMA's file is the buffer's (the
 * dma-buf core sets it, and the VMA keeps it), so its priv is live for
 * each call. open and close count the buffer's mappings (for debugfs,
 * without touching the file, which may be gone before the buffer's
 * release).
 */
static void *rdh_vma_buf(struct vm_area_struct *vma)
{
	return ((struct dma_buf *)vma->vm_file->private_data)->priv;
}

static void rdh_vma_open(struct vm_area_struct *vma)
{
	rdh_rust_vma_open(rdh_vma_buf(vma));
}

static void rdh_vma_close(struct vm_area_struct *vma)
{
	rdh_rust_vma_close(rdh_vma_buf(vma));
}

/*
 * A fault in a mapping of a buffer's ordinary pages (vm_insert_pages(),
 * which maps them all at mmap() time): only after MADV_DONTNEED or the
 * like emptied part of it. The page comes back with a reference for the
 * mapping, as vm_insert_pages() gave it one.
 */
static vm_fault_t rdh_vma_fault(struct vm_fault *vmf)
{
	struct page *page = rdh_rust_page(rdh_vma_buf(vmf->vma), vmf->pgoff);

	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

/* VM_PFNMAP mappings (remap_pfn_range()): no page to fault in. */
static const struct vm_operations_struct rdh_vm_ops = {
	.open = rdh_vma_open,
	.close = rdh_vma_close,
};

static const struct vm_operations_struct rdh_vm_ops_pages = {
	.open = rdh_vma_open,
	.close = rdh_vma_close,
	.fault = rdh_vma_fault,
};

/* The mapping is made: its operations, and it counts as the first. */
void rdh_vma_set_ops(struct vm_area_struct *vma, bool pages)
{
	vma->vm_ops = pages ? &rdh_vm_ops_pages : &rdh_vm_ops;
	vma->vm_ops->open(vma);
}

/*
 * x86 keeps one memory type per page of RAM (PAT), which every mapping of
 * it must share: the linear map is switched with the page's type. Other
 * architectures have no such call, and allow the kernel's cached linear map
 * next to write-combined ones.
 */
int rdh_set_pages_wc(struct page **pages, int count)
{
#ifdef CONFIG_X86
	return set_pages_array_wc(pages, count);
#else
	return 0;
#endif
}

int rdh_set_pages_wb(struct page **pages, int count)
{
#ifdef CONFIG_X86
	return set_pages_array_wb(pages, count);
#else
	return 0;
#endif
}

/*
 * A device that is never registered, for cache maintenance through the DMA
 * API (the only way a module has): mapping pages for it writes their cache
 * lines back, unmapping invalidates them, on architectures whose devices
 * are not coherent by default. An unregistered platform device, so that
 * its release is the kernel's: it may run after the module has gone
 * (seconds after the last put with CONFIG_DEBUG_KOBJECT_RELEASE). Put with
 * rdh_maint_device_destroy().
 */
struct device *rdh_maint_device_create(void)
{
	struct platform_device *pdev = platform_device_alloc("rust_dma_heap-cache",
							     PLATFORM_DEVID_NONE);
	struct device *dev;

	if (!pdev)
		return NULL;
	dev = &pdev->dev;
#ifdef CONFIG_SWIOTLB
	/*
	 * Cache maintenance must reach the pages themselves: with swiotlb
	 * forced (swiotlb=force, Arm CCA realms) a mapping for a device with
	 * swiotlb would be a bounce slot, and the write-back would clean the
	 * slot, not the pages. The device addresses all memory (its mask), so
	 * without swiotlb nothing ever bounces for it.
	 */
	dev->dma_io_tlb_mem = NULL;
#endif
	if (dev_set_name(dev, "rust_dma_heap-cache") ||
	    dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64))) {
		platform_device_put(pdev);
		return NULL;
	}
	return dev;
}

void rdh_maint_device_destroy(struct device *dev)
{
	platform_device_put(to_platform_device(dev));
}

/*
 * Whether DMA for @dev must go through memory shared with the host (Arm CCA
 * realms, protected KVM guests on 7.x): a device without swiotlb can then
 * map no private page at all. (x86 does its maintenance without a device.)
 */
bool rdh_dma_needs_shared_memory(struct device *dev)
{
#if defined(CONFIG_ARCH_HAS_FORCE_DMA_UNENCRYPTED) && !defined(CONFIG_X86)
	return force_dma_unencrypted(dev);
#else
	return false;
#endif
}

int rdh_dma_writeback_invalidate(struct device *dev, struct page *page, size_t size)
{
	dma_addr_t addr = dma_map_page(dev, page, 0, size, DMA_BIDIRECTIONAL);

	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	dma_unmap_page(dev, addr, size, DMA_BIDIRECTIONAL);
	return 0;
}

void rdh_vunmap(const void *vaddr)
{
	vunmap(vaddr);
}

void rdh_invalidate_kernel_vmap_range(void *vaddr, int size)
{
	invalidate_kernel_vmap_range(vaddr, size);
}

void rdh_flush_kernel_vmap_range(void *vaddr, int size)
{
	flush_kernel_vmap_range(vaddr, size);
}

bool rdh_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

unsigned long rdh_totalram_pages(void)
{
	return totalram_pages();
}

int rdh_page_count(struct page *page)
{
	return page_count(page);
}

void rdh_cond_resched(void)
{
	cond_resched();
}

/* Rust's allocation flags cannot say __GFP_RETRY_MAYFAIL. */
void *rdh_kvmalloc_mayfail(size_t bytes)
{
	return kvmalloc(bytes, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

/* ---- the system heap's page pools: worker, shrinker, debugfs file ---- */

/*
 * 6.12 has no Rust kthread, shrinker or debugfs API. The pool itself and
 * every decision about it are in Rust (core/page_pool.rs); these only start
 * and stop what calls into it.
 */

static int rdh_pool_thread(void *pool)
{
	rdh_rust_pool_worker(pool);
	return 0;
}

/*
 * Starts the pool's worker at @nice. The task is referenced, so it may be
 * stopped (rdh_pool_worker_stop()) even after rdh_rust_pool_worker()
 * returned on its own; stopped before it first runs, it never calls it.
 * NULL if it could not be created.
 */
struct task_struct *rdh_pool_worker_start(const void *pool, const char *name, int nice)
{
	struct task_struct *task;

	task = kthread_create(rdh_pool_thread, (void *)pool, "%s", name);
	if (IS_ERR(task))
		return NULL;
	get_task_struct(task);
	sched_set_normal(task, nice);
	wake_up_process(task);
	return task;
}

void rdh_pool_worker_stop(struct task_struct *task)
{
	kthread_stop(task);
	put_task_struct(task);
}

static unsigned long rdh_pool_count(struct shrinker *shrinker, struct shrink_control *sc)
{
	unsigned long pages = rdh_rust_pool_count(shrinker->private_data);

	return pages ?: SHRINK_EMPTY;
}

static unsigned long rdh_pool_scan(struct shrinker *shrinker, struct shrink_control *sc)
{
	unsigned long freed = rdh_rust_pool_scan(shrinker->private_data, sc->nr_to_scan);

	return freed ?: SHRINK_STOP;
}

/* Registers @pool's shrinker; NULL if it could not be allocated. */
struct shrinker *rdh_pool_shrinker_add(const void *pool, const char *name)
{
	struct shrinker *shrinker = shrinker_alloc(0, "%s", name);

	if (!shrinker)
		return NULL;
	shrinker->count_objects = rdh_pool_count;
	shrinker->scan_objects = rdh_pool_scan;
	shrinker->private_data = (void *)pool;
	shrinker_register(shrinker);
	return shrinker;
}

/* Unregisters and frees it; returns once no call into the pool is running. */
void rdh_pool_shrinker_remove(struct shrinker *shrinker)
{
	shrinker_free(shrinker);
}

static int rdh_pool_show(struct seq_file *m, void *unused)
{
	struct rdh_pool_stats st;
	unsigned int i;

	rdh_rust_pool_stats(m->private, &st);
	seq_puts(m, "order pages hits misses\n");
	for (i = 0; i < st.nr_orders && i < RDH_POOL_ORDERS; i++)
		seq_printf(m, "%u %lu %lu %lu\n", st.order[i], st.pages[i], st.hits[i],
			   st.misses[i]);
	seq_printf(m, "pooled_pages %lu\n", st.pooled_pages);
	seq_printf(m, "pending_pages %lu\n", st.pending_pages);
	seq_printf(m, "max_pages %lu\n", st.max_pages);
	seq_printf(m, "recycled_pages %lu\n", st.recycled_pages);
	seq_printf(m, "referenced_pages %lu\n", st.referenced_pages);
	seq_printf(m, "over_max_pages %lu\n", st.over_max_pages);
	seq_printf(m, "shrunk_pages %lu\n", st.shrunk_pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rdh_pool);

/* ---- debugfs: /sys/kernel/debug/rust_dma_heap/, shared by its files ---- */

/*
 * The directory exists while any of the module's files does: each file
 * takes a reference on it (rdh_debugfs_file_add()) and its removal
 * (rdh_debugfs_file_remove()) drops it, the last one with the directory.
 */
static DEFINE_MUTEX(rdh_debugfs_lock);
static struct dentry *rdh_debugfs_dir;
static unsigned int rdh_debugfs_users;

/* Creates @name in the directory; NULL if it could not (debugfs is optional). */
static struct dentry *rdh_debugfs_file_add(const char *name, void *data,
					   const struct file_operations *fops)
{
	struct dentry *file = NULL;

	mutex_lock(&rdh_debugfs_lock);
	if (!rdh_debugfs_dir) {
		rdh_debugfs_dir = debugfs_create_dir("rust_dma_heap", NULL);
		if (IS_ERR(rdh_debugfs_dir))
			rdh_debugfs_dir = NULL;
	}
	if (rdh_debugfs_dir) {
		file = debugfs_create_file(name, 0400, rdh_debugfs_dir, data, fops);
		if (IS_ERR(file))
			file = NULL;
		else
			rdh_debugfs_users++;
		if (!rdh_debugfs_users) {
			debugfs_remove(rdh_debugfs_dir);
			rdh_debugfs_dir = NULL;
		}
	}
	mutex_unlock(&rdh_debugfs_lock);
	return file;
}

/* Removes a file of rdh_debugfs_file_add(); returns once no read of it runs. */
static void rdh_debugfs_file_remove(struct dentry *file)
{
	debugfs_remove(file);
	mutex_lock(&rdh_debugfs_lock);
	if (!--rdh_debugfs_users) {
		debugfs_remove(rdh_debugfs_dir);
		rdh_debugfs_dir = NULL;
	}
	mutex_unlock(&rdh_debugfs_lock);
}

/*
 * /sys/kernel/debug/rust_dma_heap/<name>-pool, reading @pool's counters.
 * Returns the file, or NULL (a pool works without it). Once
 * rdh_pool_debugfs_remove() returns, no read runs.
 */
struct dentry *rdh_pool_debugfs_add(const void *pool, const char *name)
{
	char file[64];

	snprintf(file, sizeof(file), "%s-pool", name);
	return rdh_debugfs_file_add(file, (void *)pool, &rdh_pool_fops);
}

void rdh_pool_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

/* ---- debugfs: the live buffers (the list and the text are Rust's) ---- */

static int rdh_buffers_show(struct seq_file *m, void *unused)
{
	return rdh_rust_buffers_show(m->private, m);
}
DEFINE_SHOW_ATTRIBUTE(rdh_buffers);

/* /sys/kernel/debug/rust_dma_heap/buffers, listing @live; NULL if not made. */
struct dentry *rdh_buffers_debugfs_add(const void *live)
{
	return rdh_debugfs_file_add("buffers", (void *)live, &rdh_buffers_fops);
}

void rdh_buffers_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

/* ---- debugfs: the pages the module holds (the counts and text are Rust's) ---- */

static int rdh_pages_show(struct seq_file *m, void *unused)
{
	return rdh_rust_pages_show(m);
}
DEFINE_SHOW_ATTRIBUTE(rdh_pages);

/*
 * /sys/kernel/debug/rust_dma_heap/pages, showing the page ledger
 * (core/ledger.rs), whose counts are the module's statics: no data. NULL if
 * not made.
 */
struct dentry *rdh_pages_debugfs_add(void)
{
	return rdh_debugfs_file_add("pages", NULL, &rdh_pages_fops);
}

void rdh_pages_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

/* Appends @len bytes of @s to @m (seq_write() reports overflow itself). */
void rdh_seq_write(struct seq_file *m, const char *s, size_t len)
{
	seq_write(m, s, len);
}

/*
 * The calling process's ID (in the initial namespace) and its task's name,
 * into @comm (RDH_COMM_LEN bytes).
 */
void rdh_current_owner(int *tgid, char *comm)
{
	char name[TASK_COMM_LEN];

	BUILD_BUG_ON(RDH_COMM_LEN != TASK_COMM_LEN);
	*tgid = task_tgid_nr(current);
	get_task_comm(name, current);
	memcpy(comm, name, RDH_COMM_LEN);
}

/*
 * The kernel mappings of @dmabuf: the dma-buf core counts dma_buf_vmap()
 * calls and calls the exporter on the first only. Read without the
 * reservation lock that guards it: a figure for debugfs, as of some moment.
 */
unsigned int rdh_dma_buf_vmaps(struct dma_buf *dmabuf)
{
	return READ_ONCE(dmabuf->vmapping_counter);
}

const char *rdh_dev_name(struct device *dev)
{
	return dev_name(dev);
}


#ifdef RDH_HAVE_CMA
/* ---- CMA areas: what the device tree says about one ---- */

/*
 * Looks for an available child of /reserved-memory whose name (unit address
 * included, as CMA names the areas it makes of such nodes) is @name, and
 * reports whether it is compatible with "shared-dma-pool" and has the
 * "reusable" property. Returns false if there is no such node (or no
 * device tree). The of_* iterators take and drop node references, which
 * have no Rust binding in 6.12.
 */
bool rdh_of_reserved_memory_node(const char *name, bool *shared_dma_pool, bool *reusable)
{
	struct device_node *parent, *np;
	bool found = false;

	parent = of_find_node_by_path("/reserved-memory");
	if (!parent)
		return false;
	for_each_available_child_of_node(parent, np) {
		if (strcmp(of_node_full_name(np), name))
			continue;
		*shared_dma_pool = of_device_is_compatible(np, "shared-dma-pool");
		*reusable = of_property_read_bool(np, "reusable");
		found = true;
		of_node_put(np);
		break;
	}
	of_node_put(parent);
	return found;
}
#endif

/* ---- carveouts: reserved memory that no allocator manages ---- */

#ifdef CONFIG_OF_RESERVED_MEM
/* Whether any node of the device tree names @np in its "memory-region". */
static bool rdh_of_memory_region_user(struct device_node *np)
{
	struct device_node *user, *target;
	int i, n;

	for_each_node_with_property(user, "memory-region") {
		n = of_count_phandle_with_args(user, "memory-region", NULL);
		for (i = 0; i < n; i++) {
			target = of_parse_phandle(user, "memory-region", i);
			of_node_put(target);
			if (target == np) {
				of_node_put(user);
				return true;
			}
		}
	}
	return false;
}
#endif

/*
 * The base and size of the available child of /reserved-memory named @name
 * (unit address included); whether it has the "reusable" and "no-map"
 * properties; whether a reserved-memory driver of the kernel set it up
 * (rmem->ops: e.g. a non-reusable "shared-dma-pool" is some device's
 * coherent pool); whether it has a "compatible" (a driver's region, e.g.
 * ramoops, which uses its region without rmem->ops); whether another node
 * names it in "memory-region" (its device's driver uses it, e.g.
 * remoteproc's). 0, or -ENOENT if there is no such node (or no device
 * tree), -ENODEV if the kernel reserved nothing for it.
 */
int rdh_of_reserved_region(const char *name, u64 *base, u64 *size, bool *reusable, bool *nomap,
			   bool *owned, bool *compatible, bool *used)
{
	int ret = -ENOENT;
#ifdef CONFIG_OF_RESERVED_MEM
	struct device_node *parent, *np;
	struct reserved_mem *rmem;

	parent = of_find_node_by_path("/reserved-memory");
	if (!parent)
		return -ENOENT;
	for_each_available_child_of_node(parent, np) {
		if (strcmp(of_node_full_name(np), name))
			continue;
		rmem = of_reserved_mem_lookup(np);
		ret = rmem ? 0 : -ENODEV;
		if (rmem) {
			*base = rmem->base;
			*size = rmem->size;
			*owned = rmem->ops != NULL;
		}
		*reusable = of_property_read_bool(np, "reusable");
		*nomap = of_property_read_bool(np, "no-map");
		*compatible = of_property_present(np, "compatible");
		*used = rdh_of_memory_region_user(np);
		of_node_put(np);
		break;
	}
	of_node_put(parent);
#endif
	return ret;
}

/* The page of @pfn if it has one and it is reserved (no allocator's), else NULL. */
struct page *rdh_reserved_page(u64 pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return NULL;
	page = pfn_to_page(pfn);
	return PageReserved(page) ? page : NULL;
}

/* Whether no byte of [@base, @base + @size) is System RAM (iomem). */
bool rdh_range_outside_ram(u64 base, u64 size)
{
	return region_intersects(base, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) ==
	       REGION_DISJOINT;
}

/*
 * Whether an E820 table has RAM in [@base, @base + @size): the kernel's
 * (after memmap= and the like) or, with @firmware, the firmware's own. 1 or
 * 0; -EOPNOTSUPP where the kernel has no E820 or does not export that table
 * to modules (7.x exports the firmware's to KVM alone).
 */
int rdh_e820_has_ram(u64 base, u64 size, bool firmware)
{
#ifdef CONFIG_X86
	if (!firmware)
		return e820__mapped_any(base, base + size, E820_TYPE_RAM);
#ifndef RDH_KERNEL_7
	return e820__mapped_raw_any(base, base + size, E820_TYPE_RAM);
#endif
#endif
	return -EOPNOTSUPP;
}

/* Claims [@base, @base + @size) in iomem for the carveout @name; false if any of it is busy. */
bool rdh_request_mem_region(u64 base, u64 size, const char *name)
{
	return request_mem_region(base, size, name);
}

void rdh_release_mem_region(u64 base, u64 size)
{
	release_mem_region(base, size);
}

void *rdh_memremap_wb(u64 base, u64 size)
{
	return memremap(base, size, MEMREMAP_WB);
}

void rdh_memunmap(void *addr)
{
	memunmap(addr);
}

#ifdef RDH_HOSTED
/*
 * ---- hosted mode: registering with the kernel's own heap core ----
 *
 * Built only where the kernel has CONFIG_DMABUF_HEAPS and exports
 * dma_heap_add() to modules (see Kbuild); core/hosted.rs decides what is
 * registered under which name.
 */
#include <linux/dma-heap.h>
#include <linux/kernfs.h>

#ifdef RDH_KERNEL_7
MODULE_IMPORT_NS("DMA_BUF_HEAP");
#endif

static char *name_prefix = "";
module_param(name_prefix, charp, 0444);
MODULE_PARM_DESC(name_prefix,
		 "Hosted mode: prefix for the name of every heap this module registers, e.g. vendor_ (default: none)");

const char *rdh_param_name_prefix(void)
{
	return name_prefix ?: "";
}

/* The heap core's own dma_heap.mem_accounting, where it exports it (7.x;
 * Kbuild checks), else false. */
bool rdh_host_mem_accounting(void)
{
#ifdef RDH_HOST_MEM_ACCOUNTING
	return READ_ONCE(mem_accounting);
#else
	return false;
#endif
}

/* The heap core calls ops->allocate; ours finds the Rust heap in the drvdata. */
static struct dma_buf *rdh_hosted_allocate(struct dma_heap *heap, unsigned long len,
					   u32 fd_flags, u64 heap_flags)
{
	struct dma_buf *dmabuf;
	int ret = rdh_rust_hosted_allocate(dma_heap_get_drvdata(heap), len, fd_flags,
					   heap_flags, &dmabuf);

	return ret ? ERR_PTR(ret) : dmabuf;
}

/* The core keeps a pointer to the ops: they must be a static. */
static const struct dma_heap_ops rdh_hosted_heap_ops = {
	.allocate = rdh_hosted_allocate,
};

/* Registers @heap as /dev/dma_heap/@name; the core keeps both pointers for
 * good (6.12 cannot remove a heap). */
int rdh_dma_heap_add(const char *name, const void *heap)
{
	struct dma_heap_export_info info = {
		.name = name,
		.ops = &rdh_hosted_heap_ops,
		.priv = (void *)heap,
	};

	return PTR_ERR_OR_ZERO(dma_heap_add(&info));
}

/*
 * Whether a heap named @name is registered: /sys/class/dma_heap/@name.
 * 6.12 exports no lookup, and dma_heap_add() notices a duplicate only after
 * creating its device, which sysfs refuses with a stack trace in the log.
 * /sys itself is the parent of /sys/kernel (kernel_kobj).
 */
bool rdh_dma_heap_name_taken(const char *name)
{
	struct kernfs_node *sysfs, *class, *heaps = NULL, *node = NULL;
	bool taken;

#ifdef RDH_KERNEL_7
	/* 7.x hides the parent behind RCU; /sys/kernel is never moved, and
	 * kernfs.h allows reading the parent of such a node directly. */
	sysfs = rcu_dereference_protected(kernel_kobj->sd->__parent, true);
#else
	sysfs = kernel_kobj->sd->parent;
#endif
	class = kernfs_find_and_get(sysfs, "class");
	if (class) {
		heaps = kernfs_find_and_get(class, "dma_heap");
		kernfs_put(class);
	}
	if (heaps) {
		node = kernfs_find_and_get(heaps, name);
		kernfs_put(heaps);
	}
	taken = node;
	kernfs_put(node);
	return taken;
}

/*
 * The heaps' figures in hosted mode: the kernel's heap core owns the class
 * devices, so each name gets /sys/kernel/rust_dma_heap/<name>/ instead.
 * Like the heaps, these stay until reboot (the module cannot be unloaded
 * once a heap is added): nothing removes them.
 */
struct rdh_stats_dir {
	struct kobject kobj;
	const void *stats;
};

#define RDH_kobj_ARGS struct kobject *kobj, struct kobj_attribute *attr
#define RDH_kobj_ATTR_TYPE struct kobj_attribute
#define RDH_kobj_FROM_KOBJ(k) container_of(k, struct rdh_stats_dir, kobj)->stats
RDH_STAT_FILES(kobj, container_of(kobj, struct rdh_stats_dir, kobj)->stats);

static void rdh_stats_dir_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct rdh_stats_dir, kobj));
}

static const struct kobj_type rdh_stats_dir_type = {
	.release = rdh_stats_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = rdh_kobj_stat_groups,
};

/* Adds /sys/kernel/rust_dma_heap/@name/ for @stats, which must stay valid
 * for good. Called at module init only (no locking of the parent). */
int rdh_stats_dir_add(const char *name, const void *stats)
{
	static struct kobject *parent;
	struct rdh_stats_dir *dir;
	int ret;

	if (!parent) {
		parent = kobject_create_and_add("rust_dma_heap", kernel_kobj);
		if (!parent)
			return -ENOMEM;
	}
	dir = kzalloc(sizeof(*dir), GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	dir->stats = stats;
	ret = kobject_init_and_add(&dir->kobj, &rdh_stats_dir_type, parent, "%s", name);
	if (ret)
		kobject_put(&dir->kobj);
	return ret;
}

/* A module reference that is never dropped: the core may call our ops for as
 * long as the kernel runs. (__module_get() is inline.) */
void rdh_module_pin(void)
{
	__module_get(THIS_MODULE);
}
#endif /* RDH_HOSTED */
