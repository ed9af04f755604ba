// SPDX-License-Identifier: GPL-2.0

//! Per-device attachments of a buffer, each with its own scatter-gather
//! table: the state most heaps keep for `attach`, `map` and CPU-access sync.

use crate::device::DeviceRef;
use crate::dma_buf::{Backing, BufferPages};
use crate::sg_table::{DataDirection, MappedTable, SgTable};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// One device's attachment: its device and its own copy of the table, so
/// that each device can map the buffer independently.
#[pin_data]
pub(crate) struct Attachment<B: Backing> {
    dev: DeviceRef,
    #[pin]
    table: Mutex<SgTable<B>>,
}

impl<B: Backing> Attachment<B> {
    /// Maps the table for the attached device.
    pub(crate) fn map(&self, dir: DataDirection) -> Result<MappedTable> {
        self.table.lock().map(&self.dev, dir)
    }

    /// Unmaps the table.
    pub(crate) fn unmap(&self) {
        self.table.lock().unmap()
    }
}

/// The attachments of one buffer.
///
/// A detached attachment leaves an empty slot, reused by the next attach
/// (6.12's `KVec` cannot remove elements).
///
/// Lock order: the list lock, then an attachment's table lock. Both nest
/// inside the dma-buf reservation lock.
#[pin_data]
pub(crate) struct Attachments<B: Backing> {
    #[pin]
    list: Mutex<KVec<Option<Arc<Attachment<B>>>>>,
}

impl<B: Backing> Attachments<B> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            list <- new_mutex!(KVec::new()),
        })
    }

    /// Attaches `dev`, with a fresh table over `pages`.
    pub(crate) fn attach(
        &self,
        pages: &BufferPages<B>,
        dev: DeviceRef,
    ) -> Result<Arc<Attachment<B>>> {
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

    /// Forgets `attachment`; its table is freed with its last reference.
    pub(crate) fn detach(&self, attachment: &Arc<Attachment<B>>) {
        let mut list = self.list.lock();
        if let Some(slot) = list
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|a| Arc::ptr_eq(a, attachment)))
        {
            *slot = None;
        }
    }

    /// Makes what devices wrote visible to the CPU, for every mapped table.
    pub(crate) fn sync_for_cpu(&self) {
        for a in self.list.lock().iter().flatten() {
            a.table.lock().sync_for_cpu();
        }
    }

    /// Makes what the CPU wrote visible to devices, for every mapped table.
    pub(crate) fn sync_for_device(&self) {
        for a in self.list.lock().iter().flatten() {
            a.table.lock().sync_for_device();
        }
    }
}
