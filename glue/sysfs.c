// SPDX-License-Identifier: GPL-2.0
/*
 * What each heap's sysfs files (sysfs.h) show and take: one number each,
 * read from and written to the heap's figures in Rust (stats/accounting.rs).
 */
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include "sysfs.h"

/**
 * rdh_stat_show() - Show one of a heap's figures.
 * @stats: the heap's figures, as Rust handed them over.
 * @which: the figure.
 * @buf: the sysfs page to print it into.
 *
 * Return: the length printed, or Rust's negative error.
 */
ssize_t rdh_stat_show(const void *stats, enum rdh_stat which, char *buf)
{
	u64 value;
	int ret = rdh_rust_stat_read(stats, which, &value);

	return ret ?: sysfs_emit(buf, "%llu\n", value);
}

/**
 * rdh_stat_store() - Set a heap's max_bytes.
 * @stats: the heap's figures, as Rust handed them over.
 * @buf: what was written: decimal, 0x hex or 0 octal, one trailing newline
 *	allowed.
 * @count: its length.
 *
 * Return: @count; -EINVAL for a sign or a non-number, -ERANGE for more than
 * 64 bits, or Rust's negative error.
 */
ssize_t rdh_stat_store(const void *stats, const char *buf, size_t count)
{
	u64 value;
	int ret = kstrtou64(buf, 0, &value);

	if (!ret)
		ret = rdh_rust_stat_set_max_bytes(stats, value);
	return ret ?: count;
}

/**
 * rdh_stat_visible() - Hide the files of figures a heap does not have.
 * @stats: the heap's figures, as Rust handed them over.
 * @attr: the file.
 * @n: its index in the RDH_STAT_FILES() list.
 *
 * Rust says -ENOENT for a figure the heap lacks (pool_bytes of a CMA heap,
 * say). Only the optional files, which come last in the list, are asked.
 *
 * Return: the file's mode, or 0 to hide it.
 */
umode_t rdh_stat_visible(const void *stats, struct attribute *attr, int n)
{
	static const enum rdh_stat optional[] = { RDH_STAT_POOL_BYTES, RDH_STAT_REGION_BYTES };
	u64 value;

	if (n >= RDH_STAT_POOL_BYTES &&
	    rdh_rust_stat_read(stats, optional[n - RDH_STAT_POOL_BYTES], &value))
		return 0;
	return attr->mode;
}
