// SPDX-License-Identifier: GPL-2.0

//! The published `dma-heap` and `dma-buf` crates, used as their documentation
//! shows, on every heap named on the command line: TAP, one line per check.
//!
//! For each heap: a 1 MiB buffer is allocated, mapped, filled through a
//! write access and read back through a read access (each a pair of
//! `DMA_BUF_IOCTL_SYNC` calls); a second buffer reads all zeros; a 0-byte
//! request fails with `EINVAL`, as upstream's heaps answer it.
//!
//!   dmabuf-crates HEAP...

use dma_buf::{DmaBuf, MappedDmaBuf};
use dma_heap::{Heap, HeapKind};
use std::error::Error;
use std::path::PathBuf;

const LEN: usize = 1 << 20;

struct Tap {
    n: u32,
    failed: u32,
}

impl Tap {
    fn ok(&mut self, cond: bool, what: &str) {
        self.n += 1;
        if !cond {
            self.failed += 1;
        }
        println!("{}ok {} {}", if cond { "" } else { "not " }, self.n, what);
    }
}

fn map(heap: &Heap) -> Result<MappedDmaBuf, Box<dyn Error>> {
    let fd = heap.allocate(LEN)?;
    Ok(DmaBuf::from(fd).memory_map()?)
}

fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

fn one_heap(tap: &mut Tap, name: &str) {
    let heap = match Heap::new(HeapKind::Custom(PathBuf::from("/dev/dma_heap").join(name))) {
        Ok(heap) => heap,
        Err(e) => {
            tap.ok(false, &format!("{name}: Heap::new ({e})"));
            return;
        }
    };
    tap.ok(true, &format!("{name}: Heap::new opens the heap"));

    let filled = map(&heap).and_then(|mut buf| {
        buf.write(
            |bytes, _: Option<()>| {
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = pattern(i);
                }
                Ok(())
            },
            None,
        )?;
        let same = buf.read(
            |bytes, _: Option<()>| Ok(bytes.iter().enumerate().all(|(i, &b)| b == pattern(i))),
            None,
        )?;
        Ok(same)
    });
    tap.ok(
        matches!(filled, Ok(true)),
        &format!("{name}: a 1 MiB buffer is allocated, mapped, written and read back through its syncs ({filled:?})"),
    );

    let zeroed = map(&heap).and_then(|buf| {
        Ok(buf.read(
            |bytes, _: Option<()>| Ok(bytes.iter().all(|&b| b == 0)),
            None,
        )?)
    });
    tap.ok(
        matches!(zeroed, Ok(true)),
        &format!("{name}: the next buffer reads all zeros ({zeroed:?})"),
    );

    let empty = heap.allocate(0).map(drop).map_err(|e| e.raw_os_error());
    tap.ok(
        empty == Err(Some(22)),
        &format!("{name}: a 0-byte buffer is EINVAL ({empty:?})"),
    );
}

fn main() {
    let heaps: Vec<String> = std::env::args().skip(1).collect();
    let mut tap = Tap { n: 0, failed: 0 };
    println!("TAP version 13");
    tap.ok(!heaps.is_empty(), "heaps are named on the command line");
    for name in &heaps {
        one_heap(&mut tap, name);
    }
    println!("1..{}", tap.n);
    println!("# {} passed, {} failed", tap.n - tap.failed, tap.failed);
    std::process::exit(if tap.failed == 0 { 0 } else { 1 });
}
