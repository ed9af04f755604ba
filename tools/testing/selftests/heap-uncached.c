// SPDX-License-Identifier: GPL-2.0
/*
 * The system-uncached heap: its CPU mappings are write-combined, checked
 * where the hardware's page tables say so, and a system-heap buffer's are
 * not (the same checks turn the other way on it):
 *   - the VMA of a shared mapping has the write-combining page protection
 *     (the test importer compares it with pgprot_writecombine()); a private
 *     mapping is refused (EINVAL), as its copy-on-write page would be an
 *     anonymous page mapped write-combined;
 *   - on x86_64, the PTEs of the user mapping in
 *     /sys/kernel/debug/page_tables/current_kernel (this process's page
 *     tables; current_user is the user copy of page-table isolation, which
 *     the test kernel does not build) carry PWT without PCD
 *     (write-combining under the kernel's PAT layout; uncached would be PCD);
 *   - the kernel mapping (the importer's dma_buf_vmap()) is write-combined
 *     in the kernel's page tables: PWT without PCD in
 *     /sys/kernel/debug/page_tables/kernel on x86_64, MEM/NORMAL-NC in
 *     /sys/kernel/debug/kernel_page_tables on arm64;
 *   - a new buffer reads as zeroes; what the CPU writes through the mapping
 *     the kernel mapping reads, and what a device writes the CPU reads,
 *     with no DMA_BUF_IOCTL_SYNC; the sync ioctl succeeds and does nothing;
 *   - 200 buffers allocated, touched and freed in turn all succeed and
 *     every page comes back (on x86 a page given back to the allocator
 *     still write-combined makes the next switch of that page to
 *     write-combining fail with EBUSY; the allocator hands freed pages out
 *     again soonest, so the rounds reach the same pages again, though
 *     nothing guarantees it).
 *   heap-uncached   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "heaptest.h"

#define SIZE (4UL << 20)
#define ROUNDS 200

#if defined(__x86_64__)
#define USER_PT "/sys/kernel/debug/page_tables/current_kernel"
#define KERNEL_PT "/sys/kernel/debug/page_tables/kernel"
#elif defined(__aarch64__)
#define KERNEL_PT "/sys/kernel/debug/kernel_page_tables"
#endif

/*
 * Whether the page-table dump @path shows [@start, @end) mapped
 * write-combined (@wc) or cached (!@wc) throughout: every line of the dump
 * that overlaps the range must say so, and the lines must cover it.
 * 1 if so, 0 if not, -1 if the dump cannot be read.
 */
static int range_is(const char *path, unsigned long start, unsigned long end, bool wc)
{
	FILE *f = fopen(path, "r");
	unsigned long covered = 0, a, b;
	char line[512];
	bool ok = true;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		bool is_wc;

		if (sscanf(line, "0x%lx-0x%lx", &a, &b) != 2 || b <= start || a >= end)
			continue;
#if defined(__x86_64__)
		is_wc = strstr(line, " PWT ") && !strstr(line, " PCD ");
		if (!wc && (strstr(line, " PWT ") || strstr(line, " PCD ")))
			ok = false;
#else
		is_wc = strstr(line, "MEM/NORMAL-NC");
		if (!wc && !strstr(line, "MEM/NORMAL"))
			ok = false;
#endif
		if (is_wc != wc) {
			tap_diag("%s", line);
			ok = false;
		}
		covered += (b < end ? b : end) - (a > start ? a : start);
	}
	fclose(f);
	if (covered != end - start)
		tap_diag("%s covers %lu of %lu bytes", path, covered, end - start);
	return ok && covered == end - start;
}

/* The importer's answer to its last command ("key=value"), or -1. */
static unsigned long importer_info(const char *key)
{
	char text[128], *p;

	if (importer_answer(text, sizeof(text)) < 0)
		return -1;
	p = strstr(text, key);
	return p ? strtoul(p + strlen(key), NULL, 0) : -1UL;
}

/* Whether the importer finds the VMA at @addr write-combined (1, 0, -1). */
static int vma_is_wc(void *addr)
{
	if (importer("prot %llu", (unsigned long long)(uintptr_t)addr))
		return -1;
	return (int)importer_info("wc=");
}

/* The mapping checks on one buffer of @heap, write-combined or not. */
static void check_mappings(const char *heap, bool wc)
{
	int hfd = open_heap(heap, O_RDONLY), buf;
	const char *what = wc ? "write-combined" : "cached";
	uint32_t *p;
	void *priv;
	unsigned long vaddr = 0;
	bool zero = true;

	buf = hfd < 0 ? -1 : heap_alloc(hfd, SIZE);
	if (!tap_ok(buf >= 0, "%s: a 4 MiB buffer (%d)", heap, buf))
		exit(tap_finish());
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (!tap_ok(p != MAP_FAILED, "%s: mmap shared", heap))
		exit(tap_finish());
	tap_ok(vma_is_wc(p) == wc, "%s: the shared mapping's VMA is %s", heap, what);
	priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, buf, 0);
	if (wc)
		tap_ok(priv == MAP_FAILED && errno == EINVAL,
		       "%s: a private mapping is EINVAL (its copy-on-write page would be write-combined)",
		       heap);
	else
		tap_ok(priv != MAP_FAILED && vma_is_wc(priv) == 0,
		       "%s: a private one-page mapping is cached", heap);
	if (priv != MAP_FAILED)
		munmap(priv, 4096);
	for (size_t i = 0; i < SIZE / 4; i++)
		zero &= p[i] == 0;
	tap_ok(zero, "%s: a new buffer reads as zeroes", heap);
	for (size_t i = 0; i < SIZE / 4; i++)
		p[i] = i ^ 0xa5a5a5a5;
#ifdef USER_PT
	tap_ok(range_is(USER_PT, (uintptr_t)p, (uintptr_t)p + SIZE, wc) == 1,
	       "%s: the user PTEs are %s (%s)", heap, what, USER_PT);
#endif
	if (wc)
		tap_ok(importer("probe %d %lu %u", buf, SIZE - 4,
				(unsigned int)((SIZE / 4 - 1) ^ 0xa5a5a5a5)) == 0,
		       "%s: the kernel mapping reads what the CPU wrote, with no sync", heap);
	tap_ok(importer("attach 0 %d 0", buf) == 0 && importer("fill 0 77") == 0,
	       "%s: a device writes the buffer", heap);
	if (wc) {
		bool seen = true;

		for (size_t i = 0; i < SIZE / 4; i++)
			seen &= p[i] == pattern_word(i, 77);
		tap_ok(seen, "%s: the CPU reads what the device wrote, with no sync", heap);
	}
	tap_ok(importer("hold 0") == 0 && (vaddr = importer_info("vaddr=")) + 1 > 1,
	       "%s: the importer maps the buffer into the kernel", heap);
#ifdef KERNEL_PT
	tap_ok(range_is(KERNEL_PT, vaddr, vaddr + SIZE, wc) == 1,
	       "%s: the kernel mapping is %s (%s)", heap, what, KERNEL_PT);
#endif
	importer("detach 0");
	if (wc) {
		struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
		int st = ioctl(buf, DMA_BUF_IOCTL_SYNC, &s);

		s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
		tap_ok(st == 0 && ioctl(buf, DMA_BUF_IOCTL_SYNC, &s) == 0,
		       "%s: DMA_BUF_IOCTL_SYNC start and end succeed", heap);
	}
	munmap(p, SIZE);
	close(buf);
	close(hfd);
}

int main(void)
{
	int hfd, failed = 0;
	long pages0;

	tap_header();
	check_mappings("system-uncached", true);
	check_mappings("system", false);

	hfd = open_heap("system-uncached", O_RDONLY);
	pages0 = free_pages_settled(NULL);
	for (int i = 0; i < ROUNDS; i++) {
		int buf = heap_alloc(hfd, SIZE);
		char *p = buf < 0 ? MAP_FAILED : mmap(NULL, SIZE, PROT_WRITE, MAP_SHARED, buf, 0);

		if (p == MAP_FAILED) {
			if (!failed++)
				tap_diag("round %d: %d, %s", i, buf, strerror(errno));
		} else {
			for (size_t off = 0; off < SIZE; off += 4096)
				p[off] = 1;
			munmap(p, SIZE);
		}
		if (buf >= 0)
			close(buf);
	}
	tap_ok(failed == 0, "%d buffers allocated, written and freed in turn (%d failed)", ROUNDS,
	       failed);
	tap_ok(pages_missing(pages0, PAGE_LEAK_TOLERANCE) == 0,
	       "every page of the system-uncached buffers comes back");
	close(hfd);
	return tap_finish();
}
