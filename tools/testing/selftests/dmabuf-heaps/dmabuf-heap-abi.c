// SPDX-License-Identifier: GPL-2.0
/*
 * The argument rules of DMA_HEAP_IOCTL_ALLOC and the dma-buf it returns,
 * checked on every heap under /dev/dma_heap, on kselftest's harness: what
 * include/uapi/linux/dma-heap.h and drivers/dma-buf/dma-heap.c promise a
 * client, beyond what dmabuf-heap.c covers (its allocations, zeroing and
 * struct-size compatibility). Written for the kernel's selftests
 * directory, beside dmabuf-heap.c; each test runs on every heap.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "kselftest_harness.h"

#define DEVPATH "/dev/dma_heap"
#define MAX_HEAPS 32

FIXTURE(heaps)
{
	char name[MAX_HEAPS][256];
	int fd[MAX_HEAPS];
	int n;
	long page;
};

FIXTURE_SETUP(heaps)
{
	DIR *d = opendir(DEVPATH);
	struct dirent *de;

	self->n = 0;
	self->page = sysconf(_SC_PAGESIZE);
	if (!d)
		SKIP(return, "no %s: no dma-buf heap in this kernel", DEVPATH);
	while ((de = readdir(d)) && self->n < MAX_HEAPS) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(self->name[self->n], sizeof(self->name[0]), "%s", de->d_name);
		self->n++;
	}
	closedir(d);
	if (!self->n)
		SKIP(return, "%s is empty", DEVPATH);
	for (int i = 0; i < self->n; i++) {
		char path[300];

		snprintf(path, sizeof(path), DEVPATH "/%s", self->name[i]);
		/* Read-only, as libcamera and Android's allocators open it. */
		self->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, self->fd[i]) TH_LOG("open %s: %s", path, strerror(errno));
	}
}

FIXTURE_TEARDOWN(heaps)
{
	for (int i = 0; i < self->n; i++)
		close(self->fd[i]);
}

/* DMA_HEAP_IOCTL_ALLOC with every field given; the new fd, or -errno. */
static int alloc(int heap, uint64_t len, uint32_t fd, uint32_t fd_flags, uint64_t heap_flags)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd = fd,
		.fd_flags = fd_flags,
		.heap_flags = heap_flags,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Each allowed fd_flags value (an access mode, with or without
 * O_CLOEXEC) gives a dma-buf fd with exactly that mode and close-on-exec. */
TEST_F(heaps, fd_flags_set_the_access_mode_and_cloexec)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };

	for (int i = 0; i < self->n; i++) {
		for (int m = 0; m < 3; m++) {
			for (int cloexec = 0; cloexec <= 1; cloexec++) {
				int flags = modes[m] | (cloexec ? O_CLOEXEC : 0);
				int buf = alloc(self->fd[i], self->page, 0, flags, 0);

				ASSERT_LE(0, buf) TH_LOG("%s: fd_flags %#x: %d", self->name[i], flags, buf);
				EXPECT_EQ(modes[m], fcntl(buf, F_GETFL) & O_ACCMODE)
					TH_LOG("%s: fd_flags %#x", self->name[i], flags);
				EXPECT_EQ(cloexec, !!(fcntl(buf, F_GETFD) & FD_CLOEXEC))
					TH_LOG("%s: fd_flags %#x", self->name[i], flags);
				close(buf);
			}
		}
	}
}

/* fd_flags beyond O_ACCMODE | O_CLOEXEC are EINVAL. */
TEST_F(heaps, other_fd_flags_are_einval)
{
	static const int others[] = { O_NONBLOCK, O_APPEND, O_TRUNC, O_CREAT, O_DIRECT };

	for (int i = 0; i < self->n; i++) {
		for (unsigned int f = 0; f < sizeof(others) / sizeof(others[0]); f++) {
			EXPECT_EQ(-EINVAL, alloc(self->fd[i], self->page, 0, O_RDWR | others[f], 0))
				TH_LOG("%s: fd_flags O_RDWR | %#x", self->name[i], others[f]);
		}
	}
}

/* No heap flag is defined: any bit is EINVAL. */
TEST_F(heaps, heap_flags_are_einval)
{
	for (int i = 0; i < self->n; i++) {
		for (int bit = 0; bit < 64; bit += 7) {
			EXPECT_EQ(-EINVAL, alloc(self->fd[i], self->page, 0, O_RDWR, 1ULL << bit))
				TH_LOG("%s: heap_flags bit %d", self->name[i], bit);
		}
	}
}

/* The fd field is output only: a number in it, even an open fd's, is
 * EINVAL, and no descriptor is installed. */
TEST_F(heaps, a_number_in_the_fd_field_is_einval)
{
	for (int i = 0; i < self->n; i++) {
		int before = open_fds();

		EXPECT_EQ(-EINVAL, alloc(self->fd[i], self->page, self->fd[i], O_RDWR, 0))
			TH_LOG("%s: fd field %d", self->name[i], self->fd[i]);
		EXPECT_EQ(-EINVAL, alloc(self->fd[i], self->page, 1000, O_RDWR, 0))
			TH_LOG("%s: fd field 1000", self->name[i]);
		EXPECT_EQ(before, open_fds()) TH_LOG("%s", self->name[i]);
	}
}

/* A zero length is EINVAL; so is one that rounds up past 2^64. */
TEST_F(heaps, empty_and_wrapping_lengths_are_einval)
{
	for (int i = 0; i < self->n; i++) {
		EXPECT_EQ(-EINVAL, alloc(self->fd[i], 0, 0, O_RDWR, 0)) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(-EINVAL, alloc(self->fd[i], UINT64_MAX, 0, O_RDWR, 0))
			TH_LOG("%s", self->name[i]);
	}
}

/* A length is rounded up to whole pages: the buffer's size (SEEK_END of
 * its fd) is the next multiple of the page size, and all of it maps. */
TEST_F(heaps, lengths_are_rounded_up_to_pages)
{
	for (int i = 0; i < self->n; i++) {
		int buf = alloc(self->fd[i], self->page + 1, 0, O_RDWR, 0);
		void *p;

		ASSERT_LE(0, buf) TH_LOG("%s: %d", self->name[i], buf);
		EXPECT_EQ(2 * self->page, lseek(buf, 0, SEEK_END)) TH_LOG("%s", self->name[i]);
		p = mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, buf, 0);
		EXPECT_NE(MAP_FAILED, p) TH_LOG("%s: %s", self->name[i], strerror(errno));
		if (p != MAP_FAILED)
			munmap(p, 2 * self->page);
		close(buf);
	}
}

/* Only ALLOC (number 0) exists: other numbers of the heap's ioctl type
 * are EINVAL, whatever their size. */
TEST_F(heaps, other_ioctl_numbers_are_einval)
{
	struct dma_heap_allocation_data data = { .len = 4096, .fd_flags = O_RDWR };

	for (int i = 0; i < self->n; i++) {
		for (int nr = 1; nr < 4; nr++) {
			errno = 0;
			EXPECT_EQ(-1, ioctl(self->fd[i], _IOWR(DMA_HEAP_IOC_MAGIC, nr,
							     struct dma_heap_allocation_data), &data))
				TH_LOG("%s: nr %d", self->name[i], nr);
			EXPECT_EQ(EINVAL, errno) TH_LOG("%s: nr %d", self->name[i], nr);
		}
	}
}

/* A dma-buf is not a stream: read() and write() on it fail with EINVAL,
 * and mapping past its end fails. */
TEST_F(heaps, a_dmabuf_is_mapped_not_read)
{
	for (int i = 0; i < self->n; i++) {
		int buf = alloc(self->fd[i], self->page, 0, O_RDWR, 0);
		char c = 0;

		ASSERT_LE(0, buf) TH_LOG("%s: %d", self->name[i], buf);
		EXPECT_EQ(-1, read(buf, &c, 1)) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(-1, write(buf, &c, 1)) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, buf, 0))
			TH_LOG("%s: a mapping past the end", self->name[i]);
		close(buf);
	}
}

/* DMA_BUF_SET_NAME names the buffer, as /proc/<pid>/fdinfo shows. */
TEST_F(heaps, a_buffer_can_be_named)
{
	for (int i = 0; i < self->n; i++) {
		int buf = alloc(self->fd[i], self->page, 0, O_RDWR, 0);
		char path[64], info[1024] = "";
		int fd, len = 0;

		ASSERT_LE(0, buf) TH_LOG("%s: %d", self->name[i], buf);
		ASSERT_EQ(0, ioctl(buf, DMA_BUF_SET_NAME_B, "abi-test"))
			TH_LOG("%s: %s", self->name[i], strerror(errno));
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			len = read(fd, info, sizeof(info) - 1);
			close(fd);
		}
		EXPECT_LT(0, len) TH_LOG("%s: %s", self->name[i], path);
		EXPECT_TRUE(strstr(info, "name:\tabi-test\n") != NULL)
			TH_LOG("%s: %s", self->name[i], info);
		close(buf);
	}
}

TEST_HARNESS_MAIN
