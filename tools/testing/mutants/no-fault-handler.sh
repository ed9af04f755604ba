# SPDX-License-Identifier: GPL-2.0
# The core's mappings of ordinary pages (exporter/vma.rs, map_pages) get the
# operations of VM_PFNMAP ones, without a fault handler, as all mappings
# had before 2026-12-06: MADV_DONTNEED zaps the pages and the next access
# gets SIGBUS instead of the buffer's page again. heap-buffers on the
# system heap reads the range back in a child:
#     check_ok(... "%s: MADV_DONTNEED on a shared mapping is %s; every page then reads ...
DESCRIPTION="mappings of ordinary pages without a fault handler (SIGBUS after MADV_DONTNEED)"
FLAVOUR=x86_64
PROGRAMS='heap-buffers-system|./heap-buffers --page-mapped system|300|34'
EXPECT='heap-buffers-system: system: MADV_DONTNEED on a shared mapping is allowed; every page then reads its data back'
mutate() {
	edit exporter/vma.rs 's|^        vma.set_ops(true);$|        vma.set_ops(false);|'
}
