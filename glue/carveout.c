// SPDX-License-Identifier: GPL-2.0
/*
 * Carveouts: reserved memory that no allocator manages, given to the
 * carveout heap (heaps/carveout.rs) by a device-tree node or by the
 * carveout_base and carveout_size parameters. These look the region up,
 * check it is not RAM the kernel uses, claim it and map it.
 */
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/string.h>
#ifdef CONFIG_X86
#include <asm/e820/api.h>
#endif

#include "compat.h"
#include "glue.h"

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

/**
 * rdh_of_reserved_region() - Look up a reserved-memory region by node name.
 * @name: the available child of /reserved-memory, unit address included.
 * @base: set to the region's physical base.
 * @size: set to its size in bytes.
 * @reusable: set to whether the node has the "reusable" property.
 * @nomap: set to whether it has "no-map".
 * @owned: set to whether a reserved-memory driver of the kernel set it up
 *	(rmem->ops: a non-reusable "shared-dma-pool", for one, is some
 *	device's coherent pool).
 * @compatible: set to whether it has a "compatible", naming a driver that
 *	may use it without rmem->ops (ramoops does).
 * @used: set to whether another node names it in "memory-region", for its
 *	device's driver (remoteproc's, say).
 *
 * @base, @size and @owned are set only when the kernel reserved the region.
 *
 * Return: 0; -ENOENT if there is no such node (or no device tree); -ENODEV
 * if the kernel reserved nothing for it.
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

/**
 * rdh_reserved_page() - The page of a PFN, if it is reserved.
 * @pfn: the page frame number.
 *
 * Return: the page if it has one and no allocator owns it (PageReserved),
 * else NULL.
 */
struct page *rdh_reserved_page(u64 pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return NULL;
	page = pfn_to_page(pfn);
	return PageReserved(page) ? page : NULL;
}

/**
 * rdh_range_outside_ram() - Whether a range misses System RAM.
 * @base: its physical base.
 * @size: its size in bytes.
 *
 * Return: true if no byte of it is System RAM in iomem.
 */
bool rdh_range_outside_ram(u64 base, u64 size)
{
	return region_intersects(base, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) ==
	       REGION_DISJOINT;
}

/**
 * rdh_e820_has_ram() - Whether an E820 table has RAM in a range.
 * @base: the range's physical base.
 * @size: its size in bytes.
 * @firmware: ask the firmware's table rather than the kernel's (which
 *	memmap= and the like have edited).
 *
 * Return: 1 or 0; -EOPNOTSUPP where the kernel has no E820, or does not
 * export the table asked for to modules (7.x keeps the firmware's for KVM).
 */
int rdh_e820_has_ram(u64 base, u64 size, bool firmware)
{
#ifdef CONFIG_X86
	if (!firmware)
		return e820__mapped_any(base, base + size, E820_TYPE_RAM);
	return rdh_compat_e820_raw_has_ram(base, base + size);
#else
	return -EOPNOTSUPP;
#endif
}

/**
 * rdh_request_mem_region() - Claim a carveout's range in iomem.
 * @base: its physical base.
 * @size: its size in bytes.
 * @name: the carveout's name, shown in /proc/iomem.
 *
 * Return: true if claimed, false if any of it is busy.
 */
bool rdh_request_mem_region(u64 base, u64 size, const char *name)
{
	return request_mem_region(base, size, name);
}

/**
 * rdh_release_mem_region() - Release a range of rdh_request_mem_region().
 * @base: its physical base.
 * @size: its size in bytes.
 */
void rdh_release_mem_region(u64 base, u64 size)
{
	release_mem_region(base, size);
}

/**
 * rdh_memremap_wb() - Map a carveout into the kernel, cached.
 * @base: its physical base.
 * @size: its size in bytes.
 *
 * Return: the address, or NULL.
 */
void *rdh_memremap_wb(u64 base, u64 size)
{
	return memremap(base, size, MEMREMAP_WB);
}

/**
 * rdh_memunmap() - Undo rdh_memremap_wb().
 * @addr: the address it returned.
 */
void rdh_memunmap(void *addr)
{
	memunmap(addr);
}
