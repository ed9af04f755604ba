/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A few lines of TAP (Test Anything Protocol) for the heap tests, in the
 * kselftest format: "ok N name", "not ok N name", "# diagnostics", and the
 * plan "1..N" at the end. There is no skip: a check that cannot run fails.
 */
#ifndef RDH_TAP_H
#define RDH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_header(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Prints the plan and exits: 0 if every check passed. */
static inline int tap_finish(void)
{
	printf("1..%d\n", tap_n);
	printf("# %d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	fflush(stdout);
	exit(tap_failed ? 1 : 0);
}

#endif
