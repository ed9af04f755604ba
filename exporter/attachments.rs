// SPDX-License-Identifier: GPL-2.0

//! Per-device attachments of a buffer, each with its own scatter-gather
//! table.
//!
//! A child of `dma_buf.rs`: the core attaches, maps, unmaps and detaches;
//! heaps never see an attachment.

use super::sg_table::{DataDirection, SgTable};
use crate::exporter::device::DeviceRef;
use crate::memory::buffer::{Backing, BufferPages};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// One device's attachment: its device and its own table, so that each
/// device can map the buffer independently.
#[pin_data]
pub(super) struct Attachment<B: Backing> {
    dev: DeviceRef,
    #[pin]
    table: Mutex<SgTable<B>>,
}

/// The attachments of one buffer.
///
/// A detached attachment leaves an empty slot, reused by the next attach
/// (6.12's `KVec` cannot remove elements).
///
/// Locking, as 6.12's dma-buf core calls us: `map` and `unmap` run under
/// the buffer's reservation lock and take the list lock, then the
/// attachment's table lock; `attach`, `detach` and the CPU-access syncs run
/// without the reservation lock and take the list lock, then table locks.
/// So the reservation lock, where held, is outside the list lock, and a
/// table lock always inside it. Neither of ours is held while calling into
/// the dma-buf core.
///
/// Mapping and unmapping under the list lock keeps the CPU-access syncs
/// from running while the DMA API records or drops a mapping entry by
/// entry. With one device mapping the buffer through two attachments,
/// `CONFIG_DMA_API_DEBUG` otherwise saw, for a sync in another direction
/// than the mapping's, one attachment's entry at some addresses and both at
/// others, and reported a sync of memory never mapped.
#[pin_data]
pub(super) struct Attachments<B: Backing> {
    #[pin]
    list: Mutex<KVec<Option<Arc<Attachment<B>>>>>,
}

impl<B: Backing> Attachments<B> {
    pub(super) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            list <- new_mutex!(KVec::new()),
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
        dev: DeviceRef,
    ) -> Result<Arc<Attachment<B>>> {
        if !B::LINEAR_MAPPED && pages.runs().any(|run| dev.would_bounce(run)) {
            static LOGGED: AtomicBool = AtomicBool::new(false);
            if !LOGGED.swap(true, Ordering::Relaxed) {
                pr_warn!(
                    "{}: its DMA mappings would bounce through swiotlb, which cannot reach pages outside the kernel's linear map: a buffer of such pages refuses the attach\n",
                    core::str::from_utf8(dev.name()).unwrap_or("a device")
                );
            }
            // (6.12's kernel crate names no EOPNOTSUPP.)
            return Err(Error::from_errno(-(bindings::EOPNOTSUPP as i32)));
        }
        let table = SgTable::new(pages, dev.max_segment_size())?;
        let attachment = Arc::pin_init(
            pin_init!(Attachment {
                dev,
                table <- new_mutex!(table),
            }),
            GFP_KERNEL,
        )?;
        let mut list = self.list.lock();
        match list.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(attachment.clone()),
            None => list.push(Some(attachment.clone()), GFP_KERNEL)?,
        }
        Ok(attachment)
    }

    /// Forgets `attachment`; its table is unmapped and freed with its last
    /// reference.
    pub(super) fn detach(&self, attachment: &Arc<Attachment<B>>) {
        let mut list = self.list.lock();
        if let Some(slot) = list
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|a| Arc::ptr_eq(a, attachment)))
        {
            *slot = None;
        }
    }

    /// Maps `attachment`'s table for its device; see [`SgTable::map`].
    pub(super) fn map(
        &self,
        attachment: &Attachment<B>,
        dir: DataDirection,
    ) -> Result<NonNull<bindings::sg_table>> {
        let _list = self.list.lock();
        attachment.table.lock().map(&attachment.dev, dir)
    }

    /// Unmaps `attachment`'s table.
    pub(super) fn unmap(&self, attachment: &Attachment<B>) {
        let _list = self.list.lock();
        attachment.table.lock().unmap()
    }

    /// Calls `f` with each attached device, in attach order, until it fails.
    pub(super) fn for_each_device<E>(
        &self,
        mut f: impl FnMut(&DeviceRef) -> Result<(), E>,
    ) -> Result<(), E> {
        for a in self.list.lock().iter().flatten() {
            f(&a.dev)?;
        }
        Ok(())
    }

    /// Makes what devices wrote visible to the CPU, for every mapped table.
    pub(super) fn sync_for_cpu(&self, dir: DataDirection) {
        for a in self.list.lock().iter().flatten() {
            a.table.lock().sync_for_cpu(dir);
        }
    }

    /// Makes what the CPU wrote visible to devices, for every mapped table.
    pub(super) fn sync_for_device(&self, dir: DataDirection) {
        for a in self.list.lock().iter().flatten() {
            a.table.lock().sync_for_device(dir);
        }
    }
}
