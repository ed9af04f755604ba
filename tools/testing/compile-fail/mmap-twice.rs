// A VMA is populated at most once: MmapRequest::map consumes the request.
// Expected: E0382 (use of moved value).
use crate::exporter::dma_buf::{Exporter, MmapRequest};
use crate::memory::page::BuddyPages;
use kernel::alloc::KVVec;
use kernel::prelude::*;

pub(crate) struct Evil;

impl Exporter for Evil {
    type Backing = KVVec<BuddyPages>;

    fn mmap(&self, request: MmapRequest<'_, Self::Backing>) -> Result {
        request.map()?;
        request.map()
    }
}
