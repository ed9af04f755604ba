// SPDX-License-Identifier: GPL-2.0
/*
 * DMA_HEAP_IOCTL_ALLOC's charge_pid_fd, the field that a series posted in
 * May 2026 (not merged) appends to the argument, with the module's
 * charge_pid_fd parameter, which this program turns on and, at its end,
 * off again (it is writable):
 *   - off, the field is not read: a buffer asked for a client's pidfd is
 *     charged nothing in the client's cgroup;
 *   - on, an allocator in cgroup A with CAP_SYS_RESOURCE gets a 16 MiB
 *     buffer charged to client cgroup B's memory.current, not to A's, and
 *     B's charge goes when the buffer is freed, also when another process
 *     than its allocator frees it;
 *   - without CAP_SYS_RESOURCE, charging B is EPERM and charges nothing,
 *     while charging its own cgroup (a pidfd of itself) works; in the
 *     root cgroup, charging B takes the capability too;
 *   - EBADF for a closed descriptor and for one that is not a pidfd, ESRCH
 *     for a reaped process, EINVAL for non-zero padding;
 *   - EOPNOTSUPP from a heap whose pages no memory cgroup can be charged
 *     with by a module (CMA), and the next call there still works;
 *   - a call of upstream's size still allocates.
 * The module is loaded with mem_accounting=1 or without it; either way the
 * client's cgroup is charged.
 *   heap-charge-pidfd HEAP CMA_HEAP
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "heaptest.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CG_A CG_ROOT "/rdh-allocator"
#define CG_B CG_ROOT "/rdh-client"
#define PARAM "/sys/module/rust_dma_heap/parameters/charge_pid_fd"
#define MiB (1024L * 1024)

/* The argument with the series' two fields. */
struct alloc_ext {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
	__u32 charge_pid_fd;
	__u32 padding;
};

#define ALLOC_EXT _IOWR('H', 0x0, struct alloc_ext)

static const char *heap_name;

/* A buffer of @len bytes charged to @pidfd's process; its fd or -errno. */
static int alloc_for(int heap, long len, int pidfd, unsigned int padding)
{
	struct alloc_ext data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.charge_pid_fd = pidfd,
		.padding = padding,
	};

	if (ioctl(heap, ALLOC_EXT, &data) < 0)
		return -errno;
	return data.fd;
}

/* What the allocator child reports back, in shared memory. */
struct report {
	long a_before, a_with, b_before, b_with, b_after;
	int err, err_own, own_ok;
};

static struct report *rep;

/* A client process in B, waiting for its pipe to close; its pidfd once it
 * has said it is in B, or -1. */
static int start_client(pid_t *pid, int *pipe_w)
{
	int p[2], in_b[2];
	char c = 0;

	if (pipe(p) || pipe(in_b))
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(p[1]);
		close(in_b[0]);
		if (!cgroup_enter(CG_B))
			_exit(2);
		(void)!write(in_b[1], "b", 1);
		/* Waits until the parent closes its end. */
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	close(in_b[1]);
	*pipe_w = p[1];
	if (read(in_b[0], &c, 1) != 1 || c != 'b')
		return -1;
	close(in_b[0]);
	return syscall(SYS_pidfd_open, *pid, 0);
}

static bool drop_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	return !syscall(SYS_capset, &h, d);
}

/* In a child that enters @cg (or stays in the root cgroup if NULL),
 * dropping CAP_SYS_RESOURCE if !@privileged: a 16 MiB buffer charged to the
 * client @pidfd, held while the cgroups are read, then freed; then, in A
 * without the capability, 4 MiB charged to itself. */
static int allocate_from(const char *cg, int heap, int pidfd, bool privileged)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int fd, self;

		if ((cg && !cgroup_enter(cg)) || (!privileged && !drop_cap_sys_resource()))
			_exit(2);
		rep->a_before = memcg_current(CG_A);
		rep->b_before = memcg_current(CG_B);
		fd = alloc_for(heap, 16 * MiB, pidfd, 0);
		rep->err = fd < 0 ? -fd : 0;
		rep->a_with = memcg_current(CG_A);
		rep->b_with = memcg_current(CG_B);
		if (fd >= 0)
			close(fd);
		rep->b_after = memcg_current_at_most(CG_B, rep->b_before + MiB);
		if (!privileged && cg) {
			self = syscall(SYS_pidfd_open, getpid(), 0);
			fd = alloc_for(heap, 4 * MiB, self, 0);
			rep->err_own = fd < 0 ? -fd : 0;
			rep->own_ok = fd >= 0 && memcg_current(CG_A) - rep->a_before >= 3 * MiB;
			if (fd >= 0)
				close(fd);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A buffer charged to B by this process, whose last reference a child
 * drops after this process has closed its own: B's charge still goes. */
static void freed_by_another(int heap, int pidfd)
{
	long before = memcg_current(CG_B), with, after;
	int fd = alloc_for(heap, 16 * MiB, pidfd, 0), go[2], status = -1;
	pid_t holder;
	char c;

	with = memcg_current(CG_B);
	if (fd < 0 || pipe(go)) {
		check_ok(0, "%s: a buffer charged to B (%d)", heap_name, fd);
		return;
	}
	holder = fork();
	if (holder == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		close(fd);
		_exit(0);
	}
	close(fd);
	close(go[0]);
	(void)!write(go[1], "x", 1);
	close(go[1]);
	waitpid(holder, &status, 0);
	after = memcg_current_at_most(CG_B, before + MiB);
	check_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && with - before >= 15 * MiB &&
			 after <= before + MiB,
		 "%s: B's charge goes also when another process than the allocator frees the buffer (%ld -> %ld -> %ld)",
		 heap_name, before, with, after);
}

int main(int argc, char **argv)
{
	int heap, cma, pidfd, pipe_w, st, fd;
	pid_t client, gone;

	ksft_print_header();
	if (argc < 3) {
		check_ok(0, "usage: heap-charge-pidfd HEAP CMA_HEAP");
		return finish_checks();
	}
	heap_name = argv[1];
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	heap = open_heap(heap_name, O_RDONLY);
	cma = open_heap(argv[2], O_RDONLY);
	if (!check_ok(heap >= 0 && cma >= 0 && rep != MAP_FAILED, "%s and %s open", heap_name,
		      argv[2]) ||
	    !check_ok(cgroups_setup("memory", (const char *const[]){ CG_A, CG_B, NULL },
				    "memory.current"),
		      "cgroup v2 with the memory controller, cgroups A and B") ||
	    !check_ok(!write_sysfs(PARAM, "N"), "charge_pid_fd=0 is set at run time"))
		return finish_checks();
	write_sysfs("/proc/sys/vm/drop_caches", "3");
	pidfd = start_client(&client, &pipe_w);
	if (!check_ok(pidfd >= 0, "a client process in B, and its pidfd (%d)", pidfd))
		return finish_checks();

	/* Off: the field is not read, as upstream ignores bytes past its struct. */
	st = allocate_from(CG_A, heap, pidfd, true);
	check_ok(st == 0 && rep->err == 0 && rep->b_with - rep->b_before < MiB,
		 "off: a buffer asked for the client is not charged to B (B %ld -> %ld, errno %d, status %d)",
		 rep->b_before, rep->b_with, rep->err, st);

	if (!check_ok(!write_sysfs(PARAM, "Y"), "charge_pid_fd=1 is set at run time"))
		return finish_checks();
	st = allocate_from(CG_A, heap, pidfd, true);
	check_ok(st == 0 && rep->err == 0 && rep->b_with - rep->b_before >= 15 * MiB &&
			 rep->b_with - rep->b_before < 18 * MiB,
		 "%s: with CAP_SYS_RESOURCE, 16 MiB asked from A for the client is charged to B (%ld -> %ld, errno %d)",
		 heap_name, rep->b_before, rep->b_with, rep->err);
	check_ok(st == 0 && rep->a_with - rep->a_before < MiB,
		 "%s: and not to the allocator's A (%ld -> %ld)", heap_name, rep->a_before,
		 rep->a_with);
	check_ok(st == 0 && rep->b_after <= rep->b_before + MiB,
		 "%s: B's charge goes with the buffer (%ld)", heap_name, rep->b_after);

	freed_by_another(heap, pidfd);

	st = allocate_from(CG_A, heap, pidfd, false);
	check_ok(st == 0 && rep->err == EPERM && rep->b_with - rep->b_before < MiB,
		 "%s: without CAP_SYS_RESOURCE, charging B from A is EPERM and charges nothing (errno %d, B %ld -> %ld)",
		 heap_name, rep->err, rep->b_before, rep->b_with);
	check_ok(st == 0 && rep->err_own == 0 && rep->own_ok,
		 "%s: while charging its own cgroup works (errno %d)", heap_name, rep->err_own);
	st = allocate_from(NULL, heap, pidfd, false);
	check_ok(st == 0 && rep->err == EPERM && rep->b_with - rep->b_before < MiB,
		 "%s: in the root cgroup, without CAP_SYS_RESOURCE, charging B is EPERM too (errno %d)",
		 heap_name, rep->err);

	fd = open("/dev/null", O_RDONLY);
	st = alloc_for(heap, MiB, fd, 0);
	check_ok(st == -EBADF, "%s: a descriptor that is not a pidfd is EBADF (%d)", heap_name, st);
	close(fd);
	st = alloc_for(heap, MiB, fd, 0);
	check_ok(st == -EBADF, "%s: a closed descriptor is EBADF (%d)", heap_name, st);
	gone = fork();
	if (gone == 0)
		_exit(0);
	fd = syscall(SYS_pidfd_open, gone, 0);
	waitpid(gone, NULL, 0);
	st = alloc_for(heap, MiB, fd, 0);
	check_ok(fd >= 0 && st == -ESRCH, "%s: the pidfd of a reaped process is ESRCH (%d)",
		 heap_name, st);
	close(fd);
	st = alloc_for(heap, MiB, pidfd, 1);
	check_ok(st == -EINVAL, "%s: non-zero padding is EINVAL (%d)", heap_name, st);
	st = alloc_for(cma, MiB, pidfd, 0);
	check_ok(st == -EOPNOTSUPP, "%s: a client's pidfd is EOPNOTSUPP (%d)", argv[2], st);
	st = alloc_for(cma, MiB, 0, 0);
	check_ok(st >= 0, "%s: and the next call, without one, allocates (%d)", argv[2], st);
	if (st >= 0)
		close(st);
	st = heap_alloc(heap, MiB);
	check_ok(st >= 0, "%s: a call of upstream's size allocates (%d)", heap_name, st);
	if (st >= 0)
		close(st);

	check_ok(!write_sysfs(PARAM, "N"), "charge_pid_fd=0 is set again");
	close(pipe_w);
	waitpid(client, NULL, 0);
	close(pidfd);
	close(heap);
	close(cma);
	rmdir(CG_A);
	rmdir(CG_B);
	return finish_checks();
}
