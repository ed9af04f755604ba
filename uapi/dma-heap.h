/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The userspace interface of /dev/dma_heap/<name>.
 *
 * Binary-identical to Linux's include/uapi/linux/dma-heap.h: the same
 * struct layout, constants and ioctl number, so programs built against
 * either header work with either implementation. Include guard and macro
 * names match too, so the two headers never both take effect.
 */
#ifndef _UAPI_LINUX_DMABUF_POOL_H
#define _UAPI_LINUX_DMABUF_POOL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The new buffer's file may be opened read-only, write-only or read-write,
 * and close-on-exec; no other flag is accepted. */
#define DMA_HEAP_VALID_FD_FLAGS (O_CLOEXEC | O_ACCMODE)

/* No heap flags are defined: heap_flags must be zero. */
#define DMA_HEAP_VALID_HEAP_FLAGS (0ULL)

/**
 * struct dma_heap_allocation_data - argument of DMA_HEAP_IOCTL_ALLOC
 * @len:	requested size in bytes, rounded up to whole pages
 * @fd:		must be 0 on input; on success, the new dma-buf's descriptor
 * @fd_flags:	flags of the new descriptor (DMA_HEAP_VALID_FD_FLAGS)
 * @heap_flags:	heap-specific flags (none defined: 0)
 */
struct dma_heap_allocation_data {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

#define DMA_HEAP_IOC_MAGIC		'H'

/* Allocate a buffer from the heap the ioctl is made on; returns 0 and fills
 * in @fd, or -1 with errno set (EINVAL, ENOMEM, EFAULT, EMFILE, EINTR). */
#define DMA_HEAP_IOCTL_ALLOC	_IOWR(DMA_HEAP_IOC_MAGIC, 0x0,\
				      struct dma_heap_allocation_data)

#endif /* _UAPI_LINUX_DMABUF_POOL_H */
