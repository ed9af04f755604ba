# SPDX-License-Identifier: GPL-2.0
# A pool gives up its room whenever it empties, as the shrinker made every
# pool it emptied do before: the first small buffer released afterwards
# finds no room, so it is queued for the worker (a wake-up on the other
# CPU) instead of being zeroed and pooled by the releasing thread. Nothing
# leaks and every byte is still zeroed; only the pools' inline_pages
# counter shows it. heap-pool's test_inline_after_drain empties the pools
# through the shrinker, releases a 4 KiB buffer and reads the counters when
# close() has returned: inline_pages did not move.
DESCRIPTION="an emptied pool gives up its small room"
FLAVOUR=x86_64
PROGRAMS='heap-pool|sh ./with-importer.sh ./heap-pool system linux,cma|600|36'
EXPECT='heap-pool: a 4 KiB buffer released right after the shrinker emptied the pools is pooled by the releasing thread'
mutate() {
	edit memory/page_pool.rs \
		's|^        let room = if pool.len == 0 \&\& pool.slots.len() > KEPT_ROOM {$|        let room = if pool.len == 0 {|'
}
