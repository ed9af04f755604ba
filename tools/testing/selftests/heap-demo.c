// SPDX-License-Identifier: GPL-2.0
/*
 * What `make demo` runs in the VM: allocate buffers the way an Android
 * gralloc HAL would, map them, write, read back, and say what happened.
 *   - a display framebuffer, 1920x1080 XRGB8888, from linux,cma
 *     (physically contiguous, for scanout without an IOMMU);
 *   - a GPU buffer, 16 MiB, from system.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "heaptest.h"

static int exercise(const char *heap_name, const char *what, size_t len)
{
	struct dma_buf_sync sync = { 0 };
	uint32_t *px;
	size_t n = len / 4, bad = 0;
	int heap, fd;

	heap = open_heap(heap_name, O_RDONLY);
	if (heap < 0) {
		printf("  %-10s %s: heap not present\n", heap_name, what);
		return 0;
	}
	fd = heap_alloc(heap, len);
	close(heap);
	if (fd < 0) {
		printf("  %-10s %s: allocation FAILED (%s)\n", heap_name, what, strerror(-fd));
		return 1;
	}
	px = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		printf("  %-10s %s: mmap FAILED (%s)\n", heap_name, what, strerror(errno));
		return 1;
	}
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	for (size_t i = 0; i < n; i++)
		if (px[i])
			bad++;
	for (size_t i = 0; i < n; i++)
		px[i] = 0xff000000u | (uint32_t)(i * 2654435761u >> 8);
	for (size_t i = 0; i < n; i++)
		if (px[i] != (0xff000000u | (uint32_t)(i * 2654435761u >> 8)))
			bad++;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	munmap(px, len);
	close(fd);
	printf("  %-10s %s: %zu KiB allocated, zeroed, mapped, written and read back: %s\n",
	       heap_name, what, len / 1024, bad ? "MISMATCH" : "ok");
	return bad != 0;
}

int main(void)
{
	int n = list_heaps(), fails = 0;

	printf("\nrust_dma_heap demo\n==================\n");
	printf("heaps under " HEAP_DIR ":");
	for (int i = 0; i < n; i++)
		printf(" %s", heap_names[i]);
	printf("\n\n");
	fails += exercise("linux,cma", "display framebuffer 1920x1080 XRGB8888",
			  1920 * 1080 * 4);
	fails += exercise("system", "GPU buffer", 16 << 20);
	printf("\n%s\n", fails ? "demo FAILED" : "demo ok");
	return fails ? 1 : 0;
}
