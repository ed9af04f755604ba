// Write-combined pages are never mapped as ordinary pages, whose PTEs a pin
// (GUP-fast) can get past: WriteCombined is no InsertableBacking, so
// MmapRequest::map_pages does not exist for it.
// Expected: E0599 (no method named `map_pages` for this request).
use crate::exporter::dma_buf::{Exporter, MmapRequest};
use crate::memory::uncached::WriteCombined;
use kernel::prelude::*;

pub(crate) struct Evil;

impl Exporter for Evil {
    type Backing = WriteCombined;

    fn mmap(&self, request: MmapRequest<'_, Self::Backing>) -> Result {
        request.map_pages()
    }
}
