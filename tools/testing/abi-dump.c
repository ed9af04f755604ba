// SPDX-License-Identifier: GPL-2.0
/* Prints the ABI facts of whichever dma-heap.h is on the include path, so
 * that the project's header can be compared with the kernel's. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/dma-heap.h>

int main(void)
{
	printf("sizeof %zu\n", sizeof(struct dma_heap_allocation_data));
	printf("len %zu fd %zu fd_flags %zu heap_flags %zu\n",
	       offsetof(struct dma_heap_allocation_data, len),
	       offsetof(struct dma_heap_allocation_data, fd),
	       offsetof(struct dma_heap_allocation_data, fd_flags),
	       offsetof(struct dma_heap_allocation_data, heap_flags));
	printf("ALLOC %#lx\n", (unsigned long)DMA_HEAP_IOCTL_ALLOC);
	printf("VALID_FD_FLAGS %#x VALID_HEAP_FLAGS %#llx MAGIC %c\n",
	       DMA_HEAP_VALID_FD_FLAGS, (unsigned long long)DMA_HEAP_VALID_HEAP_FLAGS,
	       DMA_HEAP_IOC_MAGIC);
	return 0;
}
