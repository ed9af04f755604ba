// SPDX-License-Identifier: GPL-2.0
/*
 * A deterministic fuzzer for the heaps' userspace surface: random
 * DMA_HEAP_IOCTL_ALLOC commands (numbers, type bytes, directions, sizes),
 * fields (lengths near 2^64 and just over total RAM, flags, fd), argument
 * pointers (NULL, wild, unreadable tails, read-only), mmap offsets, lengths
 * and flags, DMA_BUF_IOCTL_SYNC flags, DMA_BUF_SET_NAME, dup/close orders,
 * forks, and imports into vgem, on every heap (or the ones named).
 *   heap-fuzz [-s SEED] [-n OPS] [-t SECONDS] [-u] [HEAP...]
 * -u: the heaps are the kernel's own C heaps, which do not refuse a buffer
 * larger than RAM up front (our documented hardening): lengths stay below
 * RAM/16, or wrap to zero, so that the C system heap never meets them with
 * the OOM killer; and a private mapping over a page may succeed (see
 * op_mmap()).
 * Every call must give a result upstream could give (no other errno), no
 * mapping may fault when touched, and at the end every buffer is gone.
 * The seed is printed: the same seed replays the same run.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>

#include "heaptest.h"

#define PAGE 4096UL
#define MAX_BUFS 48
#define MAX_MAPS 24

static uint64_t state;
static uint64_t rnd(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dULL;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static int heaps[MAX_HEAPS], nheaps, vgem = -1;
static struct { int fd; size_t size; } bufs[MAX_BUFS];
static int nbufs;
static struct { void *addr; size_t len; } maps[MAX_MAPS];
static int nmaps;
static long ops, unexpected, faults_on_touch;
static uint64_t ram;
static bool upstream_heaps;
static char *arena;		/* 3 pages: rw, read-only, none */
static sigjmp_buf touch_env;

static void bad(const char *what, long got)
{
	if (unexpected++ < 20)
		ksft_print_msg("unexpected: %s (%ld) at op %ld\n", what, got, ops);
}

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(touch_env, 1);
}

/* A buffer's length: mostly up to 256 KiB (page-sized chunks and 64 KiB
 * ones), now and then up to 8 MiB (the 1 MiB chunk path, and CMA areas
 * running out).
 */
static uint64_t buffer_len(void)
{
	return below(48) ? 1 + below(256 * 1024) : 1 + below(8 << 20);
}

static uint64_t random_len(void)
{
	if (upstream_heaps) {
		switch (below(12)) {
		case 0: return 0;
		case 1: return ~0ULL - below(PAGE);	/* page-aligns to zero */
		case 2: return ram / 16 - below(4 * PAGE);
		default: return buffer_len();
		}
	}
	switch (below(12)) {
	case 0: return 0;
	case 1: return ~0ULL - below(2 * PAGE);
	/* Just over RAM: refused up front. (Just under RAM, the system heap
	 * would reclaim all it can before failing: heap-memory's business.) */
	case 2: return ram + 1 + below(2 * PAGE);
	case 3: return rnd();
	case 4: return ram + below(ram);
	default: return buffer_len();
	}
}

static uint64_t held(void)
{
	uint64_t sum = 0;

	for (int i = 0; i < nbufs; i++)
		sum += bufs[i].size;
	return sum;
}

/* Keeps a buffer unless that would hold more than RAM/16 in all. */
static void add_buf(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (size <= 0 || nbufs == MAX_BUFS || held() + size > ram / 16) {
		close(fd);
		return;
	}
	bufs[nbufs].fd = fd;
	bufs[nbufs++].size = size;
}

static void drop_buf(int i)
{
	close(bufs[i].fd);
	bufs[i] = bufs[--nbufs];
}

static void op_alloc(void)
{
	static const unsigned int sizes[] = { 0, 8, 16, 24, 32, 40, 64, 128, 129, 512, 4000 };
	unsigned int size = below(4) ? 24 : sizes[below(11)];
	unsigned int nr = below(8) ? 0 : below(256);
	unsigned int type = below(8) ? 'H' : below(256);
	unsigned int dir = below(6) ? 3 : below(4);
	unsigned long cmd = ((unsigned long)dir << 30) | ((unsigned long)size << 16) | (type << 8) | nr;
	struct dma_heap_allocation_data *d;
	int heap = heaps[below(nheaps)], ret, fd;
	char *arg;
	bool valid_ptr = true;

	switch (below(16)) {
	case 0: arg = NULL; valid_ptr = false; break;
	case 1: arg = (char *)(uintptr_t)(rnd() | 1); valid_ptr = false; break;
	case 2: arg = arena + 2 * PAGE - 12; valid_ptr = false; break;	/* tail unreadable */
	case 3: arg = arena + PAGE; valid_ptr = false; break;		/* read-only */
	default: arg = arena + below(PAGE - (size > 4000 ? 4000 : size) + 1) / 8 * 8; break;
	}
	if (valid_ptr && size >= 24) {
		d = (void *)arg;
		memset(arg, (int)below(256), size);
		d->len = random_len();
		d->fd = below(16) ? 0 : (uint32_t)rnd();
		d->fd_flags = below(10) ? (O_RDWR | O_CLOEXEC) & (uint32_t)rnd() : (uint32_t)rnd();
		d->heap_flags = below(16) ? 0 : rnd();
	} else if (valid_ptr && size >= 8 && upstream_heaps) {
		/* A short struct's len would be the random fill. */
		((struct dma_heap_allocation_data *)arg)->len = random_len();
	}
	ret = ioctl(heap, cmd, arg) ? -errno : 0;
	if (ret && ret != -EINVAL && ret != -ENOMEM && ret != -EFAULT && ret != -EMFILE)
		bad("ALLOC errno", ret);
	if (!ret && nr != 0)
		bad("a command number other than 0 succeeded", nr);
	if (!ret && (dir & 2) && size >= 12 && valid_ptr) {
		fd = (int)((struct dma_heap_allocation_data *)arg)->fd;
		if (fcntl(fd, F_GETFD) < 0)
			bad("reported fd is not open", fd);
		else
			add_buf(fd);
	}
}

static void touch(void *addr, size_t len, bool write)
{
	volatile char *p = addr;

	if (sigsetjmp(touch_env, 1)) {
		faults_on_touch++;
		bad("touching a mapping faulted", (long)len);
		return;
	}
	if (write) {
		p[0] = 1;
		p[len - 1] = 2;
	} else {
		(void)p[0];
		(void)p[len - 1];
	}
}

static void op_mmap(void)
{
	int i = below(nbufs);
	size_t size = bufs[i].size, pages = size / PAGE;
	size_t off = below(6) ? below(pages) : below(pages * 2 + 4);
	size_t len = (below(6) ? 1 + below(pages) : 1 + below(pages * 2 + 4)) * PAGE;
	int prot = below(4) ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = below(5) ? MAP_SHARED : MAP_PRIVATE;
	void *p = mmap(NULL, len, prot, flags, bufs[i].fd, off * PAGE);

	if (p == MAP_FAILED) {
		if (errno != EINVAL && errno != ENOMEM && errno != EACCES)
			bad("mmap errno", errno);
		if (off + len / PAGE <= pages && flags == MAP_SHARED && errno == EINVAL)
			bad("an in-range shared mmap was refused", (long)off);
		return;
	}
	if (off + len / PAGE > pages)
		bad("an mmap past the end succeeded", (long)off);
	/*
	 * Ours refuses every private mapping over a page. The kernel's own C
	 * system heap does too up to 6.18, but from 6.19 on it remaps each
	 * contiguous chunk at once, and a private mapping that lies within one
	 * chunk then succeeds (remap_pfn_range() only needs a COW mapping to be
	 * covered whole).
	 */
	if (flags == MAP_PRIVATE && len > PAGE && !upstream_heaps)
		bad("a private mmap larger than a page succeeded", (long)len);
	touch(p, len, prot & PROT_WRITE);
	if (nmaps == MAX_MAPS) {
		munmap(p, len);
		return;
	}
	maps[nmaps].addr = p;
	maps[nmaps++].len = len;
}

static void op_munmap(void)
{
	int i = below(nmaps);

	munmap(maps[i].addr, maps[i].len);
	maps[i] = maps[--nmaps];
}

static void op_sync(void)
{
	uint64_t flags = below(4) ? below(8) : rnd();
	struct dma_buf_sync s = { .flags = flags };
	bool valid = !(flags & ~(uint64_t)(DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END)) && (flags & DMA_BUF_SYNC_RW);
	int ret = ioctl(bufs[below(nbufs)].fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;

	if (valid ? ret != 0 : ret != -EINVAL)
		bad("DMA_BUF_IOCTL_SYNC result", ret);
}

static void op_name(void)
{
	char name[40];
	size_t n = below(sizeof(name));

	for (size_t i = 0; i < n; i++)
		name[i] = 'a' + below(26);
	name[n] = 0;
	/* Names of DMA_BUF_NAME_LEN (32) bytes or more are EINVAL. */
	if (ioctl(bufs[below(nbufs)].fd, DMA_BUF_SET_NAME_B, name) && !(errno == EINVAL && n >= 32))
		bad("DMA_BUF_SET_NAME errno", errno);
}

static void op_dup_close(void)
{
	int i = below(nbufs), fd;

	if (below(2)) {
		fd = dup(bufs[i].fd);
		if (fd >= 0) {
			close(bufs[i].fd);	/* keep the dup: the buffer lives on */
			bufs[i].fd = fd;
		}
	} else {
		drop_buf(i);
	}
}

static void op_fork(void)
{
	int i = below(nbufs), status;
	pid_t pid = fork();

	if (pid == 0) {
		void *p = mmap(NULL, bufs[i].size, PROT_READ, MAP_SHARED, bufs[i].fd, 0);

		if (p != MAP_FAILED)
			(void)*(volatile char *)p;
		_exit(p == MAP_FAILED && errno != ENOMEM);
	}
	if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)))
		bad("a forked child failed to map an inherited buffer", status);
}

static void op_vgem(void)
{
	struct drm_prime_handle h = { .fd = bufs[below(nbufs)].fd };

	if (vgem < 0)
		return;
	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h)) {
		if (errno != ENOMEM && errno != EFAULT)
			bad("vgem import errno", errno);
		return;
	}
	if (below(2)) {
		struct drm_gem_close c = { .handle = h.handle };

		ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c);
	}
}

/* Closes descriptors the fuzzer does not know (ALLOC without the read bit
 * installs one it never reports). */
static void sweep_fds(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		bool known = fd == vgem;

		for (int i = 0; i < nheaps; i++)
			known |= heaps[i] == fd;
		for (int i = 0; i < nbufs; i++)
			known |= bufs[i].fd == fd;
		if (!known)
			close(fd);
	}
}

/*
 * Runs operations from op 0 until @n (or, with @seconds, until that long has
 * passed), then drops every mapping and buffer.
 */
/* Ledger checkpoints while buffers are alive (every 1024 operations), and
 * how many of them did not match. */
static long checkpoints, checkpoints_off;

static void run_ops(long n, long seconds)
{
	time_t start = time(NULL);

	for (ops = 0; ops < n || (seconds && time(NULL) - start < seconds); ops++) {
		unsigned int what = below(100);

		if (nbufs == 0 || what < 30)
			op_alloc();
		else if (what < 50)
			op_mmap();
		else if (what < 58 && nmaps)
			op_munmap();
		else if (what < 70)
			op_sync();
		else if (what < 74)
			op_name();
		else if (what < 88)
			op_dup_close();
		else if (what < 90)
			op_fork();
		else
			op_vgem();
		if (ops % 256 == 255)
			sweep_fds();
		if (ops % 1024 == 1023 && !upstream_heaps) {
			char what[64];

			snprintf(what, sizeof(what), "op %ld, %d buffers open", ops, nbufs);
			checkpoints++;
			checkpoints_off += !pages_live_exact(what);
		}
	}
	while (nmaps)
		op_munmap();
	while (nbufs)
		drop_buf(0);
	/* (Duplicates and received fds hold buffers too.) */
	sweep_fds();
}

/*
 * The free pages once the warm-up's have all come back: its buffers' chunks
 * reach the pools, and leave them under drop_caches, only after the pools'
 * deferred zeroing, so the count is read until it stops rising (half a
 * second apart, for at most ten seconds).
 */
static long free_pages_after_warmup(void)
{
	long prev = free_pages_baseline(), now = prev;

	for (int round = 0; round < 20; round++) {
		usleep(500000);
		now = free_pages_baseline();
		if (now <= prev + 2)
			break;
		prev = now;
	}
	return now;
}

int main(int argc, char **argv)
{
	long max_ops = 10000, seconds = 0;
	uint64_t seed = (uint64_t)time(NULL);
	int n, bufs0 = count_dmabufs(), opt;
	long pages0;
	struct sysinfo si;
	struct sigaction sa = { .sa_handler = on_fault };

	while ((opt = getopt(argc, argv, "s:n:t:u")) != -1) {
		if (opt == 'u')
			upstream_heaps = true;
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'n')
			max_ops = strtol(optarg, NULL, 0);
		else if (opt == 't')
			seconds = strtol(optarg, NULL, 0);
	}
	state = seed ? seed : 1;
	ksft_print_header();
	ksft_print_msg("seed %llu (replay: heap-fuzz -s %llu -n %ld)\n", (unsigned long long)seed,
		       (unsigned long long)seed, max_ops);
	/* If memory ever ran out, the OOM killer should take the fuzzer (and
	 * fail the run) rather than find nothing to kill. */
	set_oom_score_adj(1000);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sysinfo(&si);
	ram = (uint64_t)si.totalram * si.mem_unit;
	arena = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(arena + PAGE, PAGE, PROT_READ);
	mprotect(arena + 2 * PAGE, PAGE, PROT_NONE);
	n = optind < argc ? pick_heaps(argc - optind, argv + optind) : list_heaps();
	for (int i = 0; i < n; i++) {
		heaps[nheaps] = open_heap(heap_names[i], below(2) ? O_RDONLY : O_RDWR);
		if (check_ok(heaps[nheaps] >= 0, "%s: heap opens", heap_names[i]))
			nheaps++;
	}
	vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	/* Every kernel here has vgem (base.config): without it the imports
	 * would be skipped in silence.
	 */
	check_ok(vgem >= 0, "vgem is there to import into (%s)", vgem >= 0 ? "/dev/dri/card0" : strerror(errno));
	if (!check_ok(nheaps > 0, "heaps to fuzz: %d", nheaps))
		return finish_checks();
	free_pages_settled(NULL); /* the helper's own first allocations */

	/*
	 * A warm-up from another seed before the page count: the first run
	 * after boot grows the kernel's own caches (slabs, vgem objects, page
	 * tables of forked children, per-CPU page lists) by up to 20 pages on
	 * 7.3, which the count would take for a leak.
	 */
	state = (seed ? seed : 1) ^ 0x9e3779b97f4a7c15ULL;
	run_ops(max_ops < 20000 ? max_ops / 10 : 2000, 0);
	state = seed ? seed : 1;
	/* vgem's file holds what it imported until it is closed. */
	if (vgem >= 0) {
		close(vgem);
		vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	}
	pages0 = free_pages_after_warmup();
	run_ops(max_ops, seconds);
	if (vgem >= 0)
		close(vgem);
	sweep_fds();
	check_ok(unexpected == 0, "%ld operations, every result one upstream could give (%ld unexpected)",
		 ops, unexpected);
	check_ok(faults_on_touch == 0, "no mapping faulted when touched");
	check_ok(count_dmabufs() == bufs0, "every buffer is gone at the end (%d -> %d)", bufs0,
		 count_dmabufs());
	munmap(arena, 3 * PAGE);
	check_ok(pages_missing(pages0, PAGE_LEAK_TOLERANCE) == 0,
		 "every page comes back (a leak of one 64 KiB chunk would show)");
	/* The kernel's heaps (-u) keep no ledger: ours only says its own. */
	if (!upstream_heaps) {
		check_ok(checkpoints > 0 && checkpoints_off == 0,
			 "with buffers alive, the page ledger equals their pages plus the pools', exactly, at every checkpoint (%ld of %ld did not)",
			 checkpoints_off, checkpoints);
		check_ok(pages_held_exact("end of the run"),
			 "every page the module still holds is pooled, exactly (its page ledger)");
	}
	printf("# figures: operations=%ld\n", ops);
	return finish_checks();
}
