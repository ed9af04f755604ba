// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the harness's own tests: when loaded, it makes one
 * kernel detector fire, and the VM run must turn red with that cause.
 * Never part of a suite.
 *
 *   insmod rdh_detectors.ko trigger=warn|kasan|leak|lockdep|dma|taint
 *
 *   warn     a WARNING
 *   kasan    a read after kfree() (KASAN: slab-use-after-free)
 *   leak     a kmalloc() whose only pointer is dropped (kmemleak)
 *   lockdep  two mutexes taken in both orders (circular dependency; lockdep
 *            then turns itself off)
 *   dma      a streaming mapping unmapped with the wrong size (DMA-API
 *            debugging counts an error)
 *   taint    taints the kernel D without printing anything, so only the
 *            end-of-run taint check can see it
 */
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/panic.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *trigger = "";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "which detector to fire: warn, kasan, leak, lockdep, dma, taint");

static struct platform_device *pdev;
static DEFINE_MUTEX(lock_a);
static DEFINE_MUTEX(lock_b);

static noinline int use_after_free(void)
{
	char *p = kmalloc(64, GFP_KERNEL);
	int v;

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 64);
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p[8]);
	pr_info("rdh_detectors: read %d after free\n", v);
	return 0;
}

static noinline int leak(void)
{
	void *p = kmalloc(192, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	memset(p, 0xa5, 192);
	OPTIMIZER_HIDE_VAR(p);
	p = NULL;
	return 0;
}

static int inversion(void)
{
	mutex_lock(&lock_a);
	mutex_lock(&lock_b);
	mutex_unlock(&lock_b);
	mutex_unlock(&lock_a);
	/* The other order: a deadlock in waiting, which lockdep reports. */
	mutex_lock(&lock_b);
	mutex_lock(&lock_a);
	mutex_unlock(&lock_a);
	mutex_unlock(&lock_b);
	return 0;
}

static int dma_misuse(void)
{
	struct platform_device_info info = {
		.name = "rdh_detectors",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	dma_addr_t addr;
	void *buf;

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		int err = PTR_ERR(pdev);

		pdev = NULL;
		return err;
	}
	buf = kmalloc(4096, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	addr = dma_map_single(&pdev->dev, buf, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, addr)) {
		kfree(buf);
		return -EIO;
	}
	dma_unmap_single(&pdev->dev, addr, 2048, DMA_TO_DEVICE);
	kfree(buf);
	return 0;
}

static int __init rdh_detectors_init(void)
{
	if (!strcmp(trigger, "warn")) {
		WARN(1, "rdh_detectors: deliberate warning for the harness self-test\n");
		return 0;
	}
	if (!strcmp(trigger, "kasan"))
		return use_after_free();
	if (!strcmp(trigger, "leak"))
		return leak();
	if (!strcmp(trigger, "lockdep"))
		return inversion();
	if (!strcmp(trigger, "dma"))
		return dma_misuse();
	if (!strcmp(trigger, "taint")) {
		add_taint(TAINT_DIE, LOCKDEP_STILL_OK);
		return 0;
	}
	pr_err("rdh_detectors: unknown trigger '%s'\n", trigger);
	return -EINVAL;
}
module_init(rdh_detectors_init);

static void __exit rdh_detectors_exit(void)
{
	if (pdev)
		platform_device_unregister(pdev);
}
module_exit(rdh_detectors_exit);

MODULE_DESCRIPTION("Makes one kernel detector fire, to prove the test harness catches it");
MODULE_LICENSE("GPL");
