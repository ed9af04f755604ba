# SPDX-License-Identifier: GPL-2.0
# The uncached heap's cache-maintenance device (glue/dma.c,
# rdh_maint_device_create) keeps swiotlb: under swiotlb=force (and in Arm
# CCA realms) the write-back after zeroing new pages goes to a bounce slot,
# not to the pages, so a write-combined mapping could read what the
# previous owner left in memory. heap-uncached --swiotlb, on arm64 booted
# with swiotlb=force, resets swiotlb's high-water mark and allocates:
#     check_ok(after == 0, "system-uncached: their cache maintenance used no swiotlb slot ...
DESCRIPTION="the uncached heap's cache maintenance bounced through swiotlb (arm64)"
FLAVOUR=arm64
PROGRAMS='heap-uncached-swiotlb|./heap-uncached --swiotlb|300|5'
VMARGS=(--cmdline 'swiotlb=force')
EXPECT='heap-uncached-swiotlb: system-uncached: their cache maintenance used no swiotlb slot'
mutate() {
	edit glue/dma.c 's|^\tdev->dma_io_tlb_mem = NULL;$||'
}
