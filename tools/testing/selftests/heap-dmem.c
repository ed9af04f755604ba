// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup limits of each heap, through the dmem cgroup controller
 * (cgroup v2), for the module loaded with cgroup_dmem=1 on a kernel with
 * CONFIG_CGROUP_DMEM. LIMITED stands for the camera's region, OTHER for
 * any other heap:
 *   - each is a region dma_heap/<name> in the root's dmem.capacity, of its
 *     region's size (region_bytes) or of RAM;
 *   - a buffer allocated in a cgroup adds its size to the cgroup's
 *     dmem.current for its heap only; passed to a process outside the
 *     cgroup and freed there, it takes the size off again;
 *   - with dmem.max at 16 MiB for LIMITED, a process in cgroup A gets
 *     exactly four 4 MiB buffers, then ENOMEM, counted in failed_limit;
 *     it still gets OTHER's buffers; meanwhile a process in the sibling
 *     cgroup B, without a limit, gets 24 MiB of LIMITED; with B's dmem.max
 *     at 0, it gets none (a region kept for one cgroup);
 *   - every charge is given back when the buffers go.
 *   heap-dmem LIMITED OTHER
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "heaptest.h"

#define CG_A CG_ROOT "/rdh-dmem-a"
#define CG_B CG_ROOT "/rdh-dmem-b"
#define MiB (1024L * 1024)

static const char *limited, *other;

/* The value of region dma_heap/@heap in the cgroup file @path, or -1. */
static long dmem_read(const char *path, const char *heap)
{
	char key[128];

	snprintf(key, sizeof(key), "dma_heap/%s", heap);
	return cg_file_read(path, key);
}

static int dmem_max(const char *cg, const char *heap, const char *value)
{
	char path[128], line[160];

	snprintf(path, sizeof(path), "%s/dmem.max", cg);
	snprintf(line, sizeof(line), "dma_heap/%s %s", heap, value);
	return write_sysfs(path, line);
}

/* What a child in cgroup @cg gets, allocating @size buffers of @heap until
 * ENOMEM or @most of them (it holds them until @release is written to). */
struct haul {
	long held, err, other;
};

static pid_t haul_in(const char *cg, int heap, long size, long most, int other_heap,
		     struct haul *h, int ready[2], int release[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		char c;

		h->held = 0;
		h->err = 0;
		h->other = 0;
		/* (The parent waits for the ready byte: it is written on every
		 * path, a failure to enter the cgroup included.) */
		if (!cgroup_enter(cg)) {
			h->err = -1;
			if (write(ready[1], "r", 1) != 1)
				_exit(3);
			_exit(2);
		}
		for (; h->held < most; h->held++) {
			int fd = heap_alloc(heap, size);

			if (fd < 0) {
				h->err = -fd;
				break;
			}
		}
		if (other_heap >= 0)
			h->other = heap_alloc(other_heap, 4 * MiB) >= 0;
		if (write(ready[1], "r", 1) != 1 || read(release[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	return pid;
}

int main(int argc, char **argv)
{
	int lim, oth, fd, status, ready[2], release[2];
	long failed, cap;
	struct haul *a, *b;
	pid_t pa, pb;
	char c;

	ksft_print_header();
	if (argc != 3) {
		ksft_print_msg("usage: heap-dmem LIMITED OTHER\n");
		return KSFT_FAIL;
	}
	limited = argv[1];
	other = argv[2];
	lim = open_heap(limited, O_RDONLY);
	oth = open_heap(other, O_RDONLY);
	a = mmap(NULL, 2 * sizeof(*a), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	b = a + 1;
	if (!check_ok(lim >= 0 && oth >= 0 && a != MAP_FAILED &&
		      cgroups_setup("dmem", (const char *const[]){ CG_A, CG_B, NULL }, "dmem.current"),
		      "the heaps are there, and cgroups %s and %s with the dmem controller", CG_A,
		      CG_B))
		return finish_checks();

	/* (The capacity is the heap's region_bytes where it has one; on 7.3
	 * a CMA area's size is not exported, and the capacity is RAM's.) */
	cap = dmem_read(CG_ROOT "/dmem.capacity", limited);
	check_ok(cap > 0 && (heap_stat(limited, "region_bytes") < 0 ||
			     cap == heap_stat(limited, "region_bytes")) &&
		 dmem_read(CG_ROOT "/dmem.capacity", other) > 0,
		 "dmem.capacity lists dma_heap/%s (%ld bytes; region_bytes %ld, or none) and "
		 "dma_heap/%s (%ld)", limited, cap, heap_stat(limited, "region_bytes"), other,
		 dmem_read(CG_ROOT "/dmem.capacity", other));

	/* Charged to the cgroup that allocated, and given back by whoever
	 * frees it. */
	fd = alloc_in_child(lim, 8 * MiB, cgroup_enter, CG_A, &pa, &status);
	check_ok(fd >= 0 && dmem_read(CG_A "/dmem.current", limited) == 8 * MiB &&
		 dmem_read(CG_A "/dmem.current", other) == 0,
		 "a buffer of %s allocated in A adds 8 MiB to A's dmem.current for it alone "
		 "(%ld, %s: %ld)", limited, dmem_read(CG_A "/dmem.current", limited), other,
		 dmem_read(CG_A "/dmem.current", other));
	if (fd >= 0)
		close(fd);
	check_ok(dmem_read(CG_A "/dmem.current", limited) == 0,
		 "passed out of A and freed there, it takes the 8 MiB off again (%ld)",
		 dmem_read(CG_A "/dmem.current", limited));

	/* A limit on one heap, for one cgroup. */
	failed = heap_stat(limited, "failed_limit");
	if (!check_ok(!dmem_max(CG_A, limited, "16777216") && !pipe(ready) && !pipe(release),
		      "A's dmem.max for dma_heap/%s set to 16 MiB", limited))
		return finish_checks();
	pa = haul_in(CG_A, lim, 4 * MiB, 64, oth, a, ready, release);
	check_ok(read(ready[0], &c, 1) == 1 && a->held == 4 && a->err == ENOMEM,
		 "in A, 4 MiB buffers of %s until ENOMEM: exactly 4 (%ld, errno %ld)", limited,
		 a->held, a->err);
	check_ok(heap_stat(limited, "failed_limit") == failed + 1,
		 "%s's failed_limit counts the refusal (%ld -> %ld)", limited, failed,
		 heap_stat(limited, "failed_limit"));
	check_ok(a->other == 1, "A still gets a buffer of %s", other);
	pb = haul_in(CG_B, lim, 4 * MiB, 6, -1, b, ready, release);
	check_ok(read(ready[0], &c, 1) == 1 && b->held == 6,
		 "meanwhile B, without a limit, gets 24 MiB of %s (%ld buffers, errno %ld)", limited,
		 b->held, b->err);
	check_ok(dmem_read(CG_A "/dmem.current", limited) == 16 * MiB &&
		 dmem_read(CG_B "/dmem.current", limited) == 24 * MiB,
		 "dmem.current: A 16 MiB, B 24 MiB (%ld, %ld)",
		 dmem_read(CG_A "/dmem.current", limited), dmem_read(CG_B "/dmem.current", limited));
	if (write(release[1], "gg", 2) != 2)
		ksft_print_msg("release: %s\n", strerror(errno));
	waitpid(pa, &status, 0);
	waitpid(pb, &status, 0);

	/* A region kept for one cgroup: every other gets a limit of 0. */
	check_ok(!dmem_max(CG_B, limited, "0"), "B's dmem.max for dma_heap/%s set to 0", limited);
	pb = haul_in(CG_B, lim, 4 * MiB, 1, -1, b, ready, release);
	check_ok(read(ready[0], &c, 1) == 1 && b->held == 0 && b->err == ENOMEM,
		 "B then gets none of %s (ENOMEM: errno %ld)", limited, b->err);
	if (write(release[1], "g", 1) != 1)
		ksft_print_msg("release: %s\n", strerror(errno));
	waitpid(pb, &status, 0);

	check_ok(dmem_read(CG_A "/dmem.current", limited) == 0 &&
		 dmem_read(CG_A "/dmem.current", other) == 0 &&
		 dmem_read(CG_B "/dmem.current", limited) == 0,
		 "every charge is given back once the buffers are gone (A %ld and %ld, B %ld)",
		 dmem_read(CG_A "/dmem.current", limited), dmem_read(CG_A "/dmem.current", other),
		 dmem_read(CG_B "/dmem.current", limited));
	rmdir(CG_A);
	rmdir(CG_B);
	return finish_checks();
}
