// SPDX-License-Identifier: GPL-2.0
/*
 * CMA heaps: each name allocates physically contiguous, aligned, zeroed
 * buffers from the right CMA area, refuses private mappings, runs out with
 * ENOMEM and recovers its exact capacity, and leaks no space over many
 * mixed-size cycles.
 *   heap-cma HEAP=AREA...               e.g. linux,cma=reserved
 *   heap-cma --camera HEAP=AREA BYTES   the camera guarantee (see below)
 * AREA is the CMA area behind the heap, as named in /sys/kernel/debug/cma/.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "heaptest.h"

#define PAGE 4096UL
#define MAX_BUFS 4096

static unsigned long cma_stat(const char *area, const char *file)
{
	char path[512];
	unsigned long v = ~0UL;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/cma/%s/%s", area, file);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = ~0UL;
		fclose(f);
	}
	return v;
}

/*
 * An area's allocation bitmap from debugfs: one bit per 2^order_per_bit
 * pages, set where cma_alloc() handed pages out. (Frames of a heap mapping
 * cannot be read from /proc/self/pagemap: it skips VM_PFNMAP mappings.)
 */
static int read_bitmap(const char *area, uint32_t *words, int max)
{
	char path[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/cma/%s/bitmap", area);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fscanf(f, "%u", &words[n]) == 1)
		n++;
	fclose(f);
	return n;
}

/* Where @fd's allocation landed: the first bit and the number of bits newly
 * set since @before, which must form one run. Returns false otherwise. */
static bool new_run(const char *area, const uint32_t *before, int words, long *first, long *bits)
{
	static uint32_t now[1 << 16];
	long end = -1;

	*first = -1;
	*bits = 0;
	if (read_bitmap(area, now, words) != words)
		return false;
	for (long b = 0; b < (long)words * 32; b++) {
		bool was = before[b / 32] >> (b % 32) & 1, is = now[b / 32] >> (b % 32) & 1;

		if (was || !is)
			continue;
		if (*first < 0)
			*first = b;
		else if (b != end + 1)
			return false; /* a second run: not contiguous */
		end = b;
		(*bits)++;
	}
	return *first >= 0;
}

static unsigned int align_pages(size_t len)
{
	unsigned int order = 0;

	while ((PAGE << order) < len)
		order++;
	return 1u << (order > 8 ? 8 : order);
}

static void test_placement(const char *heap_name, const char *area, int heap)
{
	static const size_t sizes[] = { PAGE, 16 * PAGE, 256 * PAGE + PAGE, 1000 * PAGE };
	static uint32_t before[1 << 16];
	unsigned long base = cma_stat(area, "base_pfn"), opb = cma_stat(area, "order_per_bit");
	bool contiguous = true, aligned = true, sized = true, allocated = true;
	int words = read_bitmap(area, before, 1 << 16);

	if (!check_ok(words > 0, "%s: area %s has an allocation bitmap in debugfs", heap_name, area))
		return;
	for (unsigned int s = 0; s < 4; s++) {
		long first, bits;
		int fd;

		read_bitmap(area, before, words);
		fd = heap_alloc(heap, sizes[s]);
		if (fd < 0) {
			allocated = false;
			continue;
		}
		if (!new_run(area, before, words, &first, &bits)) {
			contiguous = false;
		} else {
			unsigned long pfn = base + (first << opb);

			sized &= (unsigned long)bits << opb == (sizes[s] + PAGE - 1) / PAGE;
			aligned &= pfn % align_pages(sizes[s]) == 0;
		}
		close(fd);
	}
	check_ok(allocated, "%s: buffers of 4 KiB to 4 MiB allocate", heap_name);
	check_ok(contiguous, "%s: each buffer is one contiguous run of area %s", heap_name, area);
	check_ok(sized, "%s: each run is exactly the buffer's pages", heap_name);
	check_ok(aligned, "%s: each buffer is aligned as upstream aligns (size order, at most 2^8 pages)",
		 heap_name);
}

static void test_mappings(const char *heap_name, int heap)
{
	int fd = heap_alloc(heap, 4 * PAGE);
	struct dma_heap_allocation_data ro = { .len = 4 * PAGE, .fd_flags = O_RDONLY | O_CLOEXEC };
	void *p;

	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check_ok(p == MAP_FAILED && errno == EINVAL, "%s: a private mapping is refused (EINVAL)", heap_name);
	close(fd);
	ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &ro);
	p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, ro.fd, 0);
	check_ok(p != MAP_FAILED && ((char *)p)[4 * PAGE - 1] == 0,
		 "%s: a read-only buffer maps shared for reading", heap_name);
	if (p != MAP_FAILED)
		munmap(p, 4 * PAGE);
	close(ro.fd);
}

/* Allocates @len buffers until ENOMEM; returns how many (fds in @fds). */
static int fill(int heap, size_t len, int *fds, int *last_err)
{
	int n = 0;

	while (n < MAX_BUFS) {
		int fd = heap_alloc(heap, len);

		if (fd < 0) {
			*last_err = fd;
			break;
		}
		fds[n++] = fd;
	}
	return n;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_exhaustion(const char *heap_name, const char *area, int heap)
{
	static int fds[MAX_BUFS];
	unsigned long used0 = cma_stat(area, "used"), count = cma_stat(area, "count");
	int err = 0, n, again;

	n = fill(heap, 1 << 20, fds, &err);
	check_ok(n > 0 && err == -ENOMEM && (unsigned long)n * 256 <= count,
		 "%s: 1 MiB buffers until ENOMEM: %d of them (area: %lu pages)", heap_name, n, count);
	close_all(fds, n);
	check_ok(cma_stat(area, "used") == used0, "%s: the area's use is back to %lu pages", heap_name, used0);
	again = fill(heap, 1 << 20, fds, &err);
	check_ok(again == n && err == -ENOMEM, "%s: exactly as many fit again (%d)", heap_name, again);
	close_all(fds, again);
}

static unsigned int rnd(void)
{
	static unsigned int x = 12345;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static bool mixed_cycles(int heap, const char *area, int cycles)
{
	unsigned long used0 = cma_stat(area, "used");
	int live[8], nlive = 0;

	for (int c = 0; c < cycles; c++) {
		if (nlive == 8 || (nlive && rnd() % 2)) {
			int i = rnd() % nlive;

			close(live[i]);
			live[i] = live[--nlive];
		} else {
			size_t len = PAGE * (1 + rnd() % 1024);
			int fd = heap_alloc(heap, len);

			if (fd >= 0)
				live[nlive++] = fd;
		}
	}
	close_all(live, nlive);
	ksft_print_msg("used %lu pages before, %lu after %d cycles\n", used0, cma_stat(area, "used"), cycles);
	return cma_stat(area, "used") == used0;
}

/*
 * Touches anonymous (movable) memory until the CMA areas' free pages
 * (nr_free_cma: the default area is held by the hog, so these are the
 * camera's) have dropped by @want pages, or @max_bytes are touched; tells
 * the parent the drop through @ready, then holds the pages until killed.
 */
static void movable_filler(long want, size_t max_bytes, int ready)
{
	long cma0 = vmstat("nr_free_cma"), dropped = 0;
	size_t chunk = 1 << 20, done = 0;

	set_oom_score_adj(1000);
	while (done < max_bytes && dropped < want) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		for (size_t i = 0; i < chunk; i += PAGE)
			p[i] = 1;
		done += chunk;
		dropped = cma0 - vmstat("nr_free_cma");
	}
	write(ready, &dropped, sizeof(dropped));
	for (;;)
		pause();
}

/*
 * The camera guarantee: with R bytes reserved for the camera and buffers of
 * S bytes (A bytes once aligned), floor(R / A) buffers can be had while
 * another process holds all the system-heap memory it can get (leaving the
 * kernel the headroom it needs to migrate movable pages out of the
 * region) and the whole default CMA area, and a third has filled a
 * quarter of the region with movable pages (which the allocation must
 * migrate out); after freeing, exactly as many again; 1000 mixed cycles
 * leave the region's use where it started.
 */
static void test_camera(const char *heap_name, const char *area, size_t size)
{
	static int fds[MAX_BUFS];
	size_t pages = (size + PAGE - 1) / PAGE, align = align_pages(size);
	size_t a_bytes = (pages + align - 1) / align * align * PAGE;
	size_t region = cma_stat(area, "count") * PAGE, want = region / a_bytes;
	int heap = open_heap(heap_name, O_RDONLY), ready[2], moved[2], err = 0, n, again;
	long dropped = 0;
	pid_t hog, filler;
	char c;

	if (pipe(ready))
		return;
	hog = fork();
	if (hog == 0) {
		int sys = open_heap("system", O_RDONLY), def = open_heap("linux,cma", O_RDONLY);
		long held = 0;

		set_oom_score_adj(1000);
		/* All the system memory it can get, but the last 48 MiB (the
		 * kernel's reserve and room to migrate movable pages). */
		while (meminfo_kb("MemAvailable") - meminfo_kb("CmaFree") > 48 * 1024 &&
		       heap_alloc(sys, 4 << 20) >= 0)
			held += 4;
		while (heap_alloc(def, 1 << 20) >= 0)
			held++;
		fprintf(stderr, "# the other process holds %ld MiB\n", held);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &c, 1);
	if (pipe(moved))
		return;
	filler = fork();
	if (filler == 0)
		movable_filler(region / PAGE / 4, region, moved[1]);
	close(moved[1]);
	if (read(moved[0], &dropped, sizeof(dropped)) != sizeof(dropped))
		dropped = -1;
	check_ok(dropped >= (long)(region / PAGE / 4),
		 "%s: movable pages fill a quarter of the region first (nr_free_cma fell by %ld pages of %zu)",
		 heap_name, dropped, region / PAGE);
	n = fill(heap, size, fds, &err);
	check_ok((size_t)n >= want,
		 "%s: floor(R/A) = floor(%zu/%zu) = %zu buffers of %zu bytes while another process holds all it can (%d)",
		 heap_name, region, a_bytes, want, size, n);
	close_all(fds, n);
	again = fill(heap, size, fds, &err);
	check_ok(again == n, "%s: after freeing, exactly as many again (%d)", heap_name, again);
	close_all(fds, again);
	check_ok(mixed_cycles(heap, area, 1000), "%s: 1000 mixed-size cycles leave no space behind", heap_name);
	kill(hog, SIGKILL);
	waitpid(hog, NULL, 0);
	kill(filler, SIGKILL);
	waitpid(filler, NULL, 0);
	close(heap);
}

int main(int argc, char **argv)
{
	ksft_print_header();
	if (argc == 4 && !strcmp(argv[1], "--camera")) {
		char *area = strchr(argv[2], '=');

		*area++ = 0;
		test_camera(argv[2], area, strtoul(argv[3], NULL, 0));
		return finish_checks();
	}
	for (int i = 1; i < argc; i++) {
		char *heap_name = argv[i], *area = strchr(argv[i], '=');
		int heap;

		*area++ = 0;
		heap = open_heap(heap_name, O_RDONLY);
		if (!check_ok(heap >= 0, "%s: /dev/dma_heap/%s exists and opens", heap_name, heap_name))
			continue;
		test_placement(heap_name, area, heap);
		test_mappings(heap_name, heap);
		test_exhaustion(heap_name, area, heap);
		check_ok(mixed_cycles(heap, area, 200), "%s: 200 mixed-size cycles leave no space behind",
			 heap_name);
		close(heap);
		check_pages_exact(heap_name);
	}
	return finish_checks();
}
