// SPDX-License-Identifier: GPL-2.0
//! The carveout heap: physically contiguous buffers from a region of memory
//! reserved at boot that nothing else ever uses.
//!
//! Unlike a CMA area, which lends its memory to movable pages until a
//! buffer needs it (and then has to migrate them, which a pinned page
//! defeats), a carveout is never lent: a buffer that fits in its free space
//! is always there, however full or pinned the rest of memory is. That is
//! what a camera pipeline needs to keep N capture buffers available.
//!
//! `carveout=NAME` takes the device tree's `/reserved-memory/NAME` (a node
//! without `reusable`, `no-map` or `compatible`, that no driver of the
//! kernel set up and no device names in `memory-region`);
//! `carveout=NAME carveout_base=B carveout_size=S` (x86 only) takes the
//! range B..B+S, which `memmap=S$B` must have taken out of RAM at boot. The
//! heap is named NAME. Buffers are
//! aligned like the CMA heaps' (to their size rounded up to a power of two,
//! at most 256 pages), zeroed, and mapped like CMA buffers (shared only).

use super::prelude::*;

/// The largest alignment, in pages, as `CONFIG_CMA_ALIGNMENT`'s default.
const MAX_ALIGN: usize = 256;

/// Registers the carveout heap if the parameters name one.
pub(crate) fn register(registry: &mut Registry) {
    let name = params::carveout();
    if name.is_empty() {
        return;
    }
    let region = match Carveout::new(name, params::carveout_range()) {
        Ok(region) => region,
        Err(why) => return why.report(name),
    };
    pr_info!(
        "carveout {}: {} KiB at {:#x}\n",
        name,
        region.size() / 1024,
        region.base()
    );
    registry.add_or_warn(Ok(CarveoutHeap { region }), []);
}

struct CarveoutHeap {
    region: Arc<Carveout>,
}

impl Heap for CarveoutHeap {
    fn name(&self) -> &'static CStr {
        self.region.name()
    }

    fn allocate(&self, len: usize, _memcg: Memcg) -> Result<CarveoutPages> {
        let count = len / PAGE_SIZE;
        self.region
            .alloc(count, count.next_power_of_two().min(MAX_ALIGN))
    }

    fn region_bytes(&self) -> Option<usize> {
        Some(self.region.size())
    }
}

/// The [`Exporter`] defaults, mapped shared only, as CMA buffers are.
impl Exporter for CarveoutHeap {
    type Backing = CarveoutPages;

    fn mmap(&self, request: MmapRequest<'_, CarveoutPages>) -> Result {
        request.map_shared()
    }
}
