// SPDX-License-Identifier: GPL-2.0
/*
 * The live buffers in debugfs, /sys/kernel/debug/rust_dma_heap/buffers
 * (Documentation/ABI/testing/debugfs-rust_dma_heap), on each heap given:
 *   - the file is there, root's alone (mode 0400, a non-root open fails
 *     with EACCES), and starts with its header line;
 *   - a new buffer has a line: its size, its heap, this process's pid and
 *     name, no mapping, no device; it goes when the buffer is freed;
 *   - the mmaps field counts user mappings: two mmaps, a mapping split in
 *     two by unmapping its middle page, unmapping;
 *   - the vmaps field counts kernel mappings (dma_buf_vmap() calls not
 *     undone) held by the test importer;
 *   - the devices field names the attached devices, in attach order: the
 *     test importer's two devices and vgem (a PRIME import), and forgets
 *     each when it detaches;
 *   - a buffer allocated by another process names that process (pid and
 *     name) after it passed the buffer on and exited, and has a later id;
 *   - 300 buffers at once (more than a page of text) are all listed;
 *   - a buffer whose file goes before the buffer (a readlink of its
 *     /proc/self/fd entry holding the file's dentry while the fd closes)
 *     is still listed safely: the reader never looks at that file, and a
 *     never-mapped buffer shows no mapping (on the first heap; on the debug
 *     kernels KASAN watches the reads).
 *   - with --many N: N buffers at once (50,000 on x86_64), all listed, in
 *     allocation order, while another thread reads the file all along
 *     (the list allocates nothing per buffer, and a read never holds its
 *     lock while describing a buffer); none once they are freed.
 *   heap-bufinfo [--many N] HEAP...   (after insmod rdh_importer.ko)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <drm/drm.h>

#include "heaptest.h"

#define BUFINFO "/sys/kernel/debug/rust_dma_heap/buffers"
#define HEADER "id size heap pid comm mmaps vmaps devices"
#define NOBODY 65534
#define MANY 300

struct line {
	unsigned long id, size;
	char heap[64];
	int pid;
	char comm[32];
	long mmaps, vmaps;
	char devices[256];
};

static char text[8 << 20];	/* 50,000 lines fit */

/* Reads the file into text; its length, or -errno. */
static long read_bufinfo(void)
{
	int fd = open(BUFINFO, O_RDONLY | O_CLOEXEC);
	long len = 0, n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	close(fd);
	text[len] = 0;
	return n < 0 ? -errno : len;
}

/*
 * The lines of buffers of @size from @pid (0: any process); the first goes
 * to @out. Returns how many there are, -1 if the file cannot be read or a
 * line does not parse.
 */
static int find(unsigned long size, int pid, struct line *out)
{
	char *save, *l;
	int found = 0, first = 1;

	if (read_bufinfo() < 0)
		return -1;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct line x;

		if (first) {
			first = 0;
			if (strcmp(l, HEADER))
				return -1;
			continue;
		}
		if (l[0] == '#')
			continue;
		if (sscanf(l, "%lu %lu %63s %d %31s %ld %ld %255s", &x.id, &x.size, x.heap, &x.pid,
			   x.comm, &x.mmaps, &x.vmaps, x.devices) != 8)
			return -1;
		if (x.size != size || (pid && x.pid != pid))
			continue;
		if (!found++ && out)
			*out = x;
	}
	return found;
}

/* The one line of this process's buffer of @size into @l, which holds
 * values no check accepts if there is not exactly one. */
static bool one(unsigned long size, struct line *l)
{
	*l = (struct line){ .mmaps = -1, .vmaps = -1, .comm = "?", .devices = "?" };
	return find(size, getpid(), l) == 1;
}

/* An allocation size no other buffer of this run has: a few pages more
 * for each heap and step, so that each line is found by its size. */
static unsigned long next_size(void)
{
	static unsigned long pages = 37;

	return (pages += 3) * (unsigned long)sysconf(_SC_PAGESIZE);
}

static void non_root_cannot_read(void)
{
	struct stat st = { 0 };
	int ret = stat(BUFINFO, &st), status;
	pid_t pid;

	check_ok(!ret && (st.st_mode & 0777) == 0400, "the file is there, mode 0400 (%o)",
		 st.st_mode & 0777);
	pid = fork();
	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		_exit(open(BUFINFO, O_RDONLY) < 0 && errno == EACCES ? 0 : 1);
	}
	/* (debugfs's own directory is root's alone too, so this holds even
	 * for a file of a wider mode: the mode is checked above.) */
	check_ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		 WEXITSTATUS(status) == 0, "a non-root user cannot open it (EACCES)");
}

static bool set_name(const void *name)
{
	return !prctl(PR_SET_NAME, name);
}

static void one_heap(const char *name)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long size = next_size();
	int heap = open_heap(name, O_RDONLY), fd, vgem, fds[MANY], n, status;
	char *a, *b;
	struct line l = { 0 };
	unsigned long first_id;
	pid_t child = -1;
	bool ok;

	if (!check_ok(heap >= 0, "%s: heap opens", name))
		return;

	fd = heap_alloc(heap, size);
	n = find(size, getpid(), &l);
	first_id = l.id;
	check_ok(fd >= 0 && n == 1, "%s: a new buffer has one line (%d)", name, n);
	check_ok(n == 1 && !strcmp(l.heap, name) && !strcmp(l.comm, "heap-bufinfo") &&
		 l.mmaps == 0 && l.vmaps == 0 && !strcmp(l.devices, "-"),
		 "%s: it names the heap, this process, no mapping, no device (%s %d %s %ld %ld %s)",
		 name, l.heap, l.pid, l.comm, l.mmaps, l.vmaps, l.devices);

	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ok = one(size, &l);
	check_ok(ok && a != MAP_FAILED && b != MAP_FAILED && l.mmaps == 2, "%s: two mmaps: mmaps 2 (%ld)",
		 name, l.mmaps);
	munmap(b, size);
	munmap(a + 2 * page, page);
	ok = one(size, &l);
	check_ok(ok && l.mmaps == 2, "%s: one unmapped, the other split in two by a hole: mmaps 2 (%ld)",
		 name, l.mmaps);
	munmap(a, size);
	ok = one(size, &l);
	check_ok(ok && l.mmaps == 0, "%s: all unmapped: mmaps 0 (%ld)", name, l.mmaps);

	check_ok(!importer("attach 0 %d 0", fd) && !importer("attach 1 %d 1", fd),
		 "%s: the test importer attaches its two devices", name);
	check_ok(!importer("hold 0") && !importer("hold 1"), "%s: and holds two vmaps", name);
	ok = one(size, &l);
	check_ok(ok && !strcmp(l.devices, "rdh-importer.0,rdh-importer.1") && l.vmaps == 2,
		 "%s: devices rdh-importer.0,rdh-importer.1, vmaps 2 (%s, %ld)", name, l.devices,
		 l.vmaps);
	vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	{
		struct drm_prime_handle h = { .fd = fd };
		struct drm_gem_close c = { 0 };
		int imported = vgem >= 0 && !ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h);

		ok = one(size, &l);
		check_ok(ok && imported && !strcmp(l.devices, "rdh-importer.0,rdh-importer.1,vgem"),
			 "%s: a vgem import adds vgem (%s)", name, l.devices);
		importer("detach 0");
		ok = one(size, &l);
		check_ok(ok && !strcmp(l.devices, "rdh-importer.1,vgem") && l.vmaps == 1,
			 "%s: a detach (its vmap undone) leaves rdh-importer.1,vgem, vmaps 1 (%s, %ld)",
			 name, l.devices, l.vmaps);
		c.handle = h.handle;
		if (imported)
			ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c);
		importer("unhold 1");
		importer("detach 1");
		ok = one(size, &l);
		check_ok(ok && !strcmp(l.devices, "-") && l.vmaps == 0,
			 "%s: every device gone: devices -, vmaps 0 (%s, %ld)", name, l.devices,
			 l.vmaps);
	}
	if (vgem >= 0)
		close(vgem);
	close(fd);
	n = find(size, 0, NULL);
	check_ok(fd >= 0 && n == 0, "%s: a freed buffer has no line (%d)", name, n);

	size = next_size();
	fd = alloc_in_child(heap, size, set_name, "bufinfo-child", &child, &status);
	n = find(size, 0, &l);
	check_ok(fd >= 0 && WIFEXITED(status) && n == 1 && l.pid == child && !strcmp(l.comm, "bufinfo-child") &&
		 l.id > first_id,
		 "%s: a buffer from an exited child names it, with a later id (%d: %d %s, child %d, id %lu after %lu)",
		 name, n, l.pid, l.comm, child, l.id, first_id);
	check_ok(fd >= 0 && !close(fd) && find(size, 0, NULL) == 0,
		 "%s: and goes when its last holder closes it", name);

	size = page; /* smaller than every other buffer of this program */
	ok = true;
	for (int i = 0; i < MANY; i++)
		ok &= (fds[i] = heap_alloc(heap, size)) >= 0;
	n = find(size, getpid(), NULL);
	check_ok(ok && n == MANY, "%s: %d buffers at once, %d lines", name, MANY, n);
	for (int i = 0; i < MANY; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	check_ok(ok && find(size, 0, NULL) == 0, "%s: none left once they are freed", name);
	close(heap);
}

/* The file-freed-first race: one thread allocates and closes buffers of
 * RACE_SIZE, one readlinks their fds meanwhile. */
#define RACE_SIZE (5 * 4096UL)
static int race_heap;
static volatile int race_fd = -1, race_stop;

static void *race_closer(void *arg)
{
	(void)arg;
	while (!race_stop) {
		int fd = heap_alloc(race_heap, RACE_SIZE);

		if (fd < 0)
			continue;
		race_fd = fd;
		usleep(50);
		close(fd);
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	char path[64], target[256];

	(void)arg;
	while (!race_stop) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", race_fd);
		if (readlink(path, target, sizeof(target)) < 0)
			continue;
	}
	return NULL;
}

static void file_freed_first(const char *heap_name)
{
	long reads = 0, lines = 0, wrong = 0, broken = 0;
	pthread_t closer, reader;
	time_t end = time(NULL) + 3;

	race_heap = open_heap(heap_name, O_RDONLY);
	if (!check_ok(race_heap >= 0, "%s: opens", heap_name))
		return;
	race_stop = 0;
	pthread_create(&closer, NULL, race_closer, NULL);
	pthread_create(&reader, NULL, race_reader, NULL);
	while (time(NULL) < end) {
		char *save, *l;

		if (read_bufinfo() < 0) {
			broken++;
			continue;
		}
		reads++;
		for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			struct line x;

			if (sscanf(l, "%lu %lu %63s %d %31s %ld %ld %255s", &x.id, &x.size, x.heap,
				   &x.pid, x.comm, &x.mmaps, &x.vmaps, x.devices) != 8 ||
			    x.size != RACE_SIZE)
				continue;
			lines++;
			wrong += x.mmaps != 0 || x.vmaps != 0;
		}
	}
	race_stop = 1;
	pthread_join(closer, NULL);
	pthread_join(reader, NULL);
	close(race_heap);
	check_ok(reads > 0 && lines > 0 && !wrong && !broken,
		 "%s: buffers whose fds close under a readlink are listed with no mapping (%ld reads, %ld lines, %ld wrong, %ld failed reads)",
		 heap_name, reads, lines, wrong, broken);
}

static volatile int many_stop;

static void *many_reader(void *arg)
{
	static char buf[1 << 16];
	long *reads = arg;

	while (!many_stop) {
		int fd = open(BUFINFO, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			break;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		(*reads)++;
	}
	return NULL;
}

/* @n buffers of one page at once; the lines of this process's one-page
 * buffers must be @n, with ids in allocation order. */
static void many_buffers(const char *name, int n)
{
	struct rlimit rl = { .rlim_cur = n + 64, .rlim_max = n + 64 };
	int heap = open_heap(name, O_RDONLY), made = 0, lines = 0, *fds;
	unsigned long last_id = 0, page = 4096;
	long reads = 0;
	bool ordered = true, ok;
	char *save, *l;
	pthread_t reader;

	fds = calloc(n, sizeof(*fds));
	ok = fds && heap >= 0 && !setrlimit(RLIMIT_NOFILE, &rl);
	if (!check_ok(ok, "%s: room for %d buffers (open-file limit)", name, n))
		return;
	many_stop = 0;
	pthread_create(&reader, NULL, many_reader, &reads);
	for (int i = 0; i < n; i++) {
		fds[i] = heap_alloc(heap, page);
		made += fds[i] >= 0;
	}
	many_stop = 1;
	pthread_join(reader, NULL);
	if (read_bufinfo() >= 0) {
		for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			struct line x;

			if (sscanf(l, "%lu %lu %63s %d %31s %ld %ld %255s", &x.id, &x.size, x.heap,
				   &x.pid, x.comm, &x.mmaps, &x.vmaps, x.devices) != 8 ||
			    x.size != page || x.pid != getpid())
				continue;
			lines++;
			ordered &= x.id > last_id;
			last_id = x.id;
		}
	}
	check_ok(made == n && lines == n && ordered,
		 "%s: %d buffers at once, all listed in allocation order while another thread read the list %ld times (%d made, %d lines)",
		 name, n, reads, made, lines);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	check_ok(find(page, 0, NULL) == 0, "%s: none left once they are freed", name);
	free(fds);
	close(heap);
}

int main(int argc, char **argv)
{
	long len;
	int many = 0;

	if (argc > 2 && !strcmp(argv[1], "--many")) {
		many = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	ksft_print_header();
	prctl(PR_SET_NAME, "heap-bufinfo");
	len = read_bufinfo();
	check_ok(len > 0 && !strncmp(text, HEADER "\n", strlen(HEADER) + 1),
		 "the file reads, header first (%ld bytes)", len);
	non_root_cannot_read();
	check_ok(importer("sync -1 0") == -EBADF, "the test importer is there");
	for (int h = 1; h < argc; h++)
		one_heap(argv[h]);
	if (argc > 1)
		file_freed_first(argv[1]);
	if (argc > 1 && many)
		many_buffers(argv[1], many);
	if (argc < 2)
		check_ok(0, "usage: heap-bufinfo HEAP...");
	return finish_checks();
}
