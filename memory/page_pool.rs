// SPDX-License-Identifier: GPL-2.0

//! Pools of zeroed pages, per order, for the system heaps.
//!
//! A buffer allocated from the buddy allocator pays for zeroing its pages
//! on the allocation path (`__GFP_ZERO`), and for every order it asks for.
//! A pool keeps chunks of one order that are already zeroed: an allocation
//! takes from it first and only falls back to the buddy allocator when it is
//! empty.
//!
//! When a pooled buffer is released its chunks are queued, and a worker
//! thread at the lowest priority zeroes them and puts them in the pools, off
//! every allocation path. A buffer of a few pages is zeroed and pooled by
//! the releasing thread instead, which costs less than waking the worker;
//! and an allocation that finds a pool empty takes a queued chunk the
//! worker has not reached yet and zeroes it itself, so that no page is
//! zeroed twice over (a new one here, the queued one there).
//!
//! A chunk that anyone else still holds a reference to (a pin taken through
//! a mapping, say) is given back to the buddy
//! allocator instead: its last holder frees it, and it never reaches another
//! buffer. So does a chunk that would take the pools over their limit
//! (`pool_max_kb`, a sixteenth of RAM by default, `0` for no pools at all).
//!
//! A shrinker hands pooled and queued pages back to the kernel under memory
//! pressure, and `/sys/kernel/debug/rust_dma_heap/<name>-pool` shows the
//! counters.
//!
//! Nothing here may call the OOM killer. Releasing a buffer allocates
//! nothing that could wait (its queue entry is made with the buffer), and
//! the worker grows a pool with [`kvvec_may_fail`], doing without pooling
//! when that fails. A task that ran memory out with dma-bufs and is
//! exiting releases them after its address space is gone: an OOM kill then
//! finds no task worth killing (the memory is in no address space) and
//! panics, "System is deadlocked on memory".
//!
//! The system heap pools its chunks ([`BuddyPages`]), and the
//! system-uncached heap its write-combined ones (`uncached.rs`'s `WcChunk`,
//! which on x86 switches its pages back to write-back whenever it is freed,
//! so that a pool of them changes no memory type in a steady state). A pool
//! holds any [`PoolChunk`]. A CMA area gets its pages back at once, so that
//! what a reserved region promises stays available.

use crate::{
    compat, //
    compat::{
        ffi, //
        pool_hooks::{
            PoolHooks,
            PoolWork, //
        },
    },
    memory::{
        buffer::{
            Backing,
            InsertableBacking, //
        },
        page::{
            cond_resched,
            kvvec_may_fail,
            total_ram_pages,
            BuddyPages,
            PageRun,
            PAGE_SIZE, //
        }, //
    },
};
use kernel::{
    ffi::c_ulong,
    new_condvar,
    new_spinlock, //
    prelude::*,
    sync::{
        Arc,
        CondVar,
        SpinLock, //
    },
};

/// A released buffer of at most this many pages is zeroed and pooled on the
/// releasing thread, where its pools have room: zeroing 16 KiB costs less
/// than waking the worker on another CPU, which takes an interrupt there.
const INLINE_PAGES: usize = 4;

/// How many of the newest queued batches, and at most how many of their
/// chunks, a pool's miss looks through for a chunk to zero itself.
const QUEUED_BATCHES_SEARCHED: usize = 4;
const QUEUED_CHUNKS_SEARCHED: usize = 64;

/// The room a pool keeps when it empties, in chunks; larger room goes
/// (only the worker grows it, to twice what it was and at least this).
const KEPT_ROOM: usize = 64;

/// The pool limit when `pool_max_kb` is negative: RAM / this.
const DEFAULT_RAM_FRACTION: usize = 16;

/// The pools' limit now, in pages (`pool_max_kb` may change at any time).
fn max_pages() -> usize {
    // SAFETY: Only reads a module parameter.
    let kb = unsafe { ffi::rdh_param_pool_max_kb() };
    match usize::try_from(kb) {
        Ok(kb) => kb / (PAGE_SIZE / 1024),
        Err(_) => total_ram_pages() / DEFAULT_RAM_FRACTION,
    }
}

/// For the release path's one allocation, which only shrinks: it never
/// waits for reclaim, so it never calls the OOM killer.
fn pool_gfp() -> kernel::alloc::Flags {
    GFP_NOWAIT | __GFP_NOWARN
}

/// What a pool holds: one whole allocation of the buddy allocator, which
/// frees itself (in the state the kernel wants it back) when dropped.
pub(crate) trait PoolChunk: Send + Sync + Sized + 'static {
    /// The pages, as one run.
    fn run(&self) -> PageRun<'_>;

    /// The order of the allocation.
    fn order(&self) -> u32;

    /// Whether this value holds the only reference to the pages.
    fn is_exclusive(&self) -> bool;

    /// Zeroes the pages for their next buffer: the chunk, or `None` if it
    /// could not be made ready (it is freed then, and can be in no buffer).
    fn zero(self) -> Option<Self>;

    /// Readies `chunks`, about to be freed together, for it: a chunk type
    /// may do at once what freeing each would do alone.
    ///
    /// # Safety
    ///
    /// The chunks are dropped right after, unused (in no buffer, mapped by
    /// nothing) in between.
    unsafe fn before_free(_chunks: &mut [Self]) {}

    /// Frees `chunks` together.
    fn free_all(mut chunks: KVVec<Self>) {
        // SAFETY: Dropped on the next line, unused.
        unsafe { Self::before_free(&mut chunks) };
        drop(chunks);
    }
}

/// A chunk type whose pages may back a buffer ([`PooledPages`]).
///
/// # Safety
///
/// While a chunk lives, [`PoolChunk::run`] gives the same pages on every
/// call, and they stay allocated until the chunk is dropped. If
/// `WRITE_COMBINED`, the pages are fit to be mapped write-combined for as
/// long as the chunk lives, as [`Backing::WRITE_COMBINED`] requires.
pub(crate) unsafe trait BufferChunk: PoolChunk {
    /// Whether every CPU mapping of the pages is write-combined.
    const WRITE_COMBINED: bool = false;
}

// SAFETY: A `BuddyPages` owns its pages until it is dropped (its type
// invariant), and its run is always the same; its pages are cached.
unsafe impl BufferChunk for BuddyPages {}

impl PoolChunk for BuddyPages {
    fn run(&self) -> PageRun<'_> {
        BuddyPages::run(self)
    }

    fn order(&self) -> u32 {
        BuddyPages::order(self)
    }

    fn is_exclusive(&self) -> bool {
        BuddyPages::is_exclusive(self)
    }

    fn zero(mut self) -> Option<Self> {
        BuddyPages::zero(&mut self);
        Some(self)
    }
}

/// One order's zeroed chunks.
///
/// # Invariants
///
/// `slots[..len]` are `Some` and hold chunks of `order`; the rest are `None`
/// (room made ahead of time, as the lock it lives under cannot sleep).
struct OrderPool<C> {
    order: u32,
    slots: KVVec<Option<C>>,
    len: usize,
    hits: usize,
    misses: usize,
}

/// Everything under the pools' lock.
///
/// # Invariants
///
/// `pooled` is the number of pages in all of `orders`.
struct Lists<C> {
    orders: KVec<OrderPool<C>>,
    pooled: usize,
    recycled: usize,
    referenced: usize,
    over_max: usize,
    shrunk: usize,
    /// Pages of released buffers that the releasing thread zeroed and
    /// pooled itself (the rest of `recycled` is the worker's).
    inline: usize,
}

/// A chunk taken out of a pool, with the pool's room if that left it empty
/// and the room was to go (see [`Lists::pop`]). Both are for dropping
/// outside the lock, as freeing a vmalloc'ed array may sleep.
struct Taken<C> {
    chunk: C,
    room: KVVec<Option<C>>,
}

impl<C: PoolChunk> Lists<C> {
    /// Takes one chunk of the pool at `idx`, if it has one. A pool left
    /// empty gives up its room if the room is larger than [`KEPT_ROOM`];
    /// otherwise the room stays (a small array), so that a buffer taken and given
    /// back every frame allocates nothing for its pool, and the first small
    /// buffer released after the shrinker emptied the pool is pooled on the
    /// releasing thread rather than queued for the worker.
    fn pop(&mut self, idx: usize) -> Option<Taken<C>> {
        let pool = self.orders.get_mut(idx)?;
        if pool.len == 0 {
            return None;
        }
        pool.len -= 1;
        let chunk = pool.slots.get_mut(pool.len)?.take()?;
        let room = if pool.len == 0 && pool.slots.len() > KEPT_ROOM {
            // INVARIANT: No chunk is left, so no room is needed either.
            compat::take_kvvec(&mut pool.slots)
        } else {
            KVVec::new()
        };
        // INVARIANT: One chunk of `order` left the pools.
        self.pooled -= 1 << pool.order;
        Some(Taken { chunk, room })
    }
}

/// A released buffer's chunks, waiting for the worker.
struct Batch<C> {
    chunks: KVVec<C>,
    pages: usize,
    next: Option<KBox<Batch<C>>>,
}

/// The worker's queue.
struct Pending<C> {
    /// Batches not yet taken by the worker, newest first.
    head: Option<KBox<Batch<C>>>,
    /// Pages in `head`'s batches.
    queued: usize,
    /// Pages of the batch the worker is working on.
    in_flight: usize,
    /// Set when the pools go away: the worker stops and nothing is queued.
    stopping: bool,
    /// Pages allocations took from the queue, zeroing them themselves.
    taken: usize,
}

impl<C> Pending<C> {
    /// Unlinks the newest batch.
    fn pop(&mut self) -> Option<KBox<Batch<C>>> {
        let mut batch = self.head.take()?;
        self.head = batch.next.take();
        self.queued -= batch.pages;
        Some(batch)
    }
}

impl<C> Drop for Pending<C> {
    fn drop(&mut self) {
        // One batch at a time: dropping the list from its head would recurse
        // once per batch, and a kernel stack is small.
        while self.pop().is_some() {}
    }
}

/// What the pools, their worker and their shrinker share.
#[pin_data]
struct Shared<C> {
    #[pin]
    lists: SpinLock<Lists<C>>,
    #[pin]
    pending: SpinLock<Pending<C>>,
    /// Signalled when a batch is queued or the worker must stop.
    #[pin]
    work: CondVar,
}

impl<C: PoolChunk> Shared<C> {
    /// Queues a released buffer's batch for the worker, or frees its chunks
    /// if the pools are off or going away; a batch of a few pages goes into
    /// the pools at once where they have room. Allocates nothing that could
    /// wait (see the module documentation).
    fn give_back(&self, mut batch: KBox<Batch<C>>) {
        let max = max_pages();
        if batch.chunks.is_empty() || max == 0 {
            C::free_all(compat::take_kvvec(&mut batch.chunks));
            return;
        }
        let total: usize = batch.chunks.iter().map(|c| c.run().pages()).sum();
        if total <= INLINE_PAGES && self.has_room(&batch.chunks) {
            let mut inline = 0;
            for chunk in compat::take_kvvec(&mut batch.chunks) {
                let pages = chunk.run().pages();
                if self.recycle(chunk, false) {
                    inline += pages;
                }
            }
            self.lists.lock().inline += inline;
            return;
        }
        // Queue no more than the pools could still take: the rest is freed
        // now rather than held, unzeroed and unreclaimable while the worker
        // is busy, only to be freed later (a 4 GiB buffer, say).
        let room = {
            let held = self.lists.lock().pooled;
            let pending = self.pending.lock();
            max.saturating_sub(held + pending.queued + pending.in_flight)
        };
        let mut pages = total;
        if total > room {
            let chunks = compat::take_kvvec(&mut batch.chunks);
            let (kept, kept_pages) = keep_at_most(chunks, room);
            batch.chunks = kept;
            pages = kept_pages;
            self.lists.lock().over_max += total - pages;
            if batch.chunks.is_empty() {
                return;
            }
        }
        let mut pending = self.pending.lock();
        if pending.stopping {
            drop(pending);
            C::free_all(compat::take_kvvec(&mut batch.chunks));
            return;
        }
        batch.pages = pages;
        batch.next = pending.head.take();
        pending.head = Some(batch);
        pending.queued += pages;
        self.work.notify_one();
    }

    /// On a pool's miss: a queued chunk of `order` that the worker has not
    /// zeroed yet, zeroed here, on the allocating thread. Its pages are then
    /// zeroed once, where the worker would otherwise zero them beside an
    /// allocation that zeroes new ones. Chunks someone else still
    /// references are left to the worker.
    fn take_queued(&self, order: u32) -> Option<C> {
        let chunk = {
            let mut guard = self.pending.lock();
            let pending = &mut *guard;
            let mut cur = pending.head.as_deref_mut();
            let mut found = None;
            // The newest chunks of the newest batches only: the scan holds
            // a spinlock.
            let mut budget = QUEUED_CHUNKS_SEARCHED;
            for _ in 0..QUEUED_BATCHES_SEARCHED {
                let Some(batch) = cur else {
                    break;
                };
                let chunks = batch.chunks.as_mut_slice();
                let look = chunks.len().min(budget);
                budget -= look;
                if let Some(i) = chunks
                    .iter()
                    .rev()
                    .take(look)
                    .position(|c| c.order() == order && c.is_exclusive())
                    .map(|back| chunks.len() - 1 - back)
                {
                    let last = chunks.len() - 1;
                    chunks.swap(i, last);
                    found = compat::kvvec_pop(&mut batch.chunks);
                    let pages = found.as_ref().map_or(0, |c| c.run().pages());
                    batch.pages -= pages;
                    pending.queued -= pages;
                    pending.taken += pages;
                    break;
                }
                cur = batch.next.as_deref_mut();
            }
            found
        }?;
        chunk.zero()
    }

    /// Whether every one of `chunks` would find room in its pool now,
    /// without the pool growing it.
    fn has_room(&self, chunks: &[C]) -> bool {
        let lists = self.lists.lock();
        chunks.iter().all(|c| {
            lists
                .orders
                .iter()
                .find(|p| p.order == c.order())
                .is_some_and(|p| p.slots.len() - p.len >= chunks.len())
        })
    }

    /// Puts one released chunk in its pool, zeroed, or frees it; returns
    /// whether it was pooled. Only with `grow` may the pool's room grow
    /// for it, which allocates.
    fn recycle(&self, chunk: C, grow: bool) -> bool {
        let pages = chunk.run().pages();
        if !chunk.is_exclusive() {
            // Someone else still holds these pages; they are theirs until
            // they let go, so they go back to the buddy allocator (which
            // frees them on the last put), never to another buffer.
            self.lists.lock().referenced += pages;
            return false;
        }
        if self.lists.lock().pooled + pages > max_pages() {
            self.lists.lock().over_max += pages;
            return false;
        }
        let Some(chunk) = chunk.zero() else {
            self.lists.lock().over_max += pages;
            return false;
        };
        match self.push(chunk, grow) {
            Ok(()) => true,
            Err(chunk) => {
                self.lists.lock().over_max += pages;
                drop(chunk);
                false
            }
        }
    }

    /// Adds a zeroed chunk to its pool, making room first (with `grow`) if
    /// the pool has none left. Gives the chunk back if it would take the
    /// pools over their limit, if its order is not pooled, or if there is no
    /// room (or no memory for room).
    ///
    /// Only the worker grows a pool's room; the others only take chunks
    /// away, and a release puts a few pages back where room is left.
    fn push(&self, chunk: C, grow: bool) -> core::result::Result<(), C> {
        let order = chunk.order();
        let pages = chunk.run().pages();
        loop {
            let mut guard = self.lists.lock();
            let lists = &mut *guard;
            if lists.pooled + pages > max_pages() {
                return Err(chunk);
            }
            let Some(idx) = lists.orders.iter().position(|p| p.order == order) else {
                return Err(chunk);
            };
            let pool = &mut lists.orders[idx];
            let room = pool.slots.len();
            if pool.len < room {
                pool.slots[pool.len] = Some(chunk);
                // INVARIANT: `slots[..len]` are still `Some`, and `pooled`
                // counts the chunk just added.
                pool.len += 1;
                lists.pooled += pages;
                lists.recycled += pages;
                return Ok(());
            }
            drop(guard);
            if !grow {
                return Err(chunk);
            }

            // Twice the room, made outside the lock: allocating may sleep.
            let want = (room * 2).max(KEPT_ROOM);
            let Ok(mut bigger) = kvvec_may_fail(want) else {
                return Err(chunk);
            };
            for _ in 0..want {
                // Within the capacity just reserved: cannot fail.
                if bigger.push(None, GFP_KERNEL).is_err() {
                    return Err(chunk);
                }
            }
            let mut lists = self.lists.lock();
            let pool = &mut lists.orders[idx];
            // Chunks were only taken meanwhile, so they all fit.
            for (old, new) in pool.slots.iter_mut().zip(bigger.iter_mut()) {
                core::mem::swap(old, new);
            }
            // INVARIANT: The chunks kept their places, and the new room is
            // all `None`.
            core::mem::swap(&mut pool.slots, &mut bigger);
            drop(lists);
            // `bigger` is now the old, empty room: freed outside the lock,
            // as freeing a vmalloc'ed array may sleep.
            drop(bigger);
        }
    }
}

impl<C: PoolChunk> PoolWork for Shared<C> {
    /// The worker's loop: zero queued chunks into the pools until told to
    /// stop.
    fn work(&self) {
        loop {
            let mut pending = self.pending.lock();
            let batch = loop {
                if pending.stopping {
                    break None;
                }
                if let Some(batch) = pending.pop() {
                    pending.in_flight = batch.pages;
                    break Some(batch);
                }
                // A kernel thread has no signals to wake it: the wait ends
                // on `work` (or spuriously, and the loop waits again).
                let _ = self.work.wait_interruptible(&mut pending);
            };
            drop(pending);
            let Some(mut batch) = batch else {
                return;
            };
            let chunks = compat::take_kvvec(&mut batch.chunks);
            drop(batch);
            for chunk in chunks {
                self.recycle(chunk, true);
                cond_resched();
            }
            self.pending.lock().in_flight = 0;
        }
    }

    /// Tells the worker's loop to return.
    fn stop(&self) {
        let mut pending = self.pending.lock();
        pending.stopping = true;
        self.work.notify_all();
    }

    /// Pages the shrinker may free.
    fn reclaimable(&self) -> usize {
        let pooled = self.lists.lock().pooled;
        pooled + self.pending.lock().queued
    }

    /// Frees up to about `nr` pages for the shrinker, the largest chunks
    /// first, then queued ones that were not zeroed yet. Returns how many.
    fn shrink(&self, nr: usize) -> usize {
        let mut freed = 0;
        while freed < nr {
            let mut lists = self.lists.lock();
            let Some(idx) = lists
                .orders
                .iter()
                .enumerate()
                .filter(|(_, p)| p.len > 0)
                .max_by_key(|(_, p)| p.order)
                .map(|(i, _)| i)
            else {
                break;
            };
            let Some(taken) = lists.pop(idx) else {
                break;
            };
            let pages = taken.chunk.run().pages();
            lists.shrunk += pages;
            drop(lists);
            drop(taken);
            freed += pages;
        }
        while freed < nr {
            let Some(mut batch) = self.pending.lock().pop() else {
                break;
            };
            freed += batch.pages;
            self.lists.lock().shrunk += batch.pages;
            C::free_all(compat::take_kvvec(&mut batch.chunks));
        }
        freed
    }

    /// The counters, for debugfs.
    fn stats(&self, out: &mut ffi::PoolStats) {
        {
            let lists = self.lists.lock();
            for (i, pool) in lists.orders.iter().take(ffi::POOL_ORDERS).enumerate() {
                out.order[i] = pool.order;
                out.pages[i] = (pool.len << pool.order) as c_ulong;
                out.hits[i] = pool.hits as c_ulong;
                out.misses[i] = pool.misses as c_ulong;
                out.nr_orders = i as u32 + 1;
            }
            out.pooled_pages = lists.pooled as c_ulong;
            out.recycled_pages = lists.recycled as c_ulong;
            out.referenced_pages = lists.referenced as c_ulong;
            out.over_max_pages = lists.over_max as c_ulong;
            out.shrunk_pages = lists.shrunk as c_ulong;
            out.inline_pages = lists.inline as c_ulong;
        }
        let pending = self.pending.lock();
        out.pending_pages = (pending.queued + pending.in_flight) as c_ulong;
        out.taken_pending_pages = pending.taken as c_ulong;
        out.max_pages = max_pages() as c_ulong;
    }
}

/// A heap's page pools, with their worker, shrinker and debugfs file.
pub(crate) struct PagePools<C: PoolChunk = BuddyPages> {
    shared: Arc<Shared<C>>,
    _hooks: PoolHooks,
}

impl<C: PoolChunk> PagePools<C> {
    /// Empty pools for chunks of each of `orders` (at most four), named
    /// `name` in the worker's, shrinker's and debugfs file's names.
    pub(crate) fn new(name: &'static str, orders: &[u32]) -> Result<Self> {
        if orders.len() > ffi::POOL_ORDERS {
            return Err(EINVAL);
        }
        let mut pools = KVec::with_capacity(orders.len(), GFP_KERNEL)?;
        for &order in orders {
            pools.push(
                OrderPool {
                    order,
                    slots: KVVec::new(),
                    len: 0,
                    hits: 0,
                    misses: 0,
                },
                GFP_KERNEL,
            )?;
        }
        let shared = Arc::pin_init(
            pin_init!(Shared {
                lists <- new_spinlock!(Lists {
                    orders: pools,
                    pooled: 0,
                    recycled: 0,
                    referenced: 0,
                    over_max: 0,
                    shrunk: 0,
                    inline: 0,
                }, "rdh_pool_lists"),
                pending <- new_spinlock!(Pending {
                    head: None,
                    queued: 0,
                    in_flight: 0,
                    stopping: false,
                    taken: 0,
                }, "rdh_pool_pending"),
                work <- new_condvar!("rdh_pool_work"),
            }),
            GFP_KERNEL,
        )?;
        let hooks = PoolHooks::start(shared.clone(), name)?;
        Ok(Self {
            shared,
            _hooks: hooks,
        })
    }

    /// Bytes in the pools now, zeroed and ready.
    pub(crate) fn pooled_bytes(&self) -> usize {
        self.shared.lists.lock().pooled * PAGE_SIZE
    }

    /// A zeroed chunk of `order` from its pool, if the pool has one.
    pub(crate) fn take(&self, order: u32) -> Option<C> {
        let mut lists = self.shared.lists.lock();
        let idx = lists.orders.iter().position(|p| p.order == order)?;
        let taken = lists.pop(idx);
        if let Some(pool) = lists.orders.get_mut(idx) {
            match taken {
                Some(_) => pool.hits += 1,
                None => pool.misses += 1,
            }
        }
        drop(lists);
        match taken {
            Some(Taken { chunk, room }) => {
                // (Dropped outside the lock: a pool that grew its room
                // past `KEPT_ROOM` gives it up when it empties.)
                drop(room);
                Some(chunk)
            }
            None => self.shared.take_queued(order),
        }
    }

    /// Zeroed chunks from the pools for at most `len` bytes, largest first
    /// (`orders` in that order), and the bytes they hold. The vector has
    /// room for `len` bytes of single pages, so that the rest of a buffer's
    /// chunks fit in it without growing it (made without calling the OOM
    /// killer, as `chunks::alloc_chunks` does).
    pub(crate) fn take_up_to(&self, len: usize, orders: &[u32]) -> Result<(KVVec<C>, usize)> {
        let mut chunks = kvvec_may_fail(len / PAGE_SIZE)?;
        let mut taken = 0;
        for &order in orders {
            let bytes = PAGE_SIZE << order;
            while taken + bytes <= len {
                let Some(chunk) = self.take(order) else {
                    break;
                };
                // (Within the capacity reserved above.)
                chunks.push(chunk, GFP_KERNEL)?;
                taken += bytes;
            }
        }
        Ok((chunks, taken))
    }

    /// The backing of a buffer made of `chunks`: when the buffer is released
    /// its chunks come back to these pools if `pooled`, and are freed at
    /// once if not (chunks charged to a memory cgroup, which the pools must
    /// not keep: the kernel lets a module neither move nor drop a page's
    /// charge). Makes the queue entry they go back in now, so that releasing
    /// the buffer allocates nothing; without memory for it, `chunks` are
    /// freed.
    pub(crate) fn backing(&self, chunks: KVVec<C>, pooled: bool) -> Result<PooledPages<C>> {
        let batch = KBox::new(
            Batch {
                chunks,
                pages: 0,
                next: None,
            },
            GFP_KERNEL,
        )?;
        Ok(PooledPages {
            batch: Some(batch),
            pools: self.shared.clone(),
            pooled,
        })
    }
}

/// The pages of a pooled buffer: chunks of the buddy allocator that go back
/// to the pools when the buffer is released.
///
/// # Invariants
///
/// `batch` is `Some` until `drop`.
pub(crate) struct PooledPages<C: PoolChunk = BuddyPages> {
    batch: Option<KBox<Batch<C>>>,
    pools: Arc<Shared<C>>,
    /// Whether the chunks go back to the pools (else they are freed).
    pooled: bool,
}

// SAFETY: Every chunk owns its pages until it is dropped or handed to the
// pools, which happens only in `drop` (`BufferChunk`'s requirements); the
// batch and its vector are not changed before then, so the runs are the same
// on every call. The pages may be mapped write-combined if `WRITE_COMBINED`
// (`BufferChunk`'s requirements too).
unsafe impl<C: BufferChunk> Backing for PooledPages<C> {
    const WRITE_COMBINED: bool = C::WRITE_COMBINED;

    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        self.batch
            .iter()
            .flat_map(|b| b.chunks.iter())
            .map(PoolChunk::run)
    }
}

// SAFETY: A `BuddyPages` is a whole allocation of the buddy allocator
// (compound when it has more than one page), referenced until it is dropped;
// `__free_pages()` only drops that reference, and the pools never take a
// chunk someone else still references (`BuddyPages::is_exclusive`). Its
// pages are never write-combined.
unsafe impl InsertableBacking for PooledPages<BuddyPages> {}

impl<C: PoolChunk> Drop for PooledPages<C> {
    fn drop(&mut self) {
        if let Some(mut batch) = self.batch.take() {
            if self.pooled {
                self.pools.give_back(batch);
            } else {
                C::free_all(compat::take_kvvec(&mut batch.chunks));
            }
        }
    }
}

/// Keeps the chunks of `chunks` that fit in `room` pages, taken in order,
/// and frees the others; returns the kept chunks and their pages. Reuses
/// the vector's memory: it may only shrink it, without waiting.
fn keep_at_most<C: PoolChunk>(mut chunks: KVVec<C>, room: usize) -> (KVVec<C>, usize) {
    // The chunks to free gather at the front: `[..excess]` are to be freed,
    // `[excess..i]` kept.
    let slice = chunks.as_mut_slice();
    let (mut excess, mut kept) = (0, 0);
    for i in 0..slice.len() {
        let n = slice[i].run().pages();
        if kept + n <= room {
            kept += n;
        } else {
            slice.swap(i, excess);
            excess += 1;
        }
    }
    // SAFETY: The first `excess` chunks are dropped just below, unused (a
    // released buffer's, which nothing maps any longer).
    unsafe { C::before_free(&mut chunks.as_mut_slice()[..excess]) };
    let mut it = chunks.into_iter();
    for _ in 0..excess {
        drop(it.next());
    }
    (it.collect(pool_gfp()), kept)
}

/// What a pool keeps of a freed buffer, on real pages (7.3's KUnit, run
/// when the module loads on a kernel with `CONFIG_KUNIT`).
#[cfg(rdh_kernel_7)]
#[kernel::macros::kunit_tests(rust_dma_heap_pool)]
mod tests {
    use super::keep_at_most;
    use crate::memory::page::{BuddyPages, Memcg, Retry, Zone};
    use kernel::prelude::*;

    /// A chunk of each order, in this order.
    fn chunks(orders: &[u32]) -> Result<KVVec<BuddyPages>> {
        let mut out = KVVec::new();
        for &order in orders {
            out.push(
                BuddyPages::alloc_zeroed(order, Retry::MayFail, Memcg::Uncharged, Zone::Any)?,
                GFP_KERNEL,
            )?;
        }
        Ok(out)
    }

    fn orders(chunks: &KVVec<BuddyPages>) -> Result<KVec<u32>> {
        let mut out = KVec::new();
        for chunk in chunks.iter() {
            out.push(chunk.order(), GFP_KERNEL)?;
        }
        Ok(out)
    }

    #[test]
    fn the_chunks_that_fit_are_kept() -> Result {
        // 4 + 1 + 2 pages with room for 3: the first does not fit, the
        // next two do.
        let (kept, pages) = keep_at_most(chunks(&[2, 0, 1])?, 3);
        assert_eq!(pages, 3);
        assert_eq!(&orders(&kept)?[..], &[0, 1][..]);
        Ok(())
    }

    #[test]
    fn with_room_for_all_everything_is_kept() -> Result {
        let (kept, pages) = keep_at_most(chunks(&[0, 3, 1])?, 11);
        assert_eq!(pages, 11);
        assert_eq!(&orders(&kept)?[..], &[0, 3, 1][..]);
        Ok(())
    }

    #[test]
    fn without_room_nothing_is_kept() -> Result {
        let (kept, pages) = keep_at_most(chunks(&[0, 1])?, 0);
        assert_eq!(pages, 0);
        assert!(kept.is_empty());
        Ok(())
    }
}
