// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: several processes, each with several threads, allocate,
 * map, touch, sync, import into vgem and free on every heap at once, for a
 * bounded time, while heap-stress.sh keeps trying to unload and reload the
 * module. Heap nodes may vanish and come back meanwhile (open fails with
 * ENOENT or ENXIO); every other failure must be ENOMEM. At the end every
 * buffer is gone.
 *   heap-stress PROCESSES THREADS SECONDS [MODULE.ko]
 * With MODULE.ko, a process of its own keeps unloading the module: it asks
 * the workers to pause between operations, holding nothing, and once they
 * all have (or 20 s have passed) tries rmmod and lets them go again. After
 * an unload it waits (15 seconds at most) until a worker has found the
 * module gone, then loads it again while they run. (A pause asked for
 * rather than one at fixed times: on the debug kernel an operation can take
 * longer than any fixed pause, and the workers were then never all idle at
 * once.) Asserted: unloads happened,
 * operations found the module gone (and only with ENOENT, ENXIO or
 * ENODEV), every reload worked and brought the heaps back, the module is
 * loaded and allocates at the end, and every page is back.
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

/* See the check that uses it, at the end of main(). */
#define STRESS_PAGE_TOLERANCE 32

/* What the module logs when it is unloaded holding pages (stats/ledger.rs). */
#define NEVER_GIVEN_BACK "rust_dma_heap: pages never given back"

struct counts {
	long ops, enomem, gone, bad, bad_errno;
};

static struct counts *shared;	/* one slot per process, in shared memory */
static int nheaps, seconds, procs;

/* The unloader's figures and the pause handshake, in shared memory. */
static struct unloader {
	long attempts, unloads, reloads, reload_failed, heaps_missing, waited_out, pauses_timed_out;
	int stop;
	int pause;	/* set by the unloader: workers, stop between operations */
	int active;	/* workers still running */
	int paused;	/* workers stopped at the pause */
} *unl;

static long gone_so_far(void)
{
	long g = 0;

	for (int p = 0; p < procs; p++)
		g += __atomic_load_n(&shared[p].gone, __ATOMIC_RELAXED);
	return g;
}

static void unloader(const char *module)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "insmod %s", module);
	sleep(1);	/* let the workers find the heaps first */
	while (!__atomic_load_n(&unl->stop, __ATOMIC_RELAXED)) {
		int i, unloaded;

		__atomic_store_n(&unl->pause, 1, __ATOMIC_SEQ_CST);
		for (i = 0; i < 2000 && __atomic_load_n(&unl->paused, __ATOMIC_SEQ_CST) <
					   __atomic_load_n(&unl->active, __ATOMIC_SEQ_CST); i++)
			usleep(10000);
		unl->pauses_timed_out += i == 2000;
		unl->attempts++;
		unloaded = system("rmmod rust_dma_heap 2>/dev/null") == 0;
		__atomic_store_n(&unl->pause, 0, __ATOMIC_SEQ_CST);
		if (unloaded) {
			long g = gone_so_far();

			unl->unloads++;
			/* Up to 15 s: on the debug kernel under load one
			 * worker's round can take seconds (3 s ran out once). */
			for (i = 0; i < 1500 && gone_so_far() == g; i++)
				usleep(10000);
			unl->waited_out += i == 1500;
			if (system(cmd) == 0)
				unl->reloads++;
			else
				unl->reload_failed++;
			if (access(HEAP_DIR "/system", F_OK))
				unl->heaps_missing++;
		}
		usleep(300000);	/* work that races with the reload */
	}
	_exit(0);
}

static void *worker(void *arg)
{
	struct counts *c = arg;
	unsigned int seed = (unsigned int)(uintptr_t)arg ^ (unsigned int)time(NULL);
	int vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	time_t end = time(NULL) + seconds;

	__atomic_fetch_add(&unl->active, 1, __ATOMIC_SEQ_CST);
	while (time(NULL) < end) {
		/* The unloader's pause: wait here, holding nothing. */
		if (__atomic_load_n(&unl->pause, __ATOMIC_SEQ_CST)) {
			__atomic_fetch_add(&unl->paused, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&unl->pause, __ATOMIC_SEQ_CST) && time(NULL) < end)
				usleep(2000);
			__atomic_fetch_sub(&unl->paused, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		const char *name = heap_names[rand_r(&seed) % nheaps];
		size_t len = 4096 * (1 + rand_r(&seed) % 256);
		int heap = open_heap(name, O_RDONLY), fd;
		void *p;


		__atomic_fetch_add(&c->ops, 1, __ATOMIC_RELAXED);
		if (heap < 0) {
			if (errno == ENOENT || errno == ENXIO || errno == ENODEV) {
				__atomic_fetch_add(&c->gone, 1, __ATOMIC_RELAXED);
				usleep(1000);	/* leave the CPU to the reload */
			} else
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
	__atomic_fetch_sub(&unl->active, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	const char *module = argc > 4 ? argv[4] : NULL;
	long ops = 0, enomem = 0, gone = 0, bad = 0, pages0;
	int bufs0 = count_dmabufs(), status, unheld0 = klog_count(NEVER_GIVEN_BACK), unheld;
	bool exited = true;
	pid_t unloader_pid = -1;

	procs = argc > 1 ? atoi(argv[1]) : 3;
	seconds = argc > 3 ? atoi(argv[3]) : 10;
	ksft_print_header();
	/* Every kernel here has vgem (base.config): the workers' imports must
	 * not be skipped in silence.
	 */
	check_ok(access("/dev/dri/card0", R_OK | W_OK) == 0, "vgem is there to import into");
	nheaps = list_heaps();
	if (!check_ok(nheaps > 0, "%d heaps to stress", nheaps))
		return finish_checks();
	free_pages_settled(NULL);
	pages0 = free_pages_baseline();
	shared = mmap(NULL, sizeof(*shared) * procs, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(shared, 0, sizeof(*shared) * procs);
	unl = mmap(NULL, sizeof(*unl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(unl, 0, sizeof(*unl));
	if (module) {
		unloader_pid = fork();
		if (unloader_pid == 0)
			unloader(module);
	}
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
		while (wait(&status) == unloader_pid)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ksft_print_msg("a process ended with status %#x\n", status);
		exited &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	for (int p = 0; p < procs; p++) {
		ops += shared[p].ops;
		enomem += shared[p].enomem;
		gone += shared[p].gone;
		bad += shared[p].bad;
		if (shared[p].bad)
			ksft_print_msg("process %d: unexpected errno %ld\n", p, shared[p].bad_errno);
	}
	check_ok(exited, "%d processes x %d threads ran for %d s and exited cleanly", procs, threads,
		 seconds);
	check_ok(bad == 0, "%ld operations: %ld ENOMEM, %ld found the module away, %ld unexpected",
		 ops, enomem, gone, bad);
	if (module) {
		char cmd[512];
		int fd, heap;

		__atomic_store_n(&unl->stop, 1, __ATOMIC_RELAXED);
		waitpid(unloader_pid, &status, 0);
		ksft_print_msg("unloader: %ld attempts, %ld unloads, %ld reloads, %ld reloads failed, %ld waits for a worker ran out, %ld pauses timed out\n",
			       unl->attempts, unl->unloads, unl->reloads, unl->reload_failed,
			       unl->waited_out, unl->pauses_timed_out);
		check_ok(unl->unloads > 0, "the module was unloaded under load (%ld times)", unl->unloads);
		check_ok(gone > 0, "operations found the module gone (%ld), with ENOENT, ENXIO or ENODEV only",
			 gone);
		check_ok(unl->reloads == unl->unloads && unl->reload_failed == 0 &&
			 unl->heaps_missing == 0,
			 "every reload worked and brought the heaps back (%ld of %ld)", unl->reloads,
			 unl->unloads);
		snprintf(cmd, sizeof(cmd), "grep -q '^rust_dma_heap ' /proc/modules || insmod %s", module);
		system(cmd);
		heap = open_heap("system", O_RDONLY);
		fd = heap < 0 ? -errno : heap_alloc(heap, 1 << 20);
		check_ok(fd >= 0, "the module is loaded and allocates after the stress (%d)", fd);
		if (fd >= 0)
			close(fd);
		if (heap >= 0)
			close(heap);
	}
	check_ok(bufs0 >= 0 && count_dmabufs() == bufs0,
		 "every buffer is gone at the end (%d -> %d; -1: the count could not be read)", bufs0,
		 count_dmabufs());
	/*
	 * Loading a module maps it in fresh vmalloc space and builds its sysfs
	 * and kallsyms anew: after a dozen reloads the free-page count was up
	 * to ~30 pages lower even without this module's code in the way
	 * (2026-12-02: 4 to 31 pages over 21 runs), hence 64 then. Nearly all
	 * of it is slab and kernel stacks, which pages_missing() now allows
	 * for: on 2026-12-07 five runs left 0, 1, -15 (arm64) and 0, 0
	 * (x86_64) pages unaccounted, out of 12 to 41 fewer free. What is
	 * left (the kernel's page tables for the fresh module space, which
	 * 6.12 counts nowhere) gets 32. A leak per operation or per reload
	 * (thousands of operations, a dozen reloads: hundreds of pages for a
	 * 4 KiB one) still shows; one 64 KiB chunk lost once is heap-fuzz's
	 * and heap-faults' to catch, which reload nothing.
	 */
	check_ok(pages_missing(pages0, STRESS_PAGE_TOLERANCE) == 0,
		 "every page comes back (within %d pages: module reloads move the count)",
		 STRESS_PAGE_TOLERANCE);
	/*
	 * Exactly, by the module's own count: the ledger of the module loaded
	 * now, and every unload's (an unload that finds pages never given back
	 * says so in the log, and the next load starts from zero).
	 */
	unheld = klog_count(NEVER_GIVEN_BACK);
	check_ok(pages_held_exact("after the stress") && unheld0 >= 0 && unheld == unheld0,
		 "every page the module still holds is pooled, exactly (its page ledger), and no unload left a page behind (%d reports)",
		 unheld - unheld0);
	printf("# figures: operations=%ld unloads=%ld\n", ops, unl->unloads);
	return finish_checks();
}
