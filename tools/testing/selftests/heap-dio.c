// SPDX-License-Identifier: GPL-2.0
/*
 * Direct I/O into and out of a heap buffer's mapping, on a block device
 * (heap-dio.sh makes a zram one): an AI model or a camera recording loaded
 * or saved with O_DIRECT, which upstream's heaps refuse with EFAULT (their
 * mappings are VM_PFNMAP, which get_user_pages() cannot reach).
 *   heap-dio DEVICE SYSTEM CMA
 *   - SYSTEM: O_DIRECT writes out of a mapping put the buffer's bytes on the
 *     device (read back through the page cache), O_DIRECT reads into a
 *     mapping bring them back, at a page-aligned offset inside the buffer
 *     too, and a buffer of 1 MiB chunks read across chunk boundaries;
 *   - CMA: its mappings stay PFN ranges, as upstream's: O_DIRECT into one
 *     fails with EFAULT, and the buffer is untouched.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>

#include "heaptest.h"

#define MiB (1UL << 20)

static void fill(uint32_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len / 4; i++)
		p[i] = pattern_word(i, seed);
}

static bool same(const uint32_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len / 4; i++)
		if (p[i] != pattern_word(i, seed)) {
			ksft_print_msg("word %zu is %#x, not %#x\n", i, p[i], pattern_word(i, seed));
			return false;
		}
	return true;
}

static uint32_t *map_buffer(int heap, size_t len, int *fd)
{
	uint32_t *p;

	*fd = heap_alloc(heap, len);
	if (*fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void test_system(const char *dev, const char *name)
{
	size_t len = 8 * MiB;
	int heap = open_heap(name, O_RDONLY), fd = -1, direct, cached;
	uint32_t *p = heap >= 0 ? map_buffer(heap, len, &fd) : NULL, *copy = malloc(len);
	ssize_t n;

	direct = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (!check_ok(p && copy && direct >= 0, "%s: an 8 MiB buffer is mapped and %s opens with "
						"O_DIRECT", name, dev))
		return;
	fill(p, len, 1);
	n = pwrite(direct, p, len, 0);
	check_ok(n == (ssize_t)len, "%s: an O_DIRECT write out of the mapping writes 8 MiB (%zd, %s)",
		 name, n, n < 0 ? strerror(errno) : "ok");
	cached = open(dev, O_RDONLY | O_CLOEXEC);
	n = cached >= 0 ? pread(cached, copy, len, 0) : -1;
	check_ok(n == (ssize_t)len && same(copy, len, 1),
		 "%s: the device holds the buffer's bytes (read back through the page cache)", name);
	if (cached >= 0)
		close(cached);

	memset(p, 0, len);
	n = pread(direct, p, len, 0);
	check_ok(n == (ssize_t)len && same(p, len, 1),
		 "%s: an O_DIRECT read into the mapping brings the 8 MiB back (%zd)", name, n);

	/* 1 MiB from the device's 2 MiB into the buffer at 3 MiB + 4 KiB. */
	memset(p, 0, len);
	n = pread(direct, (char *)p + 3 * MiB + 4096, MiB, 2 * MiB);
	check_ok(n == (ssize_t)MiB && !memcmp((char *)p + 3 * MiB + 4096, (char *)copy + 2 * MiB, MiB) &&
		       p[0] == 0 && p[(3 * MiB + 4096 + MiB) / 4] == 0,
		 "%s: 1 MiB read at a page inside the buffer, across chunks, lands there only (%zd)",
		 name, n);
	close(direct);
	munmap(p, len);
	close(fd);
	close(heap);
	free(copy);
}

static void test_cma(const char *dev, const char *name)
{
	size_t len = MiB;
	int heap = open_heap(name, O_RDONLY), fd = -1, direct;
	uint32_t *p = heap >= 0 ? map_buffer(heap, len, &fd) : NULL;
	ssize_t n;

	direct = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (!check_ok(p && direct >= 0, "%s: a 1 MiB buffer is mapped", name))
		return;
	fill(p, len, 7);
	n = pread(direct, p, len, 0);
	check_ok(n < 0 && errno == EFAULT && same(p, len, 7),
		 "%s: its mapping is a PFN range, as upstream's: an O_DIRECT read into it fails "
		 "with EFAULT and leaves it alone (%zd)",
		 name, n);
	close(direct);
	munmap(p, len);
	close(fd);
	close(heap);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: heap-dio DEVICE SYSTEM CMA\n");
		return 2;
	}
	ksft_print_header();
	test_system(argv[1], argv[2]);
	test_cma(argv[1], argv[3]);
	finish_checks();
}
