// SPDX-License-Identifier: GPL-2.0
/*
 * Heap benchmark: the same program runs on a kernel with upstream's C heaps
 * and on one with rust_dma_heap, and prints one line per measurement:
 *
 *   BENCH <row> <heap> <param> <unit> <value> <samples>
 *
 * where <value> is the median over <samples> repetitions in this boot
 * (microseconds, or MiB/s for throughput rows). tools/testing/bench/run
 * boots both kernels in turns and compares the medians of these medians.
 * Nothing here judges a figure: this is a measurement, not a test.
 *
 *   heap-bench [--zeroing-only] [--only ROW,...] SYSTEM_HEAP CMA_HEAP
 *
 * --only runs the rows named (as in the BENCH lines) and no other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <drm/drm.h>

#define KiB (1024UL)
#define MiB (1024UL * 1024)
#define MAX_SAMPLES 400
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The value below which a fraction @p of the @n samples lie (sorts @v). */
static double percentile(double *v, int n, double p)
{
	int i = (int)(p * n);

	qsort(v, n, sizeof(*v), cmp_double);
	return v[i < n ? i : n - 1];
}

static void report(const char *row, const char *heap, const char *param, const char *unit,
		   double *v, int n)
{
	if (n == 0) {
		printf("BENCH %s %s %s %s failed 0\n", row, heap, param, unit);
	} else {
		printf("BENCH %s %s %s %s %.1f %d\n", row, heap, param, unit, median(v, n), n);
	}
	fflush(stdout);
}

static const char *size_name(size_t len)
{
	static char buf[32];

	if (len >= MiB)
		snprintf(buf, sizeof(buf), "%luM", len / MiB);
	else
		snprintf(buf, sizeof(buf), "%luK", len / KiB);
	return buf;
}

static int heap_open(const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int heap_alloc(int heap, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

/* Repetitions for a size: enough for a median, bounded in time. */
static int reps_for(size_t len)
{
	if (len <= 64 * KiB)
		return 200;
	if (len <= MiB)
		return 60;
	if (len <= 8 * MiB)
		return 20;
	if (len <= 32 * MiB)
		return 9;
	return 5;
}

static void bench_alloc_close(const char *heap_name, int heap, size_t len)
{
	double v[MAX_SAMPLES];
	int n = 0, reps = reps_for(len);

	for (int i = 0; i < reps; i++) {
		double t = now_us();
		int fd = heap_alloc(heap, len);

		if (fd < 0)
			break;
		close(fd);
		v[n++] = now_us() - t;
	}
	report("alloc+close", heap_name, size_name(len), "us", v, n);
}

/* A "KEY: N kB" line of /proc/meminfo, in kB; -1 if unreadable. */
static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(key);
	char line[128];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* SUnreclaim + VmallocUsed, in kB: the kernel memory a heap's buffers keep
 * (their lists and tables, the dma-buf, its file); -1 if unreadable. */
static long kernel_kb(void)
{
	long slab = meminfo_kb("SUnreclaim"), vmalloc = meminfo_kb("VmallocUsed");

	return slab < 0 || vmalloc < 0 ? -1 : slab + vmalloc;
}

/* Kernel memory per live buffer: @count buffers of @len held at once. */
static void bench_kmem(const char *heap_name, int heap, size_t len, int count)
{
	double v[MAX_SAMPLES];
	int fds[1000], n = 0;

	for (int rep = 0; rep < 3 && count <= 1000; rep++) {
		long before = kernel_kb(), after;
		int got = 0;

		for (; got < count; got++) {
			fds[got] = heap_alloc(heap, len);
			if (fds[got] < 0)
				break;
		}
		after = kernel_kb();
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (got < count || before < 0 || after < 0)
			break;
		v[n++] = (after - before) * 1024.0 / count;
	}
	report("kmem-per-buffer", heap_name, size_name(len), "B", v, n);
}

/*
 * rust_dma_heap's system heap keeps freed pages in pools, zeroed by a worker
 * (/sys/kernel/debug/rust_dma_heap/system-pool). Waits until that worker is
 * idle. Both kernels sleep at least once here (upstream's heaps have no
 * such file, and nothing to wait for), so that the timed allocation after
 * it starts from an idle CPU on both: waking from idle costs hundreds of
 * microseconds under TCG, and must not be charged to one side only.
 */
static void pools_idle(void)
{
	usleep(5000);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen("/sys/kernel/debug/rust_dma_heap/system-pool", "r");
		char line[128];
		long pending = 0;

		if (!f)
			return;
		while (fgets(line, sizeof(line), f))
			sscanf(line, "pending_pages %ld", &pending);
		fclose(f);
		if (!pending)
			return;
		usleep(5000);
	}
}

/* Empties the pools (drop_caches runs their shrinker); on upstream's heaps
 * this only drops the page cache, as it does on ours. */
static void pools_drain(void)
{
	int fd;

	pools_idle();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "2", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

/*
 * alloc+close with the pools in a known state before each repetition:
 * cold (emptied: every page from the buddy allocator, zeroed on the way)
 * or warm (the previous buffer of the same size freed and its pages zeroed
 * back into the pools). The same steps run on upstream's heaps.
 */
static void bench_alloc_close_pools(const char *heap_name, int heap, size_t len, bool warm)
{
	double v[MAX_SAMPLES];
	int n = 0, reps = reps_for(len);

	if (reps > 20)
		reps = 20;
	for (int i = 0; i < reps; i++) {
		double t;
		int fd;

		if (warm) {
			fd = heap_alloc(heap, len);
			if (fd < 0)
				break;
			close(fd);
			pools_idle();
		} else {
			pools_drain();
		}
		t = now_us();
		fd = heap_alloc(heap, len);
		if (fd < 0)
			break;
		close(fd);
		v[n++] = now_us() - t;
	}
	report(warm ? "alloc+close-warm" : "alloc+close-cold", heap_name, size_name(len), "us", v,
	       n);
}

static void bench_mmap_touch(const char *heap_name, int heap, size_t len)
{
	double v[MAX_SAMPLES];
	int n = 0, reps = reps_for(len);
	int fd = heap_alloc(heap, len);

	for (int i = 0; fd >= 0 && i < reps; i++) {
		double t = now_us();
		volatile uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			break;
		for (size_t off = 0; off < len; off += 4096)
			p[off] = (uint8_t)i;
		munmap((void *)p, len);
		v[n++] = now_us() - t;
	}
	if (fd >= 0)
		close(fd);
	report("mmap+touch", heap_name, size_name(len), "us", v, n);
}

static int open_vgem(void)
{
	for (int i = 0; i < 16; i++) {
		char path[64], name[16] = "";
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

static int vgem_import(int vgem, int buf, uint32_t *handle)
{
	struct drm_prime_handle h = { .fd = buf };

	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h))
		return -errno;
	*handle = h.handle;
	return 0;
}

static void vgem_close(int vgem, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c);
}

static void bench_import(const char *heap_name, int heap, int vgem, size_t len)
{
	double v[MAX_SAMPLES];
	int n = 0, fd = heap_alloc(heap, len);

	for (int i = 0; fd >= 0 && vgem >= 0 && i < reps_for(len) * 2; i++) {
		uint32_t handle = 0;
		double t = now_us();

		if (vgem_import(vgem, fd, &handle))
			break;
		vgem_close(vgem, handle);
		v[n++] = now_us() - t;
	}
	if (fd >= 0)
		close(fd);
	report("vgem-import+close", heap_name, size_name(len), "us", v, n);
}

static int dbuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/* SYNC_START|RW + SYNC_END|RW with one device (vgem) or two (rdh_dmadir). */
static void bench_sync(const char *heap_name, int heap, int vgem, int devices)
{
	size_t len = 8 * MiB;
	double v[MAX_SAMPLES];
	int n = 0, fd = heap_alloc(heap, len);
	uint32_t handle = 0;
	bool ready = false;
	char param[16], cmd[64];

	if (fd >= 0 && devices == 1 && vgem >= 0)
		ready = !vgem_import(vgem, fd, &handle);
	if (fd >= 0 && devices == 2) {
		snprintf(cmd, sizeof(cmd), "%d 0 0", fd);
		ready = !write_str("/sys/kernel/debug/rdh_dmadir/attach", cmd);
	}
	for (int i = 0; ready && i < 200; i++) {
		double t = now_us();

		if (dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) ||
		    dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
			break;
		v[n++] = now_us() - t;
	}
	if (ready && devices == 1)
		vgem_close(vgem, handle);
	if (ready && devices == 2)
		write_str("/sys/kernel/debug/rdh_dmadir/detach", "1");
	if (fd >= 0)
		close(fd);
	snprintf(param, sizeof(param), "%ddev-8M", devices);
	report("sync-start+end", heap_name, param, "us", v, n);
}

/* A gralloc-like frame loop: three 1080p XRGB8888 buffers and four small
 * ones per frame, each frame's buffers freed three frames later. */
#define FRAME_BUFS 7
#define RING 3
static const size_t frame_sizes[FRAME_BUFS] = { 8294400, 8294400, 8294400,
						 64 * KiB, 64 * KiB, 16 * KiB, 16 * KiB };
struct churn {
	int heap;
	double seconds;
	double mib;
	bool failed;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	int ring[RING][FRAME_BUFS];
	double start = now_us(), bytes = 0;
	long frame = 0;

	memset(ring, -1, sizeof(ring));
	while (now_us() - start < c->seconds * 1e6) {
		int *slot = ring[frame % RING];

		for (int b = 0; b < FRAME_BUFS; b++) {
			if (slot[b] >= 0)
				close(slot[b]);
			slot[b] = heap_alloc(c->heap, frame_sizes[b]);
			if (slot[b] < 0) {
				c->failed = true;
				goto out;
			}
			bytes += frame_sizes[b];
		}
		frame++;
	}
out:
	for (int f = 0; f < RING; f++)
		for (int b = 0; b < FRAME_BUFS; b++)
			if (ring[f][b] >= 0)
				close(ring[f][b]);
	c->mib = bytes / MiB / ((now_us() - start) / 1e6);
	return NULL;
}

static void bench_churn(const char *heap_name, int heap, int threads)
{
	double v[MAX_SAMPLES];
	int n = 0;
	char param[16];

	for (int rep = 0; rep < 3; rep++) {
		struct churn c[2] = { { .heap = heap, .seconds = 1.5 },
				      { .heap = heap, .seconds = 1.5 } };
		pthread_t t[2];
		double total = 0;
		bool failed = false;

		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, churn_thread, &c[i]);
		for (int i = 0; i < threads; i++) {
			pthread_join(t[i], NULL);
			total += c[i].mib;
			failed |= c[i].failed;
		}
		if (failed)
			break;
		v[n++] = total;
	}
	snprintf(param, sizeof(param), "%dthread", threads);
	report("churn", heap_name, param, "MiB/s", v, n);
}

/* A camera's capture buffers: N 4 MiB buffers freed and allocated again. */
static void bench_camera(const char *heap_name, int heap)
{
	enum { N = 4 };
	double v[MAX_SAMPLES];
	int n = 0, fds[N];

	for (int i = 0; i < N; i++)
		fds[i] = heap_alloc(heap, 4 * MiB);
	for (int rep = 0; rep < 20; rep++) {
		double t = now_us();
		bool ok = true;

		for (int i = 0; i < N; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = heap_alloc(heap, 4 * MiB);
			ok &= fds[i] >= 0;
		}
		if (!ok)
			break;
		v[n++] = (now_us() - t) / N;
	}
	for (int i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	report("camera-4x4M", heap_name, "per-buffer", "us", v, n);
}

/* The floor of any allocator that zeroes when it allocates. */
static void bench_memset(void)
{
	size_t len = 32 * MiB;
	double v[MAX_SAMPLES];
	int n = 0;
	uint8_t *p = malloc(len);

	if (p) {
		memset(p, 1, len);
		for (int rep = 0; rep < 9; rep++) {
			double t = now_us();

			memset(p, rep, len);
			__asm__ volatile("" : : "r"(p) : "memory");
			v[n++] = len / (double)MiB / ((now_us() - t) / 1e6);
		}
		free(p);
	}
	report("memset", "-", "32M", "MiB/s", v, n);
}

/* Loading a file into a buffer: read() through the page cache, and
 * O_DIRECT straight into the buffer's mapping. */
/* A zram block device of @mib MiB, for direct I/O; its number, or -1. */
static int zram_add(int mib)
{
	char path[64], v[32];
	int id = -1, f = open("/sys/class/zram-control/hot_add", O_RDONLY | O_CLOEXEC);

	if (f >= 0) {
		ssize_t n = read(f, v, sizeof(v) - 1);

		if (n > 0) {
			v[n] = 0;
			id = atoi(v);
		}
		close(f);
	}
	if (id < 0)
		return -1;
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", id);
	snprintf(v, sizeof(v), "%dM", mib);
	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0 || write(f, v, strlen(v)) != (ssize_t)strlen(v))
		id = -1;
	if (f >= 0)
		close(f);
	return id;
}

static void zram_remove(int id)
{
	char v[16];
	int f = open("/sys/class/zram-control/hot_remove", O_WRONLY | O_CLOEXEC);

	snprintf(v, sizeof(v), "%d", id);
	if (f >= 0) {
		if (write(f, v, strlen(v)) < 0)
			perror("zram hot_remove");
		close(f);
	}
}

/*
 * 256 MiB read from a zram block device into an mmap of a system-heap
 * buffer, in 4 MiB reads: with read() through the page cache (emptied
 * before each repetition) and with O_DIRECT, which needs the mapping's
 * pages to be ordinary pages ("failed" where it is refused).
 */
static void bench_file_read(const char *heap_name, int heap)
{
	size_t len = 256 * MiB, chunk = 4 * MiB;
	double v[2][MAX_SAMPLES];
	int n[2] = { 0, 0 }, fd = heap_alloc(heap, len), dev = -1, id = zram_add(272);
	char path[32];
	uint8_t *p = MAP_FAILED;

	snprintf(path, sizeof(path), "/dev/zram%d", id);
	if (id >= 0)
		dev = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (dev >= 0 && p != MAP_FAILED) {
		/* Data as a model file would have: not all zeros (zram stores a
		 * page of one repeated word as nothing at all). */
		for (size_t i = 0; i < len / 4; i++)
			((uint32_t *)p)[i] = (uint32_t)i * 2654435761u;
		for (size_t off = 0; off < len; off += chunk)
			if (pwrite(dev, p + off, chunk, off) != (ssize_t)chunk)
				break;
		fsync(dev);
		for (int mode = 0; mode < 2; mode++) {
			for (int rep = 0; rep < 3; rep++) {
				int f, dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
				size_t off = 0;
				double t;

				if (dc >= 0) {
					if (write(dc, "1", 1) != 1)
						perror("drop_caches");
					close(dc);
				}
				f = open(path, O_RDONLY | O_CLOEXEC | (mode ? O_DIRECT : 0));
				t = now_us();
				if (f < 0)
					break;
				while (off < len) {
					ssize_t r = read(f, p + off, chunk);

					if (r <= 0)
						break;
					off += r;
				}
				close(f);
				if (off < len)
					break;
				v[mode][n[mode]++] = now_us() - t;
			}
		}
	}
	if (p != MAP_FAILED)
		munmap(p, len);
	if (fd >= 0)
		close(fd);
	if (dev >= 0)
		close(dev);
	if (id >= 0)
		zram_remove(id);
	report("blockdev-read-256M", heap_name, "read", "us", v[0], n[0]);
	report("blockdev-read-256M", heap_name, "O_DIRECT", "us", v[1], n[1]);
}

/* The rows --only names, separated by commas; NULL for every row. */
static const char *only;

static bool want(const char *row)
{
	size_t n = strlen(row);

	for (const char *p = only; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (!strncmp(p, row, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return !only;
}

/* One figure measured once (already a median or a total). */
static void report_one(const char *row, const char *heap, const char *param, const char *unit,
		       double value, bool ok)
{
	report(row, heap, param, unit, &value, ok ? 1 : 0);
}

struct threads_arg {
	int heap;
	size_t len;
	int reps;
	bool failed;
};

static void *alloc_close_thread(void *arg)
{
	struct threads_arg *t = arg;

	for (int i = 0; i < t->reps; i++) {
		int fd = heap_alloc(t->heap, t->len);

		if (fd < 0) {
			t->failed = true;
			break;
		}
		close(fd);
	}
	return NULL;
}

/*
 * alloc+close from @threads threads at once, each @reps times: the wall
 * time over the number of buffers, so lower is better and a path that
 * scales shows its time divided by the threads (this machine has 2 CPUs).
 */
static void bench_threads(const char *heap_name, int heap, size_t len, int threads)
{
	enum { REPS = 300 };
	double v[MAX_SAMPLES];
	int n = 0;
	char param[64];

	for (int rep = 0; rep < 5; rep++) {
		struct threads_arg a[4];
		pthread_t t[4];
		bool failed = false;
		double start = now_us();

		int started = 0;

		for (; started < threads && started < 4; started++) {
			a[started] = (struct threads_arg){ heap, len, REPS, false };
			if (pthread_create(&t[started], NULL, alloc_close_thread, &a[started]))
				break;
		}
		failed = started < threads;
		for (int i = 0; i < started; i++) {
			pthread_join(t[i], NULL);
			failed |= a[i].failed;
		}
		if (failed)
			break;
		v[n++] = (now_us() - start) / (threads * REPS);
	}
	snprintf(param, sizeof(param), "%s-%dthread", size_name(len), threads);
	report("alloc+close-threads", heap_name, param, "us", v, n);
}

/*
 * alloc+close of 4 KiB buffers while @live others are held: what each
 * buffer the system already has costs a new one (lists, trees, counters).
 */
static void bench_live(const char *heap_name, int heap, int live)
{
	struct rlimit old, rl = { live + 256, live + 256 };
	double v[MAX_SAMPLES];
	int *fds = calloc(live, sizeof(*fds)), got = 0, n = 0;
	bool raised = false;
	char param[24];

	if (fds && !getrlimit(RLIMIT_NOFILE, &old)) {
		if (old.rlim_max > rl.rlim_max)
			rl.rlim_max = old.rlim_max;
		raised = !setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (raised) {
		for (; got < live; got++) {
			fds[got] = heap_alloc(heap, 4 * KiB);
			if (fds[got] < 0)
				break;
		}
	}
	for (int i = 0; got == live && i < 200; i++) {
		double t = now_us();
		int fd = heap_alloc(heap, 4 * KiB);

		if (fd < 0)
			break;
		close(fd);
		v[n++] = now_us() - t;
	}
	for (int i = 0; i < got; i++)
		close(fds[i]);
	free(fds);
	if (raised)
		setrlimit(RLIMIT_NOFILE, &old);
	snprintf(param, sizeof(param), "4K-%dk", live / 1000);
	report("alloc+close-live", heap_name, param, "us", v, n);
}

/*
 * A paced frame loop: the churn row's gralloc mix (three 1080p XRGB8888
 * buffers and four small ones per frame, each frame's buffers freed three
 * frames later) at @hz frames a second for 2 s, each allocation after the
 * first six frames timed. A frame's deadline is what matters there, so the
 * row is the latency of one allocation at the median and at the 99th
 * percentile, and how many of the frames overran their period (the next
 * one then starts late, not early: a loop that cannot keep the pace is not
 * measured as churn).
 */
static void bench_frame_loop(const char *heap_name, int heap, int hz)
{
	/* The first frames free nothing yet: a loop's start, not its steady
	 * state, and as many allocations as the p99 is made of at 60 Hz. */
	enum { SECONDS = 2, WARMUP = 2 * RING, MAX = 240 * SECONDS * FRAME_BUFS };
	static double v[MAX];
	int ring[RING][FRAME_BUFS], n = 0, frames = hz * SECONDS;
	long period_ns = 1000000000L / hz;
	struct timespec next, now;
	int missed = 0;
	bool failed = false;
	char param[24];

	memset(ring, -1, sizeof(ring));
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int f = 0; f < frames && !failed; f++) {
		int *slot = ring[f % RING];

		for (int b = 0; b < FRAME_BUFS; b++) {
			double t;

			if (slot[b] >= 0)
				close(slot[b]);
			t = now_us();
			slot[b] = heap_alloc(heap, frame_sizes[b]);
			if (slot[b] < 0) {
				failed = true;
				break;
			}
			if (f >= WARMUP)
				v[n++] = now_us() - t;
		}
		next.tv_nsec += period_ns;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* A frame that overran its period missed its deadline: the next
		 * starts now, not early to catch up (which would be churn). */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec)) {
			missed++;
			next = now;
		} else {
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
	}
	for (int f = 0; f < RING; f++)
		for (int b = 0; b < FRAME_BUFS; b++)
			if (ring[f][b] >= 0)
				close(ring[f][b]);
	snprintf(param, sizeof(param), "%dHz-p50", hz);
	report_one("frame-loop", heap_name, param, "us", failed ? 0 : percentile(v, n, 0.5),
		   !failed);
	snprintf(param, sizeof(param), "%dHz-p99", hz);
	report_one("frame-loop", heap_name, param, "us", failed ? 0 : percentile(v, n, 0.99),
		   !failed);
	snprintf(param, sizeof(param), "%dHz-missed", hz);
	report_one("frame-loop", heap_name, param, "frames", missed, !failed);
}

/*
 * Memory a heap holds once its buffers are gone: 64 MiB allocated and freed
 * in 1 MiB buffers, the heap left idle, then what MemFree lacks against
 * before (held), how long drop_caches (which runs the pools' shrinker)
 * takes, and what is still lacking after it.
 */
static void bench_idle_memory(const char *heap_name, int heap)
{
	enum { BUFS = 64 };
	int fds[BUFS], got = 0, fd;
	long before, held, after;
	bool shrunk;
	double t;

	pools_drain();
	pools_idle();
	before = meminfo_kb("MemFree");
	for (; got < BUFS; got++) {
		fds[got] = heap_alloc(heap, MiB);
		if (fds[got] < 0)
			break;
	}
	for (int i = 0; i < got; i++)
		close(fds[i]);
	pools_idle();
	usleep(200000);
	held = before - meminfo_kb("MemFree");
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	t = now_us();
	shrunk = fd >= 0 && write(fd, "2", 1) == 1;
	t = now_us() - t;
	if (fd >= 0)
		close(fd);
	after = before - meminfo_kb("MemFree");
	report_one("idle-memory", heap_name, "held", "KiB", held, got == BUFS && before > 0);
	report_one("idle-memory", heap_name, "shrink", "us", t, got == BUFS && shrunk);
	report_one("idle-memory", heap_name, "after-shrink", "KiB", after,
		   got == BUFS && before > 0 && shrunk);
}

#define IMPORTER_CTL "/sys/kernel/debug/rdh_importer/ctl"

/*
 * Rows through the test importer (rdh_importer.ko), a driver that maps
 * what it imports on every kernel: each is one command repeated @reps
 * times inside the kernel, timed from here and divided by @reps. With no
 * @setup, @fmt gets the buffer's fd and @reps; else @setup gets the fd
 * (it attaches the buffer in slot 0) and @fmt only @reps.
 */
static void bench_importer(const char *row, const char *heap_name, int heap, size_t len,
			   const char *param, const char *setup, const char *fmt, int reps)
{
	double v[MAX_SAMPLES];
	int n = 0, fd;
	char cmd[96];
	bool ready;

	if (!want(row))
		return;
	fd = heap_alloc(heap, len);
	ready = fd >= 0;
	if (ready && setup) {
		snprintf(cmd, sizeof(cmd), setup, fd);
		ready = !write_str(IMPORTER_CTL, cmd);
	}
	for (int rep = 0; ready && rep < 7; rep++) {
		double t;

		if (setup)
			snprintf(cmd, sizeof(cmd), fmt, reps);
		else
			snprintf(cmd, sizeof(cmd), fmt, fd, reps);
		t = now_us();
		if (write_str(IMPORTER_CTL, cmd))
			break;
		v[n++] = (now_us() - t) / reps;
	}
	if (ready && setup)
		write_str(IMPORTER_CTL, "detach 0");
	if (fd >= 0)
		close(fd);
	report(row, heap_name, param, "us", v, n);
}

static void bench_importer_rows(const char *heap_name, int heap)
{
	struct { size_t len; int reps; } s[] = { { MiB, 200 }, { 32 * MiB, 20 } };

	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		const char *size = size_name(s[i].len);
		char param[64];

		/* Device 0: no segment limit, 64-bit DMA. */
		bench_importer("importer-attach+map", heap_name, heap, s[i].len, size, NULL,
			       "cycle %d 0 %d 0", s[i].reps);
		/* Device 1: 64 KiB segments, 32-bit DMA (below 4 GiB here). */
		snprintf(param, sizeof(param), "%s-seg64K", size);
		bench_importer("importer-attach+map", heap_name, heap, s[i].len, param, NULL,
			       "cycle %d 1 %d 0", s[i].reps);
		/* Unmap and map again on an attachment that stays. */
		bench_importer("unmap+map-attached", heap_name, heap, s[i].len, size,
			       "attach 0 %d 0", "mapcycle 0 %d", s[i].reps);
		bench_importer("vmap+vunmap", heap_name, heap, s[i].len, size, NULL,
			       "vmap %d %d", s[i].reps);
	}
}

int main(int argc, char **argv)
{
	size_t sys_sizes[] = { 4 * KiB, 64 * KiB, MiB, 8 * MiB, 32 * MiB, 128 * MiB };
	size_t cma_sizes[] = { 4 * KiB, 64 * KiB, MiB, 8 * MiB, 32 * MiB };
	bool zeroing_only = false;
	int sys, cma, vgem;

	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "--zeroing-only")) {
			zeroing_only = true;
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "--only")) {
			only = argv[2];
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc != 3) {
		fprintf(stderr, "usage: heap-bench [--zeroing-only] [--only ROW,...] SYSTEM_HEAP CMA_HEAP\n");
		return 2;
	}
	sys = heap_open(argv[1]);
	cma = heap_open(argv[2]);
	vgem = open_vgem();
	printf("BENCH-START heaps=%s,%s vgem=%s\n", sys >= 0 ? "ok" : "missing",
	       cma >= 0 ? "ok" : "missing", vgem >= 0 ? "ok" : "missing");
	if (sys < 0 || cma < 0)
		return 1;

	if (want("memset"))
		bench_memset();
	for (size_t i = 0; want("alloc+close") && i < ARRAY_SIZE(sys_sizes); i++)
		bench_alloc_close("system", sys, sys_sizes[i]);
	for (size_t i = 0; want("alloc+close-cold") && i < ARRAY_SIZE(sys_sizes); i++)
		bench_alloc_close_pools("system", sys, sys_sizes[i], false);
	for (size_t i = 0; want("alloc+close-warm") && i < ARRAY_SIZE(sys_sizes); i++)
		bench_alloc_close_pools("system", sys, sys_sizes[i], true);
	for (size_t i = 0; want("alloc+close") && i < ARRAY_SIZE(cma_sizes); i++)
		bench_alloc_close("cma", cma, cma_sizes[i]);
	if (want("churn")) {
		bench_churn("system", sys, 1);
		bench_churn("system", sys, 2);
	}
	if (want("camera-4x4M"))
		bench_camera("cma", cma);
	for (int t = 1; want("alloc+close-threads") && t <= 4; t *= 2) {
		bench_threads("system", sys, 4 * KiB, t);
		bench_threads("system", sys, 64 * KiB, t);
	}
	if (want("frame-loop")) {
		bench_frame_loop("system", sys, 60);
		bench_frame_loop("system", sys, 120);
	}
	if (!zeroing_only) {
		for (size_t i = 0; want("mmap+touch") && i < ARRAY_SIZE(sys_sizes); i++)
			bench_mmap_touch("system", sys, sys_sizes[i]);
		for (size_t i = 0; want("mmap+touch") && i < ARRAY_SIZE(cma_sizes); i++)
			bench_mmap_touch("cma", cma, cma_sizes[i]);
		if (want("vgem-import+close")) {
			bench_import("system", sys, vgem, MiB);
			bench_import("system", sys, vgem, 32 * MiB);
			bench_import("cma", cma, vgem, MiB);
			bench_import("cma", cma, vgem, 32 * MiB);
		}
		if (want("sync-start+end")) {
			bench_sync("system", sys, vgem, 1);
			bench_sync("system", sys, vgem, 2);
			bench_sync("cma", cma, vgem, 1);
			bench_sync("cma", cma, vgem, 2);
		}
		if (want("kmem-per-buffer")) {
			bench_kmem("system", sys, 4 * KiB, 1000);
			bench_kmem("system", sys, MiB, 200);
			bench_kmem("system", sys, 32 * MiB, 16);
			bench_kmem("cma", cma, MiB, 16);
		}
		bench_importer_rows("system", sys);
		bench_importer_rows("cma", cma);
		if (want("alloc+close-live")) {
			bench_live("system", sys, 1000);
			bench_live("system", sys, 50000);
		}
		if (want("idle-memory"))
			bench_idle_memory("system", sys);
		if (want("blockdev-read-256M"))
			bench_file_read("system", sys);
	}
	printf("BENCH-DONE\n");
	return 0;
}
