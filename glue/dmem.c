// SPDX-License-Identifier: GPL-2.0
/*
 * The dmem cgroup controller (Kbuild builds this file where the kernel has
 * it, CONFIG_CGROUP_DMEM): a region per heap, a charge per buffer, so that
 * a cgroup's dmem.max limits what it takes of each heap. Which heaps, and
 * what a refused charge means, are Rust's (stats/accounting.rs, through
 * compat/dmem.rs).
 */
#include <linux/cgroup_dmem.h>
#include <linux/err.h>

#include "glue.h"

/**
 * rdh_dmem_region_register() - Make a heap a region of the dmem controller.
 * @name: the region's name, as cgroups' dmem.* files show it; copied.
 * @size: the region's size in bytes (dmem.capacity); not 0.
 *
 * The registration takes a format string and an initialiser struct, which
 * Rust would have to mirror; this takes the two values that vary.
 *
 * Return: the region, or NULL if it could not be made.
 */
struct dmem_cgroup_region *rdh_dmem_region_register(const char *name, u64 size)
{
	struct dmem_cgroup_init init = { .size = size };
	struct dmem_cgroup_region *region;

	region = dmem_cgroup_register_region(&init, "%s", name);
	return IS_ERR(region) ? NULL : region;
}

/**
 * rdh_dmem_region_unregister() - Remove a region of rdh_dmem_region_register().
 * @region: the region; charges taken on it may still be given back later.
 */
void rdh_dmem_region_unregister(struct dmem_cgroup_region *region)
{
	dmem_cgroup_unregister_region(region);
}

/**
 * rdh_dmem_try_charge() - Charge @size bytes of @region to the current task's cgroup.
 * @region: a region of rdh_dmem_region_register().
 * @size: bytes.
 * @pool: set to what rdh_dmem_uncharge() must be given back.
 *
 * Return: 0, -EAGAIN if the cgroup or one of its ancestors would go over
 * its dmem.max for @region, or another negative errno.
 */
int rdh_dmem_try_charge(struct dmem_cgroup_region *region, u64 size,
			struct dmem_cgroup_pool_state **pool)
{
	return dmem_cgroup_try_charge(region, size, pool, NULL);
}

/**
 * rdh_dmem_uncharge() - Give back a charge of rdh_dmem_try_charge().
 * @pool: what it set.
 * @size: the bytes it charged.
 */
void rdh_dmem_uncharge(struct dmem_cgroup_pool_state *pool, u64 size)
{
	dmem_cgroup_uncharge(pool, size);
}
