// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: several processes, each with several threads, allocate,
 * map, touch, sync, import into vgem and free on every heap at once, for a
 * bounded time, while heap-stress.sh keeps trying to unload and reload the
 * module. Heap nodes may vanish and come back meanwhile (open fails with
 * ENOENT or ENXIO); every other failure must be ENOMEM. At the end every
 * buffer is gone.
 *   heap-stress PROCESSES THREADS SECONDS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

struct counts {
	long ops, enomem, gone, bad, bad_errno;
};

static struct counts *shared;	/* one slot per process, in shared memory */
static int nheaps, seconds;

static void *worker(void *arg)
{
	struct counts *c = arg;
	unsigned int seed = (unsigned int)(uintptr_t)arg ^ (unsigned int)time(NULL);
	int vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end) {
		struct timespec now;

		/* Every half second all workers pause together for a moment,
		 * holding nothing, so that the unloader gets its chances and
		 * the work that follows races with the reload. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_nsec / 1000000 % 500 < 100) {
			usleep(10000);
			continue;
		}
		const char *name = heap_names[rand_r(&seed) % nheaps];
		size_t len = 4096 * (1 + rand_r(&seed) % 256);
		int heap = open_heap(name, O_RDONLY), fd;
		void *p;


		__atomic_fetch_add(&c->ops, 1, __ATOMIC_RELAXED);
		if (heap < 0) {
			if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
				__atomic_fetch_add(&c->gone, 1, __ATOMIC_RELAXED);
			else
				c->bad++, c->bad_errno = errno;
			continue;
		}
		fd = heap_alloc(heap, len);
		close(heap);
		if (fd < 0) {
			if (fd == -ENOMEM)
				__atomic_fetch_add(&c->enomem, 1, __ATOMIC_RELAXED);
			else
				c->bad++, c->bad_errno = -fd;
			continue;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

			ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
			memset(p, 0x5a, 64);
			((volatile char *)p)[len - 1] = 1;
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
			if (rand_r(&seed) % 2) {
				munmap(p, len);	/* else: the mapping outlives the fd */
				p = MAP_FAILED;
			}
		}
		if (vgem >= 0 && rand_r(&seed) % 3 == 0) {
			struct drm_prime_handle h = { .fd = fd };

			if (!ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h)) {
				struct drm_gem_close g = { .handle = h.handle };

				ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &g);
			}
		}
		close(fd);
		if (p != MAP_FAILED)
			munmap(p, len);
	}
	if (vgem >= 0)
		close(vgem);
	return NULL;
}

int main(int argc, char **argv)
{
	int procs = argc > 1 ? atoi(argv[1]) : 3, threads = argc > 2 ? atoi(argv[2]) : 2;
	long ops = 0, enomem = 0, gone = 0, bad = 0;
	int bufs0 = count_dmabufs();
	bool exited = true;

	seconds = argc > 3 ? atoi(argv[3]) : 10;
	tap_header();
	nheaps = list_heaps();
	if (!tap_ok(nheaps > 0, "%d heaps to stress", nheaps))
		return tap_finish();
	shared = mmap(NULL, sizeof(*shared) * procs, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(shared, 0, sizeof(*shared) * procs);
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			pthread_t t[16];

			for (int i = 0; i < threads && i < 16; i++)
				pthread_create(&t[i], NULL, worker, &shared[p]);
			for (int i = 0; i < threads && i < 16; i++)
				pthread_join(t[i], NULL);
			_exit(0);
		}
	}
	for (int p = 0; p < procs; p++) {
		int status;

		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			tap_diag("a process ended with status %#x", status);
		exited &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	for (int p = 0; p < procs; p++) {
		ops += shared[p].ops;
		enomem += shared[p].enomem;
		gone += shared[p].gone;
		bad += shared[p].bad;
		if (shared[p].bad)
			tap_diag("process %d: unexpected errno %ld", p, shared[p].bad_errno);
	}
	tap_ok(exited, "%d processes x %d threads ran for %d s and exited cleanly", procs, threads,
	       seconds);
	tap_ok(bad == 0, "%ld operations: %ld ENOMEM, %ld found the module away, %ld unexpected",
	       ops, enomem, gone, bad);
	tap_ok(count_dmabufs() == bufs0 || count_dmabufs() < 0,
	       "every buffer is gone at the end (%d -> %d)", bufs0, count_dmabufs());
	printf("# figures: operations=%ld\n", ops);
	return tap_finish();
}
