// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation under fault injection: with failslab and fail_page_alloc
 * firing at random inside this test's own system calls (task-filter and
 * /proc/self/make-it-fail; their defaults skip sleeping, highmem and
 * order-0 allocations, which are what heaps make, so those filters are
 * off), every heap call either works or fails with ENOMEM: never another
 * error, never a crash, never a half-made buffer. Afterwards every buffer
 * is gone and the next calls work.
 *   heap-faults [OPS]   (run by heap-faults.sh, which sets up debugfs)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

struct tally {
	long ops, ok, enomem, other, other_errno[8];
};

static void make_it_fail(int on)
{
	int fd = open("/proc/self/make-it-fail", O_WRONLY);

	if (fd >= 0) {
		write(fd, on ? "1" : "0", 1);
		close(fd);
	}
}

static void note(struct tally *t, int ret)
{
	t->ops++;
	if (ret >= 0)
		t->ok++;
	else if (ret == -ENOMEM)
		t->enomem++;
	else if (t->other < 8)
		t->other_errno[t->other++] = -ret;
	else
		t->other++;
}

static unsigned int seed = 7;
static unsigned int rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

static void child(struct tally *t, int *heaps, int nheaps, int vgem, long ops)
{
	char stack[65536];

	/* Fault injection must not hit this process's own page faults. */
	memset(stack, 0, sizeof(stack));
	mlockall(MCL_CURRENT | MCL_FUTURE);
	make_it_fail(1);
	for (long i = 0; i < ops; i++) {
		size_t len = 4096 * (1 + rnd() % 300);
		int fd = heap_alloc(heaps[rnd() % nheaps], len);

		note(t, fd);
		if (fd < 0)
			continue;
		if (rnd() % 2) {
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			note(t, p == MAP_FAILED ? -errno : 0);
			if (p != MAP_FAILED) {
				((volatile char *)p)[len - 1] = 1;
				munmap(p, len);
			}
		}
		if (vgem >= 0 && rnd() % 4 == 0) {
			struct drm_prime_handle h = { .fd = fd };

			note(t, ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h) ? -errno : 0);
			if (h.handle) {
				struct drm_gem_close c = { .handle = h.handle };

				ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c);
			}
		}
		if (rnd() % 2) {
			struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

			note(t, ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0);
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
		}
		close(fd);
	}
	make_it_fail(0);
	_exit(0);
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? strtol(argv[1], NULL, 0) : 2000;
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int heaps[MAX_HEAPS], n = list_heaps(), bufs0 = count_dmabufs(), status = -1;
	int vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	bool after = true;
	pid_t pid;

	tap_header();
	for (int i = 0; i < n; i++)
		heaps[i] = open_heap(heap_names[i], O_RDONLY);
	memset(t, 0, sizeof(*t));
	pid = fork();
	if (pid == 0)
		child(t, heaps, n, vgem, ops);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the process under fault injection finished (status %#x)", status);
	tap_ok(t->ops > 0 && t->other == 0,
	       "%ld calls: %ld worked, %ld failed with ENOMEM, %ld otherwise%s", t->ops, t->ok,
	       t->enomem, t->other, t->other ? " (see below)" : "");
	for (long i = 0; i < t->other && i < 8; i++)
		tap_diag("unexpected errno %ld", t->other_errno[i]);
	tap_ok(t->enomem > 0, "faults were injected into heap calls (%ld ENOMEM)", t->enomem);
	tap_ok(count_dmabufs() == bufs0, "no buffer is left behind (%d -> %d)", bufs0, count_dmabufs());
	for (int i = 0; i < n; i++) {
		int fd = heap_alloc(heaps[i], 1 << 20);

		after &= fd >= 0;
		close(fd);
	}
	tap_ok(after, "every heap allocates normally afterwards");
	printf("# figures: operations=%ld enomem=%ld\n", t->ops, t->enomem);
	return tap_finish();
}
