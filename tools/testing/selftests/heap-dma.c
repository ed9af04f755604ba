// SPDX-License-Identifier: GPL-2.0
/*
 * What a device sees: the test importer (importer-module/) maps a buffer
 * for its devices and reads and writes the bytes at the DMA addresses, as
 * the device's DMA would. Booted with swiotlb=force, those are bounce
 * buffers, copied only by the DMA API's syncs: a missing or wrong sync in
 * the exporter changes what the device or the CPU sees. For each heap and
 * each of the importer's two devices:
 *   - at map time, the device sees what the CPU wrote;
 *   - after the CPU writes again inside DMA_BUF_IOCTL_SYNC START/END, the
 *     device sees the new data (end_cpu_access synced it for the device);
 *   - after the device writes, DMA_BUF_IOCTL_SYNC START shows the CPU its
 *     data through mmap (begin_cpu_access synced it for the CPU), and so
 *     does the kernel's vmap inside begin_cpu_access.
 * And per heap, one device mapping the buffer through two attachments at
 * once: the CPU syncs in every direction, and both mappings see what the
 * CPU wrote. (With one of the two being mapped or unmapped meanwhile,
 * CONFIG_DMA_API_DEBUG once took a sync for one of memory never mapped:
 * heap-concurrent races that.)
 *   heap-dma [--bounce] BYTES HEAP...   (after insmod rdh_importer.ko)
 * --bounce: the mappings must be bounced (the swiotlb=force run), so that
 * the checks above really test the syncs.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "heaptest.h"

static bool bounce;

static int sync_buf(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static bool cpu_sees(const uint32_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len / 4; i++)
		if (p[i] != pattern_word(i, seed))
			return false;
	return true;
}

static void cpu_writes(uint32_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len / 4; i++)
		p[i] = pattern_word(i, seed);
}

static bool info_bounced(void)
{
	char s[128];
	int n = importer_answer(s, sizeof(s));

	if (n > 0)
		ksft_print_msg("mapping: %.*s\n", n - 1, s);
	return n > 0 && strstr(s, "bounced=1");
}

static void one(const char *name, int heap, size_t len, int dev)
{
	uint32_t a = 0x1000 + dev, b = 0x2000 + dev, c = 0x3000 + dev, d = 0x4000 + dev;
	int fd = heap_alloc(heap, len), ret;
	uint32_t *p;

	p = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!check_ok(p != MAP_FAILED, "%s/dev%d: a buffer of %zu bytes, mapped", name, dev, len))
		return;
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	cpu_writes(p, len, a);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	ret = importer("attach 0 %d %d", fd, dev);
	if (!check_ok(ret == 0, "%s/dev%d: the importer attaches and maps it (%d)", name, dev, ret))
		goto out;
	importer("info 0");
	if (bounce)
		check_ok(info_bounced(), "%s/dev%d: the device's DMA addresses are bounce buffers", name,
			 dev);
	check_ok(importer("check 0 %u", a) == 0, "%s/dev%d: at map time the device sees the CPU's data",
		 name, dev);
	/* A deliberate deviation (Documentation/exporter-layer.rst): upstream's
	 * heaps map the same table again and lose the first mapping. */
	ret = importer("remap 0");
	check_ok(ret == -EBUSY, "%s/dev%d: a second map of the same attachment is EBUSY (%d)", name,
		 dev, ret);

	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	cpu_writes(p, len, b);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	check_ok(importer("check 0 %u", b) == 0,
		 "%s/dev%d: after SYNC_END the device sees what the CPU wrote while mapped", name, dev);

	check_ok(importer("fill 0 %u", c) == 0, "%s/dev%d: the device writes", name, dev);
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	check_ok(cpu_sees(p, len, c), "%s/dev%d: after SYNC_START the CPU sees what the device wrote",
		 name, dev);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);

	importer("fill 0 %u", d);
	ret = importer("probe %d %zu %u", fd, len - 4, pattern_word(len / 4 - 1, d));
	check_ok(ret == 0, "%s/dev%d: the kernel's vmap sees it too, inside begin_cpu_access (%d)", name,
		 dev, ret);
	check_ok(importer("detach 0") == 0, "%s/dev%d: unmapped and detached", name, dev);
out:
	munmap(p, len);
	close(fd);
}

static void twice(const char *name, int heap, size_t len)
{
	static const unsigned long long dirs[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
	};
	uint32_t a = 0x5000;
	int fd = heap_alloc(heap, len), ret, bad = 0;
	uint32_t *p;

	p = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!check_ok(p != MAP_FAILED, "%s/twice: a buffer of %zu bytes, mapped", name, len))
		return;
	ret = importer("attach 0 %d 1", fd);
	if (!ret)
		ret = importer("attach 1 %d 1", fd);
	if (!check_ok(ret == 0, "%s/twice: device 1 maps it through two attachments (%d)", name, ret))
		goto out;
	for (unsigned int i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		bad |= sync_buf(fd, DMA_BUF_SYNC_START | dirs[i]) != 0;
		if (dirs[i] & DMA_BUF_SYNC_WRITE)
			cpu_writes(p, len, a);
		bad |= sync_buf(fd, DMA_BUF_SYNC_END | dirs[i]) != 0;
	}
	check_ok(!bad, "%s/twice: SYNC_START and SYNC_END work in every direction", name);
	check_ok(importer("check 0 %u", a) == 0 && importer("check 1 %u", a) == 0,
		 "%s/twice: both mappings see what the CPU wrote", name);
	check_ok(importer("detach 0") == 0 && importer("detach 1") == 0,
		 "%s/twice: both unmapped and detached", name);
out:
	importer("detach 0");
	importer("detach 1");
	munmap(p, len);
	close(fd);
}

int main(int argc, char **argv)
{
	int a = 1, bufs0 = count_dmabufs();
	size_t len;

	ksft_print_header();
	if (argc > a && !strcmp(argv[a], "--bounce")) {
		bounce = true;
		a++;
	}
	if (argc < a + 2) {
		check_ok(0, "usage: heap-dma [--bounce] BYTES HEAP...");
		return finish_checks();
	}
	len = strtoul(argv[a++], NULL, 0);
	for (; a < argc; a++) {
		int heap = open_heap(argv[a], O_RDONLY);

		if (!check_ok(heap >= 0, "%s: heap opens", argv[a]))
			continue;
		for (int dev = 0; dev < 2; dev++)
			one(argv[a], heap, len, dev);
		twice(argv[a], heap, len);
		close(heap);
		check_pages_exact(argv[a]);
	}
	check_ok(count_dmabufs() == bufs0, "no buffer is left behind (%d -> %d)", bufs0, count_dmabufs());
	return finish_checks();
}
