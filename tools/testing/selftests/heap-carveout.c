// SPDX-License-Identifier: GPL-2.0
/*
 * The carveout heap, over a region reserved at boot (memmap= on x86_64, a
 * reserved-memory node without "reusable" on arm64):
 *   - parameters that name no reserved memory are refused with a log line
 *     and no heap: a range of System RAM (the kernel's own image) or, on
 *     arm64, any range (no E820 table to check it against), an unaligned
 *     one, on x86_64 the firmware's own reserved memory (the BIOS area), a
 *     node that does not exist, a reusable one (a CMA area), on arm64 one
 *     a driver of the kernel set up (a device's coherent pool), one with a
 *     compatible (ramoops, which maps its range itself) and one another
 *     node names in memory-region (a device's, as remoteproc's are);
 *   - on x86_64 the range is claimed in /proc/iomem under the heap's name;
 *   - with the right parameters the heap is there, its region_bytes is the
 *     region's size, and the whole region can be allocated, in four
 *     buffers, each one contiguous run (the test importer's table has one
 *     entry) and zeroed; one page more is ENOMEM; a private mapping EINVAL;
 *   - a freed buffer's memory comes back zeroed to the next one;
 *   - with the rest of memory exhausted (system-heap buffers until less
 *     than 24 MiB is free outside CMA areas, and a page reference held on every page of one
 *     of them, as a driver pinning memory does) the whole region can still
 *     be allocated;
 *   - upstream's kselftest passes on the heap;
 *   - the heap's pages are all back at the end (the whole region allocates
 *     again: reserved pages are in no free-page count).
 *   heap-carveout NAME SIZE "GOOD MODARGS" [CMA-NAME]  (rdh_importer loaded)
 *
 * With --bounce, on a kernel booted with swiotlb=force (every device's
 * every mapping bounced, as in SEV and TDX guests): swiotlb copies through
 * the kernel's linear map, which a carveout lacks, so a device's attach is
 * refused with EOPNOTSUPP (the test importer's, vgem's import), logged
 * once, and nothing faults; the buffer still works for the CPU (mmap,
 * DMA_BUF_IOCTL_SYNC), a system-heap buffer still attaches, and every page
 * comes back.
 *   heap-carveout --bounce NAME SIZE "GOOD MODARGS"  (rdh_importer loaded)
 *
 * Leaves the module loaded with its default parameters.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

#define MOD "/rust_dma_heap.ko"

static const char *name;
static unsigned long size;

static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool reload(const char *args)
{
	return run("rmmod rust_dma_heap && insmod " MOD " %s", args) == 0;
}

static bool heap_exists(const char *heap)
{
	char path[300];

	snprintf(path, sizeof(path), HEAP_DIR "/%s", heap);
	return access(path, F_OK) == 0;
}

#if !defined(__aarch64__)
static int kernel_major(void)
{
	struct utsname u;

	return uname(&u) ? 0 : atoi(u.release);
}
#endif

/* Whether the kernel logged @text since marker @mark. */
static bool logged(int mark, const char *text)
{
	return run("dmesg | sed -n '/heap-carveout mark %d$/,$p' | grep -q -F -e '%s'", mark, text) ==
	       0;
}

/* Loading with @args gives no heap @heap and logs @why. */
static void refused(const char *args, const char *heap, const char *why)
{
	static int mark;

	run("echo 'heap-carveout mark %d' >/dev/kmsg", ++mark);
	check_ok(reload(args) && !heap_exists(heap) && logged(mark, why), "%s: refused (\"%s\")",
		 args, why);
}

/* Free memory the system heap could take (CMA areas it cannot). */
static long free_outside_cma_kb(void)
{
	long cma = meminfo_kb("CmaFree");

	return meminfo_kb("MemFree") - (cma > 0 ? cma : 0);
}

/* The one entry of @fd's table for the importer's device 0, or -1. */
static long table_entries(int fd)
{
	char text[128];
	long nents = -1;

	if (importer("attach 1 %d 0", fd) || importer("info 1"))
		return -1;
	if (importer_answer(text, sizeof(text)) > 0)
		sscanf(text, "nents=%ld", &nents);
	importer("detach 1");
	return nents;
}

static bool all_zero(int fd, unsigned long len, bool scribble)
{
	uint32_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	bool zero = true;

	if (p == MAP_FAILED)
		return false;
	for (size_t i = 0; i < len / 4; i++) {
		zero &= p[i] == 0;
		if (scribble)
			p[i] = 0x5a5a5a5a;
	}
	munmap(p, len);
	return zero;
}

/* Allocates the whole region in four buffers into @bufs; how many worked. */
static int fill_region(int heap, int bufs[4])
{
	int ok = 0;

	for (int i = 0; i < 4; i++) {
		bufs[i] = heap_alloc(heap, size / 4);
		ok += bufs[i] >= 0;
	}
	return ok;
}

static int bounce(const char *good)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	int heap, fd, sys, sysfd, vgem, ret, mark = 1000;
	struct drm_prime_handle h = { .flags = 0 };
	uint32_t *p;
	bool cpu = false;

	run("echo 'heap-carveout mark %d' >/dev/kmsg", mark);
	check_ok(reload(good) && heap_exists(name), "%s: the heap is there with %s", name, good);
	heap = open_heap(name, O_RDONLY);
	fd = heap_alloc(heap, size / 4);
	if (!check_ok(fd >= 0, "%s: a buffer of a quarter of the region (%d)", name, fd))
		return finish_checks();
	ret = importer("attach 1 %d 0", fd);
	check_ok(ret == -EOPNOTSUPP, "%s: under swiotlb=force a device's attach is refused with EOPNOTSUPP (%s)",
		 name, ret ? strerror(-ret) : "attached");
	if (!ret)
		importer("detach 1");
	ret = importer("attach 1 %d 0", fd);
	check_ok(ret == -EOPNOTSUPP, "%s: and again, the same way (%s)", name,
		 ret ? strerror(-ret) : "attached");
	if (!ret)
		importer("detach 1");
	check_ok(logged(mark, "DMA mappings would bounce through swiotlb, which cannot reach pages outside"),
		 "%s: the refusal is logged", name);
	vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	h.fd = fd;
	ret = vgem < 0 ? -ENODEV : ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h) ? -errno : 0;
	check_ok(ret == -EOPNOTSUPP, "%s: a vgem import is refused with EOPNOTSUPP (%s)", name,
		 ret ? strerror(-ret) : "imported");
	if (vgem >= 0)
		close(vgem);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		cpu = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) == 0;
		p[0] = 0x12345678;
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
		cpu &= ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) == 0 && p[0] == 0x12345678;
		munmap(p, 4096);
	}
	check_ok(cpu, "%s: the buffer still works for the CPU (mmap, DMA_BUF_IOCTL_SYNC)", name);
	close(fd);
	close(heap);
	sys = open_heap("system", O_RDONLY);
	sysfd = heap_alloc(sys, 1 << 20);
	ret = sysfd < 0 ? sysfd : importer("attach 1 %d 0", sysfd);
	check_ok(ret == 0, "a system-heap buffer still attaches to the same device (%s)",
		 ret ? strerror(-ret) : "attached");
	if (!ret)
		importer("detach 1");
	if (sysfd >= 0)
		close(sysfd);
	close(sys);
	check_pages_exact(name);
	check_ok(reload(""), "the module is back with its default parameters");
	return finish_checks();
}

int main(int argc, char **argv)
{
	int heap, bufs[4], ok, extra, sys, nsys = 0, sysbufs[1024];
	bool contiguous = true, zero = true;
	const char *good, *cma;
	char args[256];
	void *priv;

	if (argc == 5 && !strcmp(argv[1], "--bounce")) {
		name = argv[2];
		size = strtoul(argv[3], NULL, 0);
		ksft_print_header();
		return bounce(argv[4]);
	}
	if (argc < 4) {
		fprintf(stderr, "usage: heap-carveout [--bounce] NAME SIZE \"MODARGS\" [CMA-NAME]\n");
		return 2;
	}
	name = argv[1];
	size = strtoul(argv[2], NULL, 0);
	good = argv[3];
	cma = argc > 4 ? argv[4] : NULL;
	ksft_print_header();

	/* Where the kernel's image is: System RAM, reserved pages. */
#if defined(__aarch64__)
	refused("carveout=stolen carveout_base=0x40200000 carveout_size=0x100000", "stolen",
		"carveout stolen: ranges are for x86 (E820) alone");
	refused("carveout=coherent@6c000000", "coherent@6c000000",
		"carveout coherent@6c000000: a driver of the kernel set the region up");
	refused("carveout=ramoops@6d000000", "ramoops@6d000000",
		"carveout ramoops@6d000000: the node has a compatible");
	refused("carveout=used@6e000000", "used@6e000000",
		"carveout used@6e000000: another node names it in memory-region");
#else
	refused("carveout=stolen carveout_base=0x1000000 carveout_size=0x100000", "stolen",
		"carveout stolen: the range is System RAM");
	/*
	 * The BIOS area: reserved pages outside System RAM, but the firmware's.
	 * 6.12 lets a module read the firmware's E820 table; 7.x does not, and
	 * then the claim in iomem fails (the kernel marks all of the first MiB
	 * busy).
	 */
	refused("carveout=bios carveout_base=0xf0000 carveout_size=0x10000", "bios",
		kernel_major() >= 7 ? "carveout bios: the range is claimed in iomem already"
				    : "carveout bios: the firmware reserved the memory at 0xf0000");
#endif
	refused("carveout=odd carveout_base=0x1000800 carveout_size=0x100000", "odd",
		"carveout odd: base and size must be whole pages");
	refused("carveout=nosuch@1000", "nosuch@1000",
		"carveout nosuch@1000: no such reserved-memory node");
	if (cma) {
		snprintf(args, sizeof(args), "carveout=%s cma=0", cma);
		refused(args, cma, "is reusable (a CMA area");
	}

	check_ok(reload(good) && heap_exists(name), "%s: the heap is there with %s", name, good);
#if !defined(__aarch64__)
	snprintf(args, sizeof(args), "grep -q ' : %s$' /proc/iomem", name);
	check_ok(run("%s", args) == 0, "%s: the range is claimed in /proc/iomem under its name", name);
#endif
	check_ok(heap_stat(name, "region_bytes") == (long)size, "%s: region_bytes is %lu (%ld)", name,
		 size, heap_stat(name, "region_bytes"));
	heap = open_heap(name, O_RDONLY);
	ok = fill_region(heap, bufs);
	check_ok(ok == 4, "%s: the whole region in four buffers (%d)", name, ok);
	for (int i = 0; i < 4; i++) {
		if (bufs[i] < 0)
			continue;
		contiguous &= table_entries(bufs[i]) == 1;
		zero &= all_zero(bufs[i], size / 4, true);
	}
	check_ok(contiguous, "%s: each buffer is one contiguous run", name);
	check_ok(zero, "%s: each buffer is zeroed", name);
	extra = heap_alloc(heap, 4096);
	check_ok(extra == -ENOMEM, "%s: one page more is ENOMEM (%s)", name,
		 extra < 0 ? strerror(-extra) : "allocated");
	if (extra >= 0)
		close(extra);
	priv = bufs[0] < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, bufs[0], 0);
	check_ok(priv == MAP_FAILED && errno == EINVAL, "%s: a private mapping is EINVAL", name);
	if (bufs[1] >= 0)
		close(bufs[1]);
	bufs[1] = heap_alloc(heap, size / 4);
	check_ok(bufs[1] >= 0 && all_zero(bufs[1], size / 4, false),
		 "%s: a freed buffer's memory comes back zeroed", name);
	for (int i = 0; i < 4; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);

	/*
	 * The rest of memory: taken by system-heap buffers until less than
	 * 24 MiB is free (all of it would leave the kernel's own allocations
	 * to the OOM killer, which finds no process to blame for dma-buf
	 * memory), and some of it pinned.
	 */
	sys = open_heap("system", O_RDONLY);
	set_oom_score_adj(1000);
	while (nsys < 1024 && free_outside_cma_kb() > 24 * 1024) {
		int fd = heap_alloc(sys, 4 << 20);

		if (fd < 0)
			break;
		sysbufs[nsys++] = fd;
	}
	check_ok(nsys > 0 && free_outside_cma_kb() <= 24 * 1024,
		 "the rest of memory is taken: %d system-heap buffers, %ld KiB left free outside CMA",
		 nsys, free_outside_cma_kb());
	check_ok(nsys > 0 && importer("attach 2 %d 0", sysbufs[0]) == 0 && importer("pin 2") == 0,
		 "a page reference is held on every page of one of them");
	ok = fill_region(heap, bufs);
	check_ok(ok == 4, "%s: with memory exhausted and pinned, the whole region still allocates (%d)",
		 name, ok);
	for (int i = 0; i < 4; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);
	importer("detach 2");
	for (int i = 0; i < nsys; i++)
		close(sysbufs[i]);
	importer("unpin");
	close(sys);
	close(heap);

	/* (" fail:0 ": "xfail:0 " is in every Totals line.) */
	check_ok(run("./dmabuf-heap | grep -q '^# Totals: pass:[0-9]* fail:0 '") == 0,
		 "upstream's kselftest passes with the carveout heap there");
	/* Reserved pages are in no free count: the region itself must be whole. */
	heap = open_heap(name, O_RDONLY);
	ok = fill_region(heap, bufs);
	check_ok(ok == 4, "%s: every page comes back (the whole region allocates again: %d)", name, ok);
	for (int i = 0; i < 4; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);
	close(heap);
	check_pages_exact(name);
	check_ok(reload(""), "the module is back with its default parameters");
	return finish_checks();
}
