// SPDX-License-Identifier: GPL-2.0
/*
 * A small tool the shell tests drive:
 *   heap-util alloc HEAP BYTES            allocate, map, touch, free
 *   heap-util hold HEAP BYTES READYFILE   allocate, create READYFILE, wait
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "heaptest.h"

int main(int argc, char **argv)
{
	unsigned long len;
	int heap, fd;
	char *p;

	if (argc < 4) {
		fprintf(stderr, "usage: heap-util alloc|hold HEAP BYTES [READYFILE]\n");
		return 2;
	}
	len = strtoul(argv[3], NULL, 0);
	heap = open_heap(argv[2], O_RDONLY);
	if (heap < 0) {
		perror(argv[2]);
		return 1;
	}
	fd = heap_alloc(heap, len);
	if (fd < 0) {
		fprintf(stderr, "allocation failed: %s\n", strerror(-fd));
		return 1;
	}
	close(heap);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	munmap(p, len);
	if (!strcmp(argv[1], "hold")) {
		FILE *f = fopen(argc > 4 ? argv[4] : "/tmp/ready", "w");

		if (f)
			fclose(f);
		for (;;)
			pause();
	}
	close(fd);
	return 0;
}
