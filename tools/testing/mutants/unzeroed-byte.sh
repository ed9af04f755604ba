# SPDX-License-Identifier: GPL-2.0
# Every chunk from the buddy allocator leaves its first page's last byte
# dirty (0x5a) instead of zero: a new buffer shows one stale byte.
# heap-buffers' stale-data check reads every byte of new buffers, half of
# its rounds with the pools off (pool_max_kb=0): with them on, a new buffer
# is mostly made of the last round's chunks, pooled or taken from the
# worker's queue, which are zeroed elsewhere.
DESCRIPTION="one byte of each new system-heap chunk not zeroed"
PROGRAMS='heap-buffers-system|./heap-buffers --page-mapped system|300|34'
EXPECT='heap-buffers-system: system: no new buffer shows an old buffer.s data'
mutate() {
	edit memory/page.rs 's|^        let page = NonNull::new(page).ok_or(ENOMEM)?;$|&\n        // SAFETY: mutant: the first page was just allocated.\n        unsafe {\n            let v = bindings::kmap_local_page(page.as_ptr());\n            *v.cast::<u8>().add(PAGE_SIZE - 1) = 0x5a;\n            bindings::kunmap_local(v);\n        }|'
}
