// SPDX-License-Identifier: GPL-2.0
/*
 * The system heap's page pools (memory/page_pool.rs), through their counters
 * in /sys/kernel/debug/rust_dma_heap/system-pool and their limit,
 * /sys/module/rust_dma_heap/parameters/pool_max_kb:
 *   - dropping caches (which runs the shrinker) empties them;
 *   - a released buffer's pages are zeroed by the worker and pooled, all of
 *     them, and the next buffers of every size see only zeros, over and
 *     over (each round writes a pattern before it frees);
 *   - what the pools hand out is what their hit counters say;
 *   - a small buffer released right after the shrinker emptied the pools
 *     is pooled by the releasing thread (the pool kept its room);
 *   - the limit holds, and 0 turns pooling off;
 *   - pages that a driver still holds (the test importer's "pin") after
 *     the buffer's release never enter a pool, and what it writes there
 *     never shows in a buffer; nor do pages a pipe holds through vmsplice()
 *     (get_user_pages(), as direct I/O), which it still reads intact;
 *   - memory pressure (anonymous memory past MemAvailable) makes the
 *     shrinker give pooled pages back;
 *   - a CMA heap's freed buffer is at once available again, whole, and does
 *     not touch the system heap's pools.
 *   heap-pool SYSTEM CMA   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "heaptest.h"

#define POOL_FILE "/sys/kernel/debug/rust_dma_heap/system-pool"
#define MAX_KB "/sys/module/rust_dma_heap/parameters/pool_max_kb"
#define NORDERS 4
#define PAGE 4096UL

struct stats {
	int norders;
	unsigned int order[NORDERS];
	long pages[NORDERS], hits[NORDERS], misses[NORDERS];
	long pooled, pending, max, recycled, referenced, over_max, shrunk, taken, inline_;
};

static bool read_stats(struct stats *s)
{
	FILE *f = fopen(POOL_FILE, "r");
	char line[128], key[64];
	long v;

	memset(s, 0, sizeof(*s));
	s->pooled = -1;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned int o;
		long p, h, m;

		if (sscanf(line, "%u %ld %ld %ld", &o, &p, &h, &m) == 4 && s->norders < NORDERS) {
			s->order[s->norders] = o;
			s->pages[s->norders] = p;
			s->hits[s->norders] = h;
			s->misses[s->norders++] = m;
		} else if (sscanf(line, "%63s %ld", key, &v) == 2) {
			if (!strcmp(key, "pooled_pages"))
				s->pooled = v;
			else if (!strcmp(key, "pending_pages"))
				s->pending = v;
			else if (!strcmp(key, "max_pages"))
				s->max = v;
			else if (!strcmp(key, "recycled_pages"))
				s->recycled = v;
			else if (!strcmp(key, "referenced_pages"))
				s->referenced = v;
			else if (!strcmp(key, "over_max_pages"))
				s->over_max = v;
			else if (!strcmp(key, "shrunk_pages"))
				s->shrunk = v;
			else if (!strcmp(key, "taken_pending_pages"))
				s->taken = v;
			else if (!strcmp(key, "inline_pages"))
				s->inline_ = v;
		}
	}
	fclose(f);
	return s->pooled >= 0;
}

/* Pages the pools handed out, by their hit counters, between @a and @b. */
static long hit_pages(const struct stats *a, const struct stats *b)
{
	long pages = 0;

	for (int i = 0; i < a->norders && i < b->norders; i++)
		pages += (b->hits[i] - a->hits[i]) << b->order[i];
	return pages;
}

/* Waits (up to 60 s: zeroing is slow under emulation) until the worker has
 * nothing queued or in hand. */
static bool settle(struct stats *s)
{
	for (int i = 0; i < 1200; i++) {
		if (read_stats(s) && s->pending == 0)
			return true;
		usleep(50000);
	}
	ksft_print_msg("the worker still has %ld pages pending\n", s->pending);
	return false;
}

/* Empties the pools through the shrinker (drop_caches runs every one). */
static bool drain(struct stats *s)
{
	for (int i = 0; i < 20; i++) {
		write_sysfs("/proc/sys/vm/drop_caches", "2");
		if (settle(s) && (write_sysfs("/proc/sys/vm/drop_caches", "2"), read_stats(s)) &&
		    s->pooled == 0 && s->pending == 0)
			return true;
	}
	return false;
}

static void set_max_kb(long kb)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", kb);
	if (write_sysfs(MAX_KB, v))
		ksft_print_msg("cannot write %s\n", MAX_KB);
}

/* A buffer of @len from @heap, filled with byte @fill (unless 0) and
 * checked to be all zeros first (*zeros, if given). The fd, or -errno. */
static int buffer(int heap, size_t len, int fill, bool *zeros)
{
	int fd = heap_alloc(heap, len);
	unsigned char *p;

	if (fd < 0)
		return fd;
	if (!zeros && !fill)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	if (zeros) {
		const unsigned long *w = (const void *)p;

		*zeros = true;
		for (size_t i = 0; i < len / sizeof(*w); i++)
			if (w[i]) {
				ksft_print_msg("byte %zu of %zu is not zero\n", i * sizeof(*w), len);
				*zeros = false;
				break;
			}
	}
	if (fill)
		memset(p, fill, len);
	munmap(p, len);
	return fd;
}

static const size_t sizes[] = { 4096, 64 << 10, 1 << 20, 8 << 20, 32 << 20 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define SIZES_PAGES ((4096 + (64 << 10) + (1 << 20) + (8 << 20) + (32 << 20)) / PAGE)

static void test_recycling(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 }, s2 = { 0 };
	int fds[NSIZES];
	bool ok;

	set_max_kb(64 << 10);
	check_ok(drain(&s0), "dropping caches (the shrinker) empties the pools (%ld pages left)",
		 s0.pooled);
	for (size_t i = 0; i < NSIZES; i++)
		fds[i] = buffer(heap, sizes[i], 0xa5, NULL);
	for (size_t i = 0; i < NSIZES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ok = settle(&s1);
	check_ok(ok && s1.recycled - s0.recycled == SIZES_PAGES && s1.pooled == SIZES_PAGES,
		 "all %lu pages of 5 freed buffers (4 KiB to 32 MiB) are zeroed into the pools "
		 "(%ld recycled, %ld pooled)",
		 SIZES_PAGES, s1.recycled - s0.recycled, s1.pooled);

	for (int round = 0; round < 3; round++) {
		read_stats(&s1);
		for (size_t i = 0; i < NSIZES; i++) {
			bool zeros = false;

			fds[i] = buffer(heap, sizes[i], 0x5a + round, &zeros);
			check_ok(fds[i] >= 0 && zeros, "round %d: a %zu KiB buffer is all zeros (%d)",
				 round, sizes[i] >> 10, fds[i]);
		}
		read_stats(&s2);
		if (round == 0)
			check_ok(hit_pages(&s1, &s2) > 0 && hit_pages(&s1, &s2) == s1.pooled - s2.pooled,
				 "the hit counters account for every page the pools gave (%ld by hits, "
				 "%ld pooled before, %ld after)",
				 hit_pages(&s1, &s2), s1.pooled, s2.pooled);
		for (size_t i = 0; i < NSIZES; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		settle(&s2);
	}
}

/*
 * An allocation whose pool is empty takes the chunks the worker has not
 * zeroed yet and zeroes them itself: 32 MiB of buffers allocated the moment
 * 32 MiB was released (with empty pools) must be all zeros, whichever of
 * the worker and the allocations zeroed each chunk.
 */
/*
 * A pool the shrinker emptied keeps its small room, so the first 4 KiB
 * buffer released afterwards is zeroed and pooled by the releasing thread:
 * in the pool when close() returns, nothing queued for the worker, and
 * the pools' inline_pages counter says who pooled it. (The
 * first drain may free a room grown past its kept size; the buffer
 * released after it makes the room again.)
 */
static void test_inline_after_drain(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 };
	int fd;

	set_max_kb(64 << 10);
	drain(&s0);
	fd = buffer(heap, 4096, 0x3c, NULL);
	if (fd >= 0)
		close(fd);
	settle(&s0);
	drain(&s0);
	fd = buffer(heap, 4096, 0x3c, NULL);
	if (fd >= 0)
		close(fd);
	read_stats(&s1);
	check_ok(fd >= 0 && s0.pooled == 0 && s1.pooled == 1 && s1.pending == 0 &&
		       s1.recycled - s0.recycled == 1 && s1.inline_ - s0.inline_ == 1,
		 "a 4 KiB buffer released right after the shrinker emptied the pools is pooled "
		 "by the releasing thread (%ld pooled, %ld pending, %ld recycled, %ld of them "
		 "by the releasing thread, when close() returned)",
		 s1.pooled, s1.pending, s1.recycled - s0.recycled, s1.inline_ - s0.inline_);
	settle(&s1);
}

static void test_queued(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 };
	int fds[32];
	bool all = true;

	set_max_kb(64 << 10);
	drain(&s0);
	for (int i = 0; i < 32; i++)
		fds[i] = buffer(heap, 1 << 20, 0xc3, NULL);
	for (int i = 0; i < 32; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < 32; i++) {
		bool zeros = false;

		fds[i] = buffer(heap, 1 << 20, 0, &zeros);
		all = all && fds[i] >= 0 && zeros;
	}
	read_stats(&s1);
	check_ok(all, "32 buffers of 1 MiB allocated right after 32 were freed are all zeros "
		 "(%ld pages taken from the worker's queue and zeroed by the allocation)",
		 s1.taken - s0.taken);
	for (int i = 0; i < 32; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	settle(&s1);
}

static void test_limit(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 };
	bool ok;
	int fd;

	set_max_kb(4096);
	drain(&s0);
	fd = buffer(heap, 32 << 20, 0x11, NULL);
	if (fd >= 0)
		close(fd);
	ok = settle(&s1);
	check_ok(fd >= 0 && ok && s1.max == 1024 && s1.pooled <= 1024 &&
		       s1.pooled + s1.over_max - s0.over_max == 8192,
		 "pool_max_kb=4096: of a freed 32 MiB buffer at most 1024 pages are pooled, the rest "
		 "freed (%ld pooled, %ld over the limit)",
		 s1.pooled, s1.over_max - s0.over_max);

	set_max_kb(0);
	drain(&s0);
	fd = buffer(heap, 8 << 20, 0x22, NULL);
	if (fd >= 0)
		close(fd);
	read_stats(&s1);
	check_ok(fd >= 0 && s1.pending == 0 && s1.pooled == 0 && s1.recycled == s0.recycled,
		 "pool_max_kb=0: a freed buffer is neither queued nor pooled (%ld pending, %ld pooled)",
		 s1.pending, s1.pooled);
	set_max_kb(-1);
	read_stats(&s1);
	check_ok(s1.max == meminfo_kb("MemTotal") / 4 / 16,
		 "pool_max_kb=-1: the limit is a sixteenth of RAM (%ld pages)", s1.max);
}

static void test_pinned(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 };
	bool zeros = true;
	int fd, ret, fds[16];

	set_max_kb(64 << 10);
	drain(&s0);
	fd = buffer(heap, 1 << 20, 0x33, NULL);
	ret = fd < 0 ? fd : importer("attach 0 %d 0", fd);
	if (!ret)
		ret = importer("pin 0");
	importer("detach 0");
	if (fd >= 0)
		close(fd);
	zeros = settle(&s1);
	check_ok(!ret && zeros && s1.referenced - s0.referenced == 256 && s1.pooled == 0,
		 "a freed 1 MiB buffer whose pages a driver still holds is not pooled (%d; %ld "
		 "referenced, %ld pooled)",
		 ret, s1.referenced - s0.referenced, s1.pooled);
	/* The driver writes into the pages it holds; no buffer may show it. */
	importer("pinfill 1234");
	zeros = true;
	for (int i = 0; i < 16; i++) {
		bool z = false;

		fds[i] = buffer(heap, 1 << 20, 0x44, &z);
		zeros = zeros && fds[i] >= 0 && z;
	}
	for (int i = 0; i < 16; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	check_ok(zeros, "16 MiB of new buffers, allocated while the driver writes its pages, are all "
		      "zeros");
	check_ok(importer("unpin") == 0, "the driver lets go of the pages");
	settle(&s1);
	fd = buffer(heap, 1 << 20, 0, &zeros);
	check_ok(fd >= 0 && zeros, "and the next buffer is all zeros");
	if (fd >= 0)
		close(fd);
}

/*
 * vmsplice() takes references on a mapping's pages (get_user_pages(), as
 * direct I/O does) that the pipe keeps after the buffer is gone: those
 * pages must not enter a pool, and what the pipe reads later must still be
 * the buffer's own bytes, neither zeroed nor another buffer's.
 */
static void test_vmsplice(int heap)
{
	size_t len = 1 << 20, spliced = 64 << 10;
	struct stats s0 = { 0 }, s1 = { 0 };
	int fd, pipes[2] = { -1, -1 };
	unsigned char *p, *back = malloc(spliced);
	bool zeros = true, ok;
	ssize_t n = -1;

	set_max_kb(64 << 10);
	drain(&s0);
	fd = heap_alloc(heap, len);
	p = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED && !pipe(pipes)) {
		struct iovec iov = { .iov_base = p, .iov_len = spliced };

		memset(p, 0x77, len);
		n = vmsplice(pipes[1], &iov, 1, 0);
		munmap(p, len);
	}
	if (fd >= 0)
		close(fd);
	check_ok(n == (ssize_t)spliced, "vmsplice() of a system-heap mapping takes its pages (%zd, %s)",
		 n, n < 0 ? strerror(errno) : "ok");
	ok = settle(&s1);
	check_ok(ok && s1.referenced - s0.referenced >= (long)(spliced / PAGE) &&
		       s1.referenced - s0.referenced + s1.recycled - s0.recycled == (long)(len / PAGE),
		 "the freed buffer's chunks the pipe holds are not pooled (%ld referenced, %ld "
		 "recycled)",
		 s1.referenced - s0.referenced, s1.recycled - s0.recycled);
	for (int i = 0; i < 16; i++) {
		bool z = false;
		int f = buffer(heap, 1 << 20, 0x78, &z);

		zeros = zeros && f >= 0 && z;
		if (f >= 0)
			close(f);
	}
	check_ok(zeros, "16 new 1 MiB buffers meanwhile are all zeros");
	n = pipes[0] >= 0 && back ? read(pipes[0], back, spliced) : -1;
	ok = n == (ssize_t)spliced;
	for (size_t i = 0; ok && i < spliced; i++)
		ok = back[i] == 0x77;
	check_ok(ok, "the pipe still reads the freed buffer's own bytes (%zd)", n);
	if (pipes[0] >= 0) {
		close(pipes[0]);
		close(pipes[1]);
	}
	free(back);
}

static void test_pressure(int heap)
{
	struct stats s0 = { 0 }, s1 = { 0 };
	long avail;
	int fd, status;
	pid_t pid;

	set_max_kb(64 << 10);
	drain(&s0);
	fd = buffer(heap, 48 << 20, 0x55, NULL);
	if (fd >= 0)
		close(fd);
	settle(&s0);
	avail = meminfo_kb("MemAvailable");
	pid = fork();
	if (pid == 0) {
		/* 24 MiB past MemAvailable: only the pools can give it. */
		size_t len = (size_t)(avail + (24 << 10)) << 10;
		char *p;

		set_oom_score_adj(1000);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		for (size_t i = 0; i < len; i += PAGE)
			p[i] = 1;
		_exit(0);
	}
	status = -1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	read_stats(&s1);
	check_ok(s0.pooled == 12288 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		       s1.shrunk > s0.shrunk,
		 "anonymous memory past MemAvailable (%ld MiB) gets pooled pages back through the "
		 "shrinker (%ld of %ld pooled pages shrunk; status %d)",
		 avail >> 10, s1.shrunk - s0.shrunk, s0.pooled, status);
	set_max_kb(-1);
}

static void test_cma(const char *name)
{
	int heap = open_heap(name, O_RDONLY), fd;
	long cma_kb = meminfo_kb("CmaTotal");
	size_t len = (size_t)cma_kb * 1024 / 4 * 3 & ~(PAGE - 1);
	struct stats s0 = { 0 }, s1 = { 0 };
	bool again = true;

	if (!check_ok(heap >= 0 && cma_kb > 0, "%s: opens (CmaTotal %ld kB)", name, cma_kb))
		return;
	/* CmaTotal counts every area: the largest buffer the heap's own area
	 * gives, from 3/4 of all of them down. */
	for (; len >= (1 << 20); len = len / 2 & ~(PAGE - 1)) {
		fd = heap_alloc(heap, len);
		if (fd >= 0) {
			close(fd);
			break;
		}
	}
	ksft_print_msg("%s: %zu MiB buffers\n", name, len >> 20);
	read_stats(&s0);
	for (int i = 0; i < 4; i++) {
		fd = buffer(heap, len, 0x66, NULL);
		again = again && fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	read_stats(&s1);
	check_ok(again && len >= (1 << 20),
		 "%s: a buffer of %zu MiB (the largest of 3/4, 3/8... of CmaTotal it gives), freed, "
		 "can be allocated again at once, four times",
		 name, len >> 20);
	check_ok(s1.recycled == s0.recycled && s1.pending == 0,
		 "%s: its buffers do not go through the system heap's pools", name);
	close(heap);
}

int main(int argc, char **argv)
{
	struct stats s = { 0 };
	int heap;

	if (argc < 3) {
		fprintf(stderr, "usage: heap-pool SYSTEM CMA\n");
		return 2;
	}
	ksft_print_header();
	heap = open_heap(argv[1], O_RDONLY);
	if (!check_ok(heap >= 0, "%s: opens", argv[1]))
		finish_checks();
	check_ok(read_stats(&s) && s.norders == 3 && s.order[0] == 8 && s.order[1] == 4 &&
		       s.order[2] == 0,
		 "%s lists pools of orders 8, 4 and 0", POOL_FILE);
	test_recycling(heap);
	test_inline_after_drain(heap);
	test_queued(heap);
	test_limit(heap);
	test_pinned(heap);
	test_vmsplice(heap);
	test_pressure(heap);
	test_cma(argv[2]);
	set_max_kb(-1);
	close(heap);
	check_pages_exact("the pools' tests");
	finish_checks();
}
