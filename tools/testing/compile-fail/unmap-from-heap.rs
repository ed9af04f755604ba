// A heap must not reach the core's unmapping: the attachment and its table
// are private to core/dma_buf.rs. Expected: E0603 (private module).
use crate::dma_buf::attachments::Attachment;

pub(crate) fn evil(a: &Attachment<kernel::alloc::KVVec<crate::page::BuddyPages>>) {
    a.unmap();
}
