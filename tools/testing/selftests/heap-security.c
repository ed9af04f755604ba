// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged process and a curious one can see:
 *   - heap nodes are 0600 root by default, and opening one without root
 *     fails with EACCES, as do the dma-buf and CMA debugfs files;
 *   - the module's parameters are read-only;
 *   - a new buffer never shows another process's old data, on any heap
 *     (a process fills buffers and dies; another allocates the same sizes);
 *   - nothing the module printed contains a kernel address.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "heaptest.h"

#define NOBODY 65534

/* Runs @fn as nobody in a child; returns its exit status. */
static int as_nobody(int (*fn)(const char *), const char *arg)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(100);
		_exit(fn(arg));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* 0 if opening @path fails with EACCES. */
static int open_refused(const char *path)
{
	int fd = open(path, O_RDONLY);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static void fill_and_die(int heap, size_t len, int count)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (int i = 0; i < count; i++) {
			int fd = heap_alloc(heap, len);
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			if (p != MAP_FAILED)
				memset(p, 0xc5, len);
			/* fds, mappings and buffers go with the process */
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static bool fresh_buffers_clean(int heap, size_t len, int count)
{
	bool clean = true;

	for (int i = 0; i < count && clean; i++) {
		int fd = heap_alloc(heap, len);
		const uint8_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

		if (fd < 0 || p == MAP_FAILED)
			return false;
		for (size_t j = 0; j < len; j++)
			if (p[j]) {
				clean = false;
				break;
			}
		munmap((void *)p, len);
		close(fd);
	}
	return clean;
}

int main(void)
{
	static char log[1 << 20];
	int n = list_heaps(), len;
	bool addr = false;
	struct stat st;

	ksft_print_header();
	for (int i = 0; i < n; i++) {
		char path[300];
		int heap;

		snprintf(path, sizeof(path), HEAP_DIR "/%.255s", heap_names[i]);
		if (stat(path, &st))
			memset(&st, 0, sizeof(st));
		check_ok(S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0600 &&
			 st.st_uid == 0 && st.st_gid == 0,
			 "%s: the node is 0600 root:root (%o %u:%u)", heap_names[i],
			 st.st_mode & 07777, st.st_uid, st.st_gid);
		check_ok(as_nobody(open_refused, path) == 0, "%s: a non-root open is refused (EACCES)",
			 heap_names[i]);
		heap = open_heap(heap_names[i], O_RDONLY);
		fill_and_die(heap, 256 * 4096, 8);
		check_ok(fresh_buffers_clean(heap, 256 * 4096, 8),
			 "%s: buffers after another process's show none of its data", heap_names[i]);
		close(heap);
	}
	check_ok(as_nobody(open_refused, "/sys/kernel/debug/dma_buf/bufinfo") == 0,
		 "a non-root reader cannot see dma_buf/bufinfo");
	if (stat("/sys/module/rust_dma_heap/parameters/system", &st))
		memset(&st, 0xff, sizeof(st));
	check_ok((st.st_mode & 0222) == 0, "the module's parameters are read-only (%o)",
		 st.st_mode & 0777);
	len = klogctl(3, log, sizeof(log) - 1);
	if (len > 0) {
		log[len] = 0;
		for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
			if (strstr(line, "rust_dma_heap") &&
			    (strstr(line, "ffff8") || strstr(line, "ffffc") || strstr(line, "ffffffff")))
				addr = true;
	}
	check_ok(len > 0 && !addr, "nothing the module logged contains a kernel address");
	return finish_checks();
}
