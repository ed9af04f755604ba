# SPDX-License-Identifier: GPL-2.0
# The system-dma32 heap asks for pages of any zone (memory/page.rs, gfp()):
# its buffers then come from above 4 GiB first, where a device with a
# 32-bit DMA mask reaches them only through bounce buffers. heap-dma32,
# in a VM with RAM above 4 GiB, reads their pages' frames from pagemap:
#     check_ok(above == 0, "system-dma32: every page of 4 new buffers of %lu MiB lies below 4 GiB ...
DESCRIPTION="system-dma32 pages from any zone"
FLAVOUR=x86_64
PROGRAMS='heap-dma32|sh ./with-importer.sh ./heap-dma32|300|10'
VMARGS=(--mem 5120 --modargs system_dma32=1)
EXPECT='heap-dma32: system-dma32: every page of 4 new buffers of 64 MiB lies below 4 GiB'
mutate() {
	edit memory/page.rs 's|^        Zone::Dma32 => f\.user \| f\.dma32,$|        Zone::Dma32 => f.highuser,|'
}
