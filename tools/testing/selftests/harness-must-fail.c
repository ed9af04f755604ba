// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's own test: each mode misbehaves in one way that must turn a
 * run red (tools/testing/check runs each in a VM and checks that the
 * harness reports the right cause). Not part of any suite.
 *
 *   harness-must-fail tap         a failing check
 *   harness-must-fail exit        passing checks, then exit status 3
 *   harness-must-fail segv        a passing check, then SIGSEGV
 *   harness-must-fail hang FILE   a child writes its pid to FILE, both hang
 *   harness-must-fail check-dead FILE
 *                                 passes only if the process FILE names is
 *                                 gone (the hang's child was killed)
 *   harness-must-fail skip        a skipped check (ksft_test_result_skip)
 *   harness-must-fail skip-all    a skipped program: no check, exit status
 *                                 KSFT_SKIP (ksft_exit_skip)
 *   harness-must-fail few         one check (the suite asks for more)
 *   harness-must-fail garbled     a result marker cut short
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "heaptest.h"

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "tap";

	ksft_print_header();
	if (!strcmp(mode, "tap")) {
		check_ok(1, "a check that passes");
		check_ok(0, "a check that fails on purpose");
	} else if (!strcmp(mode, "exit")) {
		check_ok(1, "a check that passes");
		ksft_set_plan(ksft_test_num());
		return 3;
	} else if (!strcmp(mode, "segv")) {
		check_ok(1, "a check that passes before the crash");
		raise(SIGSEGV);
		*(volatile int *)0 = 1;
	} else if (!strcmp(mode, "hang") && argc > 2) {
		pid_t child = fork();
		FILE *f;

		if (child == 0) {
			for (;;) {
				printf("# the hung program's child is still running\n");
				fflush(stdout);
				sleep(1);
			}
		}
		f = fopen(argv[2], "w");
		if (f) {
			fprintf(f, "%d\n", child);
			fclose(f);
		}
		check_ok(1, "a check that passes before the hang");
		for (;;)
			pause();
	} else if (!strcmp(mode, "check-dead") && argc > 2) {
		FILE *f = fopen(argv[2], "r");
		int pid = 0;

		check_ok(f && fscanf(f, "%d", &pid) == 1 && pid > 0,
			 "the hung program left its child's pid (%d)", pid);
		check_ok(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH,
			 "the hung program's child was killed with it");
	} else if (!strcmp(mode, "skip")) {
		check_ok(1, "a check that passes");
		ksft_test_result_skip("a check that could not run: no such heap\n");
	} else if (!strcmp(mode, "skip-all")) {
		ksft_exit_skip("no such heap: nothing to test\n");
	} else if (!strcmp(mode, "few")) {
		check_ok(1, "the only check");
	} else if (!strcmp(mode, "garbled")) {
		check_ok(1, "a check that passes");
		printf("@@@ RESU\n");
	} else {
		check_ok(0, "unknown mode %s", mode);
	}
	return finish_checks();
}
