// SPDX-License-Identifier: GPL-2.0
/*
 * The exact DMA-API calls the exporter makes, read from the kernel's DMA
 * tracepoints: one buffer mapped by two devices (rdh_dmadir.ko), A asking
 * for FROM_DEVICE (a capture device) and B for TO_DEVICE (an encoder).
 *   - A's table is mapped bidirectionally, B's TO_DEVICE, both skipping the
 *     implicit sync, then each is synced once for its device in the
 *     mapping's direction (what the CPU wrote, the zeroes included, reaches
 *     memory before the device looks);
 *   - DMA_BUF_IOCTL_SYNC syncs A's table in the CPU's direction, never the
 *     importer's (so SYNC_END|WRITE is a TO_DEVICE sync and cannot
 *     invalidate the CPU's writes), never syncs B's for the CPU (its device
 *     writes nothing), and syncs B's for the device after the CPU wrote;
 *   - unmapping syncs A's table for the CPU in A's direction, then unmaps
 *     both without another sync.
 * Needs a kernel whose DMA syncs are not skipped (CONFIG_DMA_API_DEBUG, or
 * swiotlb=force): the debug flavour.
 *   dma-sync-trace HEAP...   (after insmod rdh_dmadir.ko)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mount.h>
#include <linux/dma-buf.h>

#include "heaptest.h"

#define TRACING "/sys/kernel/tracing"
#define DEV_A "rdh-dmadir.0"
#define DEV_B "rdh-dmadir.1"

static const char *events[] = {
	"dma_map_sg", "dma_unmap_sg", "dma_sync_sg_for_cpu", "dma_sync_sg_for_device",
};

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static char trace[1 << 16];

/* Reads the trace buffer into `trace` and empties it; fails if it does
 * not fit (a lost line could hide a call). */
static int take_trace(void)
{
	int fd = open(TRACING "/trace", O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, trace + len, sizeof(trace) - 1 - len)) > 0)
		len += n;
	close(fd);
	trace[len] = 0;
	if (len >= (ssize_t)sizeof(trace) - 1)
		return -ENOSPC;
	return write_file(TRACING "/trace", "");
}

/* Trace lines of our two devices, and how many match "EVENT: DEV dir=DIR". */
static int count(const char *event, const char *dev, const char *dir, const char *extra)
{
	char key[128];
	int n = 0;

	snprintf(key, sizeof(key), " %s: %s dir=%s ", event, dev, dir);
	for (char *line = trace; line && *line; ) {
		char *end = strchr(line, '\n');

		if (end)
			*end = 0;
		if (strstr(line, key) && (!extra || strstr(line, extra)))
			n++;
		if (end)
			*end = '\n';
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* All trace lines that name one of our devices. */
static int lines_of_ours(void)
{
	int n = 0;

	for (char *p = trace; (p = strstr(p, ": rdh-dmadir.")); p++)
		n++;
	return n;
}

/* Exactly one "EVENT: DEV dir=DIR" line (with EXTRA, if given). */
static void one(const char *heap, const char *phase, const char *event, const char *who,
		const char *dev, const char *dir, const char *extra)
{
	int n = count(event, dev, dir, extra);

	check_ok(n == 1, "%s: %s: one %s %s%s%s for %s (got %d)", heap, phase, event, dir,
		 extra ? " " : "", extra ? extra : "", who, n);
}

static void expect_total(const char *heap, const char *phase, int total)
{
	int n = lines_of_ours();

	if (!check_ok(n == total, "%s: %s: exactly %d DMA calls for the two devices (got %d)",
		      heap, phase, total, n)) {
		for (char *line = strtok(trace, "\n"); line; line = strtok(NULL, "\n"))
			ksft_print_msg("%s\n", line);
	}
}

static void take(const char *heap, const char *phase)
{
	int ret = take_trace();

	if (ret)
		check_ok(0, "%s: %s: the trace is read whole (%s)", heap, phase, strerror(-ret));
}

#define A "the FROM_DEVICE importer", DEV_A
#define B "the TO_DEVICE importer", DEV_B

static int dbuf_sync(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

int main(int argc, char **argv)
{
	char path[256];
	bool ready = true;

	ksft_print_header();
	if (mount("nodev", TRACING, "tracefs", 0, NULL) && errno != EBUSY)
		ready = false;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(path, sizeof(path), TRACING "/events/dma/%s/enable", events[i]);
		if (write_file(path, "1"))
			ready = false;
	}
	/* Only our two devices' calls, so that no other device's can crowd
	 * them out of the buffer. */
	if (write_file(TRACING "/events/dma/filter", "device ~ \"rdh-dmadir.*\""))
		ready = false;
	if (!check_ok(ready && !write_file(TRACING "/tracing_on", "1"),
		      "the DMA tracepoints are on, filtered to the test's devices"))
		finish_checks();

	for (int h = 1; h < argc; h++) {
		const char *heap = argv[h];
		size_t len = (1 << 20) + (64 << 10);
		int hfd = open_heap(heap, O_RDONLY), fd;
		char cmd[64];

		if (!check_ok(hfd >= 0, "%s: heap opens", heap))
			continue;
		fd = heap_alloc(hfd, len);
		close(hfd);
		if (!check_ok(fd >= 0, "%s: allocates %zu bytes", heap, len))
			continue;

		take(heap, "before");
		snprintf(cmd, sizeof(cmd), "%d 2 1", fd); /* A: FROM_DEVICE, B: TO_DEVICE */
		if (!check_ok(!write_file("/sys/kernel/debug/rdh_dmadir/attach", cmd),
			      "%s: both devices attach and map", heap)) {
			close(fd);
			continue;
		}
		take(heap, "first map");
		one(heap, "first map", "dma_map_sg", A, "BIDIRECTIONAL", "SKIP_CPU_SYNC");
		one(heap, "first map", "dma_map_sg", B, "TO_DEVICE", "SKIP_CPU_SYNC");
		one(heap, "first map", "dma_sync_sg_for_device", A, "BIDIRECTIONAL", NULL);
		one(heap, "first map", "dma_sync_sg_for_device", B, "TO_DEVICE", NULL);
		expect_total(heap, "first map", 4);

		check_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), "%s: SYNC_START|WRITE", heap);
		take(heap, "SYNC_START|WRITE");
		one(heap, "SYNC_START|WRITE", "dma_sync_sg_for_cpu", A, "TO_DEVICE", NULL);
		expect_total(heap, "SYNC_START|WRITE", 1);

		check_ok(!dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), "%s: SYNC_END|WRITE", heap);
		take(heap, "SYNC_END|WRITE");
		one(heap, "SYNC_END|WRITE", "dma_sync_sg_for_device", A, "TO_DEVICE", NULL);
		one(heap, "SYNC_END|WRITE", "dma_sync_sg_for_device", B, "TO_DEVICE", NULL);
		expect_total(heap, "SYNC_END|WRITE", 2);

		check_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), "%s: SYNC_START|READ", heap);
		take(heap, "SYNC_START|READ");
		one(heap, "SYNC_START|READ", "dma_sync_sg_for_cpu", A, "FROM_DEVICE", NULL);
		expect_total(heap, "SYNC_START|READ", 1);

		check_ok(!dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), "%s: SYNC_END|READ", heap);
		take(heap, "SYNC_END|READ");
		one(heap, "SYNC_END|READ", "dma_sync_sg_for_device", A, "FROM_DEVICE", NULL);
		expect_total(heap, "SYNC_END|READ", 1);

		check_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) &&
			 !dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), "%s: SYNC_START|RW, SYNC_END|RW", heap);
		take(heap, "SYNC_RW");
		one(heap, "SYNC_RW", "dma_sync_sg_for_cpu", A, "BIDIRECTIONAL", NULL);
		one(heap, "SYNC_RW", "dma_sync_sg_for_device", A, "BIDIRECTIONAL", NULL);
		one(heap, "SYNC_RW", "dma_sync_sg_for_device", B, "TO_DEVICE", NULL);
		expect_total(heap, "SYNC_RW", 3);

		check_ok(!write_file("/sys/kernel/debug/rdh_dmadir/detach", "1"), "%s: both devices unmap and detach", heap);
		take(heap, "unmap");
		one(heap, "unmap", "dma_sync_sg_for_cpu", A, "FROM_DEVICE", NULL);
		one(heap, "unmap", "dma_unmap_sg", A, "BIDIRECTIONAL", "SKIP_CPU_SYNC");
		one(heap, "unmap", "dma_unmap_sg", B, "TO_DEVICE", "SKIP_CPU_SYNC");
		expect_total(heap, "unmap", 3);
		close(fd);
	}
	return finish_checks();
}
