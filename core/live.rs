// SPDX-License-Identifier: GPL-2.0

//! Every live buffer, for `/sys/kernel/debug/rust_dma_heap/buffers`.
//!
//! A buffer is listed from its export until its release, with who
//! allocated it; reading the file describes each listed buffer as it is at
//! that moment (size, heap, owner, user mappings, kernel mappings, attached
//! devices: see `Documentation/ABI/testing/debugfs-rust_dma_heap`).
//!
//! # Locking
//!
//! The list's lock is taken by export and release, with none of the
//! buffer's locks held, and by a read, which describes each buffer under
//! it: so it comes before every lock a description takes (a buffer's
//! attachment list and kernel mapping locks, its file's mapping lock) and
//! keeps every listed buffer alive until the read is done with it.

use crate::ffi;
use core::fmt;
use core::ptr::NonNull;
use kernel::ffi::{c_int, c_void};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// The process that allocated a buffer: its ID and its task's name.
pub(crate) struct Owner {
    tgid: c_int,
    comm: [u8; ffi::COMM_LEN],
}

impl Owner {
    /// The calling process.
    pub(crate) fn current() -> Self {
        let mut owner = Self {
            tgid: 0,
            comm: [0; ffi::COMM_LEN],
        };
        // SAFETY: both pointers are writable, `comm` for `COMM_LEN` bytes.
        unsafe { ffi::rdh_current_owner(&mut owner.tgid, owner.comm.as_mut_ptr()) };
        owner
    }
}

impl Owner {
    /// Writes `PID NAME`, with every byte of the name that is not a
    /// printable character other than space as `?` (a task may call itself
    /// anything), so that a line splits into its fields at spaces.
    pub(crate) fn write(&self, out: &mut SeqWriter) -> fmt::Result {
        use fmt::Write;
        write!(out, "{} ", self.tgid)?;
        let len = self
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.comm.len());
        let mut name = self.comm;
        for b in &mut name[..len] {
            if !b.is_ascii_graphic() {
                *b = b'?';
            }
        }
        out.bytes(if len == 0 { b"?" } else { &name[..len] });
        Ok(())
    }
}

/// Appends text to the file being read.
///
/// # Invariants
///
/// `m` is the `seq_file` of a read in progress, for as long as this lives.
pub(crate) struct SeqWriter {
    m: NonNull<ffi::seq_file>,
}

impl SeqWriter {
    /// A writer for the read `m` is the `seq_file` of.
    ///
    /// # Safety
    ///
    /// `m` must be the `seq_file` of a read in progress, for as long as the
    /// writer lives.
    pub(crate) unsafe fn from_raw(m: NonNull<ffi::seq_file>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { m }
    }

    /// Appends `b` as it is.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        // SAFETY: `m` is a read's `seq_file` (type invariant); `b` is valid
        // for `b.len()` bytes. `seq_write()` notes an overflow itself, and
        // the read then starts again with a larger buffer.
        unsafe { ffi::rdh_seq_write(self.m.as_ptr(), b.as_ptr(), b.len()) };
    }
}

impl fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes one line about a listed buffer: its `priv` and its dma-buf.
///
/// # Safety
///
/// Both must be those of a live buffer, exported with this function.
pub(crate) type Describe =
    unsafe fn(*const c_void, NonNull<ffi::dma_buf>, &mut SeqWriter) -> fmt::Result;

struct Entry {
    id: u64,
    buf: *const c_void,
    dmabuf: NonNull<ffi::dma_buf>,
    describe: Describe,
}

/// The list: a buffer taken off it leaves an empty slot, reused by the
/// next one (6.12's `KVec` cannot remove elements).
struct Listed {
    entries: KVec<Option<Entry>>,
    /// The entries that are `Some`.
    listed: usize,
    next_id: u64,
    /// Live buffers that could not be listed (no memory for their entry).
    unlisted: u64,
}

// SAFETY: the pointers in `Listed` are only used under the list's lock,
// from any thread, while their buffers are live (see `LiveBuffers::add`).
unsafe impl Send for Listed {}

/// The list of live buffers.
#[pin_data]
pub(crate) struct LiveBuffers {
    #[pin]
    list: Mutex<Listed>,
}

impl LiveBuffers {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                list <- new_mutex!(Listed {
                    entries: KVec::new(),
                    listed: 0,
                    next_id: 1,
                    unlisted: 0,
                }, "rdh_live_buffers"),
            }),
            GFP_KERNEL,
        )
    }

    /// Lists a new buffer. If there is no memory for its entry, it is left
    /// out and counted instead: a buffer never fails for its listing.
    ///
    /// # Safety
    ///
    /// `buf` and `dmabuf` must be a live buffer's `priv` and dma-buf, which
    /// `describe` takes, and [`LiveBuffers::remove`] must be called with
    /// `buf` before the buffer is freed.
    pub(crate) unsafe fn add(
        &self,
        buf: *const c_void,
        dmabuf: NonNull<ffi::dma_buf>,
        describe: Describe,
    ) {
        let mut list = self.list.lock();
        let id = list.next_id;
        list.next_id += 1;
        let entry = Entry {
            id,
            buf,
            dmabuf,
            describe,
        };
        if let Some(slot) = list.entries.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(entry);
            list.listed += 1;
        } else if list.entries.push(Some(entry), GFP_KERNEL).is_ok() {
            list.listed += 1;
        } else {
            list.unlisted += 1;
        }
    }

    /// Takes a buffer off the list; no read describes it once this
    /// returns. A buffer that is not on it was left out by [`Self::add`],
    /// and is no longer counted as such.
    pub(crate) fn remove(&self, buf: *const c_void) {
        let mut list = self.list.lock();
        match list
            .entries
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|e| e.buf == buf))
        {
            Some(slot) => {
                *slot = None;
                list.listed -= 1;
                // The slots grow with the most buffers alive at once; give
                // their memory back once none is.
                if list.listed == 0 {
                    list.entries = KVec::new();
                }
            }
            None => list.unlisted = list.unlisted.saturating_sub(1),
        }
    }

    fn show(&self, out: &mut SeqWriter) -> fmt::Result {
        use fmt::Write;
        let list = self.list.lock();
        writeln!(out, "id size heap pid comm mmaps vmaps devices")?;
        for e in list.entries.iter().flatten() {
            write!(out, "{} ", e.id)?;
            // SAFETY: a listed buffer (its `priv` and dma-buf) is live until
            // it is removed, which waits for the lock we hold (`add`'s safety
            // requirements).
            unsafe { (e.describe)(e.buf, e.dmabuf, out) }?;
        }
        if list.unlisted != 0 {
            writeln!(
                out,
                "# {} live buffers not listed (no memory)",
                list.unlisted
            )?;
        }
        Ok(())
    }
}

/// The debugfs file, removed when dropped.
///
/// # Invariants
///
/// `file`, if not `None`, was made by `rdh_buffers_debugfs_add` for the
/// list `live` holds.
pub(crate) struct BuffersFile {
    live: Arc<LiveBuffers>,
    file: Option<NonNull<ffi::dentry>>,
}

// SAFETY: a debugfs file may be removed from any thread; `live` is an
// `Arc` of a list behind a lock.
unsafe impl Send for BuffersFile {}
// SAFETY: shared access only reads `live`.
unsafe impl Sync for BuffersFile {}

impl BuffersFile {
    /// Creates the file for `live`. Without debugfs there is no file, and
    /// the heaps work as before.
    pub(crate) fn new(live: Arc<LiveBuffers>) -> Self {
        let ptr: *const c_void = core::ptr::from_ref::<LiveBuffers>(&live).cast();
        // SAFETY: `ptr` stays valid while the file exists: `live` keeps the
        // list alive until `drop` has removed the file.
        let file = NonNull::new(unsafe { ffi::rdh_buffers_debugfs_add(ptr) });
        // INVARIANT: made just above, for `live`.
        Self { live, file }
    }

    pub(crate) fn live(&self) -> &Arc<LiveBuffers> {
        &self.live
    }
}

impl Drop for BuffersFile {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // SAFETY: made by `rdh_buffers_debugfs_add` and removed only here
            // (type invariant); this returns once no read runs.
            unsafe { ffi::rdh_buffers_debugfs_remove(file.as_ptr()) };
        }
    }
}

/// Called by `glue.c` to show the file.
///
/// # Safety
///
/// `live` must be the list a [`BuffersFile`] made its file for, while the
/// file exists, and `m` the `seq_file` of a read in progress.
#[no_mangle]
unsafe extern "C" fn rdh_rust_buffers_show(live: *const c_void, m: *mut ffi::seq_file) -> c_int {
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the list outlives its file (`BuffersFile`), as the caller
    // guarantees the file exists.
    let live = unsafe { &*live.cast::<LiveBuffers>() };
    // SAFETY: `m` is a read's `seq_file`, as the caller guarantees, and the
    // writer lives only for this call.
    let mut out = unsafe { SeqWriter::from_raw(m) };
    // `SeqWriter` never fails; a full buffer is seq_file's to handle.
    let _ = live.show(&mut out);
    0
}
