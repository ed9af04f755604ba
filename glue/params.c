// SPDX-License-Identifier: GPL-2.0
/*
 * The module's parameters: 6.12's module! macro cannot declare any, so they
 * are declared here and Rust reads each through a getter (frontend/params.rs).
 * The hosted-mode name_prefix is in hosted.c.
 */
#include <linux/compiler.h>
#include <linux/moduleparam.h>
#include <linux/module.h>

#include "glue.h"

static bool system = true;
module_param(system, bool, 0444);
MODULE_PARM_DESC(system, "Register the system heap (default: Y)");

/**
 * rdh_param_system() - Read the system parameter.
 *
 * Return: whether the system heap is to be registered.
 */
bool rdh_param_system(void)
{
	return system;
}

static bool system_uncached = true;
module_param(system_uncached, bool, 0444);
MODULE_PARM_DESC(system_uncached,
		 "Register the system-uncached heap (write-combined mappings, default: Y)");

/**
 * rdh_param_system_uncached() - Read the system_uncached parameter.
 *
 * Return: whether the system-uncached heap is to be registered.
 */
bool rdh_param_system_uncached(void)
{
	return system_uncached;
}

static bool system_dma32;
module_param(system_dma32, bool, 0444);
MODULE_PARM_DESC(system_dma32,
		 "Register the system-dma32 heap (pages below 4 GiB, for 32-bit DMA devices, default: N)");

/**
 * rdh_param_system_dma32() - Read the system_dma32 parameter.
 *
 * Return: whether the system-dma32 heap is to be registered.
 */
bool rdh_param_system_dma32(void)
{
	return system_dma32;
}

static bool cgroup_dmem;
module_param(cgroup_dmem, bool, 0444);
MODULE_PARM_DESC(cgroup_dmem,
		 "Make each heap a region of the dmem cgroup controller, so that dmem.max limits each cgroup's share (default: N)");

/**
 * rdh_param_cgroup_dmem() - Read the cgroup_dmem parameter.
 *
 * Return: whether each heap is to be a region of the dmem controller.
 */
bool rdh_param_cgroup_dmem(void)
{
	return cgroup_dmem;
}

/*
 * Writable: it decides per call how a field is read, and a buffer keeps
 * whatever charge it was given, so switching it changes no buffer.
 */
static bool charge_pid_fd;
module_param(charge_pid_fd, bool, 0644);
MODULE_PARM_DESC(charge_pid_fd,
		 "Honour the charge_pid_fd field that a proposed extension of DMA_HEAP_IOCTL_ALLOC appends: charge the buffer to that process's memory cgroup (default: N)");

/**
 * rdh_param_charge_pid_fd() - Read the charge_pid_fd parameter.
 *
 * Return: whether DMA_HEAP_IOCTL_ALLOC reads its charge_pid_fd field.
 */
bool rdh_param_charge_pid_fd(void)
{
	return READ_ONCE(charge_pid_fd);
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

/**
 * rdh_param_cma() - Read the cma parameter.
 *
 * Return: whether CMA heaps are to be registered.
 */
bool rdh_param_cma(void)
{
	return cma;
}

/**
 * rdh_param_cma_aliases() - Read the cma_aliases parameter.
 *
 * Return: the ':'-separated list, "" if it was set to nothing.
 */
const char *rdh_param_cma_aliases(void)
{
	return cma_aliases ?: "";
}

/**
 * rdh_param_cma_regions() - Read the cma_regions parameter.
 *
 * Return: "all", "none" or a ':'-separated list; "" if set to nothing.
 */
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

/**
 * rdh_param_carveout() - Read the carveout parameter.
 *
 * Return: the carveout heap's node or name, "" for none.
 */
const char *rdh_param_carveout(void)
{
	return carveout ?: "";
}

/**
 * rdh_param_carveout_base() - Read the carveout_base parameter.
 *
 * Return: the physical address given, 0 if none.
 */
u64 rdh_param_carveout_base(void)
{
	return carveout_base;
}

/**
 * rdh_param_carveout_size() - Read the carveout_size parameter.
 *
 * Return: the size in bytes given, 0 if none.
 */
u64 rdh_param_carveout_size(void)
{
	return carveout_size;
}

/*
 * (Not named mem_accounting: 7.x's <linux/dma-heap.h> declares the heap
 * core's switch of that name, which hosted mode reads.)
 */
static bool rdh_mem_accounting;
module_param_named(mem_accounting, rdh_mem_accounting, bool, 0444);
MODULE_PARM_DESC(mem_accounting,
		 "Charge system-heap pages to the allocating task's memory cgroup (default: N)");

/**
 * rdh_param_mem_accounting() - Read the mem_accounting parameter.
 *
 * Return: whether system-heap pages are charged to the allocator's memcg.
 */
bool rdh_param_mem_accounting(void)
{
	return rdh_mem_accounting;
}

static long pool_max_kb = -1;
module_param(pool_max_kb, long, 0644);
MODULE_PARM_DESC(pool_max_kb,
		 "Most memory the system heap's page pools hold, in KiB; 0 turns them off (default: -1, a sixteenth of RAM)");

/**
 * rdh_param_pool_max_kb() - Read the pool_max_kb parameter.
 *
 * Root may write it through sysfs at any time: each call reads it afresh.
 *
 * Return: the limit in KiB, 0 for no pools, -1 for the default.
 */
long rdh_param_pool_max_kb(void)
{
	return READ_ONCE(pool_max_kb);
}
