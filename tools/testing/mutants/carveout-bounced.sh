# SPDX-License-Identifier: GPL-2.0
# The carveout's backing (memory/carveout.rs) claims its pages are in the
# kernel's linear map, so the core attaches its buffers to a device that
# bounces every mapping through swiotlb (swiotlb=force, as in SEV and TDX
# guests). swiotlb copies through the pages' linear-map address, which a
# range taken out of RAM with memmap= lacks: the first map faults in
# swiotlb_bounce, an Oops, and the VM run is not clean. heap-carveout
# --bounce, in a VM booted with swiotlb=force, expects the attach refused
# ("under swiotlb=force a device's attach is refused with EOPNOTSUPP").
DESCRIPTION="a carveout buffer attached to a device that bounces every mapping (swiotlb=force)"
FLAVOUR=x86_64
PROGRAMS="heap-carveout-bounce|sh ./with-importer.sh ./heap-carveout --bounce carveout 0x3000000 'carveout=carveout carveout_base=0x20000000 carveout_size=0x3000000'|300|10"
VMARGS=(--cmdline 'cma=64M memmap=48M$0x20000000 tsc=unstable swiotlb=force oops=panic')
# (The VM arguments of no-cpu-sync, so that one control boot serves both.)
EXPECT='VM run not clean \(status \d+\): .*(unable to handle page fault|swiotlb_bounce)'
mutate() {
	edit memory/carveout.rs \
		's|^    const LINEAR_MAPPED: bool = !cfg!(target_arch = "x86_64");$|    const LINEAR_MAPPED: bool = true;|'
}
