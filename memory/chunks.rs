// SPDX-License-Identifier: GPL-2.0

//! A buffer's pages as chunks of the buddy allocator, largest first.
//!
//! Like upstream's system heap, a buffer is built from the largest chunks
//! the allocator gives without effort (with the system heaps' orders: 1 MiB,
//! then 64 KiB), falling back to single pages, which the allocator may
//! reclaim and swap for. Large chunks make for short scatter-gather tables
//! and fewer IOMMU/TLB entries. A pool of zeroed chunks, where there is
//! one, is asked first at each order.
//!
//! Pooled chunks are charged to no memory cgroup, and charged ones never
//! enter a pool: an allocation charged to a cgroup bypasses the pools.

use crate::memory::{
    page::{
        cond_resched,
        fatal_signal_pending,
        kvvec_fit,
        kvvec_may_fail,
        BuddyPages,
        Memcg,
        Retry,
        Zone,
        PAGE_SIZE, //
    },
    page_pool::{
        PagePools,
        PooledPages, //
    }, //
};
use kernel::prelude::*;

/// Allocates `len` bytes (a multiple of the page size) from `zone` in
/// chunks of `orders` (largest first, the last 0), taking pooled ones from
/// `pools` (which must hold chunks of `zone` only) where it can, charged as
/// `memcg` says; a buffer's backing whose chunks go back to `pools` when it
/// is released, unless they are charged.
pub(crate) fn alloc_pooled(
    pools: &PagePools,
    len: usize,
    orders: &[u32],
    memcg: Memcg,
    zone: Zone,
) -> Result<PooledPages> {
    let chunks = alloc_chunks(Some(pools), len, orders, memcg, zone)?;
    pools.backing(chunks, memcg == Memcg::Uncharged)
}

/// Allocates `len` bytes (a multiple of the page size) from `zone` in
/// chunks of `orders` (largest first, the last 0), charged as `memcg` says,
/// each from its pool in `pools` if there is one and the chunks are charged
/// to nobody. Stops with `EINTR` if the caller is killed meanwhile; on any
/// failure every chunk already allocated is freed.
///
/// The list of chunks gets room for the worst case (every chunk a single
/// page) before any page is taken, and without calling the OOM killer:
/// growing it later, with memory nearly all ours, could only be done with
/// `GFP_KERNEL`, which may call it. That is 16 bytes per page of the
/// buffer while it is allocated; the list then keeps only the room its
/// chunks use (16 bytes per chunk) for the buffer's life.
pub(crate) fn alloc_chunks(
    pools: Option<&PagePools>,
    len: usize,
    orders: &[u32],
    memcg: Memcg,
    zone: Zone,
) -> Result<KVVec<BuddyPages>> {
    let mut chunks = kvvec_may_fail(len / PAGE_SIZE)?;
    let mut remaining = len;
    let mut max_order = orders.first().copied().unwrap_or(0);
    while remaining > 0 {
        // A chunk is up to 1 MiB zeroed: let others run between chunks.
        cond_resched();
        if fatal_signal_pending() {
            return Err(EINTR);
        }
        let chunk = alloc_largest(pools, remaining, max_order, orders, memcg, zone)?;
        remaining -= chunk.run().bytes();
        // Once an order has failed, larger ones will not succeed now.
        max_order = chunk.order();
        chunks.push(chunk, GFP_KERNEL)?;
    }
    // The list lives as long as the buffer: only the room its chunks use.
    Ok(kvvec_fit(chunks))
}

/// The largest chunk of `orders`, of at most `max_order`, that fits in
/// `remaining`: at each order, a pooled one if there is one (and the chunk
/// is to be charged to nobody), else a new one.
fn alloc_largest(
    pools: Option<&PagePools>,
    remaining: usize,
    max_order: u32,
    orders: &[u32],
    memcg: Memcg,
    zone: Zone,
) -> Result<BuddyPages> {
    for &order in orders {
        if order > max_order || PAGE_SIZE << order > remaining {
            continue;
        }
        if let (Some(pools), Memcg::Uncharged) = (pools, memcg) {
            if let Some(chunk) = pools.take(order) {
                return Ok(chunk);
            }
        }
        let retry = if order > 0 {
            Retry::NoRetry
        } else {
            Retry::MayFail
        };
        if let Ok(chunk) = BuddyPages::alloc_zeroed(order, retry, memcg, zone) {
            return Ok(chunk);
        }
    }
    Err(ENOMEM)
}
