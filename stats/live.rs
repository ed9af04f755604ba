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
//! buffer's locks held, and by a read for each step from one buffer to the
//! next; a read describes a buffer without it, holding that buffer as a
//! reader, which its release waits for. So the lock is never held while a
//! description takes a buffer's locks, and nothing waits for a whole read.

use crate::compat::ffi;
use core::{
    cell::UnsafeCell,
    fmt,
    ptr::NonNull, //
};
use kernel::{
    ffi::{
        c_int,
        c_void, //
    },
    new_mutex,
    prelude::*, //
    sync::{
        new_condvar,
        Arc,
        CondVar,
        Mutex, //
    },
};

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
        // SAFETY: Both pointers are writable, `comm` for `COMM_LEN` bytes.
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
        // INVARIANT: Guaranteed by the caller.
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

/// What a buffer's [`LiveLink`] holds, read and written under the list's
/// lock only.
struct LinkState {
    prev: Option<NonNull<LiveLink>>,
    next: Option<NonNull<LiveLink>>,
    id: u64,
    buf: *const c_void,
    dmabuf: Option<NonNull<ffi::dma_buf>>,
    describe: Option<Describe>,
    /// Reads describing the buffer now, without the list's lock.
    readers: usize,
    /// On the list (between `add` and `remove`).
    linked: bool,
    /// The buffer is being released: no read starts describing it, and its
    /// release waits for `readers` to reach 0 before it unlinks it.
    dead: bool,
}

/// A buffer's place on the list of live buffers, part of the buffer's own
/// object, so that listing a buffer allocates nothing and never fails, and
/// adding or removing one takes constant time.
///
/// # Invariants
///
/// `state` is only accessed under the lock of the [`LiveBuffers`] the link
/// is on (or, before [`LiveBuffers::add`], by its owner alone). While the
/// link is on a list its address does not change (the buffer's object is
/// pinned) and it is freed only after [`LiveBuffers::remove`].
pub(crate) struct LiveLink {
    state: UnsafeCell<LinkState>,
}

// SAFETY: The state is only touched under the list's lock (type invariant),
// from any thread; the pointers in it are to live buffers.
unsafe impl Send for LiveLink {}
// SAFETY: As above: shared access goes through the list's lock.
unsafe impl Sync for LiveLink {}

impl LiveLink {
    /// A link on no list.
    pub(crate) fn new() -> Self {
        Self {
            state: UnsafeCell::new(LinkState {
                prev: None,
                next: None,
                id: 0,
                buf: core::ptr::null(),
                dmabuf: None,
                describe: None,
                readers: 0,
                linked: false,
                dead: false,
            }),
        }
    }
}

/// The list: buffers in allocation order.
struct Listed {
    head: Option<NonNull<LiveLink>>,
    tail: Option<NonNull<LiveLink>>,
    next_id: u64,
}

// SAFETY: The links are only used under the list's lock, from any thread,
// while their buffers are live (see `LiveBuffers::add`).
unsafe impl Send for Listed {}

impl Listed {
    /// The state of a link, on this list or about to be added to it.
    ///
    /// # Safety
    ///
    /// `link` is live and either on this list, which the caller has locked
    /// (`&mut self`), or on none and the caller's alone; no other reference
    /// to its state exists.
    unsafe fn state<'a>(&'a mut self, link: NonNull<LiveLink>) -> &'a mut LinkState {
        // SAFETY: The link is live while on the list, and its state is
        // ours while the lock is held (`LiveLink`'s invariant).
        unsafe { &mut *(*link.as_ptr()).state.get() }
    }
}

/// The list of live buffers.
///
/// A read describes one buffer at a time without the list's lock, holding
/// that buffer as a reader: adding and removing buffers wait at most for
/// one step of a read, never for the whole read, and a buffer's release
/// waits only while its own description is being written.
#[pin_data]
pub(crate) struct LiveBuffers {
    #[pin]
    list: Mutex<Listed>,
    /// Signalled when a read lets go of a buffer being released.
    #[pin]
    released: CondVar,
}

impl LiveBuffers {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                list <- new_mutex!(Listed {
                    head: None,
                    tail: None,
                    next_id: 1,
                }, "rdh_live_buffers"),
                released <- new_condvar!("rdh_live_released"),
            }),
            GFP_KERNEL,
        )
    }

    /// Lists a new buffer, at the end.
    ///
    /// # Safety
    ///
    /// `link` must be the link in the buffer's object, on no list, and
    /// `buf` and `dmabuf` that buffer's `priv` and dma-buf, which
    /// `describe` takes; [`LiveBuffers::remove`] must be called with `link`
    /// before the buffer is freed.
    pub(crate) unsafe fn add(
        &self,
        link: NonNull<LiveLink>,
        buf: *const c_void,
        dmabuf: NonNull<ffi::dma_buf>,
        describe: Describe,
    ) {
        let mut list = self.list.lock();
        let id = list.next_id;
        list.next_id += 1;
        let tail = list.tail;
        // SAFETY: `link` is ours, on no list yet (the caller guarantees),
        // and the lock is held; `tail`, if any, is on the list.
        unsafe {
            let state = list.state(link);
            *state = LinkState {
                prev: tail,
                next: None,
                id,
                buf,
                dmabuf: Some(dmabuf),
                describe: Some(describe),
                readers: 0,
                linked: true,
                dead: false,
            };
            match tail {
                Some(t) => list.state(t).next = Some(link),
                None => list.head = Some(link),
            }
        }
        list.tail = Some(link);
    }

    /// Takes a buffer off the list; no read describes it once this
    /// returns. Waits while a read is describing it. A link that was never
    /// added is left alone.
    ///
    /// # Safety
    ///
    /// `link` must be a buffer's link, on this list or on none, and not
    /// removed since it was added.
    pub(crate) unsafe fn remove(&self, link: NonNull<LiveLink>) {
        let mut list = self.list.lock();
        // SAFETY: The link is live (the caller guarantees) and the lock is
        // held; a link on no list is its owner's, which is us.
        if !unsafe { list.state(link) }.linked {
            return;
        }
        // SAFETY: On the list (the caller guarantees), lock held.
        unsafe { list.state(link) }.dead = true;
        // SAFETY: As above; a read's `readers` is only dropped under the
        // lock, which `wait` gives up while it sleeps.
        while unsafe { list.state(link) }.readers != 0 {
            self.released.wait(&mut list);
        }
        // SAFETY: As above; its neighbours are on the list too.
        unsafe {
            let (prev, next) = {
                let state = list.state(link);
                state.linked = false;
                (state.prev.take(), state.next.take())
            };
            match prev {
                Some(p) => list.state(p).next = next,
                None => list.head = next,
            }
            match next {
                Some(n) => list.state(n).prev = prev,
                None => list.tail = prev,
            }
        }
    }

    fn show(&self, out: &mut SeqWriter) -> fmt::Result {
        use fmt::Write;
        writeln!(out, "id size heap pid comm mmaps vmaps devices")?;
        let mut list = self.list.lock();
        // Buffers added after the read began are not waited for: under
        // constant allocation the read still ends.
        let end = list.next_id;
        let mut cur = list.head;
        while let Some(link) = cur {
            // SAFETY: `link` is on the list, which is locked.
            let state = unsafe { list.state(link) };
            if state.id >= end {
                break;
            }
            if state.dead {
                cur = state.next;
                continue;
            }
            state.readers += 1;
            let (id, buf, dmabuf, describe) = (state.id, state.buf, state.dmabuf, state.describe);
            drop(list);
            let written = match (dmabuf, describe) {
                (Some(dmabuf), Some(describe)) => write!(out, "{} ", id).and_then(|()| {
                    // SAFETY: A listed buffer (its `priv` and dma-buf) is
                    // live until it is removed, and its removal waits for
                    // this read to let go of it (`readers`).
                    unsafe { describe(buf, dmabuf, out) }
                }),
                _ => Ok(()),
            };
            list = self.list.lock();
            // SAFETY: Still on the list: its removal waits for `readers`
            // to drop, which only happens here, under the lock.
            let state = unsafe { list.state(link) };
            state.readers -= 1;
            if state.dead && state.readers == 0 {
                self.released.notify_all();
            }
            cur = state.next;
            written?;
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

// SAFETY: A debugfs file may be removed from any thread; `live` is an
// `Arc` of a list behind a lock.
unsafe impl Send for BuffersFile {}
// SAFETY: Shared access only reads `live`.
unsafe impl Sync for BuffersFile {}

impl BuffersFile {
    /// Creates the file for `live`. Without debugfs there is no file, and
    /// the heaps work as before.
    pub(crate) fn new(live: Arc<LiveBuffers>) -> Self {
        let ptr: *const c_void = core::ptr::from_ref::<LiveBuffers>(&live).cast();
        // SAFETY: `ptr` stays valid while the file exists: `live` keeps the
        // list alive until `drop` has removed the file.
        let file = NonNull::new(unsafe { ffi::rdh_buffers_debugfs_add(ptr) });
        // INVARIANT: Made just above, for `live`.
        Self { live, file }
    }

    pub(crate) fn live(&self) -> &Arc<LiveBuffers> {
        &self.live
    }
}

impl Drop for BuffersFile {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // SAFETY: Made by `rdh_buffers_debugfs_add` and removed only here
            // (type invariant); this returns once no read runs.
            unsafe { ffi::rdh_buffers_debugfs_remove(file.as_ptr()) };
        }
    }
}

/// Called by `glue/debugfs.c` to show the file.
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
    // SAFETY: The list outlives its file (`BuffersFile`), as the caller
    // guarantees the file exists.
    let live = unsafe { &*live.cast::<LiveBuffers>() };
    // SAFETY: `m` is a read's `seq_file`, as the caller guarantees, and the
    // writer lives only for this call.
    let mut out = unsafe { SeqWriter::from_raw(m) };
    // `SeqWriter` never fails; a full buffer is seq_file's to handle.
    let _ = live.show(&mut out);
    0
}
