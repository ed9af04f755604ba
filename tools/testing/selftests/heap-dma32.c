// SPDX-License-Identifier: GPL-2.0
/*
 * system-dma32: the system heap on the memory below 4 GiB. In a VM with
 * RAM above 4 GiB (where the kernel also sets up swiotlb for devices that
 * cannot reach it):
 *   - every page of system-dma32 buffers (pagemap of their mappings) lies
 *     below 4 GiB, on their first allocation and again once their chunks
 *     come back from the heap's pools;
 *   - the test importer's 32-bit device maps one without bouncing, and
 *     sees what the CPU wrote;
 *   - the control: system-heap buffers of the same VM have pages above
 *     4 GiB and are bounced for that device, so the checks above can fail.
 *   heap-dma32   (after insmod rdh_importer.ko, with system_dma32=1)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>

#include "heaptest.h"

#define BIG (64UL << 20)	/* pagemap checks: 4 buffers of this */
#define SMALL (1UL << 20)	/* importer checks: swiotlb holds this easily */
#define DMA32_LIMIT (1ULL << 32)
#define DEV32 1			/* the importer's device with a 32-bit mask */

/* Pages of @len bytes at @p that lie at or above 4 GiB; -1 if unknown. */
static long pages_above_4g(const void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE), above = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len; off += page) {
		uint64_t entry;
		off_t at = ((uintptr_t)p + off) / page * sizeof(entry);

		if (pread(fd, &entry, sizeof(entry), at) != sizeof(entry) ||
		    !(entry & (1ULL << 63)) || !(entry & ((1ULL << 55) - 1))) {
			above = -1;	/* not present, or no PFN shown */
			break;
		}
		if ((entry & ((1ULL << 55) - 1)) * page >= DMA32_LIMIT)
			above++;
	}
	close(fd);
	return above;
}

/* Allocates @n buffers of @len from @heap into @fds and counts the pages of
 * all of them above 4 GiB (-1 if one could not be allocated or read). */
static long alloc_and_count(int heap, int *fds, int n, size_t len)
{
	long above = 0;

	for (int i = 0; i < n; i++) {
		void *p;
		long a;

		fds[i] = heap_alloc(heap, len);
		p = fds[i] < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ, MAP_SHARED, fds[i], 0);
		if (p == MAP_FAILED)
			return -1;
		a = pages_above_4g(p, len);
		munmap(p, len);
		if (a < 0)
			return -1;
		above += a;
	}
	return above;
}

/* Waits (up to 60 s) until the worker has zeroed every queued chunk of
 * @heap into its pools; the pooled pages, or -1. */
static long settled_pool_pages(const char *heap)
{
	char path[128];
	unsigned long pooled = 0, pending = 1;

	snprintf(path, sizeof(path), "/sys/kernel/debug/rust_dma_heap/%s-pool", heap);
	for (int i = 0; i < 600; i++) {
		if (!pool_pages(path, &pooled, &pending))
			return -1;
		if (!pending)
			return pooled;
		usleep(100000);
	}
	return -1;
}

/* Empties every pool through the shrinkers. */
static void drop_pools(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "3", 1) != 1)
		ksft_print_msg("drop_caches: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Maps a SMALL buffer of @heap for the 32-bit device: 1 if bounced, 0 if
 * not, -1 on failure; and whether the device sees what the CPU wrote. */
static int map_for_dev32(int heap, bool *sees)
{
	int fd = heap_alloc(heap, SMALL), bounced = -1;
	uint32_t *p;
	char s[128];

	*sees = false;
	p = fd < 0 ? MAP_FAILED : mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	for (size_t i = 0; i < SMALL / 4; i++)
		p[i] = pattern_word(i, 0x32);
	munmap(p, SMALL);
	if (importer("attach 0 %d %d", fd, DEV32))
		goto out;
	if (!importer("info 0") && importer_answer(s, sizeof(s)) > 0) {
		ksft_print_msg("mapping: %s", s);
		bounced = strstr(s, "bounced=1") ? 1 : strstr(s, "bounced=0") ? 0 : -1;
	}
	*sees = importer("check 0 %u", 0x32) == 0;
	importer("detach 0");
out:
	if (fd >= 0)
		close(fd);
	return bounced;
}

int main(void)
{
	int dma32 = open_heap("system-dma32", O_RDONLY), sys = open_heap("system", O_RDONLY);
	int fds[4];
	long above, pooled, sys_pooled;
	bool sees;
	int bounced;

	ksft_print_header();
	if (!check_ok(dma32 >= 0 && sys >= 0, "/dev/dma_heap/system-dma32 and system are there"))
		return finish_checks();
	check_ok(meminfo_kb("MemTotal") > 4L << 20,
		 "the VM has more than 4 GiB of RAM (MemTotal %ld kB)", meminfo_kb("MemTotal"));

	sys_pooled = settled_pool_pages("system");
	above = alloc_and_count(dma32, fds, 4, BIG);
	check_ok(above == 0, "system-dma32: every page of 4 new buffers of %lu MiB lies below 4 GiB "
		 "(%ld above)", BIG >> 20, above);
	close_all(fds, 4);
	/* Their chunks go to the heap's own pools; the next buffers take them. */
	pooled = settled_pool_pages("system-dma32");
	check_ok(pooled > 0 && sys_pooled >= 0 && settled_pool_pages("system") == sys_pooled,
		 "system-dma32's freed chunks wait in its own pools (%ld pages), not the "
		 "system heap's (%ld pages, as before)", pooled, sys_pooled);
	above = alloc_and_count(dma32, fds, 4, BIG);
	check_ok(above == 0, "system-dma32: and again, its pools' chunks first (%ld above)", above);
	close_all(fds, 4);

	bounced = map_for_dev32(dma32, &sees);
	check_ok(bounced == 0, "system-dma32: the 32-bit device maps a buffer without bouncing (%d)",
		 bounced);
	check_ok(sees, "system-dma32: and sees what the CPU wrote");

	/* The control: the system heap's pages come from above 4 GiB first
	 * (with its pools emptied, which may hold low chunks). */
	drop_pools();
	above = alloc_and_count(sys, fds, 1, BIG);
	check_ok(above > 0, "control: a system-heap buffer of %lu MiB has pages above 4 GiB (%ld)",
		 BIG >> 20, above);
	close_all(fds, 1);
	drop_pools();	/* (its buffer then has fresh pages, from above 4 GiB first) */
	bounced = map_for_dev32(sys, &sees);
	check_ok(bounced == 1, "control: the 32-bit device sees a system-heap buffer through bounce "
		 "buffers (%d)", bounced);
	check_ok(sees, "control: and sees what the CPU wrote all the same");

	close(dma32);
	close(sys);
	return finish_checks();
}
