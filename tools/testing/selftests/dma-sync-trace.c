// SPDX-License-Identifier: GPL-2.0
/*
 * The exact DMA-API calls the exporter makes, read from the kernel's DMA
 * tracepoints: one buffer mapped by two devices (rdh_dmadir.ko), one
 * FROM_DEVICE (a capture device) and one TO_DEVICE (an encoder).
 *   - each first map is a bidirectional mapping that skips the implicit
 *     sync, then one bidirectional sync for the device (what the CPU wrote,
 *     the zeroes included, reaches memory before the device looks);
 *   - DMA_BUF_IOCTL_SYNC syncs both tables in the CPU's direction, never the
 *     importer's: SYNC_END|WRITE is a TO_DEVICE sync for both devices, so
 *     the capture device's FROM_DEVICE mapping cannot invalidate the CPU's
 *     writes;
 *   - unmapping syncs for the CPU in the importer's direction, then unmaps
 *     bidirectionally.
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

/* Reads the trace buffer into `trace` and empties it. */
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

static void expect(const char *heap, const char *phase, const char *event,
		   const char *dir_a, const char *dir_b, const char *extra)
{
	int a = count(event, DEV_A, dir_a, extra), b = count(event, DEV_B, dir_b, extra);

	tap_ok(a == 1 && b == 1, "%s: %s: one %s %s for the FROM_DEVICE importer, one %s for the TO_DEVICE one (got %d, %d)",
	       heap, phase, event, dir_a, dir_b, a, b);
}

static void expect_total(const char *heap, const char *phase, int total)
{
	int n = lines_of_ours();

	if (!tap_ok(n == total, "%s: %s: exactly %d DMA calls for the two devices (got %d)",
		    heap, phase, total, n))
		tap_diag("trace:\n%s", trace);
}

static int dbuf_sync(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

int main(int argc, char **argv)
{
	char path[256];
	bool ready = true;

	tap_header();
	if (mount("nodev", TRACING, "tracefs", 0, NULL) && errno != EBUSY)
		ready = false;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(path, sizeof(path), TRACING "/events/dma/%s/enable", events[i]);
		if (write_file(path, "1"))
			ready = false;
	}
	if (!tap_ok(ready && !write_file(TRACING "/tracing_on", "1"),
		    "the DMA tracepoints are on"))
		tap_finish();

	for (int h = 1; h < argc; h++) {
		const char *heap = argv[h];
		size_t len = (1 << 20) + (64 << 10);
		int hfd = open_heap(heap, O_RDONLY), fd;
		char cmd[64];

		if (!tap_ok(hfd >= 0, "%s: heap opens", heap))
			continue;
		fd = heap_alloc(hfd, len);
		close(hfd);
		if (!tap_ok(fd >= 0, "%s: allocates %zu bytes", heap, len))
			continue;

		take_trace();
		snprintf(cmd, sizeof(cmd), "%d 2 1", fd); /* A: FROM_DEVICE, B: TO_DEVICE */
		if (!tap_ok(!write_file("/sys/kernel/debug/rdh_dmadir/attach", cmd),
			    "%s: both devices attach and map", heap)) {
			close(fd);
			continue;
		}
		take_trace();
		expect(heap, "first map", "dma_map_sg", "BIDIRECTIONAL", "BIDIRECTIONAL",
		       "SKIP_CPU_SYNC");
		expect(heap, "first map", "dma_sync_sg_for_device", "BIDIRECTIONAL",
		       "BIDIRECTIONAL", NULL);
		expect_total(heap, "first map", 4);

		tap_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), "%s: SYNC_START|WRITE", heap);
		take_trace();
		expect(heap, "SYNC_START|WRITE", "dma_sync_sg_for_cpu", "TO_DEVICE", "TO_DEVICE", NULL);
		expect_total(heap, "SYNC_START|WRITE", 2);

		tap_ok(!dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), "%s: SYNC_END|WRITE", heap);
		take_trace();
		expect(heap, "SYNC_END|WRITE", "dma_sync_sg_for_device", "TO_DEVICE", "TO_DEVICE", NULL);
		expect_total(heap, "SYNC_END|WRITE", 2);

		tap_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), "%s: SYNC_START|READ", heap);
		take_trace();
		expect(heap, "SYNC_START|READ", "dma_sync_sg_for_cpu", "FROM_DEVICE", "FROM_DEVICE", NULL);
		expect_total(heap, "SYNC_START|READ", 2);

		tap_ok(!dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), "%s: SYNC_END|READ", heap);
		take_trace();
		expect(heap, "SYNC_END|READ", "dma_sync_sg_for_device", "FROM_DEVICE", "FROM_DEVICE", NULL);
		expect_total(heap, "SYNC_END|READ", 2);

		tap_ok(!dbuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) &&
		       !dbuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), "%s: SYNC_START|RW, SYNC_END|RW", heap);
		take_trace();
		expect(heap, "SYNC_RW", "dma_sync_sg_for_cpu", "BIDIRECTIONAL", "BIDIRECTIONAL", NULL);
		expect(heap, "SYNC_RW", "dma_sync_sg_for_device", "BIDIRECTIONAL", "BIDIRECTIONAL", NULL);
		expect_total(heap, "SYNC_RW", 4);

		tap_ok(!write_file("/sys/kernel/debug/rdh_dmadir/detach", "1"), "%s: both devices unmap and detach", heap);
		take_trace();
		expect(heap, "unmap", "dma_sync_sg_for_cpu", "FROM_DEVICE", "TO_DEVICE", NULL);
		expect(heap, "unmap", "dma_unmap_sg", "BIDIRECTIONAL", "BIDIRECTIONAL", NULL);
		expect_total(heap, "unmap", 4);
		close(fd);
	}
	return tap_finish();
}
