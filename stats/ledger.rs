// SPDX-License-Identifier: GPL-2.0

//! Every page the module holds, counted by where it came from, for
//! `/sys/kernel/debug/rust_dma_heap/pages`.
//!
//! The counts move in the types that take pages from the kernel and give
//! them back, at the moment they do, and nowhere else: `BuddyPages`
//! (`page.rs`: the buddy allocator, for the system and system-uncached
//! heaps, their pools and the pools' queues), `CmaPages`
//! (`cma.rs`: a CMA area) and `CarveoutPages` (`carveout.rs`: a run lent by
//! the carveout). Whatever holds pages above them (a buffer, a pool, the
//! queue, a write-combined backing) holds those values, so each page is
//! counted once, wherever it is; a value that is leaked (forgotten, or kept
//! by something that is never dropped) keeps its pages counted for good.
//!
//! Once every buffer is released and the pools' worker is idle, the pages
//! the module may still hold are the ones pooled: `buddy` is then the sum of
//! the pools' `pooled_pages` (their own debugfs files), and every other
//! count is 0. The tests check that exactly; and the module says, when it
//! is unloaded, if any page was never given back.

use crate::{
    compat::ffi,
    stats::live::SeqWriter, //
};
use core::{
    fmt,
    ptr::NonNull, //
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    ffi::c_int,
    prelude::*, //
};

/// The pages held that came from one source.
pub(crate) struct Held {
    pages: AtomicUsize,
}

impl Held {
    const fn new() -> Self {
        Self {
            pages: AtomicUsize::new(0),
        }
    }

    /// Counts `pages` that were just taken from the kernel.
    pub(crate) fn took(&self, pages: usize) {
        self.pages.fetch_add(pages, Ordering::Relaxed);
    }

    /// Uncounts `pages` that were just given back to the kernel. (Giving
    /// back more than was taken, a bug, wraps the count around to a figure
    /// no test can miss.)
    pub(crate) fn gave_back(&self, pages: usize) {
        self.pages.fetch_sub(pages, Ordering::Relaxed);
    }

    /// The pages held now.
    pub(crate) fn pages(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
    }
}

/// Pages from the buddy allocator (`BuddyPages`).
pub(crate) static BUDDY: Held = Held::new();
/// Pages from CMA areas (`CmaPages`).
pub(crate) static CMA: Held = Held::new();
/// Pages of the carveout lent to buffers (`CarveoutPages`).
pub(crate) static CARVEOUT: Held = Held::new();

/// Every count, under its name in the file, in the file's order.
static ALL: [(&str, &Held); 3] = [("buddy", &BUDDY), ("cma", &CMA), ("carveout", &CARVEOUT)];

/// The file: one `name pages` line per count.
fn show(out: &mut SeqWriter) -> fmt::Result {
    use fmt::Write;
    for (name, held) in ALL.iter() {
        writeln!(out, "{} {}", name, held.pages())?;
    }
    Ok(())
}

/// `/sys/kernel/debug/rust_dma_heap/pages`, for as long as the module is
/// loaded; removed when dropped, which is once the heaps are gone: it then
/// says in the log if any page was never given back.
///
/// # Invariants
///
/// `file`, if not `None`, was made by `rdh_pages_debugfs_add`.
pub(crate) struct PagesFile {
    file: Option<NonNull<ffi::dentry>>,
}

// SAFETY: A debugfs file may be removed from any thread.
unsafe impl Send for PagesFile {}
// SAFETY: Shared access reads nothing.
unsafe impl Sync for PagesFile {}

impl PagesFile {
    /// Creates the file. Without debugfs there is no file, and the counts
    /// are kept all the same.
    pub(crate) fn new() -> Self {
        // SAFETY: No requirement; the file reads only the counts, which are
        // statics.
        let file = NonNull::new(unsafe { ffi::rdh_pages_debugfs_add() });
        // INVARIANT: Made just above.
        Self { file }
    }
}

impl Drop for PagesFile {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // SAFETY: Made by `rdh_pages_debugfs_add` and removed only here
            // (type invariant); this returns once no read runs.
            unsafe { ffi::rdh_pages_debugfs_remove(file.as_ptr()) };
        }
        if ALL.iter().any(|(_, held)| held.pages() != 0) {
            pr_err!(
                "pages never given back: buddy {}, cma {}, carveout {}\n",
                BUDDY.pages(),
                CMA.pages(),
                CARVEOUT.pages()
            );
        }
    }
}

/// Called by `glue/debugfs.c` to show the file.
///
/// # Safety
///
/// `m` must be the `seq_file` of a read in progress.
#[no_mangle]
unsafe extern "C" fn rdh_rust_pages_show(m: *mut ffi::seq_file) -> c_int {
    let Some(m) = NonNull::new(m) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `m` is a read's `seq_file`, as the caller guarantees, and the
    // writer lives only for this call.
    let mut out = unsafe { SeqWriter::from_raw(m) };
    // `SeqWriter` never fails; a full buffer is seq_file's to handle.
    let _ = show(&mut out);
    0
}
