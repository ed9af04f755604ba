// SPDX-License-Identifier: GPL-2.0

//! The heaps. Each is safe Rust on top of the abstractions in `core/`.
//!
//! Adding a heap: a file here and one line in [`register`].

use crate::params;
use crate::registry::Registry;

mod system;

/// Registers every enabled heap.
pub(crate) fn register(registry: &mut Registry) {
    if params::system_heap_enabled() {
        registry.add_or_warn(system::heap(), &[]);
    }
}
