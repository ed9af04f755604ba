/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Each heap's figures as sysfs files (Documentation/ABI/testing/
 * sysfs-class-dma_heap-rust): under the heap's class device in standalone
 * mode (chardev.c), under /sys/kernel/rust_dma_heap/<name>/ in hosted mode
 * (hosted.c). RDH_STAT_FILES() declares the files for one kind of object;
 * what they show is read from Rust by sysfs.c.
 */
#ifndef RDH_SYSFS_H
#define RDH_SYSFS_H

#include <linux/sysfs.h>
#include <linux/types.h>

#include "glue.h"

ssize_t rdh_stat_show(const void *stats, enum rdh_stat which, char *buf);
ssize_t rdh_stat_store(const void *stats, const char *buf, size_t count);
umode_t rdh_stat_visible(const void *stats, struct attribute *attr, int n);

/*
 * Declares rdh_<kind>_attr_<file> for one file. The user defines
 * RDH_<kind>_ARGS (the show/store parameters before the buffer) and
 * RDH_<kind>_ATTR_TYPE; @get takes the stats pointer from those parameters.
 */
#define RDH_STAT_RO(kind, file, which, get)						\
	static ssize_t rdh_##kind##_##file##_show(RDH_##kind##_ARGS, char *buf)		\
	{ return rdh_stat_show(get, which, buf); }					\
	static RDH_##kind##_ATTR_TYPE rdh_##kind##_attr_##file =			\
		__ATTR(file, 0444, rdh_##kind##_##file##_show, NULL)
#define RDH_STAT_RW(kind, file, get)							\
	static ssize_t rdh_##kind##_##file##_show(RDH_##kind##_ARGS, char *buf)		\
	{ return rdh_stat_show(get, RDH_STAT_MAX_BYTES, buf); }			\
	static ssize_t rdh_##kind##_##file##_store(RDH_##kind##_ARGS, const char *buf,	\
						   size_t count)			\
	{ return rdh_stat_store(get, buf, count); }					\
	static RDH_##kind##_ATTR_TYPE rdh_##kind##_attr_##file =			\
		__ATTR(file, 0644, rdh_##kind##_##file##_show, rdh_##kind##_##file##_store)

/*
 * Every file for one kind of object, and rdh_<kind>_stat_groups listing
 * them. RDH_<kind>_FROM_KOBJ(kobj) gives the stats pointer of a kobject.
 */
#define RDH_STAT_FILES(kind, get)							\
	RDH_STAT_RO(kind, bytes, RDH_STAT_BYTES, get);					\
	RDH_STAT_RO(kind, buffers, RDH_STAT_BUFFERS, get);				\
	RDH_STAT_RO(kind, peak_bytes, RDH_STAT_PEAK_BYTES, get);			\
	RDH_STAT_RW(kind, max_bytes, get);						\
	RDH_STAT_RO(kind, failed_nomem, RDH_STAT_FAILED_NOMEM, get);			\
	RDH_STAT_RO(kind, failed_limit, RDH_STAT_FAILED_LIMIT, get);			\
	RDH_STAT_RO(kind, failed_interrupted, RDH_STAT_FAILED_INTERRUPTED, get);	\
	RDH_STAT_RO(kind, pool_bytes, RDH_STAT_POOL_BYTES, get);			\
	RDH_STAT_RO(kind, region_bytes, RDH_STAT_REGION_BYTES, get);			\
	/* In the order of enum rdh_stat (rdh_stat_visible() relies on it). */	\
	static struct attribute *rdh_##kind##_stat_attrs[] = {				\
		&rdh_##kind##_attr_bytes.attr, &rdh_##kind##_attr_buffers.attr,		\
		&rdh_##kind##_attr_peak_bytes.attr, &rdh_##kind##_attr_max_bytes.attr,	\
		&rdh_##kind##_attr_failed_nomem.attr, &rdh_##kind##_attr_failed_limit.attr,	\
		&rdh_##kind##_attr_failed_interrupted.attr,				\
		&rdh_##kind##_attr_pool_bytes.attr, &rdh_##kind##_attr_region_bytes.attr,	\
		NULL,									\
	};										\
	static umode_t rdh_##kind##_stat_visible(struct kobject *kobj,			\
						 struct attribute *attr, int n)		\
	{ return rdh_stat_visible(RDH_##kind##_FROM_KOBJ(kobj), attr, n); }		\
	static const struct attribute_group rdh_##kind##_stat_group = {			\
		.attrs = rdh_##kind##_stat_attrs,					\
		.is_visible = rdh_##kind##_stat_visible,				\
	};										\
	__ATTRIBUTE_GROUPS(rdh_##kind##_stat)

#endif /* RDH_SYSFS_H */
