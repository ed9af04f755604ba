// SPDX-License-Identifier: GPL-2.0
/*
 * Hosted mode only (Kbuild builds this file where the kernel has its own
 * heap core, CONFIG_DMABUF_HEAPS, and exports dma_heap_add() to modules):
 * the module's heaps registered with that core, and their sysfs figures
 * under /sys/kernel/rust_dma_heap/. frontend/hosted.rs decides what is
 * registered under which name.
 */
#include <linux/compiler.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/err.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "compat.h"
#include "glue.h"
#include "sysfs.h"

RDH_IMPORT_HEAP_NS();

static char *name_prefix = "";
module_param(name_prefix, charp, 0444);
MODULE_PARM_DESC(name_prefix,
		 "Hosted mode: prefix for the name of every heap this module registers, e.g. vendor_ (default: none)");

/**
 * rdh_param_name_prefix() - Read the name_prefix parameter.
 *
 * Return: the prefix, "" for none.
 */
const char *rdh_param_name_prefix(void)
{
	return name_prefix ?: "";
}

/**
 * rdh_host_mem_accounting() - Read the heap core's own mem_accounting switch.
 *
 * Kbuild checks whether the kernel exports it (7.3 does).
 *
 * Return: its value, or false where it is not exported.
 */
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

/**
 * rdh_dma_heap_add() - Register a heap with the kernel's heap core.
 * @name: the name it gets in /dev/dma_heap/.
 * @heap: the Rust heap, handed to rdh_rust_hosted_allocate().
 *
 * The core keeps both pointers for good: 6.12 cannot remove a heap.
 *
 * Return: 0 or a negative error.
 */
int rdh_dma_heap_add(const char *name, const void *heap)
{
	struct dma_heap_export_info info = {
		.name = name,
		.ops = &rdh_hosted_heap_ops,
		.priv = (void *)heap,
	};

	return PTR_ERR_OR_ZERO(dma_heap_add(&info));
}

/**
 * rdh_dma_heap_name_taken() - Whether the heap core has a heap of a name.
 * @name: the name.
 *
 * Looks for /sys/class/dma_heap/@name. 6.12 exports no lookup, and
 * dma_heap_add() notices a duplicate only after creating its device, which
 * sysfs refuses with a stack trace in the log. /sys itself is the parent of
 * /sys/kernel (kernel_kobj).
 *
 * Return: true if such a heap is registered.
 */
bool rdh_dma_heap_name_taken(const char *name)
{
	struct kernfs_node *sysfs, *class, *heaps = NULL, *node = NULL;
	bool taken;

	sysfs = rdh_compat_kernfs_fixed_parent(kernel_kobj->sd);
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

/**
 * rdh_stats_dir_add() - Add a heap's figures as /sys/kernel/rust_dma_heap/<name>/.
 * @name: the heap's name.
 * @stats: its figures, which must stay valid for good.
 *
 * Called at module init only: nothing locks the parent directory.
 *
 * Return: 0 or a negative error.
 */
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

/**
 * rdh_module_pin() - Take a module reference that is never dropped.
 *
 * The heap core may call the module's ops for as long as the kernel runs.
 * (__module_get() is inline.)
 */
void rdh_module_pin(void)
{
	__module_get(THIS_MODULE);
}
