// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel mappings of heap buffers, through the test importer module
 * (tools/testing/importer-module): for each heap, a buffer written through
 * mmap is read and rewritten by the kernel through dma_buf_vmap() (taken
 * twice: the exporter shares one mapping), with CPU-access calls around it,
 * and the kernel's writes are seen through mmap.
 *   heap-vmap HEAP...   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>

#include "heaptest.h"

static int kernel_check(int fd)
{
	char num[16];
	int dbg = open("/sys/kernel/debug/rdh_importer/vmap", O_WRONLY), n, ret;

	if (dbg < 0)
		return -errno;
	n = snprintf(num, sizeof(num), "%d", fd);
	ret = write(dbg, num, n) == n ? 0 : -errno;
	close(dbg);
	return ret;
}

int main(int argc, char **argv)
{
	ksft_print_header();
	for (int h = 1; h < argc; h++) {
		/* Several chunks on the system heap: 1 MiB + 64 KiB + 4 KiB. */
		size_t len = (1 << 20) + (64 << 10) + 4096;
		int heap = open_heap(argv[h], O_RDONLY), fd, ret;
		uint32_t *p;
		bool flipped = true;

		if (!check_ok(heap >= 0, "%s: heap opens", argv[h]))
			continue;
		fd = heap_alloc(heap, len);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (!check_ok(fd >= 0 && p != MAP_FAILED, "%s: allocate and map %zu bytes", argv[h], len))
			continue;
		for (size_t i = 0; i < len / 4; i++)
			p[i] = (uint32_t)i ^ 0xa5a5a5a5;
		ret = kernel_check(fd);
		check_ok(ret == 0, "%s: the kernel's vmap (taken twice, one address) sees what mmap wrote (%d)",
			 argv[h], ret);
		for (size_t i = 0; i < len / 4; i++)
			flipped &= p[i] == ~(uint32_t)i;
		check_ok(flipped, "%s: mmap sees what the kernel wrote through vmap", argv[h]);
		check_ok(kernel_check(fd) == -EIO, "%s: a second pass sees the changed data (EIO as designed)",
			 argv[h]);
		munmap(p, len);
		close(fd);
		close(heap);
	}
	return finish_checks();
}
