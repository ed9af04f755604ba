# SPDX-License-Identifier: GPL-2.0
# The deferred path: Shared::recycle (the pools' worker, and the
# releasing thread for a buffer of a few pages) puts every released chunk
# into its pool without zeroing it, so each buffer built from pooled
# chunks shows the previous buffer's bytes. Only recycle zeroes pooled
# pages (the buddy allocator's __GFP_ZERO covers new ones alone, and
# Shared::take_queued the chunks it takes from the queue), so heap-pool's
# test_recycling must catch it: five buffers of
# 4 KiB to 32 MiB are filled with 0xa5, freed and recycled ("all N pages
# ... are zeroed into the pools" still passes: the counters do not see
# zeroing), and the next buffers of each size are read word by word
# ("round %d: a %zu KiB buffer is all zeros"), all of them from the pools.
# (heap-buffers' stale-data rounds may or may not notice: they allocate
# again before the low-priority worker has run.)
DESCRIPTION="the pools' worker pools released chunks without zeroing them"
FLAVOUR=x86_64
PROGRAMS='heap-pool|sh ./with-importer.sh ./heap-pool system linux,cma|600|36'
EXPECT='heap-pool: round 0: a \d+ KiB buffer is all zeros'
mutate() {
	edit memory/page_pool.rs 's|^        let Some(chunk) = chunk\.zero() else {$|        let Some(chunk) = Some(chunk) else {|'
}
