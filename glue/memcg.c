// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups (Kbuild builds this file where the kernel has them,
 * CONFIG_MEMCG): the memory cgroup of the process behind a pidfd, and the
 * kernel's remote charging scope, for DMA_HEAP_IOCTL_ALLOC's charge_pid_fd.
 * Whether a caller may charge that cgroup (frontend/ioctl.rs), and which
 * heaps can (heap.rs), is Rust's, through compat/memcg.rs.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/memcontrol.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>

#include "glue.h"

/**
 * rdh_memcg_of_pidfd() - Take the memory cgroup of the process of a pidfd.
 * @fd: a file descriptor of the calling task.
 * @memcg: set to a counted reference to the cgroup on success.
 *
 * pidfd_get_task() is not exported to modules. A pidfd is a file of
 * pidfs whose inode holds the struct pid, on 6.12 and 7.3 alike; a thread
 * pidfd names its thread, whose process's cgroup it is.
 *
 * Return: 0; -EBADF if @fd is not an open pidfd; -ESRCH if its task has
 * exited or has no memory of its own (a kernel thread); -EOPNOTSUPP if
 * memory cgroups are disabled (cgroup_disable=memory).
 */
int rdh_memcg_of_pidfd(unsigned int fd, struct mem_cgroup **memcg)
{
	struct task_struct *task;
	struct file *file = fget(fd);
	struct mm_struct *mm;

	if (!file)
		return -EBADF;
	if (file_inode(file)->i_sb->s_magic == PID_FS_MAGIC)
		task = get_pid_task(file_inode(file)->i_private, PIDTYPE_PID);
	else
		task = ERR_PTR(-EBADF);
	fput(file);
	if (IS_ERR(task))
		return PTR_ERR(task);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -ESRCH;
	*memcg = get_mem_cgroup_from_mm(mm);
	mmput(mm);
	return *memcg ? 0 : -EOPNOTSUPP;
}

/**
 * rdh_memcg_put() - Give back a reference of rdh_memcg_of_pidfd().
 * @memcg: the cgroup.
 */
void rdh_memcg_put(struct mem_cgroup *memcg)
{
	mem_cgroup_put(memcg);
}

/**
 * rdh_memcg_of_current() - Take the memory cgroup of the calling task.
 *
 * Return: a counted reference to it (for a kernel thread the root's, or
 * its remote charging scope's), or NULL if memory cgroups are disabled.
 */
struct mem_cgroup *rdh_memcg_of_current(void)
{
	return get_mem_cgroup_from_mm(current->mm);
}

/**
 * rdh_memcg_is_root() - Whether a memory cgroup is the root.
 * @memcg: a cgroup the caller holds a reference to.
 *
 * Return: whether @memcg has no parent.
 */
bool rdh_memcg_is_root(struct mem_cgroup *memcg)
{
	return !parent_mem_cgroup(memcg);
}

/**
 * rdh_memcg_is_descendant() - Whether a memory cgroup is in another's subtree.
 * @memcg: a cgroup the caller holds a reference to.
 * @root: another such cgroup.
 *
 * Return: whether @memcg is @root or one of its descendants.
 */
bool rdh_memcg_is_descendant(struct mem_cgroup *memcg, struct mem_cgroup *root)
{
	return mem_cgroup_is_descendant(memcg, root);
}

/**
 * rdh_memcg_set_active() - Open or close a remote charging scope.
 * @memcg: the cgroup that __GFP_ACCOUNT allocations of the calling task are
 *	charged to from now on, or what an earlier call returned, to close.
 *
 * The kernel's set_active_memcg(), an inline function. Task context only.
 *
 * Return: the scope that was active before (NULL for none).
 */
struct mem_cgroup *rdh_memcg_set_active(struct mem_cgroup *memcg)
{
	return set_active_memcg(memcg);
}
