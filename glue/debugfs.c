// SPDX-License-Identifier: GPL-2.0
/*
 * The module's debugfs files, in /sys/kernel/debug/rust_dma_heap/: each
 * pool's counters, the live buffers and the pages the module holds. The
 * text of each is Rust's (memory/page_pool.rs, stats/live.rs, stats/ledger.rs).
 */
#include <linux/build_bug.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "glue.h"

/*
 * The directory exists while any of the module's files does: each file
 * takes a reference on it (rdh_debugfs_file_add()) and its removal
 * (rdh_debugfs_file_remove()) drops it, the last one with the directory.
 */
static DEFINE_MUTEX(rdh_debugfs_lock);
static struct dentry *rdh_debugfs_dir;
static unsigned int rdh_debugfs_users;

/* Creates @name in the directory; NULL if it could not (debugfs is optional). */
static struct dentry *rdh_debugfs_file_add(const char *name, void *data,
					   const struct file_operations *fops)
{
	struct dentry *file = NULL;

	mutex_lock(&rdh_debugfs_lock);
	if (!rdh_debugfs_dir) {
		rdh_debugfs_dir = debugfs_create_dir("rust_dma_heap", NULL);
		if (IS_ERR(rdh_debugfs_dir))
			rdh_debugfs_dir = NULL;
	}
	if (rdh_debugfs_dir) {
		file = debugfs_create_file(name, 0400, rdh_debugfs_dir, data, fops);
		if (IS_ERR(file))
			file = NULL;
		else
			rdh_debugfs_users++;
		if (!rdh_debugfs_users) {
			debugfs_remove(rdh_debugfs_dir);
			rdh_debugfs_dir = NULL;
		}
	}
	mutex_unlock(&rdh_debugfs_lock);
	return file;
}

/* Removes a file of rdh_debugfs_file_add(); returns once no read of it runs. */
static void rdh_debugfs_file_remove(struct dentry *file)
{
	debugfs_remove(file);
	mutex_lock(&rdh_debugfs_lock);
	if (!--rdh_debugfs_users) {
		debugfs_remove(rdh_debugfs_dir);
		rdh_debugfs_dir = NULL;
	}
	mutex_unlock(&rdh_debugfs_lock);
}

static int rdh_pool_show(struct seq_file *m, void *unused)
{
	struct rdh_pool_stats st;
	unsigned int i;

	rdh_rust_pool_stats(m->private, &st);
	seq_puts(m, "order pages hits misses\n");
	for (i = 0; i < st.nr_orders && i < RDH_POOL_ORDERS; i++)
		seq_printf(m, "%u %lu %lu %lu\n", st.order[i], st.pages[i], st.hits[i],
			   st.misses[i]);
	seq_printf(m, "pooled_pages %lu\n", st.pooled_pages);
	seq_printf(m, "pending_pages %lu\n", st.pending_pages);
	seq_printf(m, "max_pages %lu\n", st.max_pages);
	seq_printf(m, "recycled_pages %lu\n", st.recycled_pages);
	seq_printf(m, "referenced_pages %lu\n", st.referenced_pages);
	seq_printf(m, "over_max_pages %lu\n", st.over_max_pages);
	seq_printf(m, "shrunk_pages %lu\n", st.shrunk_pages);
	seq_printf(m, "taken_pending_pages %lu\n", st.taken_pending_pages);
	seq_printf(m, "inline_pages %lu\n", st.inline_pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rdh_pool);

/**
 * rdh_pool_debugfs_add() - Add a pool's file, <name>-pool.
 * @pool: the pool, whose counters rdh_rust_pool_stats() reads.
 * @name: the pool's name.
 *
 * Return: the file, or NULL (a pool works without it).
 */
struct dentry *rdh_pool_debugfs_add(const void *pool, const char *name)
{
	char file[64];

	snprintf(file, sizeof(file), "%s-pool", name);
	return rdh_debugfs_file_add(file, (void *)pool, &rdh_pool_fops);
}

/**
 * rdh_pool_debugfs_remove() - Remove a file of rdh_pool_debugfs_add().
 * @file: the file it returned.
 *
 * Returns once no read of it runs.
 */
void rdh_pool_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

static int rdh_buffers_show(struct seq_file *m, void *unused)
{
	return rdh_rust_buffers_show(m->private, m);
}
DEFINE_SHOW_ATTRIBUTE(rdh_buffers);

/**
 * rdh_buffers_debugfs_add() - Add the buffers file, listing live buffers.
 * @live: the list, handed to rdh_rust_buffers_show().
 *
 * Return: the file, or NULL if it could not be made.
 */
struct dentry *rdh_buffers_debugfs_add(const void *live)
{
	return rdh_debugfs_file_add("buffers", (void *)live, &rdh_buffers_fops);
}

/**
 * rdh_buffers_debugfs_remove() - Remove the file of rdh_buffers_debugfs_add().
 * @file: the file it returned.
 *
 * Returns once no read of it runs.
 */
void rdh_buffers_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

static int rdh_pages_show(struct seq_file *m, void *unused)
{
	return rdh_rust_pages_show(m);
}
DEFINE_SHOW_ATTRIBUTE(rdh_pages);

/**
 * rdh_pages_debugfs_add() - Add the pages file, showing the page ledger.
 *
 * The ledger's counts are the module's statics (stats/ledger.rs): the file
 * has no data.
 *
 * Return: the file, or NULL if it could not be made.
 */
struct dentry *rdh_pages_debugfs_add(void)
{
	return rdh_debugfs_file_add("pages", NULL, &rdh_pages_fops);
}

/**
 * rdh_pages_debugfs_remove() - Remove the file of rdh_pages_debugfs_add().
 * @file: the file it returned.
 *
 * Returns once no read of it runs.
 */
void rdh_pages_debugfs_remove(struct dentry *file)
{
	rdh_debugfs_file_remove(file);
}

/**
 * rdh_seq_write() - Append bytes to a file being shown.
 * @m: the file.
 * @s: the bytes.
 * @len: how many.
 *
 * An overflow is noted in @m, which shows the file again with more room.
 */
void rdh_seq_write(struct seq_file *m, const char *s, size_t len)
{
	seq_write(m, s, len);
}

/**
 * rdh_current_owner() - Who is calling: what a buffer's listing shows.
 * @tgid: set to the calling process's ID, in the initial namespace.
 * @comm: filled with its task's name, RDH_COMM_LEN bytes.
 */
void rdh_current_owner(int *tgid, char *comm)
{
	char name[TASK_COMM_LEN];

	BUILD_BUG_ON(RDH_COMM_LEN != TASK_COMM_LEN);
	*tgid = task_tgid_nr(current);
	get_task_comm(name, current);
	memcpy(comm, name, RDH_COMM_LEN);
}
