// SPDX-License-Identifier: GPL-2.0
/*
 * What a heap's buffers must do, checked from userspace:
 *   heap-buffers [--page-mapped] [HEAP [EXPORTER]]   (default: system;
 *                                    --page-mapped: see test_mapping_rss();
 *                                    EXPORTER: the heap's
 *                                    own name, when HEAP is an alias)
 * mmap at every offset and refusal past the end, no stale data across
 * reuse, CPU-access sync flags, sharing across fork and over a unix socket,
 * import into vgem from two DRM files (two attachments, each mapped for the
 * device) with CPU-access sync across both, the exporter
 * name and DMA_BUF_SET_NAME in debugfs, private mappings (one page on the
 * system heap, copy-on-write; none larger, nor any on a CMA heap).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

#define PAGE 4096UL

static const char *heap_name = "system";
/* The heap maps ordinary pages rather than PFN ranges (ours: system). */
static bool page_mapped;
static const char *exporter_name;
static int heap;

static uint32_t word(size_t page, size_t i)
{
	return (uint32_t)(page * 0x9e3779b1u + i + 1);
}

static void *map(int fd, size_t len, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

/* Fills every page with its own pattern through one full mapping. */
static bool fill_pages(int fd, size_t pages)
{
	uint32_t *p = map(fd, pages * PAGE, 0);

	if (p == MAP_FAILED)
		return false;
	for (size_t pg = 0; pg < pages; pg++)
		for (size_t i = 0; i < PAGE / 4; i++)
			p[pg * PAGE / 4 + i] = word(pg, i);
	munmap(p, pages * PAGE);
	return true;
}

static bool check_window(int fd, size_t first, size_t count)
{
	uint32_t *p = map(fd, count * PAGE, first * PAGE);
	bool good = p != MAP_FAILED;

	for (size_t pg = 0; good && pg < count; pg++)
		for (size_t i = 0; i < PAGE / 4; i++)
			if (p[pg * PAGE / 4 + i] != word(first + pg, i)) {
				good = false;
				break;
			}
	if (p != MAP_FAILED)
		munmap(p, count * PAGE);
	return good;
}

static void test_mmap_offsets(void)
{
	/* 1 MiB + 64 KiB + 3 pages: a 1 MiB, a 64 KiB and 4 KiB chunks on the
	 * system heap, so windows cross chunk boundaries. */
	size_t pages = 256 + 16 + 3;
	int fd = heap_alloc(heap, pages * PAGE);
	bool all = true;

	if (!check_ok(fd >= 0 && fill_pages(fd, pages), "%s: allocate and fill %zu pages", heap_name, pages))
		return;
	for (size_t first = 0; first < pages; first += 7)
		for (size_t count = 1; first + count <= pages; count = count * 3 + 1)
			all &= check_window(fd, first, count);
	check_ok(all, "%s: every mmap window (offset, length) shows the right pages", heap_name);
	check_ok(check_window(fd, 255, 3) && check_window(fd, 271, 4),
		 "%s: windows across chunk boundaries", heap_name);
	check_ok(map(fd, PAGE, pages * PAGE) == MAP_FAILED && errno == EINVAL,
		 "%s: mmap at the end offset is EINVAL", heap_name);
	check_ok(map(fd, 2 * PAGE, (pages - 1) * PAGE) == MAP_FAILED && errno == EINVAL,
		 "%s: mmap running one page past the end is EINVAL", heap_name);
	check_ok(map(fd, (pages + 1) * PAGE, 0) == MAP_FAILED && errno == EINVAL,
		 "%s: mmap longer than the buffer is EINVAL", heap_name);
	check_ok(map(fd, PAGE, (off_t)1 << 40) == MAP_FAILED && errno == EINVAL,
		 "%s: mmap at a huge offset is EINVAL", heap_name);
	close(fd);
}

/* A private mapping of @pages pages at page @off: 0 if it worked, else errno. */
static int map_private(int fd, size_t pages, size_t off)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, off * PAGE);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, pages * PAGE);
	return 0;
}

/*
 * Private mappings larger than one page fail with EINVAL on every heap,
 * whatever the buffer's layout: 1 MiB (one 1 MiB chunk on the system
 * heap), two pages inside that chunk, across chunks, the whole buffer.
 * A one-page private mapping works on the system heap (as upstream's) and
 * is refused on CMA heaps (as upstream's CMA heap refuses all) and on
 * system-uncached (a copy-on-write page would be mapped write-combined).
 */
/*
 * MADV_DONTNEED on a shared mapping: a mapping of ordinary pages (ours,
 * page_mapped) lets it zap the range, and every page faults back in with
 * the buffer's data, writable, never SIGBUS; a VM_PFNMAP mapping (CMA
 * heaps, and every heap upstream) refuses it with EINVAL. In a child, so
 * that a SIGBUS is a failed check, not a dead test.
 */
static void test_madvise_dontneed(void)
{
	size_t pages = 16;
	int fd = heap_alloc(heap, pages * PAGE), status = -1;
	pid_t pid;

	if (!check_ok(fd >= 0 && fill_pages(fd, pages), "%s: allocate and fill %zu pages", heap_name,
		      pages))
		return;
	pid = fork();
	if (pid == 0) {
		uint32_t *p = map(fd, pages * PAGE, 0);
		int ret;

		if (p == MAP_FAILED)
			_exit(2);
		ret = madvise(p + PAGE / 4, 8 * PAGE, MADV_DONTNEED) ? errno : 0;
		if (ret != (page_mapped ? 0 : EINVAL))
			_exit(3);
		for (size_t pg = 0; pg < pages; pg++)
			for (size_t i = 0; i < PAGE / 4; i++)
				if (p[pg * PAGE / 4 + i] != word(pg, i))
					_exit(4);
		p[2 * PAGE / 4 + 5] = 0xfeedf00d;
		munmap(p, pages * PAGE);
		p = map(fd, PAGE, 2 * PAGE);
		_exit(p != MAP_FAILED && p[5] == 0xfeedf00d ? 0 : 5);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	check_ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "%s: MADV_DONTNEED on a shared mapping is %s; every page then reads its data back and takes writes (status %#x: exit 3 = wrong madvise result, 4 = wrong data, signal 7 = SIGBUS)",
		 heap_name, page_mapped ? "allowed" : "EINVAL, as on a VM_PFNMAP mapping", status);
	close(fd);
}

static void test_private_mappings(void)
{
	/* (pages, first page) */
	static const size_t windows[][2] = {
		{ 256, 0 }, { 2, 0 }, { 2, 100 }, { 2, 255 }, { 3, 270 }, { 275, 0 }, { 16, 256 },
	};
	size_t pages = 256 + 16 + 3;
	bool system_heap = !strcmp(exporter_name, "system"), refused = true;
	int fd = heap_alloc(heap, pages * PAGE), one, ret;
	uint32_t *p, *shared;

	if (!check_ok(fd >= 0 && fill_pages(fd, pages), "%s: allocate and fill %zu pages", heap_name, pages))
		return;
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		for (int round = 0; round < 3; round++) {
			ret = map_private(fd, windows[i][0], windows[i][1]);
			if (ret != EINVAL) {
				ksft_print_msg("%zu pages at page %zu: %s\n", windows[i][0], windows[i][1],
					       ret ? strerror(ret) : "mapped");
				refused = false;
			}
		}
	check_ok(refused, "%s: every private mapping larger than a page is EINVAL, every time", heap_name);

	one = map_private(fd, 1, 5);
	if (!system_heap) {
		check_ok(one == EINVAL, "%s: a one-page private mapping is refused too (%s)", heap_name,
			 one ? strerror(one) : "mapped");
		close(fd);
		return;
	}
	check_ok(one == 0, "%s: a one-page private mapping works (%s)", heap_name,
		 one ? strerror(one) : "mapped");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 257 * PAGE);
	if (!check_ok(p != MAP_FAILED && p[7] == word(257, 7),
		      "%s: it shows the buffer's page", heap_name)) {
		close(fd);
		return;
	}
	p[7] = 0xdeadbeef;
	shared = map(fd, PAGE, 257 * PAGE);
	check_ok(shared != MAP_FAILED && shared[7] == word(257, 7) && p[7] == 0xdeadbeef,
		 "%s: a write to it stays private (copy-on-write)", heap_name);
	munmap(p, PAGE);
	if (shared != MAP_FAILED)
		munmap(shared, PAGE);
	close(fd);
}

/* The module's pool limit: with 0, every chunk of a system heap is new
 * from the buddy allocator (the kernel's own heaps have no such file). */
#define POOL_MAX_KB "/sys/module/rust_dma_heap/parameters/pool_max_kb"

static void test_no_stale_data(void)
{
	static const size_t sizes[] = { PAGE, 16 * PAGE, 256 * PAGE + PAGE, 1024 * PAGE };
	bool clean = true, alloc_ok = true;
	char max_kb[32] = "";
	FILE *f = fopen(POOL_MAX_KB, "r");

	/* Half the rounds with the pools off, so that new pages from the buddy
	 * allocator are read as well as pooled ones (an allocation otherwise
	 * takes what the last round freed). */
	if (f) {
		if (!fgets(max_kb, sizeof(max_kb), f))
			max_kb[0] = '\0';
		fclose(f);
	}
	for (int round = 0; round < 64; round++) {
		size_t len = sizes[round % 4];
		int fd;
		uint8_t *p;

		if (max_kb[0] && round == 0) {
			/* Off, and emptied: the shrinker takes what they hold. */
			write_sysfs(POOL_MAX_KB, "0");
			write_sysfs("/proc/sys/vm/drop_caches", "2");
		}
		if (max_kb[0] && round == 32)
			write_sysfs(POOL_MAX_KB, max_kb);
		fd = heap_alloc(heap, len);

		if (fd < 0) {
			alloc_ok = false;
			break;
		}
		p = map(fd, len, 0);
		if (p == MAP_FAILED) {
			alloc_ok = false;
			close(fd);
			break;
		}
		for (size_t i = 0; i < len; i++)
			if (p[i]) {
				clean = false;
				break;
			}
		memset(p, 0xa5, len);
		munmap(p, len);
		close(fd);
	}
	if (max_kb[0])
		write_sysfs(POOL_MAX_KB, max_kb);
	check_ok(alloc_ok, "%s: 64 allocate/fill/free rounds%s", heap_name,
		 max_kb[0] ? " (32 of them with the pools off)" : "");
	check_ok(clean, "%s: no new buffer shows an old buffer's data", heap_name);
}

static long status_kb(const char *key)
{
	return proc_kb("/proc/self/status", key);
}

/* Heap mappings are made whole at mmap time (no fault per page). Upstream's
 * heaps and our CMA heaps map PFN ranges, which count in no one's RSS. Our
 * system heap (--page-mapped) maps ordinary pages, so that direct I/O into a
 * mapping works: those count as a shared file mapping's do, from mmap on,
 * and touching them adds nothing more. */
static void test_mapping_rss(void)
{
	size_t len = 1024 * PAGE;
	int fd = heap_alloc(heap, len);
	long before = status_kb("RssFile") + status_kb("RssShmem"), mapped, touched;
	volatile uint8_t *p = map(fd, len, 0);
	unsigned long sum = 0;

	mapped = status_kb("RssFile") + status_kb("RssShmem");
	for (size_t i = 0; p != MAP_FAILED && i < len; i += PAGE)
		sum += p[i];
	touched = status_kb("RssFile") + status_kb("RssShmem");
	if (page_mapped)
		check_ok(p != MAP_FAILED && mapped - before >= 4096 && touched - mapped < 64,
			 "%s: a 4 MiB mapping, of ordinary pages, is in RSS from mmap on and touching "
			 "it adds nothing (%ld kB -> %ld kB mapped -> %ld kB touched, sum %lu)",
			 heap_name, before, mapped, touched, sum);
	else
		check_ok(p != MAP_FAILED && touched - before < 64,
			 "%s: a touched 4 MiB mapping adds nothing to RSS (%ld kB -> %ld kB, sum %lu)",
			 heap_name, before, touched, sum);
	if (p != MAP_FAILED)
		munmap((void *)p, len);
	close(fd);
}

static int buf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static void test_sync_flags(void)
{
	int fd = heap_alloc(heap, 4 * PAGE);
	bool good = true;

	for (uint64_t rw = DMA_BUF_SYNC_READ; rw <= DMA_BUF_SYNC_RW; rw++)
		good &= !buf_sync(fd, DMA_BUF_SYNC_START | rw) && !buf_sync(fd, DMA_BUF_SYNC_END | rw);
	check_ok(good, "%s: DMA_BUF_IOCTL_SYNC start/end with read, write, read-write", heap_name);
	check_ok(buf_sync(fd, DMA_BUF_SYNC_START) == -EINVAL, "%s: sync without a direction is EINVAL", heap_name);
	check_ok(buf_sync(fd, DMA_BUF_SYNC_RW | 8) == -EINVAL, "%s: sync with an unknown flag is EINVAL", heap_name);
	check_ok(buf_sync(fd, ~0ULL) == -EINVAL, "%s: sync with all flags set is EINVAL", heap_name);
	close(fd);
}

static void test_fork(void)
{
	size_t len = 64 * PAGE;
	int fd = heap_alloc(heap, len), status = -1;
	uint32_t *p = map(fd, len, 0);
	pid_t pid;

	p[0] = 0x11111111;
	pid = fork();
	if (pid == 0) {
		uint32_t *q = map(fd, len, 0);

		/* Both the inherited mapping and a new one see the parent's write. */
		if (p[0] != 0x11111111 || q == MAP_FAILED || q[0] != 0x11111111)
			_exit(1);
		q[len / 4 - 1] = 0x22222222;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && !WEXITSTATUS(status) && p[len / 4 - 1] == 0x22222222,
		 "%s: a buffer is shared with a forked child, both ways", heap_name);
	munmap(p, len);
	close(fd);
}

static void test_unix_socket(void)
{
	size_t len = 32 * PAGE;
	int sv[2], status = -1, fd;
	uint32_t *p;
	pid_t pid;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		char c, cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &c, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		int got;

		close(sv[0]);
		if (recvmsg(sv[1], &msg, 0) != 1 || !CMSG_FIRSTHDR(&msg))
			_exit(1);
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
		p = map(got, len, 0);
		if (p == MAP_FAILED || p[5] != 0xabcdef01)
			_exit(2);
		p[6] = 0x10fedcba;
		_exit(0);
	}
	close(sv[1]);
	/* Allocated after the fork: the child can only get it over the socket. */
	fd = heap_alloc(heap, len);
	p = map(fd, len, 0);
	p[5] = 0xabcdef01;
	{
		char c = 'x', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { &c, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		sendmsg(sv[0], &msg, 0);
	}
	waitpid(pid, &status, 0);
	check_ok(WIFEXITED(status) && !WEXITSTATUS(status) && p[6] == 0x10fedcba,
		 "%s: a buffer passed over a unix socket is shared both ways (child status %d)",
		 heap_name, status);
	munmap(p, len);
	close(fd);
	close(sv[0]);
}

/* Counts "Attached Devices" entries of the buffer with inode @ino. */
static int bufinfo_lookup(unsigned long ino, char *exp_name, char *name, int *attached)
{
	char line[512];
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	int found = 0;

	*attached = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long size, i;
		char e[64], n[64];
		unsigned int fl, mode;
		long count;

		if (sscanf(line, "%lu %x %x %ld %63s %lu %63s", &size, &fl, &mode, &count, e, &i, n) == 7) {
			found = (i == ino);
			if (found) {
				strcpy(exp_name, e);
				strcpy(name, n);
			}
			continue;
		}
		if (found && line[0] == '\t' && strstr(line, "vgem"))
			(*attached)++;
		if (found && strstr(line, "Total"))
			break;
	}
	fclose(f);
	return 1;
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	fstat(fd, &st);
	return st.st_ino;
}

static void test_bufinfo_name(void)
{
	int fd = heap_alloc(heap, PAGE), attached;
	char exp_name[64] = "", name[64] = "";

	bufinfo_lookup(inode_of(fd), exp_name, name, &attached);
	check_ok(!strcmp(exp_name, exporter_name), "%s: bufinfo names the exporter '%s'", heap_name, exp_name);
	check_ok(ioctl(fd, DMA_BUF_SET_NAME_B, "rdh-test-buffer") == 0,
		 "%s: DMA_BUF_SET_NAME works", heap_name);
	bufinfo_lookup(inode_of(fd), exp_name, name, &attached);
	check_ok(!strcmp(name, "rdh-test-buffer"), "%s: bufinfo shows the buffer's name '%s'", heap_name, name);
	close(fd);
}

static int vgem_import(int card, int buf, uint32_t *handle)
{
	struct drm_prime_handle h = { .fd = buf };

	if (ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h))
		return -errno;
	*handle = h.handle;
	return 0;
}

static void test_vgem(void)
{
	size_t len = 300 * PAGE;
	int card1 = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	int card2 = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	int fd = heap_alloc(heap, len), attached = -1;
	uint32_t h1 = 0, h2 = 0, *p;
	char e[64], n[64];

	if (!check_ok(card1 >= 0 && card2 >= 0, "vgem: /dev/dri/card0 opens"))
		return;
	p = map(fd, len, 0);
	for (size_t i = 0; i < len / 4; i++)
		p[i] = word(i / (PAGE / 4), i);
	check_ok(!vgem_import(card1, fd, &h1) && !vgem_import(card2, fd, &h2),
		 "%s: imported into vgem from two DRM files (attach + map each)", heap_name);
	bufinfo_lookup(inode_of(fd), e, n, &attached);
	check_ok(attached == 2, "%s: bufinfo lists two vgem attachments (%d)", heap_name, attached);
	check_ok(!buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) && !buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW),
		 "%s: CPU-access sync with two mapped attachments", heap_name);
	{
		struct drm_gem_close c1 = { .handle = h1 }, c2 = { .handle = h2 };

		ioctl(card1, DRM_IOCTL_GEM_CLOSE, &c1);
		ioctl(card2, DRM_IOCTL_GEM_CLOSE, &c2);
	}
	close(card1);
	close(card2);
	bufinfo_lookup(inode_of(fd), e, n, &attached);
	check_ok(attached == 0, "%s: closing the imports detaches both (%d left)", heap_name, attached);
	munmap(p, len);
	close(fd);
}

int main(int argc, char **argv)
{
	int bufs;

	if (argc > 1 && !strcmp(argv[1], "--page-mapped")) {
		page_mapped = true;
		argv++;
		argc--;
	}
	if (argc > 1)
		heap_name = argv[1];
	/* An alias's buffers carry the heap's own name. */
	exporter_name = argc > 2 ? argv[2] : heap_name;
	ksft_print_header();
	heap = open_heap(heap_name, O_RDONLY);
	if (!check_ok(heap >= 0, "%s: heap opens", heap_name))
		return finish_checks();
	bufs = count_dmabufs();
	test_mmap_offsets();
	test_private_mappings();
	test_madvise_dontneed();
	test_mapping_rss();
	test_no_stale_data();
	test_sync_flags();
	test_fork();
	test_unix_socket();
	test_bufinfo_name();
	test_vgem();
	check_ok(count_dmabufs() == bufs, "%s: every buffer is gone at the end (%d -> %d)",
		 heap_name, bufs, count_dmabufs());
	close(heap);
	check_pages_exact(heap_name);
	return finish_checks();
}
