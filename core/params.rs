// SPDX-License-Identifier: GPL-2.0

//! Module parameters.
//!
//! 6.12's `module!` macro cannot declare parameters, so they are declared
//! with `module_param()` in `glue.c` and read here.

use crate::ffi;

/// Whether the system heap is registered (`system=`, default on).
pub(crate) fn system_heap_enabled() -> bool {
    // SAFETY: `rdh_param_system` only reads a module parameter.
    unsafe { ffi::rdh_param_system() }
}
