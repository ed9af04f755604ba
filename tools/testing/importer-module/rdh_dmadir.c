// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only importer with two devices of its own, for checking the cache
 * maintenance an exporter does: each device attaches to and maps one
 * buffer, each in its own DMA direction, as a capture device and an
 * encoder sharing a buffer would.
 *
 * Writing "<fd> <dir-a> <dir-b>" to /sys/kernel/debug/rdh_dmadir/attach
 * (directions: 0 bidirectional, 1 to device, 2 from device) attaches the
 * buffer behind <fd> to rdh-dmadir.0 and rdh-dmadir.1 and maps it for each.
 * Writing anything to .../detach unmaps both and detaches. The DMA
 * tracepoints then show which calls the exporter made for which device.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/uaccess.h>
#include <linux/version.h>

/* Since 6.13 the namespace is a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

#define NDEV 2

static struct dentry *dir;
static struct platform_device *pdev[NDEV];
static DEFINE_MUTEX(lock);
static struct dma_buf *buf;
static struct dma_buf_attachment *att[NDEV];
static struct sg_table *sgt[NDEV];
static enum dma_data_direction dirs[NDEV];

static void release_all(void)
{
	int i;

	for (i = 0; i < NDEV; i++) {
		if (sgt[i])
			dma_buf_unmap_attachment_unlocked(att[i], sgt[i], dirs[i]);
		if (att[i])
			dma_buf_detach(buf, att[i]);
		sgt[i] = NULL;
		att[i] = NULL;
	}
	if (buf)
		dma_buf_put(buf);
	buf = NULL;
}

static ssize_t attach_write(struct file *file, const char __user *ubuf, size_t count,
			    loff_t *pos)
{
	char line[64];
	int fd, d[NDEV], i, ret = 0;

	if (count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = 0;
	if (sscanf(line, "%d %d %d", &fd, &d[0], &d[1]) != 3)
		return -EINVAL;
	for (i = 0; i < NDEV; i++)
		if (!valid_dma_direction(d[i]))
			return -EINVAL;
	mutex_lock(&lock);
	if (buf) {
		ret = -EBUSY;
		goto out;
	}
	buf = dma_buf_get(fd);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		buf = NULL;
		goto out;
	}
	for (i = 0; i < NDEV; i++) {
		dirs[i] = d[i];
		att[i] = dma_buf_attach(buf, &pdev[i]->dev);
		if (IS_ERR(att[i])) {
			ret = PTR_ERR(att[i]);
			att[i] = NULL;
			break;
		}
		sgt[i] = dma_buf_map_attachment_unlocked(att[i], dirs[i]);
		if (IS_ERR(sgt[i])) {
			ret = PTR_ERR(sgt[i]);
			sgt[i] = NULL;
			break;
		}
	}
	if (ret)
		release_all();
out:
	mutex_unlock(&lock);
	return ret ? ret : count;
}

static ssize_t detach_write(struct file *file, const char __user *ubuf, size_t count,
			    loff_t *pos)
{
	mutex_lock(&lock);
	release_all();
	mutex_unlock(&lock);
	return count;
}

static const struct file_operations attach_fops = {
	.owner = THIS_MODULE,
	.write = attach_write,
};

static const struct file_operations detach_fops = {
	.owner = THIS_MODULE,
	.write = detach_write,
};

static void remove_devices(void)
{
	int i;

	for (i = 0; i < NDEV; i++)
		if (!IS_ERR_OR_NULL(pdev[i]))
			platform_device_unregister(pdev[i]);
}

static int __init rdh_dmadir_init(void)
{
	int i, ret;

	for (i = 0; i < NDEV; i++) {
		pdev[i] = platform_device_register_simple("rdh-dmadir", i, NULL, 0);
		if (IS_ERR(pdev[i])) {
			ret = PTR_ERR(pdev[i]);
			goto fail;
		}
		ret = dma_coerce_mask_and_coherent(&pdev[i]->dev, DMA_BIT_MASK(64));
		if (ret)
			goto fail;
	}
	dir = debugfs_create_dir("rdh_dmadir", NULL);
	debugfs_create_file("attach", 0200, dir, NULL, &attach_fops);
	debugfs_create_file("detach", 0200, dir, NULL, &detach_fops);
	return 0;
fail:
	remove_devices();
	return ret;
}
module_init(rdh_dmadir_init);

static void __exit rdh_dmadir_exit(void)
{
	debugfs_remove_recursive(dir);
	mutex_lock(&lock);
	release_all();
	mutex_unlock(&lock);
	remove_devices();
}
module_exit(rdh_dmadir_exit);

MODULE_DESCRIPTION("Test importer for dma-buf heaps: two devices, two DMA directions");
MODULE_LICENSE("GPL");
