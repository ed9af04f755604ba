// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the harness's own test: it provokes one kernel
 * WARNING when loaded, which must turn a VM run red.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init rdh_warn_test_init(void)
{
	WARN(1, "rdh_warn_test: deliberate warning for the harness self-test\n");
	return 0;
}
module_init(rdh_warn_test_init);

static void __exit rdh_warn_test_exit(void)
{
}
module_exit(rdh_warn_test_exit);

MODULE_DESCRIPTION("Provokes a WARNING to prove the test harness catches it");
MODULE_LICENSE("GPL");
