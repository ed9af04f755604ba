// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA API as the exporter uses it: scatterlists, mapping and syncing
 * tables for importers, swiotlb's rule for bounces, and a private device
 * for the uncached heap's cache maintenance (exporter/sg_table.rs, memory/page.rs).
 */
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/swiotlb.h>

#include "compat.h"
#include "glue.h"

/**
 * rdh_sg_fill() - Point a table's entries at runs of pages.
 * @table: a table of sg_alloc_table() with one entry per segment.
 * @runs: the runs, each of physically contiguous pages.
 * @nr_runs: how many runs there are.
 * @seg_pages: the most pages one entry may take: a longer run takes
 *             several entries.
 *
 * Return: 0, or -EINVAL if @table has fewer entries than that.
 */
int rdh_sg_fill(struct sg_table *table, const struct rdh_page_run *runs, size_t nr_runs,
		size_t seg_pages)
{
	struct scatterlist *sg = table->sgl;

	for (size_t i = 0; i < nr_runs; i++) {
		struct page *page = runs[i].first;
		size_t left = runs[i].count;

		while (left) {
			size_t n = min(left, seg_pages);

			if (!sg)
				return -EINVAL;
			sg_set_page(sg, page, n << PAGE_SHIFT, 0);
			sg = sg_next(sg);
			left -= n;
			if (left)
				page = rdh_compat_nth_page(page, n);
		}
	}
	return 0;
}

/**
 * rdh_dma_unmap_sgtable() - Unmap a table mapped for a device.
 * @dev: the device.
 * @table: the table.
 * @dir: the direction it was mapped in.
 * @attrs: the DMA_ATTR_* it was mapped with.
 */
void rdh_dma_unmap_sgtable(struct device *dev, struct sg_table *table,
			   enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_sgtable(dev, table, dir, attrs);
}

/**
 * rdh_dma_sync_for_cpu() - Hand a mapped table to the CPU.
 * @dev: the device it is mapped for.
 * @table: the table.
 * @dir: the direction it was mapped in.
 */
void rdh_dma_sync_for_cpu(struct device *dev, struct sg_table *table,
			  enum dma_data_direction dir)
{
	dma_sync_sgtable_for_cpu(dev, table, dir);
}

/**
 * rdh_dma_sync_for_device() - Hand a mapped table back to the device.
 * @dev: the device it is mapped for.
 * @table: the table.
 * @dir: the direction it was mapped in.
 */
void rdh_dma_sync_for_device(struct device *dev, struct sg_table *table,
			     enum dma_data_direction dir)
{
	dma_sync_sgtable_for_device(dev, table, dir);
}

/**
 * rdh_sg_table_mirror() - Copy a mapped table, DMA addresses included.
 * @dst: the copy, set up here.
 * @src: the mapped table.
 *
 * Both tables then have the same layout, entry for entry.
 *
 * Return: 0 or -ENOMEM.
 */
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

/**
 * rdh_dma_buf_mangles_tables() - Whether the dma-buf core scrambles the
 * table it hands an importer, until the importer unmaps it.
 *
 * Return: true on 6.12 with CONFIG_DMABUF_DEBUG.
 */
bool rdh_dma_buf_mangles_tables(void)
{
	return RDH_DMA_BUF_MANGLES_TABLES;
}

/**
 * rdh_dma_max_seg_size() - The longest DMA segment a device takes.
 * @dev: the device.
 *
 * Return: the length in bytes.
 */
unsigned int rdh_dma_max_seg_size(struct device *dev)
{
	return dma_get_max_seg_size(dev);
}

/**
 * rdh_dma_bounces() - Whether mapping a range for a device would bounce.
 * @dev: the device.
 * @phys: the range's physical address.
 * @size: its length in bytes.
 *
 * By dma-direct's own rule: swiotlb forced for the device, or in use for it
 * and the range out of the device's reach. A device behind an IOMMU is
 * answered as if it had none: it may be refused what it could have mapped,
 * never allowed what would bounce.
 *
 * Return: true if a streaming mapping would go through swiotlb.
 */
bool rdh_dma_bounces(struct device *dev, phys_addr_t phys, size_t size)
{
#ifdef CONFIG_SWIOTLB
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (is_swiotlb_force_bounce(dev))
		return true;
	if (!mem || !mem->nslabs)
		return false;
	return !rdh_compat_dma_capable(dev, phys_to_dma(dev, phys), size);
#else
	return false;
#endif
}

/**
 * rdh_maint_device_create() - Create a device for cache maintenance.
 *
 * The DMA API is a module's only way to maintain caches: mapping pages for
 * this device writes their cache lines back, unmapping invalidates them, on
 * architectures whose devices are not coherent by default. The device is
 * an unregistered platform device, so that its release is the kernel's: it
 * may run after the module has gone (seconds after the last put with
 * CONFIG_DEBUG_KOBJECT_RELEASE).
 *
 * Return: the device (put it with rdh_maint_device_destroy()), or NULL.
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

/**
 * rdh_maint_device_destroy() - Put a device of rdh_maint_device_create().
 * @dev: the device.
 */
void rdh_maint_device_destroy(struct device *dev)
{
	platform_device_put(to_platform_device(dev));
}

/**
 * rdh_dma_needs_shared_memory() - Whether a device's DMA needs shared memory.
 * @dev: the device.
 *
 * So it does in Arm CCA realms and protected KVM guests on 7.x: a device
 * without swiotlb can then map no private page at all. x86 does its cache
 * maintenance without a device, and is always answered false.
 *
 * Return: true if DMA for @dev must go through memory shared with the host.
 */
bool rdh_dma_needs_shared_memory(struct device *dev)
{
#if defined(CONFIG_ARCH_HAS_FORCE_DMA_UNENCRYPTED) && !defined(CONFIG_X86)
	return force_dma_unencrypted(dev);
#else
	return false;
#endif
}

/**
 * rdh_dma_writeback_invalidate() - Write back and invalidate a page range.
 * @dev: a device of rdh_maint_device_create().
 * @page: the first page.
 * @size: the length in bytes.
 *
 * Return: 0, or -ENOMEM if the range could not be mapped.
 */
int rdh_dma_writeback_invalidate(struct device *dev, struct page *page, size_t size)
{
	dma_addr_t addr = dma_map_page(dev, page, 0, size, DMA_BIDIRECTIONAL);

	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	dma_unmap_page(dev, addr, size, DMA_BIDIRECTIONAL);
	return 0;
}

/**
 * rdh_dev_name() - A device's name, as the kernel logs it.
 * @dev: the device.
 *
 * Return: the name, owned by the device.
 */
const char *rdh_dev_name(struct device *dev)
{
	return dev_name(dev);
}
