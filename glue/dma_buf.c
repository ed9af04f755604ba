// SPDX-License-Identifier: GPL-2.0
/*
 * The dma-buf exporter: one dma_buf_ops table for every heap, each op
 * handing the call to the buffer's Rust side (exporter/dma_buf.rs), and the
 * export itself.
 */
#include <linux/compiler.h>
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/iosys-map.h>
#include <linux/module.h>

#include "compat.h"
#include "glue.h"

/* For the whole module: Rust calls the dma-buf core's functions as well. */
MODULE_IMPORT_NS(RDH_NS(DMA_BUF));

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

/**
 * rdh_dma_buf_export() - Export a buffer with the module's dma_buf_ops.
 * @priv: the buffer's Rust side, passed to every op.
 * @name: the exporter's name (the heap's).
 * @size: the buffer's size in bytes.
 * @flags: the file's flags.
 * @out: set to the new dma-buf on success.
 *
 * DEFINE_DMA_BUF_EXPORT_INFO() sets .owner = THIS_MODULE: the module stays
 * for as long as any buffer it exported lives.
 *
 * Return: 0 or a negative error.
 */
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

/**
 * rdh_dma_buf_file() - The file of a dma-buf.
 * @dmabuf: the buffer.
 *
 * Return: its file.
 */
struct file *rdh_dma_buf_file(struct dma_buf *dmabuf)
{
	return dmabuf->file;
}

/**
 * rdh_dma_buf_vmaps() - How many kernel mappings a dma-buf has.
 * @dmabuf: the buffer.
 *
 * The dma-buf core counts dma_buf_vmap() calls and calls the exporter on
 * the first only. Read without the reservation lock that guards it: a
 * figure for debugfs, as of some moment.
 *
 * Return: the count.
 */
unsigned int rdh_dma_buf_vmaps(struct dma_buf *dmabuf)
{
	return READ_ONCE(dmabuf->vmapping_counter);
}
