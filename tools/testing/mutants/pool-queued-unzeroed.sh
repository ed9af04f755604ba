# SPDX-License-Identifier: GPL-2.0
# An allocation whose pool is empty takes a chunk the worker has not zeroed
# yet from the queue (Shared::take_queued) and hands it out as it is,
# without zeroing it: a new buffer shows a released buffer's bytes.
# heap-pool's test_queued empties the pools, fills 32 buffers of 1 MiB with
# 0xc3, frees them and at once allocates 32 more, reading every word: the
# worker, at nice 19, zeroes one 1 MiB batch at a time, newest first, and
# the allocations take from the newest four batches, so the first
# allocations find queued chunks whatever the worker has done by then.
DESCRIPTION="a pool's miss takes a queued chunk without zeroing it"
FLAVOUR=x86_64
PROGRAMS='heap-pool|sh ./with-importer.sh ./heap-pool system linux,cma|600|36'
EXPECT='heap-pool: 32 buffers of 1 MiB allocated right after 32 were freed are all zeros'
mutate() {
	edit memory/page_pool.rs 's|^        chunk\.zero()$|        Some(chunk)|'
}
