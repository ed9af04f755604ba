// A CMA area lends its free pages to movable allocations, so the pages
// cma_alloc() returns hold what their last user left there. CmaArea::alloc
// gives them as UnzeroedCmaPages, which is no Backing: a heap cannot hand
// them to the core before UnzeroedCmaPages::zero has made them CmaPages.
// Expected: E0277 (UnzeroedCmaPages does not implement Backing).
use crate::exporter::dma_buf::{Exporter, MmapRequest};
use crate::memory::cma::UnzeroedCmaPages;
use kernel::prelude::*;

pub(crate) struct Evil;

impl Exporter for Evil {
    type Backing = UnzeroedCmaPages;

    fn mmap(&self, request: MmapRequest<'_, Self::Backing>) -> Result {
        request.map_shared()
    }
}
