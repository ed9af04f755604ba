/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the heap tests. */
#ifndef RDH_HEAPTEST_H
#define RDH_HEAPTEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "tap.h"

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
 * How many times the kernel log says the OOM killer was invoked ("...
 * invoked oom-killer: gfp_mask=..."); -1 if the log cannot be read. The
 * test kernels have no VM event counters (oom_kill in /proc/vmstat), so
 * the log is the witness; compare a count before and after.
 */
static inline int oom_reports(void)
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
	for (p = buf; (p = strstr(p, "invoked oom-killer")); p++)
		n++;
	free(buf);
	return n;
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

#endif
