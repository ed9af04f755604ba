// SPDX-License-Identifier: GPL-2.0
/*
 * What drives the system heaps' page pools: a worker thread and a shrinker.
 * 6.12 has no Rust kthread or shrinker API; the pools themselves, and every
 * decision about them, are Rust's (memory/page_pool.rs, which owns these
 * objects through compat/pool_hooks.rs). Their debugfs file
 * is in debugfs.c.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/shrinker.h>

#include "glue.h"

static int rdh_pool_thread(void *pool)
{
	rdh_rust_pool_worker(pool);
	return 0;
}

/**
 * rdh_pool_worker_start() - Start a pool's worker thread.
 * @pool: the pool, handed to rdh_rust_pool_worker().
 * @name: the thread's name.
 * @nice: its nice value.
 *
 * The task is referenced, so it may be stopped with rdh_pool_worker_stop()
 * even after rdh_rust_pool_worker() returned on its own; stopped before it
 * first runs, it never calls it.
 *
 * Return: the task, or NULL if it could not be created.
 */
struct task_struct *rdh_pool_worker_start(const void *pool, const char *name, int nice)
{
	struct task_struct *task;

	task = kthread_create(rdh_pool_thread, (void *)pool, "%s", name);
	if (IS_ERR(task))
		return NULL;
	get_task_struct(task);
	sched_set_normal(task, nice);
	wake_up_process(task);
	return task;
}

/**
 * rdh_pool_worker_stop() - Stop a worker of rdh_pool_worker_start().
 * @task: the worker, whose reference is dropped here.
 *
 * Returns once the worker has finished.
 */
void rdh_pool_worker_stop(struct task_struct *task)
{
	kthread_stop(task);
	put_task_struct(task);
}

static unsigned long rdh_pool_count(struct shrinker *shrinker, struct shrink_control *sc)
{
	unsigned long pages = rdh_rust_pool_count(shrinker->private_data);

	return pages ?: SHRINK_EMPTY;
}

static unsigned long rdh_pool_scan(struct shrinker *shrinker, struct shrink_control *sc)
{
	unsigned long freed = rdh_rust_pool_scan(shrinker->private_data, sc->nr_to_scan);

	return freed ?: SHRINK_STOP;
}

/**
 * rdh_pool_shrinker_add() - Register a pool's shrinker.
 * @pool: the pool, handed to rdh_rust_pool_count() and rdh_rust_pool_scan().
 * @name: the shrinker's name.
 *
 * Return: the shrinker, or NULL if it could not be allocated.
 */
struct shrinker *rdh_pool_shrinker_add(const void *pool, const char *name)
{
	struct shrinker *shrinker = shrinker_alloc(0, "%s", name);

	if (!shrinker)
		return NULL;
	shrinker->count_objects = rdh_pool_count;
	shrinker->scan_objects = rdh_pool_scan;
	shrinker->private_data = (void *)pool;
	shrinker_register(shrinker);
	return shrinker;
}

/**
 * rdh_pool_shrinker_remove() - Unregister and free a pool's shrinker.
 * @shrinker: the shrinker of rdh_pool_shrinker_add().
 *
 * Returns once no call into the pool is running.
 */
void rdh_pool_shrinker_remove(struct shrinker *shrinker)
{
	shrinker_free(shrinker);
}
