// SPDX-License-Identifier: GPL-2.0

//! The set of registered heaps and their device nodes.

use crate::{
    compat::{
        cstr_bytes,
        fmt, //
    },
    frontend::{
        chardev::{
            DevtRegion,
            HeapClass,
            HeapNode, //
        },
        params, //
    },
    heap::{
        self,
        DynHeap,
        Heap, //
    },
    stats::{
        accounting::HeapStats, //
        live::{
            BuffersFile,
            LiveBuffers, //
        },
    }, //
};
use kernel::{
    c_str,
    prelude::*,
    str::{
        BStr,
        CString, //
    },
    sync::Arc, //
};

/// Device numbers reserved for heap nodes (upstream reserves 128).
const MAX_NODES: u32 = 64;

/// Every heap node, the device numbers they use and their class.
///
/// Fields drop in order, after [`Drop::drop`] has removed the nodes: the
/// numbers, then the class.
pub(crate) struct Registry {
    nodes: KVec<(CString, HeapNode)>,
    /// The heaps' live buffers, in debugfs.
    buffers: BuffersFile,
    region: DevtRegion,
    class: HeapClass,
}

impl Registry {
    /// Creates the `dma_heap` class, with no heap yet.
    pub(crate) fn new() -> Result<Self> {
        let class = HeapClass::new().inspect_err(|e| {
            pr_err!(
                "cannot create the dma_heap class ({:?}): is another heap core loaded?\n",
                e
            )
        })?;
        Ok(Self {
            nodes: KVec::new(),
            buffers: BuffersFile::new(LiveBuffers::new()?),
            region: DevtRegion::new(MAX_NODES, c_str!("dma_heap"))?,
            class,
        })
    }

    /// The number of device nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn has(&self, name: &[u8]) -> bool {
        self.nodes.iter().any(|(n, _)| cstr_bytes(n) == name)
    }

    /// Registers `heap` under its own name and then each of `aliases`
    /// (empty ones are ignored).
    ///
    /// Fails, registering nothing, if the heap's own name cannot be
    /// registered (`EEXIST` if it is taken). Aliases exist only to be found
    /// under a name some client expects, so one that is taken or cannot be
    /// registered is skipped with a warning that names it; the heap then
    /// exists under its own name and every other alias. Every name that is
    /// not registered is thus in the log, and nothing else is missing.
    pub(crate) fn add<'a>(
        &mut self,
        heap: Arc<dyn DynHeap>,
        aliases: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result {
        let name = heap.name();
        if self.has(cstr_bytes(name)) {
            pr_err!("heap name {} registered twice\n", name);
            return Err(EEXIST);
        }
        let stats = heap::stats(&heap, self.buffers.live(), params::cgroup_dmem())?;
        self.add_node(cstr_bytes(name), &heap, &stats)?;
        for alias in aliases {
            if alias.is_empty() || alias == cstr_bytes(name) {
                continue;
            }
            if self.has(alias) {
                pr_warn!(
                    "{}: alias {} already names a heap; skipped\n",
                    name,
                    BStr::from_bytes(alias)
                );
                continue;
            }
            if let Err(e) = self.add_node(alias, &heap, &stats) {
                pr_warn!(
                    "{}: alias {} not registered (error {}); the heap has its other names\n",
                    name,
                    BStr::from_bytes(alias),
                    e.to_errno()
                );
            }
        }
        Ok(())
    }

    fn add_node(&mut self, name: &[u8], heap: &Arc<dyn DynHeap>, stats: &Arc<HeapStats>) -> Result {
        if name.is_empty() || name.contains(&b'/') {
            return Err(EINVAL);
        }
        let index = u32::try_from(self.nodes.len()).map_err(|_| ENOSPC)?;
        let devt = self.region.devt(index).ok_or(ENOSPC)?;
        let name = core::str::from_utf8(name).map_err(|_| EINVAL)?;
        let name = CString::try_from_fmt(fmt!("{}", name))?;
        self.nodes.reserve(1, GFP_KERNEL)?;
        let node = HeapNode::new(&self.class, devt, &name, heap.clone(), stats.clone())?;
        self.nodes.push((name, node), GFP_KERNEL)?;
        Ok(())
    }

    /// Registers a heap, logging rather than failing: one heap that cannot be
    /// registered must not take the others down with it.
    pub(crate) fn add_or_warn<'a, H: Heap>(
        &mut self,
        heap: Result<H>,
        aliases: impl IntoIterator<Item = &'a [u8]>,
    ) {
        let heap = match heap.and_then(heap::into_dyn) {
            Ok(heap) => heap,
            Err(e) => return pr_err!("a heap failed to initialise ({:?})\n", e),
        };
        let name = heap.name();
        if let Err(e) = self.add(heap, aliases) {
            pr_err!("heap {}: not registered ({:?})\n", name, e);
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Remove every node before the fields go: the device numbers and
        // the class, which the nodes use until then. (The kernel frees a
        // node's device and cdev with its own release functions, whenever
        // their last users go: nothing of this module's runs after that.)
        drop(core::mem::take(&mut self.nodes));
    }
}
