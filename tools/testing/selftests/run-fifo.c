// SPDX-License-Identifier: GPL-2.0
/*
 * run-fifo COMMAND [ARG]...: runs COMMAND on CPU 0 alone, under SCHED_FIFO.
 *
 * Not a test: the lc-compliance suite (lc-compliance.sh) runs libcamera's
 * test program through it. lc-compliance 0.4.0 queues a capture's first
 * requests before it creates the event loop their completion handler
 * stops, so a completion that comes first dereferences a null pointer
 * (libcamera's bug, fixed after 0.4.0; see Documentation/testing.rst). On
 * one CPU, under a real-time policy that does not preempt a thread for
 * another of the same priority, the camera's thread runs only when the
 * test thread sleeps: between queueing and creating the loop it does so
 * only if it must wait (for a lock another thread holds, say), so the
 * order is fixed but for that.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sched_param param = { .sched_priority = 1 };
	cpu_set_t cpus;

	if (argc < 2) {
		fprintf(stderr, "usage: run-fifo COMMAND [ARG]...\n");
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		perror("run-fifo: sched_setaffinity");
		return 2;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &param)) {
		perror("run-fifo: sched_setscheduler");
		return 2;
	}
	execvp(argv[1], argv + 1);
	perror("run-fifo: exec");
	return 127;
}
