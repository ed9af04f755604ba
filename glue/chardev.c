// SPDX-License-Identifier: GPL-2.0
/*
 * Standalone mode only (Kbuild builds this file where the kernel has no heap
 * core of its own): the /dev/dma_heap/<name> character devices, with each
 * heap's sysfs files on its class device. The ioctl itself is Rust's
 * (frontend/ioctl.rs).
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "glue.h"
#include "sysfs.h"

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

/*
 * A static table is the only way to set .owner = THIS_MODULE, which pins
 * the module while a heap fd is open.
 */
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

/**
 * rdh_class_create() - Create the dma_heap device class.
 *
 * Its devices appear as /dev/dma_heap/<name>. Called once, at module init.
 *
 * Return: the class, or an ERR_PTR.
 */
struct class *rdh_class_create(void)
{
	struct class *class = class_create("dma_heap");

	if (!IS_ERR(class)) {
		class->devnode = rdh_devnode;
		rdh_class = class;
	}
	return class;
}

/**
 * rdh_node_add() - Add a heap's character device and its sysfs files.
 * @class: the class of rdh_class_create().
 * @devt: the device number.
 * @name: the heap's name, which becomes the node's.
 * @heap: handed to the ioctl as is.
 * @stats: handed to the sysfs files as is.
 *
 * @heap and @stats must stay valid until rdh_node_remove() has returned.
 *
 * Return: the node, or an ERR_PTR.
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

/**
 * rdh_node_remove() - Remove a node of rdh_node_add().
 * @node: the node, freed here.
 *
 * The device goes first, its sysfs files with it (no read or write of them
 * runs once this returns), then the cdev (no new open reaches the node).
 * The kernel frees both when their last users go.
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
