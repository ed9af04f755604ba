// SPDX-License-Identifier: GPL-2.0
/*
 * A heap under memory pressure:
 *   heap-memory [HEAP]          (default: system)
 * a buffer of a quarter of RAM; allocating until memory runs out, then
 * freeing and allocating again; an allocator killed mid-allocation. After
 * each, the memory comes back and no buffer is left behind, and the heap's
 * failed_nomem and failed_interrupted counters in sysfs count the ENOMEM
 * and the killed allocation.
 *   heap-memory --swap [HEAP]   (swap must be on: heap-memory-swap.sh)
 * with anonymous memory filling most of RAM, a buffer that needs some of
 * it swapped out is allocated, one that needs more than swap can take
 * fails with ENOMEM, and the next allocation works.
 *
 * The system heap fails with ENOMEM when memory runs out, where 6.12's
 * would call the OOM killer (dma-buf memory is charged to no process):
 * no test here may see an OOM kill. In case one happens anyway, the
 * children that fill memory make themselves its first choice
 * (oom_score_adj 1000), so that the VM's runner (at -1000) reports it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "heaptest.h"

static const char *heap_name = "system";

/* MemAvailable is back within @slack_kb of @before (page cache and slab
 * shift a little on their own). The system heap keeps freed pages in its
 * pools, zeroed by a worker, until memory is short: caches are dropped (which
 * runs the pools' shrinker) and the worker waited for, up to 10 s. */
static int memory_back(long before, long slack_kb)
{
	long now = 0;

	for (int round = 0; round < 20; round++) {
		write_sysfs("/proc/sys/vm/drop_caches", "3");
		now = meminfo_kb("MemAvailable");
		if (now >= before - slack_kb)
			break;
		usleep(500000);
	}
	ksft_print_msg("MemAvailable %ld kB before, %ld kB now\n", before, now);
	return now >= before - slack_kb;
}

/* The exact count beside memory_back()'s slack: @heap_name, after @when. */
static void pages_exact(const char *when)
{
	char what[128];

	snprintf(what, sizeof(what), "%s, after %s", heap_name, when);
	check_pages_exact(what);
}

static void test_quarter_of_ram(int heap)
{
	size_t len = (size_t)meminfo_kb("MemTotal") * 1024 / 4 & ~4095UL;
	long before = meminfo_kb("MemAvailable");
	int fd = heap_alloc(heap, len);
	unsigned char *p;
	int touched = 1;

	if (!check_ok(fd >= 0, "%s: a buffer of a quarter of RAM (%zu MiB)", heap_name, len >> 20))
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
	check_ok(touched, "%s: every page of it is mapped and holds its data", heap_name);
	close(fd);
	check_ok(memory_back(before, 16 << 10), "%s: its memory comes back when freed", heap_name);
	pages_exact("a quarter of RAM");
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
	long before = meminfo_kb("MemAvailable"), nomem = heap_stat(heap_name, "failed_nomem");
	int status = 0, fd, ooms = oom_reports();
	pid_t pid = fork();

	if (pid == 0)
		exhaust(heap);
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "%s: allocating until memory runs out ends in ENOMEM (status %#x)",
		 heap_name, status);
	check_ok(ooms >= 0 && oom_reports() == ooms,
		 "%s: and the OOM killer never ran (kernel log: %d reports before, %d after)",
		 heap_name, ooms, oom_reports());
	check_ok(nomem >= 0 && heap_stat(heap_name, "failed_nomem") == nomem + 1,
		 "%s: failed_nomem counts that one ENOMEM (%ld -> %ld)", heap_name, nomem,
		 heap_stat(heap_name, "failed_nomem"));
	check_ok(memory_back(before, 32 << 10), "%s: all of it comes back after the allocator exits", heap_name);
	fd = heap_alloc(heap, 16 << 20);
	check_ok(fd >= 0, "%s: allocation works again afterwards", heap_name);
	close(fd);
	pages_exact("exhaustion");
}

/*
 * An allocator of half of RAM is killed once its allocation is seen under
 * way (free memory fell by an eighth of the buffer). The heap must stop at
 * the kill (its EINTR path): from the kill until the child is reaped,
 * free memory, sampled all along, never falls by another quarter of the
 * buffer, as the rest of an allocation that ran on would make it.
 * (/proc/vmstat's pgalloc counters would say it exactly, but the test
 * kernels have no VM_EVENT_COUNTERS.) If the allocation finished before
 * the kill landed (the child says so through shared memory), it is tried
 * again.
 */
static void test_killed_allocator(int heap)
{
	long before = meminfo_kb("MemAvailable"), at_kill = 0, lowest = 0, samples = 0;
	long interrupted = heap_stat(heap_name, "failed_interrupted"), now;
	int status = 0, bufs = count_dmabufs(), attempt;
	size_t len = (size_t)meminfo_kb("MemTotal") * 1024 / 2 & ~4095UL;
	long quarter = (long)(len / 4096 / 4);
	volatile int *returned = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bool seen_falling = false, stopped = false;

	for (attempt = 0; attempt < 5 && !stopped; attempt++) {
		long free0 = vmstat("nr_free_pages");
		pid_t pid;

		*returned = 0;
		pid = fork();
		if (pid == 0) {
			set_oom_score_adj(1000);
			heap_alloc(heap, len); /* killed while in here */
			*returned = 1;
			pause();
			_exit(0);
		}
		seen_falling = false;
		while (!seen_falling && !*returned) {
			at_kill = vmstat("nr_free_pages");
			seen_falling = free0 - at_kill > quarter / 2;
		}
		kill(pid, SIGKILL);
		lowest = at_kill;
		for (samples = 0; waitpid(pid, &status, WNOHANG) != pid; samples++) {
			long now = vmstat("nr_free_pages");

			if (now < lowest)
				lowest = now;
		}
		ksft_print_msg("attempt %d: allocation seen under way: %d, it had returned: %d; free pages at the kill %ld, lowest after it %ld (%ld samples; the buffer: %zu pages)\n",
			       attempt + 1, seen_falling, *returned, at_kill, lowest, samples, len / 4096);
		stopped = seen_falling && !*returned;
	}
	check_ok(stopped && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		 "%s: an allocator of half of RAM is killed while allocating", heap_name);
	check_ok(stopped && at_kill - lowest < quarter,
		 "%s: the allocation stopped at the kill (EINTR path: %ld more pages taken after it)",
		 heap_name, at_kill - lowest);
	/* Each attempt the kill landed in ended in EINTR; those it did not,
	 * after a completed allocation, count nothing. */
	now = heap_stat(heap_name, "failed_interrupted");
	check_ok(stopped && interrupted >= 0 && now >= interrupted + 1 && now <= interrupted + attempt,
		 "%s: failed_interrupted counts the killed allocation (%ld -> %ld in %d attempts)",
		 heap_name, interrupted, now, attempt);
	check_ok(count_dmabufs() == bufs, "%s: the killed allocator leaves no buffer", heap_name);
	check_ok(memory_back(before, 16 << 10), "%s: and no memory behind", heap_name);
	pages_exact("a killed allocator");
	munmap((void *)returned, 4096);
}

/* The value page @i of the memory hog holds in every byte: one value per
 * page, so that zram stores each page in a few bytes ("same-filled"). */
static unsigned char hog_value(size_t i)
{
	return (unsigned char)(0x5a ^ i);
}

/*
 * Fills @len bytes of anonymous memory, says so on @ready, waits for a byte
 * on @go, then checks that every page still holds what was written (most
 * come back from swap) and exits 0 if so.
 */
static void hog(size_t len, int ready, int go)
{
	unsigned char *p, c;
	size_t i, bad = 0;

	set_oom_score_adj(1000);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	for (i = 0; i < len / 4096; i++)
		memset(p + i * 4096, hog_value(i), 4096);
	write(ready, "r", 1);
	if (read(go, &c, 1) != 1)
		_exit(3);
	for (i = 0; i < len / 4096; i++)
		bad += p[i * 4096] != hog_value(i) || p[i * 4096 + 4095] != hog_value(i);
	_exit(bad ? 1 : 0);
}

static size_t kb_to_len(long kb)
{
	return (size_t)(kb > 0 ? kb : 0) * 1024 & ~4095UL;
}

/*
 * Anonymous memory fills most of RAM; swap (zram, a quarter of RAM) can
 * take part of it. A buffer that needs a tenth of RAM swapped out must be
 * allocated; one that needs a fifth of RAM more than swap can take must
 * fail with ENOMEM. The margins are far larger than what MemAvailable
 * misjudges (watermarks, free CMA pages the heap cannot use).
 */
static void test_swap(int heap)
{
	long total = meminfo_kb("MemTotal"), swap = meminfo_kb("SwapTotal");
	long avail, swapfree;
	int ready[2], go[2], fd, status = 0, ooms = oom_reports();
	size_t hog_len, len;
	char c;
	pid_t pid;

	if (!check_ok(swap >= total / 8, "swap is on (%ld kB of %ld kB RAM)", swap, total))
		return;
	hog_len = kb_to_len(meminfo_kb("MemAvailable") - total / 4);
	if (pipe(ready) || pipe(go) || !check_ok(hog_len > 0, "room for a memory hog"))
		return;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		hog(hog_len, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	if (!check_ok(read(ready[0], &c, 1) == 1, "a process fills %zu MiB of anonymous memory",
		      hog_len >> 20)) {
		waitpid(pid, &status, 0);
		return;
	}

	avail = meminfo_kb("MemAvailable");
	swapfree = meminfo_kb("SwapFree");
	len = kb_to_len(avail + total / 10);
	fd = heap_alloc(heap, len);
	check_ok(fd >= 0, "%s: a buffer of %zu MiB, %ld MiB more than MemAvailable, is allocated (%d)",
		 heap_name, len >> 20, (long)(len >> 20) - avail / 1024, fd);
	/* The hog sleeps meanwhile: what went to swap stays there. */
	check_ok(meminfo_kb("SwapFree") < swapfree, "%s: for it, %ld MiB went to swap", heap_name,
		 (swapfree - meminfo_kb("SwapFree")) / 1024);
	if (fd >= 0)
		close(fd);

	avail = meminfo_kb("MemAvailable");
	swapfree = meminfo_kb("SwapFree");
	len = kb_to_len(avail + swapfree + total / 5);
	if (len > kb_to_len(total))
		len = kb_to_len(total);
	fd = heap_alloc(heap, len);
	check_ok(fd == -ENOMEM,
		 "%s: a buffer of %zu MiB (MemAvailable %ld MiB, free swap %ld MiB) fails with ENOMEM (%d)",
		 heap_name, len >> 20, avail / 1024, swapfree / 1024, fd);
	if (fd >= 0)
		close(fd);
	check_ok(waitpid(pid, &status, WNOHANG) == 0, "the memory hog is still alive");
	check_ok(ooms >= 0 && oom_reports() == ooms,
		 "the OOM killer never ran (kernel log: %d reports before, %d after)", ooms,
		 oom_reports());

	fd = heap_alloc(heap, 16 << 20);
	check_ok(fd >= 0, "%s: the next allocation works (%d)", heap_name, fd);
	if (fd >= 0)
		close(fd);
	write(go[1], "g", 1);
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "the hog's memory came back from swap intact (status %#x)", status);
	close(ready[0]);
	close(go[1]);
	pages_exact("memory pressure with swap");
}

int main(int argc, char **argv)
{
	int heap, swap = 0;

	if (argc > 1 && !strcmp(argv[1], "--swap")) {
		swap = 1;
		argv++;
		argc--;
	}
	if (argc > 1)
		heap_name = argv[1];
	ksft_print_header();
	heap = open_heap(heap_name, O_RDONLY);
	if (!check_ok(heap >= 0, "%s: heap opens", heap_name))
		return finish_checks();
	if (swap) {
		test_swap(heap);
	} else {
		test_quarter_of_ram(heap);
		test_exhaustion(heap);
		test_killed_allocator(heap);
	}
	close(heap);
	return finish_checks();
}
