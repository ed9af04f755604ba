// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's own test: a program whose check fails. `make check` runs it
 * in a VM and passes only if the harness counts that failure. Not part of
 * any suite.
 */
#include "tap.h"

int main(void)
{
	tap_header();
	tap_ok(1, "a check that passes");
	tap_ok(0, "a check that fails on purpose");
	return tap_finish();
}
