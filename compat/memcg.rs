// SPDX-License-Identifier: GPL-2.0

//! Memory cgroups: the cgroup of the process behind a pidfd, and the
//! kernel's remote charging scope (`set_active_memcg()`), in which pages
//! allocated with `__GFP_ACCOUNT` are charged to a cgroup other than the
//! allocating task's.
//!
//! 6.12 and 7.3 export no function that charges pages to a memory cgroup
//! directly; the scope is how a module charges another cgroup (as
//! fanotify and BPF do). Without `CONFIG_MEMCG` there is no cgroup to
//! find, and [`MemCgroup::of_pidfd`] says so with `EOPNOTSUPP`.

#[cfg(CONFIG_MEMCG)]
use crate::compat::ffi;
#[cfg(CONFIG_MEMCG)]
use core::ptr::NonNull;
use kernel::prelude::*;

/// A counted reference to a memory cgroup.
///
/// # Invariants
///
/// `memcg` holds a reference taken by `rdh_memcg_of_pidfd` or
/// `rdh_memcg_of_current`, given back only in `drop`.
pub(crate) struct MemCgroup {
    #[cfg(CONFIG_MEMCG)]
    memcg: NonNull<ffi::mem_cgroup>,
}

impl MemCgroup {
    /// The memory cgroup of the process that pidfd `fd` of the calling task
    /// refers to: `EBADF` if `fd` is not an open pidfd, `ESRCH` if that
    /// process has exited.
    #[cfg(CONFIG_MEMCG)]
    pub(crate) fn of_pidfd(fd: u32) -> Result<Self> {
        let mut memcg = core::ptr::null_mut();
        // SAFETY: `memcg` is writable; any number is a valid argument.
        kernel::error::to_result(unsafe { ffi::rdh_memcg_of_pidfd(fd, &mut memcg) })?;
        // INVARIANT: The reference was taken just above.
        Ok(Self {
            memcg: NonNull::new(memcg).ok_or_else(super::eopnotsupp)?,
        })
    }

    /// Without memory cgroups there is none to charge.
    #[cfg(not(CONFIG_MEMCG))]
    pub(crate) fn of_pidfd(_fd: u32) -> Result<Self> {
        Err(super::eopnotsupp())
    }

    /// The calling task's memory cgroup (for a kernel thread, the root's, or
    /// that of a remote charging scope it is in), or `None` without memory
    /// cgroups.
    pub(crate) fn of_caller() -> Option<Self> {
        #[cfg(CONFIG_MEMCG)]
        {
            // SAFETY: Takes a reference to the calling task's cgroup.
            let memcg = NonNull::new(unsafe { ffi::rdh_memcg_of_current() })?;
            // INVARIANT: The reference was taken just above.
            Some(Self { memcg })
        }
        #[cfg(not(CONFIG_MEMCG))]
        None
    }

    /// Whether this is the root cgroup, in whose subtree every cgroup is.
    pub(crate) fn is_root(&self) -> bool {
        #[cfg(CONFIG_MEMCG)]
        // SAFETY: The reference keeps the cgroup alive (type invariant).
        return unsafe { ffi::rdh_memcg_is_root(self.memcg.as_ptr()) };
        #[cfg(not(CONFIG_MEMCG))]
        true
    }

    /// Whether this is `ancestor` or a cgroup below it.
    pub(crate) fn is_within(&self, ancestor: &MemCgroup) -> bool {
        #[cfg(CONFIG_MEMCG)]
        // SAFETY: The references keep both cgroups alive (type invariant).
        return unsafe {
            ffi::rdh_memcg_is_descendant(self.memcg.as_ptr(), ancestor.memcg.as_ptr())
        };
        #[cfg(not(CONFIG_MEMCG))]
        {
            let _ = ancestor;
            false
        }
    }

    /// Runs `f` with every `__GFP_ACCOUNT` allocation of the calling task
    /// charged to this cgroup, then restores the scope that was active
    /// before.
    ///
    /// A closure rather than a guard: a guard could be leaked, leaving the
    /// task charging a cgroup whose reference is gone.
    pub(crate) fn charging<T>(&self, f: impl FnOnce() -> T) -> T {
        #[cfg(CONFIG_MEMCG)]
        // SAFETY: Task context (the caller's ioctl); the reference outlives
        // the scope, which is closed below before `self` can be dropped.
        let outer = unsafe { ffi::rdh_memcg_set_active(self.memcg.as_ptr()) };
        let result = f();
        #[cfg(CONFIG_MEMCG)]
        // SAFETY: Closes the scope opened above: `outer` is what was active
        // then. Scopes `f` opened are closed, as this one, before it returns.
        unsafe {
            ffi::rdh_memcg_set_active(outer)
        };
        result
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        #[cfg(CONFIG_MEMCG)]
        // SAFETY: The reference is given back only here (type invariant).
        unsafe {
            ffi::rdh_memcg_put(self.memcg.as_ptr())
        };
    }
}

// SAFETY: A cgroup reference may be taken and given back by any task; the
// scope is opened and closed by the task that calls `charging`.
unsafe impl Send for MemCgroup {}
// SAFETY: Shared references only read the cgroup or open a scope for the
// calling task, which the kernel allows from any number of tasks at once.
unsafe impl Sync for MemCgroup {}

/// Whether the calling task may act on resource budgets other than its own
/// (`CAP_SYS_RESOURCE`); the check is audited as a use of the capability.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable` only reads the calling task's credentials.
    unsafe { kernel::bindings::capable(kernel::bindings::CAP_SYS_RESOURCE as kernel::ffi::c_int) }
}
