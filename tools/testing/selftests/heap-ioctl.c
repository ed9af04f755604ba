// SPDX-License-Identifier: GPL-2.0
/*
 * DMA_HEAP_IOCTL_ALLOC argument validation, on every heap under
 * /dev/dma_heap (or the ones named): each upstream 6.12 errno path, the
 * struct-size compatibility rules, bad pointers, and that no failure leaks
 * a file descriptor or a buffer, or stops the next allocation from working.
 *   heap-ioctl [-u] [HEAP...]
 * -u: the heaps are the kernel's own C heaps, which do not refuse a buffer
 * larger than RAM up front (our documented hardening): those checks are
 * skipped, as the C system heap would meet them with the OOM killer.
 * The shapes syzkaller's description of /dev/dma_heap generates are among
 * them: the node opened with any flags, a live fd number in the input fd
 * field (EINVAL, as any non-zero one), every combination of the allowed
 * fd_flags (O_ACCMODE's four values, with and without O_CLOEXEC).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>

#include "heaptest.h"

#define PAGE 4096UL

/* An allocation request with explicit command, for the size/direction cases. */
struct alloc_newer {
	struct dma_heap_allocation_data d;
	uint64_t extra[2];
};

struct alloc_older {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
};

static int raw_ioctl(int heap, unsigned long cmd, void *arg)
{
	return ioctl(heap, cmd, arg) < 0 ? -errno : 0;
}

static int alloc_with(int heap, uint64_t len, uint32_t fd_flags, uint64_t heap_flags,
		      uint32_t fd, int *out_fd)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd = fd, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};
	int ret = raw_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (out_fd)
		*out_fd = ret ? -1 : (int)d.fd;
	else if (!ret)
		close(d.fd);
	return ret;
}

static off_t buf_size(int fd)
{
	return lseek(fd, 0, SEEK_END);
}

/* -u: the heaps under test are upstream's, without our hardening. */
static int upstream_heaps;

static void check_errno_paths(const char *h, int heap)
{
	struct sysinfo si;
	uint64_t ram;
	int fd;

	check_ok(alloc_with(heap, PAGE, O_RDWR, 0, 1, NULL) == -EINVAL,
		 "%s: non-zero fd field is EINVAL", h);
	check_ok(alloc_with(heap, PAGE, O_RDWR | O_NONBLOCK, 0, 0, NULL) == -EINVAL,
		 "%s: fd_flags O_NONBLOCK is EINVAL", h);
	check_ok(alloc_with(heap, PAGE, 0x80000000u, 0, 0, NULL) == -EINVAL,
		 "%s: fd_flags high bit is EINVAL", h);
	check_ok(alloc_with(heap, PAGE, O_RDWR, 1, 0, NULL) == -EINVAL,
		 "%s: heap_flags bit 0 is EINVAL", h);
	check_ok(alloc_with(heap, PAGE, O_RDWR, 1ULL << 63, 0, NULL) == -EINVAL,
		 "%s: heap_flags bit 63 is EINVAL", h);
	check_ok(alloc_with(heap, 0, O_RDWR, 0, 0, NULL) == -EINVAL,
		 "%s: len 0 is EINVAL", h);
	check_ok(alloc_with(heap, ~0ULL, O_RDWR, 0, 0, NULL) == -EINVAL,
		 "%s: len 2^64-1 wraps to zero when page-aligned: EINVAL", h);
	check_ok(alloc_with(heap, ~0ULL - PAGE + 2, O_RDWR, 0, 0, NULL) == -EINVAL,
		 "%s: len within a page of 2^64 is EINVAL", h);
	if (!upstream_heaps) {
		check_ok(alloc_with(heap, ~0ULL - 2 * PAGE + 1, O_RDWR, 0, 0, NULL) == -ENOMEM,
			 "%s: len 2^64-2 pages (larger than RAM) is ENOMEM", h);
		sysinfo(&si);
		ram = (uint64_t)si.totalram * si.mem_unit;
		check_ok(alloc_with(heap, ram + PAGE, O_RDWR, 0, 0, NULL) == -ENOMEM,
			 "%s: len one page over total RAM is ENOMEM, up front", h);
		check_ok(alloc_with(heap, ram * 2, O_RDWR, 0, 0, NULL) == -ENOMEM,
			 "%s: len twice total RAM is ENOMEM, up front", h);
	}

	check_ok(alloc_with(heap, 1, O_RDWR, 0, 0, &fd) == 0 && buf_size(fd) == (off_t)PAGE,
		 "%s: len 1 is rounded up to one page", h);
	close(fd);
	check_ok(alloc_with(heap, PAGE + 1, O_RDWR, 0, 0, &fd) == 0 && buf_size(fd) == 2 * (off_t)PAGE,
		 "%s: len one page plus one byte is two pages", h);
	close(fd);
}

static void check_fd_flags(const char *h, int heap)
{
	int fd, ret;

	ret = alloc_with(heap, PAGE, O_RDWR | O_CLOEXEC, 0, 0, &fd);
	check_ok(!ret && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
		 (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
		 "%s: O_RDWR|O_CLOEXEC gives a close-on-exec read-write fd", h);
	close(fd);
	ret = alloc_with(heap, PAGE, O_RDONLY, 0, 0, &fd);
	check_ok(!ret && !(fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
		 (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
		 "%s: O_RDONLY gives a read-only fd without close-on-exec", h);
	close(fd);
	ret = alloc_with(heap, PAGE, O_WRONLY, 0, 0, &fd);
	check_ok(!ret && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY,
		 "%s: O_WRONLY gives a write-only fd", h);
	close(fd);
}

/* As syzkaller's description of /dev/dma_heap can call it. */
static void check_syzkaller_shapes(const char *h)
{
	static const int opens[] = {
		O_RDONLY, O_WRONLY, O_RDWR, O_RDWR | O_NONBLOCK, O_RDONLY | O_CLOEXEC,
		O_RDWR | O_SYNC | O_NOCTTY, O_WRONLY | O_APPEND,
	};
	char path[300];
	int heap, fd, ret, live, good = 0;

	snprintf(path, sizeof(path), HEAP_DIR "/%s", h);
	for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
		heap = open(path, opens[i]);
		fd = heap < 0 ? -1 : heap_alloc(heap, PAGE);
		good += fd >= 0;
		if (fd >= 0)
			close(fd);
		if (heap >= 0)
			close(heap);
	}
	check_ok(good == (int)(sizeof(opens) / sizeof(opens[0])),
		 "%s: allocates through the node opened with each of %zu sets of flags (%d did)", h,
		 sizeof(opens) / sizeof(opens[0]), good);
	heap = open(path, O_PATH);
	ret = heap < 0 ? -ENOENT : alloc_with(heap, PAGE, O_RDWR, 0, 0, &fd);
	check_ok(ret == -EBADF, "%s: an O_PATH descriptor of the node cannot allocate (EBADF: %d)", h,
		 ret);
	if (heap >= 0)
		close(heap);

	heap = open(path, O_RDONLY);
	if (heap < 0)
		return;
	for (int acc = 0; acc < 4; acc++)
		for (int cloexec = 0; cloexec < 2; cloexec++) {
			uint32_t flags = acc | (cloexec ? O_CLOEXEC : 0);

			ret = alloc_with(heap, PAGE, flags, 0, 0, &fd);
			check_ok(!ret && !!(fcntl(fd, F_GETFD) & FD_CLOEXEC) == cloexec &&
				       (acc == O_ACCMODE || (fcntl(fd, F_GETFL) & O_ACCMODE) == acc),
				 "%s: fd_flags %#x gives a descriptor with that access mode and close-on-exec %s (%d)",
				 h, flags, cloexec ? "set" : "clear", ret);
			if (!ret)
				close(fd);
		}
	/* The input fd field holds a live descriptor: EINVAL, as any non-zero
	 * input fd (upstream's rule), and the descriptor is left alone. */
	live = dup(heap);
	{
		struct dma_heap_allocation_data d = { .len = PAGE, .fd = live, .fd_flags = O_RDWR };
		int fds = count_fds();

		ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : 0;
		check_ok(ret == -EINVAL && fcntl(live, F_GETFD) >= 0 && count_fds() == fds,
			 "%s: a live descriptor in the input fd field is EINVAL and is left alone (%d)",
			 h, ret);
		if (!ret)
			close(d.fd);
	}
	close(live);
	close(heap);
}

static void check_commands(const char *h, int heap)
{
	struct dma_heap_allocation_data d = { .len = PAGE, .fd_flags = O_RDWR };
	struct alloc_older older = { .len = PAGE, .fd_flags = O_RDWR };
	struct alloc_newer newer = { .d = { .len = PAGE, .fd_flags = O_RDWR } };
	char big[512] = { 0 };
	int before = count_fds(), ret;

	ret = raw_ioctl(heap, _IOWR('H', 0x1, struct dma_heap_allocation_data), &d);
	check_ok(ret == -EINVAL, "%s: ioctl number 1 is EINVAL (got %d)", h, ret);
	ret = raw_ioctl(heap, _IOWR('H', 0xff, struct dma_heap_allocation_data), &d);
	check_ok(ret == -EINVAL, "%s: ioctl number 0xff is EINVAL (got %d)", h, ret);
	ret = raw_ioctl(heap, _IO('H', 0x0), NULL);
	check_ok(ret == -EINVAL, "%s: ALLOC without direction reads nothing: len 0, EINVAL", h);
	ret = raw_ioctl(heap, _IOR('H', 0x0, struct dma_heap_allocation_data), &d);
	check_ok(ret == -EINVAL, "%s: ALLOC without write bit reads nothing: len 0, EINVAL", h);

	d.fd = 0;
	ret = raw_ioctl(heap, _IOWR('X', 0x0, struct dma_heap_allocation_data), &d);
	check_ok(!ret && d.fd > 0, "%s: the type byte is not checked ('X' allocates)", h);
	if (!ret)
		close(d.fd);

	ret = raw_ioctl(heap, _IOWR('H', 0x0, struct alloc_older), &older);
	check_ok(!ret && older.fd > 0 && buf_size(older.fd) == (off_t)PAGE,
		 "%s: an older 16-byte struct allocates", h);
	if (!ret)
		close(older.fd);

	ret = raw_ioctl(heap, _IOWR('H', 0x0, struct alloc_newer), &newer);
	check_ok(!ret && newer.d.fd > 0, "%s: a newer 40-byte struct allocates", h);
	if (!ret)
		close(newer.d.fd);

	memcpy(big, &d, sizeof(d));
	((struct dma_heap_allocation_data *)big)->fd = 0;
	ret = raw_ioctl(heap, _IOWR('H', 0x0, char[512]), big);
	check_ok(!ret && ((struct dma_heap_allocation_data *)big)->fd > 0,
		 "%s: a 512-byte struct (larger than upstream's stack buffer) allocates", h);
	if (!ret)
		close(((struct dma_heap_allocation_data *)big)->fd);

	/* Write bit only: the buffer and its fd exist, but the caller never
	 * learns the number (upstream behaviour). */
	d.fd = 0;
	ret = raw_ioctl(heap, _IOW('H', 0x0, struct dma_heap_allocation_data), &d);
	check_ok(!ret && d.fd == 0 && count_fds() == before + 1,
		 "%s: ALLOC without read bit installs an fd it does not report", h);
	if (!ret)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != heap && fcntl(fd, F_GETFD) >= 0 && buf_size(fd) == (off_t)PAGE) {
				close(fd);
				break;
			}
	check_ok(count_fds() == before, "%s: no fd left behind by the command cases", h);
}

static void check_bad_pointers(const char *h, int heap)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct dma_heap_allocation_data *tail;
	int before = count_fds(), bufs = count_dmabufs(), ret;

	ret = raw_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, NULL);
	check_ok(ret == -EFAULT, "%s: NULL argument is EFAULT", h);
	ret = raw_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, (void *)1);
	check_ok(ret == -EFAULT, "%s: wild pointer is EFAULT", h);

	/* A struct whose last 8 bytes fall in an inaccessible page. */
	mprotect(area + pg, pg, PROT_NONE);
	tail = (void *)(area + pg - 16);
	tail->len = PAGE;
	tail->fd = 0;
	tail->fd_flags = O_RDWR;
	ret = raw_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, tail);
	check_ok(ret == -EFAULT, "%s: a struct with an unreadable tail is EFAULT", h);

	/* Readable but not writable: the buffer is made, then copy-out fails;
	 * both the fd and the buffer must be undone. */
	tail = (void *)area;
	tail->len = PAGE;
	tail->fd = 0;
	tail->fd_flags = O_RDWR;
	mprotect(area, pg, PROT_READ);
	ret = raw_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, tail);
	check_ok(ret == -EFAULT, "%s: a read-only struct is EFAULT on copy-out", h);
	check_ok(count_fds() == before, "%s: failed copy-out leaks no fd", h);
	check_ok(count_dmabufs() == bufs, "%s: failed copy-out leaks no buffer (%d -> %d)",
		 h, bufs, count_dmabufs());
	munmap(area, 2 * pg);
}

static void check_fd_exhaustion(const char *h, int heap)
{
	struct rlimit old, lim;
	int bufs = count_dmabufs(), fd, ret;

	getrlimit(RLIMIT_NOFILE, &old);
	lim = old;
	lim.rlim_cur = count_fds() + 1; /* the next fd number is just out of reach */
	for (fd = 0; fd < (int)lim.rlim_cur; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			break;
	lim.rlim_cur = fd;
	setrlimit(RLIMIT_NOFILE, &lim);
	ret = alloc_with(heap, PAGE, O_RDWR, 0, 0, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	check_ok(ret == -EMFILE, "%s: no free fd is EMFILE (got %d)", h, ret);
	check_ok(count_dmabufs() == bufs, "%s: EMFILE leaks no buffer", h);
}

int main(int argc, char **argv)
{
	int n;

	if (argc > 1 && !strcmp(argv[1], "-u")) {
		upstream_heaps = 1;
		argc--;
		argv++;
	}
	n = argc > 1 ? pick_heaps(argc - 1, argv + 1) : list_heaps();
	ksft_print_header();
	check_ok(n > 0, "heaps to test under " HEAP_DIR " (%d)", n);
	for (int i = 0; i < n; i++) {
		const char *h = heap_names[i];
		int heap = open_heap(h, O_RDONLY);
		int bufs = count_dmabufs(), fds, fd;

		if (!check_ok(heap >= 0, "%s: opens read-only", h))
			continue;
		fds = count_fds();
		fd = heap_alloc(heap, PAGE);
		check_ok(fd >= 0, "%s: allocates on a read-only heap fd", h);
		close(fd);
		check_errno_paths(h, heap);
		check_fd_flags(h, heap);
		check_syzkaller_shapes(h);
		check_commands(h, heap);
		check_bad_pointers(h, heap);
		check_fd_exhaustion(h, heap);
		fd = heap_alloc(heap, PAGE);
		check_ok(fd >= 0, "%s: allocation still works after every error", h);
		close(fd);
		check_ok(count_fds() == fds, "%s: no fd leaked overall", h);
		check_ok(count_dmabufs() == bufs, "%s: no buffer leaked overall (%d -> %d)",
			 h, bufs, count_dmabufs());
		close(heap);
	}
	return finish_checks();
}
