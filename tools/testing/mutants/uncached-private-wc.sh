# SPDX-License-Identifier: GPL-2.0
# The core's mmap (exporter/vma.rs, MmapRequest::map) forgets that a private
# mapping of a write-combined backing must be refused: a one-page private
# mapping of a system-uncached buffer is made, and its copy-on-write fault
# would map an ordinary cached page write-combined (a memory-type alias on
# x86). No heap refuses it on its own any more (the rule is the core's), so
# heap-buffers on system-uncached must see it:
#     check_ok(one == EINVAL, "%s: a one-page private mapping is refused too (%s)", ...
DESCRIPTION="a private mapping of write-combined pages allowed (the core's rule dropped)"
FLAVOUR=x86_64
PROGRAMS='heap-buffers-uncached|./heap-buffers system-uncached|300|32'
EXPECT='heap-buffers-uncached: system-uncached: a one-page private mapping is refused too'
mutate() {
	edit exporter/vma.rs \
		's|^        if !vma.is_shared() \&\& (B::WRITE_COMBINED \|\| end - addr > PAGE_SIZE) {$|        if !vma.is_shared() \&\& end - addr > PAGE_SIZE {|'
}
