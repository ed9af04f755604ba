// SPDX-License-Identifier: GPL-2.0
/*
 * One buffer used from several threads and devices at once: on each heap,
 * a buffer holding a known pattern is, concurrently,
 *   - attached, mapped, checked through the DMA addresses, unmapped and
 *     detached by the test importer on its device 0 (64-bit DMA mask) and,
 *     in another thread, on its device 1 (32-bit mask, 64 KiB segments),
 *   - held attached and mapped (a slot per device) and checked there,
 *   - bracketed with begin/end_cpu_access by the kernel,
 *   - vmapped and vunmapped by the kernel,
 *   - imported into vgem and closed there (a second importer),
 *   - synced and read through mmap from userspace,
 *   - described by reads of the module's debugfs list of live buffers,
 *     while other buffers of the heap are allocated, mapped and freed.
 * Every call must work, every view must show the pattern, and afterwards
 * the buffer is intact, and no buffer or page is left behind.
 *   heap-concurrent ITERATIONS BYTES HEAP...   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

#define SEED 0x5eed1234u

/*
 * Ten threads at once leave the free-page count ~13 pages either way from
 * run to run (vmalloc page tables, slabs, per-CPU lists), more than the
 * 12 pages heap-fuzz and heap-faults allow. Every path here runs
 * ITERATIONS (20 or 100) times, so a leak on any of them is that many times
 * its size, and one of the buffer (273 pages) is far past this.
 */
#define CONCURRENT_TOLERANCE 32

static int buf_fd, vgem, iterations;
static size_t len;
static uint32_t *map;

struct job {
	const char *what;
	int (*fn)(struct job *j);
	int arg, errors, first_error;
	pthread_t thread;
};

static int cycle(struct job *j)
{
	return importer("cycle %d %d 1 %u", buf_fd, j->arg, SEED);
}

static int hold(struct job *j)
{
	int ret = importer("attach %d %d %d", j->arg, buf_fd, j->arg);

	if (ret)
		return ret;
	ret = importer("check %d %u", j->arg, SEED);
	importer("detach %d", j->arg);
	return ret;
}

static int ksync(struct job *j)
{
	return importer("sync %d 1", buf_fd);
}

static int kvmap(struct job *j)
{
	return importer("vmap %d 1", buf_fd);
}

static int vgem_import(struct job *j)
{
	struct drm_prime_handle h = { .fd = buf_fd };
	struct drm_gem_close c;

	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h))
		return -errno;
	c = (struct drm_gem_close){ .handle = h.handle };
	return ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c) ? -errno : 0;
}

static int user_read(struct job *j)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	int ret = 0;

	if (ioctl(buf_fd, DMA_BUF_IOCTL_SYNC, &s))
		return -errno;
	for (size_t i = 0; i < len / 4; i += 1021)
		if (map[i] != pattern_word(i, SEED))
			ret = -EIO;
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	if (ioctl(buf_fd, DMA_BUF_IOCTL_SYNC, &s) && !ret)
		ret = -errno;
	return ret;
}

/* A read of the live buffers' debugfs file, which describes the buffer
 * while the others use it. */
static int bufinfo(struct job *j)
{
	static __thread char text[64 * 1024];
	int fd = open("/sys/kernel/debug/rust_dma_heap/buffers", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, text, sizeof(text))) > 0)
		;
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Other buffers of the same heap, mapped and freed, so that releases race
 * the reads of the list. */
static int churn(struct job *j)
{
	int fd = heap_alloc(j->arg, 65536);
	void *p;

	if (fd < 0)
		return fd;
	p = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	munmap(p, 65536); /* the buffer's last reference */
	return 0;
}

static void *run(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < iterations; i++) {
		int ret = j->fn(j);

		if (ret && !j->errors++)
			j->first_error = ret;
	}
	return NULL;
}

/* Runs every job in a thread of its own, @n times each, all at once. */
static void run_jobs(struct job *jobs, unsigned int njobs, int n)
{
	iterations = n;
	for (unsigned int i = 0; i < njobs; i++) {
		jobs[i].errors = 0;
		pthread_create(&jobs[i].thread, NULL, run, &jobs[i]);
	}
	for (unsigned int i = 0; i < njobs; i++)
		pthread_join(jobs[i].thread, NULL);
}

static void one_heap(const char *name, int n)
{
	struct job jobs[] = {
		{ "attach/map/check/unmap/detach on device 0", cycle, 0 },
		{ "attach/map/check/unmap/detach on device 1", cycle, 1 },
		{ "a held mapping on device 0 (slot 0)", hold, 0 },
		{ "a held mapping on device 1 (slot 1)", hold, 1 },
		{ "kernel begin/end_cpu_access", ksync, 0 },
		{ "kernel vmap/vunmap", kvmap, 0 },
		{ "vgem import and close", vgem_import, 0 },
		{ "userspace sync and read through mmap", user_read, 0 },
		{ "reading the live buffers in debugfs", bufinfo, 0 },
		{ "other buffers allocated, mapped and freed", churn, -1 },
	};
	int heap = open_heap(name, O_RDONLY), bufs0 = count_dmabufs();
	long pages0;
	bool intact = true;

	if (!check_ok(heap >= 0, "%s: heap opens", name))
		return;
	jobs[sizeof(jobs) / sizeof(jobs[0]) - 1].arg = heap;
	/* The same run, on a buffer of its own, before free pages are
	 * counted: the first uses set up memory that stays (slabs, vgem's
	 * caches, the page tables of the vmalloc addresses the vmaps reach
	 * before a lazy purge); a single round of each job leaves the
	 * measured run ~10 pages of such growth, too close to a leak. */
	buf_fd = heap_alloc(heap, len);
	map = buf_fd < 0 ? MAP_FAILED :
	      mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	if (map != MAP_FAILED) {
		for (size_t i = 0; i < len / 4; i++)
			map[i] = pattern_word(i, SEED);
		/* In threads, as below: the C library keeps their stacks. */
		run_jobs(jobs, sizeof(jobs) / sizeof(jobs[0]), n);
		munmap(map, len);
	}
	close(buf_fd);
	free_pages_settled(NULL);
	pages0 = free_pages_baseline();
	buf_fd = heap_alloc(heap, len);
	map = buf_fd < 0 ? MAP_FAILED :
	      mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	if (!check_ok(map != MAP_FAILED, "%s: a buffer of %zu bytes, mapped", name, len)) {
		close(heap);
		return;
	}
	for (size_t i = 0; i < len / 4; i++)
		map[i] = pattern_word(i, SEED);
	run_jobs(jobs, sizeof(jobs) / sizeof(jobs[0]), n);
	for (unsigned int i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		check_ok(jobs[i].errors == 0, "%s: %s, %d times at once with the others: %d failed (first: %d)",
			 name, jobs[i].what, iterations, jobs[i].errors, jobs[i].first_error);
	for (size_t i = 0; i < len / 4; i++)
		intact &= map[i] == pattern_word(i, SEED);
	check_ok(intact, "%s: the buffer still holds its pattern", name);
	munmap(map, len);
	close(buf_fd);
	close(heap);
	check_ok(count_dmabufs() == bufs0, "%s: no buffer is left behind (%d -> %d)", name, bufs0,
		 count_dmabufs());
	check_ok(pages_missing(pages0, CONCURRENT_TOLERANCE) == 0, "%s: every page comes back", name);
	check_ok(pages_held_exact(name),
		 "%s: every page the module still holds is pooled, exactly (its page ledger)", name);
}

int main(int argc, char **argv)
{
	ksft_print_header();
	if (argc < 4) {
		check_ok(0, "usage: heap-concurrent ITERATIONS BYTES HEAP...");
		return finish_checks();
	}
	len = strtoul(argv[2], NULL, 0);
	vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	check_ok(vgem >= 0 && importer("sync -1 0") == -EBADF,
		 "vgem and the test importer are there");
	for (int h = 3; h < argc; h++)
		one_heap(argv[h], atoi(argv[1]));
	printf("# figures: operations=%d\n", atoi(argv[1]) * 10 * (argc - 3));
	return finish_checks();
}
