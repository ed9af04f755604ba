# SPDX-License-Identifier: GPL-2.0
# begin/end_cpu_access skip the DMA syncs of the device mappings: a device
# behind a bounce buffer (swiotlb=force) then sees stale data, and the CPU
# does not see what the device wrote. heap-dma --bounce must notice.
DESCRIPTION="CPU-access sync skipped for attached devices"
PROGRAMS='heap-dma-bounce|sh ./with-importer.sh ./heap-dma --bounce 204800 system linux,cma|300|49'
VMARGS=(--cmdline 'cma=64M memmap=48M$0x20000000 tsc=unstable swiotlb=force oops=panic')
EXPECT='heap-dma-bounce: .*(after SYNC_END the device sees what the CPU wrote|after SYNC_START the CPU sees what the device wrote)'
mutate() {
	edit exporter/mappings.rs 's|a\.table\.access(guarded)\.sync_for_cpu(dir);|let _ = (\&a, dir, guarded);|'
	edit exporter/mappings.rs 's|a\.table\.access(guarded)\.sync_for_device(dir);|let _ = (\&a, dir, guarded);|'
}
