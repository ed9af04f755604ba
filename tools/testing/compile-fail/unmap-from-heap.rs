// A heap must not reach the core's unmapping: the attachment and its table
// are private to the exporter layer. Expected: E0603 (private module).
use crate::exporter::attachments::Attachment;

pub(crate) fn evil(a: &Attachment<kernel::alloc::KVVec<crate::memory::page::BuddyPages>>) {
    a.unmap();
}
