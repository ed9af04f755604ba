// SPDX-License-Identifier: GPL-2.0

//! What the core maps of one buffer, under the buffer's one lock: each
//! importer's attachment with its scatter-gather table, and the kernel
//! mapping.
//!
//! A child of `dma_buf.rs`: the core attaches, maps, unmaps, detaches,
//! vmaps and syncs; heaps never see an attachment or a kernel address.
//!
//! One lock per buffer, as upstream's heaps have: a CPU-access sync takes it
//! once for the kernel mapping and every table, and takes none at all while
//! nothing is mapped.

use super::{
    sg_table::{
        DataDirection,
        SgTable, //
    },
    vmap::SharedVmap, //
};
use crate::{
    compat::ARef,
    exporter::device::Device, //
    memory::buffer::{
        Backing,
        BufferPages, //
    },
};
use core::{
    ffi::c_void,
    ptr::NonNull, //
    sync::atomic::{
        AtomicBool,
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    new_mutex,
    prelude::*, //
    sync::{
        Arc,
        LockedBy,
        Mutex, //
    },
};

/// One device's attachment: its own table, which holds the device, so
/// that each device can map the buffer independently. The table is guarded
/// by the buffer's lock.
pub(super) struct Attachment<B: Backing> {
    table: LockedBy<SgTable<B>, Guarded<B>>,
}

/// What the buffer's lock guards: nothing until the buffer is first
/// attached or mapped into the kernel. Kept out of the buffer's own object,
/// which then fits a 256-byte slab object rather than a 512-byte one
/// (`kmem-per-buffer` in `Documentation/performance.rst`).
type Guarded<B> = Option<KBox<State<B>>>;

/// The attachments and the kernel mapping of a buffer that has had either.
struct State<B: Backing> {
    /// Attached devices; a detached one leaves an empty slot, reused by the
    /// next attach (6.12's `KVec` cannot remove elements).
    attached: KVec<Option<Arc<Attachment<B>>>>,
    vmap: SharedVmap<B>,
}

impl<B: Backing> State<B> {
    /// The state in `guarded`, made on first use.
    fn get_or_make(guarded: &mut Guarded<B>) -> Result<&mut State<B>> {
        let state = match guarded.take() {
            Some(state) => state,
            None => KBox::new(
                State {
                    attached: KVec::new(),
                    vmap: SharedVmap::new(),
                },
                GFP_KERNEL,
            )?,
        };
        Ok(guarded.insert(state))
    }
}

/// A buffer's attachments and kernel mapping.
///
/// Locking, as 6.12's dma-buf core calls us: `map`, `unmap`, `vmap` and
/// `vunmap` run under the buffer's reservation lock and take the buffer's
/// lock inside it; `attach`, `detach` and the CPU-access syncs take the
/// buffer's lock without the reservation lock. The buffer's lock is never
/// held while calling into the dma-buf core.
///
/// Mapping and unmapping under the lock keeps the CPU-access syncs from
/// running while the DMA API records or drops a mapping entry by entry.
/// With one device mapping the buffer through two attachments,
/// `CONFIG_DMA_API_DEBUG` otherwise saw, for a sync in another direction
/// than the mapping's, one attachment's entry at some addresses and both at
/// others, and reported a sync of memory never mapped.
///
/// # Invariants
///
/// `mapped` is the number of mapped tables of attached devices, plus one
/// while the kernel mapping exists; it changes only under `state`'s lock.
#[pin_data]
pub(super) struct Mappings<B: Backing> {
    #[pin]
    state: Mutex<Guarded<B>>,
    mapped: AtomicUsize,
}

impl<B: Backing> Mappings<B> {
    pub(super) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(None),
            mapped: AtomicUsize::new(0),
        })
    }

    /// Attaches `dev`, with a fresh table over `pages`.
    ///
    /// Pages outside the kernel's linear map cannot be bounced (see
    /// [`Backing::LINEAR_MAPPED`]): a device whose mapping of them would
    /// bounce is refused with `EOPNOTSUPP` (logged once per boot).
    pub(super) fn attach(
        &self,
        pages: &BufferPages<B>,
        dev: ARef<Device>,
    ) -> Result<Arc<Attachment<B>>> {
        if !B::LINEAR_MAPPED && pages.runs().any(|run| dev.would_bounce(run)) {
            static LOGGED: AtomicBool = AtomicBool::new(false);
            if !LOGGED.swap(true, Ordering::Relaxed) {
                pr_warn!(
                    "{}: its DMA mappings would bounce through swiotlb, which cannot reach pages outside the kernel's linear map: a buffer of such pages refuses the attach\n",
                    core::str::from_utf8(dev.name()).unwrap_or("a device")
                );
            }
            return Err(crate::compat::eopnotsupp());
        }
        let table = SgTable::new(pages, dev)?;
        let attachment = Arc::new(
            Attachment {
                table: LockedBy::new(&self.state, table),
            },
            GFP_KERNEL,
        )?;
        let mut guard = self.state.lock();
        let state = State::get_or_make(&mut guard)?;
        match state.attached.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(attachment.clone()),
            None => state.attached.push(Some(attachment.clone()), GFP_KERNEL)?,
        }
        Ok(attachment)
    }

    /// Forgets `attachment`, unmapping its table if the dma-buf core has
    /// not; the table is freed with the attachment's last reference.
    pub(super) fn detach(&self, attachment: &Arc<Attachment<B>>) {
        let mut guard = self.state.lock();
        // (An attachment exists, so the state does.)
        if let Some(slot) = guard.as_deref_mut().and_then(|state| {
            state
                .attached
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(|a| Arc::ptr_eq(a, attachment)))
        }) {
            *slot = None;
        }
        if attachment.table.access_mut(&mut guard).unmap() {
            self.mapped.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Maps `attachment`'s table for its device; see [`SgTable::map`].
    pub(super) fn map(
        &self,
        attachment: &Attachment<B>,
        dir: DataDirection,
    ) -> Result<NonNull<bindings::sg_table>> {
        let mut guard = self.state.lock();
        let table = attachment.table.access_mut(&mut guard).map(dir)?;
        // INVARIANT: One more table is mapped; we hold the lock.
        self.mapped.fetch_add(1, Ordering::Relaxed);
        Ok(table)
    }

    /// Unmaps `attachment`'s table.
    pub(super) fn unmap(&self, attachment: &Attachment<B>) {
        let mut guard = self.state.lock();
        if attachment.table.access_mut(&mut guard).unmap() {
            // INVARIANT: One table fewer is mapped; we hold the lock.
            self.mapped.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Maps the buffer into the kernel on first use; later calls share the
    /// mapping. The address stays valid until the matching
    /// [`Mappings::vunmap`].
    pub(super) fn vmap(&self, pages: &BufferPages<B>) -> Result<NonNull<c_void>> {
        let mut guard = self.state.lock();
        let (addr, first) = State::get_or_make(&mut guard)?.vmap.get(pages)?;
        if first {
            // INVARIANT: The kernel mapping now exists; we hold the lock.
            self.mapped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(addr)
    }

    /// Drops one user of the kernel mapping; the last one unmaps it.
    pub(super) fn vunmap(&self) {
        let mut guard = self.state.lock();
        if guard.as_deref_mut().is_some_and(|state| state.vmap.put()) {
            // INVARIANT: The kernel mapping is gone; we hold the lock.
            self.mapped.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Calls `f` with each attached device, in attach order, until it fails.
    pub(super) fn for_each_device<E>(
        &self,
        mut f: impl FnMut(&Device) -> Result<(), E>,
    ) -> Result<(), E> {
        let guard = self.state.lock();
        let Some(state) = guard.as_deref() else {
            return Ok(());
        };
        for a in state.attached.iter().flatten() {
            f(a.table.access(&guard).dev())?;
        }
        Ok(())
    }

    /// Runs `f` under the lock, unless nothing is mapped.
    ///
    /// A sync that finds `mapped` at 0 races with any mapping being made
    /// right then, as it would if it took the lock first; any mapping made
    /// before the sync was called is counted by then.
    fn with_mapped(&self, f: impl FnOnce(&State<B>, &Guarded<B>)) {
        if self.mapped.load(Ordering::Relaxed) == 0 {
            return;
        }
        let guard = self.state.lock();
        if let Some(state) = guard.as_deref() {
            f(state, &guard);
        }
    }

    /// Makes what devices wrote visible to the CPU, which is about to access
    /// the buffer in direction `dir`: through the kernel mapping and every
    /// mapped table.
    pub(super) fn sync_for_cpu(&self, dir: DataDirection) {
        self.with_mapped(|state, guarded| {
            state.vmap.sync_for_cpu();
            for a in state.attached.iter().flatten() {
                a.table.access(guarded).sync_for_cpu(dir);
            }
        });
    }

    /// Makes what the CPU did in direction `dir` visible to devices, through
    /// the kernel mapping and every mapped table.
    pub(super) fn sync_for_device(&self, dir: DataDirection) {
        self.with_mapped(|state, guarded| {
            state.vmap.sync_for_device();
            for a in state.attached.iter().flatten() {
                a.table.access(guarded).sync_for_device(dir);
            }
        });
    }
}
