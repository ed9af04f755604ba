// A heap must not reach the core's unmapping: the buffer's mappings, its
// attachments and their tables are private to the exporter layer.
// Expected: E0603 (private module).
use crate::exporter::mappings::Mappings;

pub(crate) fn evil(m: &Mappings<kernel::alloc::KVVec<crate::memory::page::BuddyPages>>) {
    m.vunmap();
}
