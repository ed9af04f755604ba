# SPDX-License-Identifier: GPL-2.0
# The core's mappings of write-combined pages (core/vma.rs, map_pages: the
# uncached heap on x86) are not VM_IO: get_user_pages() pins their pages,
# and a kernel mapping made from the pin (vmap(), vm_map_ram(): V4L2
# USERPTR) would be a cached alias of write-combined memory. heap-uncached
# pins a page of the mapping with vmsplice():
#     tap_ok(n < 0 && err == EFAULT, "%s: a pin of its pages (vmsplice) is EFAULT (%s)", ...
DESCRIPTION="write-combined pages pinnable through their user mapping (x86)"
FLAVOUR=x86_64
PROGRAMS='heap-uncached|sh ./with-importer.sh ./heap-uncached|300|28'
EXPECT='heap-uncached: system-uncached: a pin of its pages \(vmsplice\) is EFAULT'
mutate() {
	edit core/vma.rs 's|^            flags \|= bindings::VM_IO;$|            flags \|= 0;|'
}
