// SPDX-License-Identifier: GPL-2.0
/*
 * System-heap pages and memory cgroups (cgroup v2), for the module loaded
 * with mem_accounting=1:
 *   - a buffer allocated in a cgroup adds its size to the cgroup's
 *     memory.current, and freeing it takes the size off again;
 *   - with memory.max at 32 MiB, a process in the cgroup allocating 4 MiB
 *     buffers gets ENOMEM before it holds more than the limit; neither the
 *     cgroup's OOM killer (memory.events) nor the global one runs, and the
 *     heap's failed_nomem counts the refusal;
 *   - the charge stays with the cgroup after the allocator passed the
 *     buffer to a process outside it and exited, and goes when that process
 *     frees it;
 *   - charged pages never enter the pools (pool_bytes stays 0).
 *   heap-memcg HEAP
 * With --off (the module loaded without mem_accounting): a buffer
 * allocated in a cgroup is charged nothing, as upstream's default.
 *   heap-memcg --off HEAP
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "heaptest.h"

#define CG CG_ROOT "/rdh-memcg"
#define MiB (1024L * 1024)

static const char *heap_name;

/* What children report back, in shared memory. */
struct report {
	long before, with, after, held, err;
	int fd_sent;
};

static struct report *rep;

static void charged_and_uncharged(int heap, bool on)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd;

		if (!cgroup_enter(CG))
			_exit(2);
		rep->before = memcg_current(CG);
		fd = heap_alloc(heap, 16 * MiB);
		if (fd < 0)
			_exit(3);
		rep->with = memcg_current(CG);
		close(fd);
		rep->after = memcg_current_at_most(CG, rep->before + MiB);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: a process in the cgroup allocates and frees 16 MiB (status %#x)", heap_name,
		      status))
		return;
	if (on) {
		check_ok(rep->with - rep->before >= 15 * MiB && rep->with - rep->before < 18 * MiB,
			 "%s: memory.current grows by the buffer (%ld -> %ld)", heap_name, rep->before,
			 rep->with);
		check_ok(rep->after <= rep->before + MiB,
			 "%s: and is back once it is freed (%ld)", heap_name, rep->after);
	} else {
		check_ok(rep->with - rep->before < MiB,
			 "%s: without mem_accounting nothing is charged (%ld -> %ld)", heap_name,
			 rep->before, rep->with);
	}
}

static void limit_holds(int heap)
{
	long nomem = heap_stat(heap_name, "failed_nomem");
	int ooms = oom_reports(), status;
	pid_t pid;

	if (!check_ok(!write_sysfs(CG "/memory.max", "33554432"), "%s: memory.max set to 32 MiB",
		      heap_name))
		return;
	pid = fork();
	if (pid == 0) {
		if (!cgroup_enter(CG))
			_exit(2);
		for (rep->held = 0; rep->held < 64; rep->held++) {
			int fd = heap_alloc(heap, 4 * MiB);

			if (fd < 0) {
				rep->err = -fd;
				break;
			}
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && rep->err == ENOMEM &&
		 rep->held * 4 <= 32 && rep->held >= 4,
		 "%s: 4 MiB buffers in the cgroup until ENOMEM: %ld held, at most 32 MiB (errno %ld, status %#x)",
		 heap_name, rep->held, rep->err, status);
	check_ok(cg_file_read(CG "/memory.events", "oom") == 0 &&
		 cg_file_read(CG "/memory.events", "oom_kill") == 0,
		 "%s: the cgroup's OOM killer never ran (oom %ld, oom_kill %ld)", heap_name,
		 cg_file_read(CG "/memory.events", "oom"), cg_file_read(CG "/memory.events", "oom_kill"));
	check_ok(ooms >= 0 && oom_reports() == ooms, "%s: nor the global one (%d reports, %d)",
		 heap_name, ooms, oom_reports());
	check_ok(nomem >= 0 && heap_stat(heap_name, "failed_nomem") > nomem,
		 "%s: failed_nomem counts the refusal (%ld -> %ld)", heap_name, nomem,
		 heap_stat(heap_name, "failed_nomem"));
	write_sysfs(CG "/memory.max", "max");
}

/* The cgroup keeps the charge of a buffer it allocated and passed on. */
static void charge_follows_pages(int heap)
{
	long base = memcg_current_at_most(CG, MiB), held;
	int fd, status;
	pid_t pid;

	fd = alloc_in_child(heap, 16 * MiB, cgroup_enter, CG, &pid, &status);
	held = memcg_current(CG);
	/* (The page counter runs a few pages either way of the exact sum:
	 * the allocator's own pages went with it, per-CPU charge stocks.) */
	check_ok(fd >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		 held - base >= 15 * MiB,
		 "%s: a buffer passed out of the cgroup stays charged to it after its allocator exited (%ld -> %ld)",
		 heap_name, base, held);
	if (fd >= 0)
		close(fd);
	held = memcg_current_at_most(CG, base + MiB);
	check_ok(held >= 0 && held <= base + MiB,
		 "%s: and is uncharged when the process outside frees it (%ld)", heap_name, held);
}

int main(int argc, char **argv)
{
	bool on = true;
	int heap;

	if (argc > 1 && !strcmp(argv[1], "--off")) {
		on = false;
		argv++;
		argc--;
	}
	ksft_print_header();
	if (argc < 2) {
		check_ok(0, "usage: heap-memcg [--off] HEAP");
		return finish_checks();
	}
	heap_name = argv[1];
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	heap = open_heap(heap_name, O_RDONLY);
	if (!check_ok(heap >= 0 && rep != MAP_FAILED, "%s: heap opens", heap_name) ||
	    !check_ok(cgroups_setup("memory", (const char *const[]){ CG, NULL }, "memory.current"),
		      "cgroup v2 with the memory controller, a cgroup of our own"))
		return finish_checks();
	/* Empties the pools (their shrinker), so that what follows starts
	 * from none. */
	write_sysfs("/proc/sys/vm/drop_caches", "3");
	charged_and_uncharged(heap, on);
	if (on) {
		limit_holds(heap);
		charge_follows_pages(heap);
		sleep(1); /* the pools' worker would have zeroed them by now */
		check_ok(heap_stat(heap_name, "pool_bytes") == 0,
			 "%s: charged pages never enter the pools (pool_bytes %ld)", heap_name,
			 heap_stat(heap_name, "pool_bytes"));
	}
	close(heap);
	rmdir(CG);
	return finish_checks();
}
