/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the heap tests. */
#ifndef RDH_HEAPTEST_H
#define RDH_HEAPTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-heap.h>

/*
 * The kernel's kselftest.h, from the flavour's kernel source (build-tests
 * adds its tools/testing/selftests): "TAP version 13", "ok N ..." / "not ok
 * N ..." / "ok N # SKIP ..." lines, "# ..." diagnostics, the plan "1..N"
 * and kselftest's totals at the end.
 */
#include "kselftest.h"

/*
 * One check: a kselftest result line, "ok N WHAT" or "not ok N WHAT"
 * (@fmt is a string literal, without the newline); evaluates to whether
 * it passed, for the checks that the next ones depend on. A check that
 * cannot be made fails; only what a flavour lacks by design may be
 * reported with ksft_test_result_skip(), and only where the program's list
 * line in tools/testing/check allows it ("N+skip").
 */
#define check_ok(cond, fmt, ...) ({					\
	bool __check_ok_passed = !!(cond);				\
									\
	ksft_test_result(__check_ok_passed, fmt "\n", ##__VA_ARGS__);	\
	__check_ok_passed;						\
})

/*
 * The end of a program: prints the plan (the checks made: the plan comes
 * last, as the number of checks is not known in advance) and kselftest's
 * totals, and exits 0 if every check passed or was skipped, KSFT_FAIL (1)
 * if any failed. Never returns (an int only for `return finish_checks();`).
 */
static inline int finish_checks(void)
{
	ksft_set_plan(ksft_test_num());
	ksft_finished();
}

#define HEAP_DIR "/dev/dma_heap"
#define MAX_HEAPS 32

static char heap_names[MAX_HEAPS][256];

/* Fills heap_names with the nodes under /dev/dma_heap, sorted; returns how many. */
static inline int list_heaps(void)
{
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir(HEAP_DIR);

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < MAX_HEAPS) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(heap_names[n++], sizeof(heap_names[0]), "%s", d->d_name);
	}
	closedir(dir);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(heap_names[i], heap_names[j]) > 0) {
				char t[256];

				memcpy(t, heap_names[i], 256);
				memcpy(heap_names[i], heap_names[j], 256);
				memcpy(heap_names[j], t, 256);
			}
	return n;
}

/* Fills heap_names with the @n names given (at most MAX_HEAPS); returns how many. */
static inline int pick_heaps(int n, char **names)
{
	int i;

	for (i = 0; i < n && i < MAX_HEAPS; i++)
		snprintf(heap_names[i], sizeof(heap_names[0]), "%s", names[i]);
	return i;
}

static inline int open_heap(const char *name, int flags)
{
	char path[300];

	snprintf(path, sizeof(path), HEAP_DIR "/%.255s", name);
	return open(path, flags | O_CLOEXEC);
}

/* Allocates @len bytes; returns the dma-buf fd or -errno. */
static inline int heap_alloc(int heap_fd, uint64_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

/* The number of open file descriptors of this process. */
static inline int count_fds(void)
{
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

/* The number of dma-bufs alive in the system, from debugfs. */
static inline int count_dmabufs(void)
{
	char line[512];
	int n = -1;
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* A "Key: value kB" line of a /proc file (meminfo, self/status); -1 if absent. */
static inline long proc_kb(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			sscanf(line + strlen(key) + 1, "%ld", &v);
	if (f)
		fclose(f);
	return v;
}

static inline long meminfo_kb(const char *key)
{
	return proc_kb("/proc/meminfo", key);
}

/*
 * The page-table pages of the kernel's linear map, give or take a constant
 * (x86; 0 elsewhere): switching pages to write-combining (system-uncached)
 * splits its large pages, each split taking one page for good, which is
 * the kernel's cost of the memory type and no leak. A 2 MiB mapping split
 * into 4 KiB ones adds 2048 kB to DirectMap4k; a 1 GiB one split into
 * 2 MiB ones takes 1 GiB off DirectMap1G.
 */
static inline long direct_map_table_pages(void)
{
	long k4 = meminfo_kb("DirectMap4k"), g1 = meminfo_kb("DirectMap1G");

	return (k4 > 0 ? k4 / 2048 : 0) - (g1 > 0 ? g1 / (1024 * 1024) : 0);
}

/*
 * The counters @keys of /proc/vmstat, from one read of it, into @vals; -1
 * for each one absent.
 */
static inline void vmstat_many(const char *const *keys, long *vals, int n)
{
	char name[64];
	long v;
	FILE *f = fopen("/proc/vmstat", "r");

	for (int i = 0; i < n; i++)
		vals[i] = -1;
	while (f && fscanf(f, "%63s %ld", name, &v) == 2)
		for (int i = 0; i < n; i++)
			if (!strcmp(name, keys[i]))
				vals[i] = v;
	if (f)
		fclose(f);
}

/*
 * A counter of /proc/vmstat; -1 if absent. The zone and node counters
 * ("nr_free_pages", "nr_free_cma") are always there; the event counters
 * ("oom_kill", "pswpout") are not in the test kernels.
 */
static inline long vmstat(const char *key)
{
	long v;

	vmstat_many(&key, &v, 1);
	return v;
}

/* How many times the kernel log has @text; -1 if the log cannot be read. */
static inline int klog_count(const char *text)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), len, n = 0;
	char *buf, *p;

	if (size <= 0 || !(buf = malloc(size + 1)))
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = 0;
	for (p = buf; (p = strstr(p, text)); p++)
		n++;
	free(buf);
	return n;
}

/*
 * How many times the kernel log says the OOM killer was invoked ("...
 * invoked oom-killer: gfp_mask=..."); -1 if the log cannot be read. The
 * test kernels have no VM event counters (oom_kill in /proc/vmstat), so
 * the log is the witness; compare a count before and after.
 */
static inline int oom_reports(void)
{
	return klog_count("invoked oom-killer");
}

/* Makes this process the OOM killer's first (1000) or last (-1000) choice. */
static inline void set_oom_score_adj(int adj)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (f) {
		fprintf(f, "%d\n", adj);
		fclose(f);
	}
}

/* Writes @val to a /proc or /sys file; 0 or -errno. */
static inline int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The kernel's own holders of pages that free_pages_settled() does not
 * count as free, in pages, from /proc/vmstat and /proc/meminfo: what the
 * kernel keeps for itself and for processes while a test runs (slab
 * objects, kernel stacks and page tables of workers it starts, per-CPU
 * chunks, vmalloc areas, the test's own memory and files). A page a heap
 * leaked is in none of them: the module takes its buffers' pages from the
 * page allocator (or CMA) directly, and those pages count nowhere but
 * here, as missing. The module's own bookkeeping (slab, kvmalloc) is in
 * them, and kmemleak's to catch (the debug flavours).
 */
struct mem_holders {
	long slab;		/* nr_slab_unreclaimable, kmalloc_large() included */
	long page_tables;	/* nr_page_table_pages: processes' page tables */
	long kernel_stack;	/* nr_kernel_stack (kB there), unless in vmalloc */
	long percpu;		/* Percpu (kB there) */
	long vmalloc;		/* VmallocUsed (kB there): pages vmalloc() took */
	long file;		/* nr_file_pages: tmpfs and ramfs files stay */
	long anon;		/* nr_anon_pages */
};

#define MEM_HOLDERS(X) X(slab) X(page_tables) X(kernel_stack) X(percpu) X(vmalloc) X(file) X(anon)

/*
 * Whether kernel stacks are vmalloc()ed (CONFIG_VMAP_STACK), and so counted
 * in VmallocUsed as well as in nr_kernel_stack: /proc/vmallocinfo then
 * lists every task's stack, made by copy_process(). (The test kernels have
 * no VMAP_STACK; a kernel that has must not have its stacks counted twice,
 * which would let a leak of as many pages pass.)
 */
static inline bool stacks_in_vmalloc(void)
{
	static int known = -1;
	char line[512];
	FILE *f;

	if (known >= 0)
		return known;
	known = 0;
	f = fopen("/proc/vmallocinfo", "r");
	while (f && !known && fgets(line, sizeof(line), f))
		known = strstr(line, "copy_process") || strstr(line, "dup_task_struct") ||
			strstr(line, "thread_stack");
	if (f)
		fclose(f);
	return known;
}

/* The holders now; false if one could not be read. */
static inline bool mem_holders_now(struct mem_holders *h)
{
	static const char *const keys[] = {
		"nr_slab_unreclaimable", "nr_page_table_pages", "nr_kernel_stack",
		"nr_file_pages", "nr_anon_pages",
	};
	long page_kb = sysconf(_SC_PAGESIZE) / 1024, v[5];

	vmstat_many(keys, v, 5);
	*h = (struct mem_holders){
		.slab = v[0],
		.page_tables = v[1],
		.kernel_stack = v[2],
		.percpu = meminfo_kb("Percpu"),
		.vmalloc = meminfo_kb("VmallocUsed"),
		.file = v[3],
		.anon = v[4],
	};
#define HOLDER_READ(f) if (h->f < 0) return false;
	MEM_HOLDERS(HOLDER_READ)
#undef HOLDER_READ
	h->kernel_stack = stacks_in_vmalloc() ? 0 : h->kernel_stack / page_kb;
	h->percpu /= page_kb;
	h->vmalloc /= page_kb;
	return true;
}

/* The holders when free_pages_baseline() counted; valid if set. */
static struct mem_holders mem_holders_baseline;
static bool mem_holders_baseline_set;

/*
 * The free pages of the whole system, as comparable as they can be made
 * from userspace: page cache and reclaimable slab dropped, every slab
 * cache's empty slabs given back, the per-CPU vmstat deltas folded; the
 * pages parked on per-CPU free lists (which nr_free_pages does not count)
 * are added from /proc/zoneinfo. So are the reclaimable slab pages that
 * drop_caches leaves (the dentries and inodes of the sysfs, procfs and
 * debugfs files the tests themselves keep opening, which grew by 12 to 26
 * pages over a heap-uncached run: 2026-12-07, x86_64): memory the kernel
 * gives back on demand is not missing, and the module allocates none of
 * that kind. @cma gets nr_free_cma. -1 if unreadable.
 */
static inline long free_pages_settled(long *cma)
{
	/* Free pages, reclaimable slab pages, free CMA pages. */
	static const char *const keys[] = { "nr_free_pages", "nr_slab_reclaimable", "nr_free_cma" };
	char line[256];
	long pcp = 0, v, vals[3];
	DIR *slabs = opendir("/sys/kernel/slab");
	struct dirent *d;
	FILE *f;

	write_sysfs("/proc/sys/vm/drop_caches", "3");
	while (slabs && (d = readdir(slabs))) {
		char path[300];

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%.255s/shrink", d->d_name);
		write_sysfs(path, "1");
	}
	if (slabs)
		closedir(slabs);
	write_sysfs("/proc/sys/vm/stat_refresh", "1");
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &v) == 1)
			pcp += v;
	fclose(f);
	/* (One read: the three from the same moment.) */
	vmstat_many(keys, vals, 3);
	if (cma)
		*cma = vals[2];
	if (vals[0] < 0 || vals[1] < 0)
		return -1;
	return vals[0] + pcp + vals[1] + direct_map_table_pages();
}

/* The module's debugfs directory (Documentation/ABI/testing/debugfs-rust_dma_heap). */
#define RDH_DEBUGFS "/sys/kernel/debug/rust_dma_heap"

/* The module's page ledger and what its pools and buffers hold, read once. */
struct page_ledger {
	unsigned long buddy;	/* the ledger's buddy line */
	unsigned long others;	/* the sum of its other lines (cma, carveout, ...) */
	char lines[256];	/* the ledger's lines, for the diagnostic */
	unsigned long pooled;	/* pooled_pages, summed over every <heap>-pool file */
	unsigned long pending;	/* pending_pages, the same */
	int pools;		/* the pool files */
	long buffers;		/* the module's live buffers (its buffers file) */
};

/* A pool file's pooled_pages and pending_pages, from one read; false if not both. */
static inline bool pool_pages(const char *path, unsigned long *pooled, unsigned long *pending)
{
	char line[256], name[64];
	unsigned long n;
	int found = 0;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu", name, &n) != 2)
			continue;
		if (!strcmp(name, "pooled_pages")) {
			*pooled = n;
			found |= 1;
		} else if (!strcmp(name, "pending_pages")) {
			*pending = n;
			found |= 2;
		}
	}
	if (f)
		fclose(f);
	return found == 3;
}

/* Fills @l from debugfs; false if any of it cannot be read. */
static inline bool read_page_ledger(struct page_ledger *l)
{
	char line[256], name[64];
	unsigned long v;
	bool buddy = false, ok = true;
	size_t len = 0;
	struct dirent *d;
	DIR *dir;
	FILE *f;

	memset(l, 0, sizeof(*l));
	f = fopen(RDH_DEBUGFS "/pages", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu", name, &v) != 2) {
			ok = false;
			continue;
		}
		if (!strcmp(name, "buddy")) {
			l->buddy = v;
			buddy = true;
		} else {
			l->others += v;
		}
		if (len < sizeof(l->lines))
			len += snprintf(l->lines + len, sizeof(l->lines) - len, "%s%s %lu",
					len ? ", " : "", name, v);
	}
	fclose(f);
	if (!ok || !buddy)
		return false;
	dir = opendir(RDH_DEBUGFS);
	while (dir && (d = readdir(dir))) {
		size_t n = strlen(d->d_name);
		unsigned long pooled = 0, pending = 0;
		char path[300];

		if (n < 5 || strcmp(d->d_name + n - 5, "-pool"))
			continue;
		snprintf(path, sizeof(path), RDH_DEBUGFS "/%.255s", d->d_name);
		ok &= pool_pages(path, &pooled, &pending);
		if (ok) {
			l->pooled += pooled;
			l->pending += pending;
			l->pools++;
		}
	}
	if (!dir)
		return false;
	closedir(dir);
	/* A line per buffer after the header (every live buffer is listed). */
	f = fopen(RDH_DEBUGFS "/buffers", "r");
	if (!f)
		return false;
	l->buffers = -1;
	while (fgets(line, sizeof(line), f))
		l->buffers++;
	fclose(f);
	return ok && l->buffers >= 0;
}

/*
 * free_pages_settled() as the baseline of a later pages_missing(), which
 * takes the kernel's own holders at the same time. Counted once the
 * module's pools have nothing pending (10 s at most): chunks a release
 * queued for the pools' worker are neither free nor in any holder, and a
 * baseline counted beside them would let a leak of as many pages pass
 * (heap-uncached's counted 1,532 pages that came back later, on x86_64 on
 * 2026-12-07). Without the module's debugfs (the kernel's own heaps,
 * heap-fuzz -u) there is nothing to wait for. -1 if the count cannot be
 * made.
 */
static inline long free_pages_baseline(void)
{
	struct page_ledger l;
	int waits = 0;
	long pages;

	while (read_page_ledger(&l) && l.pending) {
		if (waits++ == 100) {
			printf("# the pools still have %lu pages pending after 10 s: no baseline\n",
			       l.pending);
			return -1;
		}
		usleep(100000);
	}
	pages = free_pages_settled(NULL);
	mem_holders_baseline_set = mem_holders_now(&mem_holders_baseline);
	return pages;
}

/*
 * Whether the pages that were free at @before (from free_pages_baseline())
 * are back, within @tolerance, once the kernel's own holders (struct
 * mem_holders) are allowed for: a page a heap leaked is missing from both
 * the free count and every holder; one that went to a slab, the stack of a
 * worker the kernel started, or a file in the VM's ramfs is not missing.
 * Memory freed late (RCU, deferred work) is waited for: up to 20 rounds,
 * half a second apart; a leak never comes back. Prints what it saw and
 * where the pages went; returns 0 if they are back, else the pages still
 * missing, or LONG_MAX if a count could not be read (a check that cannot
 * be made fails).
 */
static inline long pages_missing(long before, long tolerance)
{
	long now = -1, cma = 0, gone = 0, held = 0, lost = LONG_MAX;
	struct mem_holders h = {};
	bool read = before >= 0 && mem_holders_baseline_set;

	for (int round = 0; read && round < 20; round++) {
		now = free_pages_settled(&cma);
		read = now >= 0 && mem_holders_now(&h);
		if (!read)
			break;
		gone = before - now;
		held = 0;
#define HOLDER_GAIN(f) held += h.f - mem_holders_baseline.f;
		MEM_HOLDERS(HOLDER_GAIN)
#undef HOLDER_GAIN
		lost = gone - held;
		if (lost <= tolerance)
			break;
		usleep(500000);
	}
	if (!read) {
		printf("# free pages could not be read (%ld before, %ld after%s)\n", before, now,
		       mem_holders_baseline_set ? "" : "; no free_pages_baseline()");
		return LONG_MAX;
	}
	printf("# free pages %ld before, %ld after: %ld fewer, %ld of them taken by the kernel's own holders (",
	       before, now, gone, held);
#define HOLDER_PRINT(f) printf(" " #f " %+ld", h.f - mem_holders_baseline.f);
	MEM_HOLDERS(HOLDER_PRINT)
#undef HOLDER_PRINT
	printf(" ); %ld missing, tolerance %ld; nr_free_cma %ld\n", lost, tolerance, cma);
	return lost <= tolerance ? 0 : lost;
}

/*
 * Whether every page the module holds, by its page ledger (RDH_DEBUGFS
 * "/pages"), is in one of its page pools, exactly: the caller has closed
 * every buffer of the module's heaps. Once the module lists no live buffer
 * and its pools' worker has nothing pending, the buddy pages it holds must
 * be the pools' pooled pages, and its pages of every other kind (CMA,
 * carveout) none. What the pools' worker and the last releases do late is
 * waited for: up to 10 s, 100 ms apart; a leaked page never comes back,
 * and never makes the figures agree. Prints what it saw, after @what, in a
 * TAP diagnostic; a ledger, pool or list that cannot be read is a failure.
 */
static inline bool pages_held_exact(const char *what)
{
	struct page_ledger l;
	bool read = false, quiet = false, exact = false;
	int round;

	for (round = 0; round < 100; round++) {
		read = read_page_ledger(&l);
		quiet = read && l.buffers == 0 && l.pending == 0;
		exact = quiet && l.others == 0 && l.buddy == l.pooled;
		if (exact)
			break;
		usleep(100000);
	}
	if (!read)
		printf("# %s: the page ledger, pools or buffer list in " RDH_DEBUGFS
		       " cannot be read\n", what);
	else
		printf("# %s: page ledger %s; pooled %lu (%d pools), pending %lu; %ld live buffers, %d dma-bufs (after %d ms)%s\n",
		       what, l.lines, l.pooled, l.pools, l.pending, l.buffers, count_dmabufs(),
		       round * 100, exact ? "" : quiet ? ": pages held that are not pooled" :
		       ": the module never became idle");
	return exact;
}

/*
 * The live buffers' pages, from the module's buffers file: *buddy those of
 * heaps whose pages come from the buddy allocator (system, system-uncached,
 * with any name prefix), *others the rest (CMA areas, carveouts). False if
 * the file cannot be read.
 */
static inline bool live_buffer_pages(unsigned long *buddy, unsigned long *others)
{
	char line[512], heap[256];
	unsigned long id, size;
	FILE *f = fopen(RDH_DEBUGFS "/buffers", "r");

	*buddy = *others = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu %lu %255s", &id, &size, heap) != 3)
			continue;	/* the header */
		if (strstr(heap, "system"))
			*buddy += (size + 4095) / 4096;
		else
			*others += (size + 4095) / 4096;
	}
	fclose(f);
	return true;
}

/*
 * Whether the page ledger matches, exactly, what holds the pages while
 * buffers are alive: buddy pages = the live system-heap buffers' pages +
 * pooled + pending, and every other kind = the other live buffers' pages.
 * The caller allocates and frees nothing meanwhile; what late releases and
 * the pools' worker do is waited for (up to 10 s). Prints what it saw
 * when the figures never agree.
 */
static inline bool pages_live_exact(const char *what)
{
	struct page_ledger l;
	unsigned long lb = 0, lo = 0;
	bool read = false, exact = false;
	int round;

	for (round = 0; round < 100; round++) {
		read = read_page_ledger(&l) && live_buffer_pages(&lb, &lo);
		exact = read && l.buddy == lb + l.pooled + l.pending && l.others == lo;
		if (exact)
			return true;
		usleep(100000);
	}
	printf("# %s: page ledger %s; live buffers: %lu buddy pages, %lu others; pooled %lu, pending %lu%s\n",
	       what, read ? l.lines : "(unreadable)", lb, lo, read ? l.pooled : 0,
	       read ? l.pending : 0, read ? "" : ": cannot be read");
	return false;
}

/*
 * pages_held_exact() as a check, at a point where the caller has closed
 * every buffer it took from the module's heaps.
 */
static inline int check_pages_exact(const char *what)
{
	return check_ok(pages_held_exact(what),
			"%s: every page the module still holds is pooled, exactly (its page ledger)",
			what);
}

/*
 * One of @heap's figures in sysfs (Documentation/ABI/testing/
 * sysfs-class-dma_heap-rust): under its class device where the module is
 * the heap core, else under the module's own directory (hosted mode).
 * -1 if neither can be read.
 */
static inline long heap_stat(const char *heap, const char *file)
{
	static const char *const dirs[] = { "/sys/class/dma_heap", "/sys/kernel/rust_dma_heap" };
	char path[600];
	long v;

	for (int i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%.255s/%.64s", dirs[i], heap, file);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
		return v;
	}
	return -1;
}

/*
 * A buffer of @size from @heap allocated by a child, which first runs
 * @setup(@arg) (if given; false makes it give up), passes the buffer back
 * over a socket and exits. Returns the descriptor (-1 on failure); *child
 * gets the child's pid and *status its wait status.
 */
static inline int alloc_in_child(int heap, unsigned long size, bool (*setup)(const void *),
				 const void *arg, pid_t *child, int *status)
{
	int sv[2], fd = -1;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};

	*status = -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	*child = fork();
	if (*child == 0) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		int buf;

		if (setup && !setup(arg))
			_exit(2);
		buf = heap_alloc(heap, size);
		if (buf < 0)
			_exit(3);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &buf, sizeof(int));
		_exit(sendmsg(sv[1], &msg, 0) == 1 ? 0 : 4);
	}
	close(sv[1]);
	if (*child > 0 && recvmsg(sv[0], &msg, 0) == 1 && CMSG_FIRSTHDR(&msg))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	close(sv[0]);
	if (*child > 0)
		waitpid(*child, status, 0);
	return fd;
}

/* Where cgroup v2 is (and is mounted, if it is not). */
#define CG_ROOT "/sys/fs/cgroup"

/*
 * cgroup v2 with @controller ("memory", "dmem") enabled for the root's
 * children, and each cgroup of the NULL-terminated @cgroups made afresh;
 * whether all of that worked and the first one has @file (a file of the
 * controller's, which shows that it is on).
 */
static inline bool cgroups_setup(const char *controller, const char *const *cgroups,
				 const char *file)
{
	char path[256];

	mkdir(CG_ROOT, 0755);
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("none", CG_ROOT, "cgroup2", 0, NULL))
		return false;
	snprintf(path, sizeof(path), "+%s", controller);
	if (write_sysfs(CG_ROOT "/cgroup.subtree_control", path))
		return false;
	for (const char *const *cg = cgroups; *cg; cg++) {
		rmdir(*cg);
		if (mkdir(*cg, 0755))
			return false;
	}
	snprintf(path, sizeof(path), "%s/%s", cgroups[0], file);
	return !access(path, F_OK);
}

/*
 * The number in the cgroup file at @path: the first line's, or with @key
 * the one on the line "@key N" (memory.events, dmem.current); -1 if none.
 */
static inline long cg_file_read(const char *path, const char *key)
{
	char line[256], k[128];
	long v = -1, x;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!key) {
			if (sscanf(line, "%ld", &x) == 1)
				v = x;
			break;
		}
		if (sscanf(line, "%127s %ld", k, &x) == 2 && !strcmp(k, key))
			v = x;
	}
	if (f)
		fclose(f);
	return v;
}

/* The memory.current of the cgroup at path @cg, or -1. */
static inline long memcg_current(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return cg_file_read(path, NULL);
}

/*
 * Waits up to 5 s for @cg's memory.current to be at most @bytes; the value
 * it read last.
 */
static inline long memcg_current_at_most(const char *cg, long bytes)
{
	long now = memcg_current(cg);

	for (int i = 0; i < 50 && now > bytes; i++) {
		usleep(100000);
		now = memcg_current(cg);
	}
	return now;
}

/* Moves the calling process into the cgroup at path @cg. */
static inline bool cgroup_enter(const void *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cgroup.procs", (const char *)cg);
	return !write_sysfs(path, "0");
}

/* One 64 KiB chunk is 16 pages: a leak of one must not hide in the slack. */
#define PAGE_LEAK_TOLERANCE 12

/* Runs a command of the test importer (importer-module/rdh_importer.c);
 * 0 or -errno. */
static inline int importer(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;
	int fd, n, ret;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = open("/sys/kernel/debug/rdh_importer/ctl", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, cmd, n) == n ? 0 : -errno;
	close(fd);
	return ret;
}

/* Reads the importer's answer to its last command (what reading ctl
 * gives) into @buf, NUL-terminated; its length, or -1. */
static inline int importer_answer(char *buf, size_t size)
{
	int fd = open("/sys/kernel/debug/rdh_importer/ctl", O_RDONLY | O_CLOEXEC);
	int n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? n : -1;
}

/* Word i of the importer's pattern SEED. */
static inline uint32_t pattern_word(size_t i, uint32_t seed)
{
	return (uint32_t)i * 2654435761u ^ seed;
}

#endif
