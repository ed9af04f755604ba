// SPDX-License-Identifier: GPL-2.0
/*
 * Each heap's figures and limit in sysfs
 * (Documentation/ABI/testing/sysfs-class-dma_heap-rust):
 *   - the files are there, read as numbers, and only max_bytes is writable,
 *     by root alone;
 *   - bytes and buffers follow what this program allocates and frees, also
 *     when another process or a mapping holds the last reference; peak_bytes
 *     is never below them;
 *   - an allocation past max_bytes fails with ENOMEM, is counted in
 *     failed_limit, and leaves the figures as they were; a limit below what
 *     is allocated now is accepted and stops new allocations only; 0 lifts
 *     it;
 *   - two processes racing to fill a limit never overshoot it, together;
 *   - a CMA allocation larger than every area fails with ENOMEM and is
 *     counted in failed_nomem;
 *   - bad writes to max_bytes (not a number, negative, over 64 bits) are
 *     refused with EINVAL or ERANGE and change nothing;
 *   - an alias of a heap shows that heap's figures;
 *   - with --trace (kernels with ftrace), the rust_dma_heap:heap_alloc and
 *     heap_free tracepoints fire once per allocation and per release, with
 *     the heap, the length, the result and a time;
 *   - the system heap shows pool_bytes (0 once drop_caches has run the
 *     pools' shrinker, 1 MiB once a 1 MiB buffer's pages are zeroed back
 *     in), the CMA heap does not; with --region (kernels that tell a CMA
 *     area's size) the CMA heap shows region_bytes, no more than CmaTotal,
 *     and a buffer one page larger gets ENOMEM; the system heap never shows
 *     region_bytes.
 *
 *   heap-accounting [--trace] [--region] SYSTEM_HEAP CMA_HEAP [ALIAS_OF_CMA_HEAP]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "heaptest.h"

#define MiB (1024 * 1024ULL)
#define NOBODY 65534

static const char *const files[] = {
	"bytes", "buffers", "peak_bytes", "max_bytes",
	"failed_nomem", "failed_limit", "failed_interrupted",
};

/* The directory of @heap's figures: its class device when the module owns
 * the heap core, else the module's own directory (hosted mode). */
static void stats_dir(const char *heap, char *dir, size_t size)
{
	char path[1200];

	snprintf(dir, size, "/sys/class/dma_heap/%s", heap);
	snprintf(path, sizeof(path), "%s/bytes", dir);
	if (!access(path, F_OK))
		return;
	snprintf(dir, size, "/sys/kernel/rust_dma_heap/%s", heap);
}

/* Reads a figure; -1 if it cannot be read or is not a number. */
static long long stat_read(const char *dir, const char *file)
{
	char path[1200], buf[64], *end;
	long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || *end != '\n')
		return -1;
	return v;
}

/* Writes @text to max_bytes; 0 or -errno. */
static int set_max(const char *dir, const char *text)
{
	char path[1200];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/max_bytes", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int set_max_n(const char *dir, unsigned long long v)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", v);
	return set_max(dir, text);
}

static void files_are_numbers(const char *heap, const char *dir)
{
	bool ok = true;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1200];
		struct stat st;
		unsigned int mode = !strcmp(files[i], "max_bytes") ? 0644 : 0444;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) || (st.st_mode & 0777) != mode || stat_read(dir, files[i]) < 0) {
			ksft_print_msg("%s: %s missing, not a number or not mode %o\n", heap, path, mode);
			ok = false;
		}
	}
	check_ok(ok, "%s: all seven files in %s read as numbers; only max_bytes is writable", heap,
		 dir);
}

/* Allocates and frees buffers in several ways, checking bytes and buffers. */
static void figures_follow(const char *heap, int fd, const char *dir)
{
	long long b0 = stat_read(dir, "bytes"), n0 = stat_read(dir, "buffers");
	int bufs[3], status = -1;
	bool ok = true;
	void *p;
	pid_t pid;

	for (int i = 0; i < 3; i++)
		bufs[i] = heap_alloc(fd, MiB);
	check_ok(bufs[0] >= 0 && bufs[1] >= 0 && bufs[2] >= 0 &&
		 stat_read(dir, "bytes") == b0 + 3 * (long long)MiB &&
		 stat_read(dir, "buffers") == n0 + 3 && stat_read(dir, "peak_bytes") >= b0 + 3 * (long long)MiB,
		 "%s: three 1 MiB buffers: bytes +3 MiB, buffers +3, peak_bytes at least that", heap);
	for (int i = 0; i < 3; i++)
		close(bufs[i]);
	check_ok(stat_read(dir, "bytes") == b0 && stat_read(dir, "buffers") == n0,
		 "%s: closed: bytes and buffers back to %lld and %lld", heap, b0, n0);

	/* The last reference held by a child, which exits after the parent
	 * has closed its copy. */
	bufs[0] = heap_alloc(fd, 2 * MiB);
	pid = fork();
	if (pid == 0) {
		usleep(200000);
		_exit(0);
	}
	close(bufs[0]);
	ok = stat_read(dir, "bytes") == b0 + 2 * (long long)MiB;
	waitpid(pid, &status, 0);
	check_ok(ok && stat_read(dir, "bytes") == b0 && stat_read(dir, "buffers") == n0,
		 "%s: a buffer whose last reference a child drops stays counted until it exits", heap);

	/* The last reference held by a mapping. */
	bufs[0] = heap_alloc(fd, MiB);
	p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, bufs[0], 0);
	close(bufs[0]);
	ok = p != MAP_FAILED && stat_read(dir, "bytes") == b0 + (long long)MiB;
	if (p != MAP_FAILED)
		munmap(p, MiB);
	check_ok(ok && stat_read(dir, "bytes") == b0 && stat_read(dir, "buffers") == n0,
		 "%s: a buffer held by a mapping after close stays counted until munmap", heap);
}

static void limit_holds(const char *heap, int fd, const char *dir)
{
	long long b0 = stat_read(dir, "bytes"), f0 = stat_read(dir, "failed_limit");
	int a, b, c, d;

	check_ok(set_max_n(dir, b0 + 2 * MiB) == 0 && stat_read(dir, "max_bytes") == b0 + 2 * (long long)MiB,
		 "%s: max_bytes set to what is allocated + 2 MiB", heap);
	a = heap_alloc(fd, MiB);
	b = heap_alloc(fd, MiB);
	c = heap_alloc(fd, MiB);
	check_ok(a >= 0 && b >= 0 && c == -ENOMEM,
		 "%s: two 1 MiB buffers fit, the third gets ENOMEM (%d)", heap, c);
	check_ok(stat_read(dir, "failed_limit") == f0 + 1 &&
		 stat_read(dir, "bytes") == b0 + 2 * (long long)MiB,
		 "%s: failed_limit counted it; bytes still at the limit", heap);
	close(b);
	b = heap_alloc(fd, MiB);
	check_ok(b >= 0, "%s: after one is freed, the next allocation fits again", heap);

	/* A limit below what is allocated now. */
	check_ok(set_max(dir, "4096") == 0, "%s: a limit below what is allocated is accepted", heap);
	d = heap_alloc(fd, 4096);
	check_ok(d == -ENOMEM && stat_read(dir, "bytes") == b0 + 2 * (long long)MiB,
		 "%s: then even 4 KiB gets ENOMEM, and the live buffers stay (%d)", heap, d);
	check_ok(set_max(dir, "0") == 0 && (d = heap_alloc(fd, 4096)) >= 0,
		 "%s: max_bytes 0 lifts the limit", heap);
	close(a);
	close(b);
	if (d >= 0)
		close(d);
}

/* Fills the limit with 1 MiB buffers from two processes at once; each
 * reports through a pipe how many it got. */
static void limit_race(const char *heap, int fd, const char *dir)
{
	long long b0 = stat_read(dir, "bytes");
	int pipes[2][2], got[2] = { -1, -1 }, over = 0;
	pid_t pids[2] = { -1, -1 };
	const int limit_mib = 16;

	set_max_n(dir, b0 + limit_mib * MiB);
	for (int i = 0; i < 2; i++) {
		if (pipe(pipes[i]))
			return (void)check_ok(0, "%s: pipe() for the race", heap);
		pids[i] = fork();
		if (pids[i] == 0) {
			int n = 0, r;

			while ((r = heap_alloc(fd, MiB)) >= 0)
				n++;
			if (r != -ENOMEM)
				n = -1000 + r;
			if (write(pipes[i][1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			/* Holds its buffers until the parent has looked. */
			pause();
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++)
		if (read(pipes[i][0], &got[i], sizeof(got[i])) != sizeof(got[i]))
			got[i] = -1;
	if (stat_read(dir, "bytes") > b0 + limit_mib * (long long)MiB)
		over = 1;
	check_ok(got[0] >= 0 && got[1] >= 0 && got[0] + got[1] == limit_mib && !over,
		 "%s: two racing allocators got %d + %d 1 MiB buffers under a %d MiB limit, never more",
		 heap, got[0], got[1], limit_mib);
	for (int i = 0; i < 2; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	set_max(dir, "0");
	check_ok(stat_read(dir, "bytes") == b0, "%s: their buffers gone with them", heap);
}

static void bad_writes(const char *heap, const char *dir)
{
	static const struct {
		const char *text;
		int err;
	} bad[] = {
		/* (An empty write never reaches the file: write() returns 0.) */
		{ "abc\n", -EINVAL }, { "-1\n", -EINVAL }, { "\n", -EINVAL },
		{ "12 34\n", -EINVAL }, { "18446744073709551616\n", -ERANGE },
	};
	bool ok = true;

	set_max(dir, "12345678");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = set_max(dir, bad[i].text);

		if (r != bad[i].err || stat_read(dir, "max_bytes") != 12345678) {
			ksft_print_msg("writing '%s': %d, max_bytes %lld\n", bad[i].text, r,
				       stat_read(dir, "max_bytes"));
			ok = false;
		}
	}
	check_ok(ok, "%s: bad writes to max_bytes get EINVAL or ERANGE and change nothing", heap);
	check_ok(set_max(dir, "0x100000\n") == 0 && stat_read(dir, "max_bytes") == 0x100000,
		 "%s: max_bytes takes hexadecimal too", heap);
	set_max(dir, "0");
}

static void nonroot_refused(const char *heap, const char *dir)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(100);
		_exit(set_max(dir, "1") == -EACCES ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat_read(dir, "max_bytes") == 0,
		 "%s: a non-root write to max_bytes is refused (EACCES)", heap);
}

/* MemTotal and CmaTotal from /proc/meminfo, in bytes. */
static unsigned long long meminfo(const char *key)
{
	char line[128];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), ": %llu", &v);
	if (f)
		fclose(f);
	return v * 1024;
}

static void cma_nomem(const char *heap, int fd, const char *dir)
{
	unsigned long long len = meminfo("CmaTotal") + MiB;
	long long f0 = stat_read(dir, "failed_nomem"), b0 = stat_read(dir, "bytes");
	int r;

	if (len >= meminfo("MemTotal"))
		return (void)check_ok(0, "%s: CMA areas (%llu bytes) smaller than RAM", heap, len);
	r = heap_alloc(fd, len);
	check_ok(r == -ENOMEM && stat_read(dir, "failed_nomem") == f0 + 1 &&
		 stat_read(dir, "bytes") == b0,
		 "%s: a buffer larger than every CMA area gets ENOMEM, counted in failed_nomem (%d)",
		 heap, r);
}

#define TRACING "/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static char trace[1 << 16];

/* The trace buffer's text (emptied afterwards); -errno on failure. */
static int take_trace(void)
{
	int fd = open(TRACING "/trace", O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, trace + len, sizeof(trace) - 1 - len)) > 0)
		len += n;
	close(fd);
	trace[len] = 0;
	return write_file(TRACING "/trace", "");
}

static int lines_with(const char *a, const char *b)
{
	int n = 0;

	for (char *line = trace; line && *line; ) {
		char *end = strchr(line, '\n');

		if (end)
			*end = 0;
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
		if (end)
			*end = '\n';
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* One allocation, one release and one allocation refused by the limit,
 * each seen once by the tracepoints with the right fields. */
static void tracepoints_fire(const char *heap, int fd, const char *dir)
{
	char key[300], len_key[64];
	int ok, b;

	mount("tracefs", TRACING, "tracefs", 0, NULL);
	ok = !write_file(TRACING "/events/rust_dma_heap/heap_alloc/enable", "1") &&
	     !write_file(TRACING "/events/rust_dma_heap/heap_free/enable", "1") && !take_trace();
	if (!check_ok(ok, "%s: the rust_dma_heap tracepoints can be enabled", heap))
		return;
	b = heap_alloc(fd, 3 * MiB);
	if (b >= 0)
		close(b);
	set_max_n(dir, stat_read(dir, "bytes") + MiB);
	heap_alloc(fd, 2 * MiB);
	set_max(dir, "0");
	write_file(TRACING "/events/rust_dma_heap/enable", "0");
	ok = !take_trace();
	snprintf(key, sizeof(key), "heap_alloc: heap=%s len=%llu err=0 ns=", heap, 3 * MiB);
	snprintf(len_key, sizeof(len_key), "len=%llu", 3 * MiB);
	check_ok(ok && b >= 0 && lines_with(key, NULL) == 1,
		 "%s: heap_alloc fired once for a 3 MiB buffer, with err=0 and its time", heap);
	snprintf(key, sizeof(key), "heap_free: heap=%s ", heap);
	check_ok(lines_with(key, len_key) == 1, "%s: heap_free fired once when it was released", heap);
	snprintf(key, sizeof(key), "heap_alloc: heap=%s len=%llu err=-12 ", heap, 2 * MiB);
	check_ok(lines_with(key, NULL) == 1,
		 "%s: heap_alloc fired for the allocation over the limit, with err=-12", heap);
}

static bool shown(const char *dir, const char *file)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return !access(path, F_OK);
}

static void kind_figures(const char *sys, int sys_fd, const char *sys_dir, const char *cma,
			 int cma_fd, const char *cma_dir, bool region)
{
	int b, waited = 0;
	long long pool = -1, size;

	/* Buffers freed just before may still be on their way into the pools:
	 * empty them until they stay empty. */
	for (int i = 0; i < 20 && pool; i++) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "2", 1) != 1)
				ksft_print_msg("drop_caches: %s\n", strerror(errno));
			close(fd);
		}
		pool = stat_read(sys_dir, "pool_bytes");
		if (pool)
			usleep(100000);
	}
	b = heap_alloc(sys_fd, MiB);
	if (b >= 0)
		close(b);
	while (stat_read(sys_dir, "pool_bytes") < (long long)MiB && waited++ < 100)
		usleep(50000);
	check_ok(pool == 0 && stat_read(sys_dir, "pool_bytes") == (long long)MiB,
		 "%s: pool_bytes 0 after drop_caches (%lld), 1 MiB once a 1 MiB buffer's pages are pooled (%lld)",
		 sys, pool, stat_read(sys_dir, "pool_bytes"));
	check_ok(!shown(sys_dir, "region_bytes") && !shown(cma_dir, "pool_bytes"),
		 "%s shows no region_bytes, %s no pool_bytes", sys, cma);
	if (!region) {
		check_ok(!shown(cma_dir, "region_bytes"),
			 "%s: no region_bytes where the kernel does not tell an area's size", cma);
		return;
	}
	size = stat_read(cma_dir, "region_bytes");
	b = size > 0 ? heap_alloc(cma_fd, size + 4096) : -1;
	check_ok(size > 0 && (unsigned long long)size <= meminfo("CmaTotal") && b == -ENOMEM,
		 "%s: region_bytes %lld, within CmaTotal; a buffer one page larger gets ENOMEM (%d)",
		 cma, size, b);
}

int main(int argc, char **argv)
{
	bool with_trace = false, region = false;
	char dir[2][512], alias_dir[512];
	int fds[2];

	ksft_print_header();
	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "--trace"))
			with_trace = true;
		else if (argc > 1 && !strcmp(argv[1], "--region"))
			region = true;
		else
			break;
		argv++;
		argc--;
	}
	if (argc < 3) {
		check_ok(0, "usage: heap-accounting SYSTEM_HEAP CMA_HEAP [ALIAS_OF_CMA_HEAP]");
		return finish_checks();
	}
	for (int h = 0; h < 2; h++) {
		const char *heap = argv[h + 1];

		stats_dir(heap, dir[h], sizeof(dir[h]));
		fds[h] = open_heap(heap, O_RDONLY);
		if (!check_ok(fds[h] >= 0, "%s: opened", heap))
			continue;
		files_are_numbers(heap, dir[h]);
		figures_follow(heap, fds[h], dir[h]);
		limit_holds(heap, fds[h], dir[h]);
		limit_race(heap, fds[h], dir[h]);
		bad_writes(heap, dir[h]);
		nonroot_refused(heap, dir[h]);
	}
	if (fds[1] >= 0)
		cma_nomem(argv[2], fds[1], dir[1]);
	if (fds[0] >= 0 && fds[1] >= 0)
		kind_figures(argv[1], fds[0], dir[0], argv[2], fds[1], dir[1], region);
	if (with_trace && fds[0] >= 0)
		tracepoints_fire(argv[1], fds[0], dir[0]);
	if (argc > 3 && fds[1] >= 0) {
		int b = heap_alloc(fds[1], 3 * MiB);

		stats_dir(argv[3], alias_dir, sizeof(alias_dir));
		check_ok(b >= 0 && stat_read(alias_dir, "bytes") == stat_read(dir[1], "bytes") &&
			 stat_read(alias_dir, "failed_nomem") == stat_read(dir[1], "failed_nomem"),
			 "%s shows the figures of %s, whose alias it is", argv[3], argv[2]);
		if (b >= 0)
			close(b);
	}
	return finish_checks();
}
