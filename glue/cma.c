// SPDX-License-Identifier: GPL-2.0
/*
 * CMA heaps only (Kbuild builds this file where the kernel exports its CMA
 * allocator): what the device tree says about a CMA area. The areas
 * themselves are reached from Rust (memory/cma.rs).
 */
#include <linux/of.h>
#include <linux/string.h>

#include "glue.h"

/**
 * rdh_of_reserved_memory_node() - Look up a CMA area's device-tree node.
 * @name: the name CMA gave the area: the child of /reserved-memory it came
 *	from, unit address included.
 * @shared_dma_pool: set to whether the node is compatible with
 *	"shared-dma-pool".
 * @reusable: set to whether it has the "reusable" property.
 *
 * Only available nodes count. The of_* iterators take and drop node
 * references, which 6.12's Rust has no binding for.
 *
 * Return: true if there is such a node, false if not (or no device tree).
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
