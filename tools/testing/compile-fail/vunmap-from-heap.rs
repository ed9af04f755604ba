// A heap must not reach the core's kernel-mapping count. Expected: E0603.
use crate::exporter::vmap::SharedVmap;

pub(crate) fn evil(v: &SharedVmap<kernel::alloc::KVVec<crate::memory::page::BuddyPages>>) {
    v.put();
}
