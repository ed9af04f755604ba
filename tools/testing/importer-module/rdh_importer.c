// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only importer: exercises the kernel-side paths of a dma-buf that no
 * userspace ioctl reaches, the way a driver would. Writing a dma-buf fd to
 * /sys/kernel/debug/rdh_importer/vmap:
 *   - maps the buffer into the kernel twice (dma_buf_vmap() is refcounted
 *     by the exporter: both must give the same address),
 *   - brackets the access with begin/end_cpu_access,
 *   - checks that word i of the buffer is i ^ 0xa5a5a5a5 (written by the
 *     test through mmap) and replaces it with ~i,
 *   - unmaps twice and drops the buffer.
 * The write returns the byte count on success, -EIO on a data mismatch and
 * the failing call's error otherwise.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/version.h>

/* Since 6.13 the namespace is a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

static struct dentry *dir;

static int check_and_flip(struct dma_buf *buf)
{
	struct iosys_map a, b;
	u32 *words;
	size_t i;
	int ret;

	ret = dma_buf_vmap_unlocked(buf, &a);
	if (ret)
		return ret;
	ret = dma_buf_vmap_unlocked(buf, &b);
	if (ret)
		goto unmap_a;
	if (a.is_iomem || a.vaddr != b.vaddr) {
		ret = -EINVAL;
		goto unmap_b;
	}
	ret = dma_buf_begin_cpu_access(buf, DMA_BIDIRECTIONAL);
	if (ret)
		goto unmap_b;
	words = a.vaddr;
	for (i = 0; i < buf->size / 4; i++) {
		if (words[i] != ((u32)i ^ 0xa5a5a5a5)) {
			ret = -EIO;
			break;
		}
		words[i] = ~(u32)i;
	}
	dma_buf_end_cpu_access(buf, DMA_BIDIRECTIONAL);
unmap_b:
	dma_buf_vunmap_unlocked(buf, &b);
unmap_a:
	dma_buf_vunmap_unlocked(buf, &a);
	return ret;
}

static ssize_t vmap_write(struct file *file, const char __user *ubuf, size_t count, loff_t *pos)
{
	struct dma_buf *buf;
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (ret)
		return ret;
	buf = dma_buf_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = check_and_flip(buf);
	dma_buf_put(buf);
	return ret ? ret : count;
}

static const struct file_operations vmap_fops = {
	.owner = THIS_MODULE,
	.write = vmap_write,
};

static int __init rdh_importer_init(void)
{
	dir = debugfs_create_dir("rdh_importer", NULL);
	debugfs_create_file("vmap", 0200, dir, NULL, &vmap_fops);
	return 0;
}
module_init(rdh_importer_init);

static void __exit rdh_importer_exit(void)
{
	debugfs_remove_recursive(dir);
}
module_exit(rdh_importer_exit);

MODULE_DESCRIPTION("Test importer for dma-buf heaps: kernel mappings and CPU access");
MODULE_LICENSE("GPL");
