// SPDX-License-Identifier: GPL-2.0
/*
 * A heap under memory pressure:
 *   heap-memory [HEAP]   (default: system)
 * a buffer of a quarter of RAM; allocating until memory runs out, then
 * freeing and allocating again; an allocator killed mid-allocation. After
 * each, the memory comes back and no buffer is left behind.
 *
 * Order-0 page allocations do not fail: the kernel calls the OOM killer
 * instead, and dma-buf memory is charged to no process. The exhausting
 * child therefore makes itself the OOM killer's first choice
 * (oom_score_adj 1000); the VM's runner sits at -1000. A child that ends
 * with ENOMEM or is killed by the OOM killer has both met the limit
 * cleanly.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "heaptest.h"

static const char *heap_name = "system";

/* MemAvailable is back within @slack_kb of @before (page cache and slab
 * shift a little on their own). */
static int memory_back(long before, long slack_kb)
{
	long now = meminfo_kb("MemAvailable");

	tap_diag("MemAvailable %ld kB before, %ld kB now", before, now);
	return now >= before - slack_kb;
}

static void test_quarter_of_ram(int heap)
{
	size_t len = (size_t)meminfo_kb("MemTotal") * 1024 / 4 & ~4095UL;
	long before = meminfo_kb("MemAvailable");
	int fd = heap_alloc(heap, len);
	unsigned char *p;
	int touched = 1;

	if (!tap_ok(fd >= 0, "%s: a buffer of a quarter of RAM (%zu MiB)", heap_name, len >> 20))
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		touched = 0;
	} else {
		for (size_t i = 0; i < len; i += 4096)
			p[i] = (unsigned char)(i >> 12);
		for (size_t i = 0; i < len; i += 4096)
			touched &= p[i] == (unsigned char)(i >> 12);
		munmap(p, len);
	}
	tap_ok(touched, "%s: every page of it is mapped and holds its data", heap_name);
	close(fd);
	tap_ok(memory_back(before, 16 << 10), "%s: its memory comes back when freed", heap_name);
}

/* Allocates 16 MiB buffers until the heap says no; exits 0 on ENOMEM. */
static void exhaust(int heap)
{
	set_oom_score_adj(1000);
	for (;;) {
		int fd = heap_alloc(heap, 16 << 20);

		if (fd == -ENOMEM)
			_exit(0);
		if (fd < 0)
			_exit(3);
	}
}

static void test_exhaustion(int heap)
{
	long before = meminfo_kb("MemAvailable");
	int status = 0, fd;
	pid_t pid = fork();

	if (pid == 0)
		exhaust(heap);
	waitpid(pid, &status, 0);
	tap_ok((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	       (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
	       "%s: allocating until memory runs out ends in ENOMEM or the OOM killer (status %#x)",
	       heap_name, status);
	tap_ok(memory_back(before, 32 << 10), "%s: all of it comes back after the allocator exits", heap_name);
	fd = heap_alloc(heap, 16 << 20);
	tap_ok(fd >= 0, "%s: allocation works again afterwards", heap_name);
	close(fd);
}

static void test_killed_allocator(int heap)
{
	long before = meminfo_kb("MemAvailable");
	int status = 0, bufs = count_dmabufs(), pipefd[2];
	size_t len = (size_t)meminfo_kb("MemTotal") * 1024 / 2 & ~4095UL;
	char c;
	pid_t pid;

	pipe(pipefd);
	pid = fork();
	if (pid == 0) {
		set_oom_score_adj(1000);
		close(pipefd[0]);
		write(pipefd[1], "x", 1);
		heap_alloc(heap, len); /* killed while in here, or soon after */
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	read(pipefd[0], &c, 1);
	close(pipefd[0]);
	usleep(20000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "%s: an allocator of half of RAM is killed", heap_name);
	tap_ok(count_dmabufs() == bufs, "%s: the killed allocator leaves no buffer", heap_name);
	tap_ok(memory_back(before, 16 << 10), "%s: and no memory behind", heap_name);
}

int main(int argc, char **argv)
{
	int heap;

	if (argc > 1)
		heap_name = argv[1];
	tap_header();
	heap = open_heap(heap_name, O_RDONLY);
	if (!tap_ok(heap >= 0, "%s: heap opens", heap_name))
		return tap_finish();
	test_quarter_of_ram(heap);
	test_exhaustion(heap);
	test_killed_allocator(heap);
	close(heap);
	return tap_finish();
}
