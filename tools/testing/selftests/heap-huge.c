// SPDX-License-Identifier: GPL-2.0
/*
 * A buffer of 4 GiB and more (a VM with enough memory for one): on HEAP,
 * a buffer of BYTES (default 4 GiB + 64 KiB) allocates, maps whole, holds
 * what is written at offsets on both sides of 4 GiB (through mmap, and as
 * the kernel's vmap sees it), takes CPU-access syncs over all of it from
 * userspace and from the kernel, maps for a device with every byte in the
 * table, and gives its memory back.
 *   heap-huge HEAP [BYTES]   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "heaptest.h"

static int sync_buf(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "system";
	uint64_t len = argc > 2 ? strtoull(argv[2], NULL, 0) : (4ULL << 30) + (64 << 10);
	uint64_t offs[16];
	long before = meminfo_kb("MemAvailable");
	int heap = open_heap(name, O_RDONLY), fd, noffs = 0, ret;
	bool held = true, vmapped = true;
	char info[128] = "";
	uint32_t *p;

	ksft_print_header();
	if (!check_ok(heap >= 0 && len > (4ULL << 30), "%s: heap opens; %llu bytes is over 4 GiB", name,
		      (unsigned long long)len))
		return finish_checks();
	fd = heap_alloc(heap, len);
	if (!check_ok(fd >= 0, "%s: a buffer of %llu MiB allocates (%d)", name,
		      (unsigned long long)(len >> 20), fd))
		return finish_checks();
	check_ok(lseek(fd, 0, SEEK_END) == (off_t)len, "%s: its size is all of it", name);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!check_ok(p != MAP_FAILED, "%s: it maps whole", name))
		return finish_checks();
	/* Words around every GiB boundary, 4 GiB included, and the last. */
	for (uint64_t g = 1ULL << 30; g < len && noffs < 14; g += 1ULL << 30) {
		offs[noffs++] = g - 4;
		offs[noffs++] = g;
	}
	offs[noffs++] = 0;
	offs[noffs++] = len - 4;
	check_ok(sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) == 0,
		 "%s: SYNC_START over the whole buffer", name);
	for (int i = 0; i < noffs; i++)
		p[offs[i] / 4] = pattern_word(offs[i] / 4, 0x4a4a);
	check_ok(sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW) == 0,
		 "%s: SYNC_END over the whole buffer", name);
	for (int i = 0; i < noffs; i++) {
		held &= p[offs[i] / 4] == pattern_word(offs[i] / 4, 0x4a4a);
		ret = importer("probe %d %llu %u", fd, (unsigned long long)offs[i],
			       pattern_word(offs[i] / 4, 0x4a4a));
		if (ret)
			ksft_print_msg("vmap probe at %#llx: %d\n", (unsigned long long)offs[i], ret);
		vmapped &= ret == 0;
	}
	check_ok(held, "%s: mmap holds what was written on both sides of 4 GiB", name);
	check_ok(vmapped, "%s: the kernel's vmap of the whole buffer sees it at the same offsets", name);
	ret = importer("sync %d 1", fd);
	check_ok(ret == 0, "%s: the kernel's begin/end_cpu_access over the whole buffer (%d)", name, ret);
	ret = importer("attach 0 %d 0", fd);
	if (!ret) {
		int f = open("/sys/kernel/debug/rdh_importer/ctl", O_RDONLY | O_CLOEXEC);

		importer("info 0");
		if (f >= 0) {
			read(f, info, sizeof(info) - 1);
			close(f);
		}
		importer("detach 0");
	}
	ksft_print_msg("device mapping: %s\n", info);
	{
		char want[64];

		snprintf(want, sizeof(want), "bytes=%llu ", (unsigned long long)len);
		check_ok(ret == 0 && strstr(info, want),
			 "%s: it maps for a device, every byte in the table (%d)", name, ret);
	}
	munmap(p, len);
	close(fd);
	close(heap);
	/* The system heap's pools keep up to a sixteenth of RAM, zeroed by a
	 * worker, until memory is short: drop caches (their shrinker) and wait
	 * for the worker, up to 10 s. */
	for (int round = 0; round < 20; round++) {
		write_sysfs("/proc/sys/vm/drop_caches", "3");
		if (meminfo_kb("MemAvailable") >= before - (64 << 10))
			break;
		usleep(500000);
	}
	check_ok(meminfo_kb("MemAvailable") >= before - (64 << 10),
		 "%s: its memory comes back (MemAvailable %ld kB before, %ld kB after)", name, before,
		 meminfo_kb("MemAvailable"));
	check_pages_exact(name);
	return finish_checks();
}
