# SPDX-License-Identifier: GPL-2.0
# The carveout's first-fit search aligns a run's offset in the region
# rather than its first pfn: correct only for a region whose first pfn is
# itself aligned. Every test region starts at a 32 MiB boundary (0x20000000
# on x86, 0x68000000 on arm64), so no buffer shows it; the KUnit suite
# rust_dma_heap_carveout, which builds a region at pfn 3 mod 4, does:
#     assert_eq!(map.find(128, 4, 4, 3), Some(1));
# in the_first_pfn_of_a_run_is_aligned (and a_run_past_the_region_is_not_found
# finds a run at page 0 of a region at pfn 1 mod 64) in memory/carveout.rs, which
# kunit-results.sh reports as a failed check on the mainline kernel (KUnit
# runs the suites when the module loads; the module pins itself there).
DESCRIPTION="carveout: a run's offset aligned instead of its first pfn"
FLAVOUR=mainline
PROGRAMS="kunit|sh ./kunit-results.sh rust_dma_heap_request rust_dma_heap_ioctl rust_dma_heap_hosted rust_dma_heap_carveout rust_dma_heap_pool rust_dma_heap_cma|120|37"
VMARGS=(--no-unload)
EXPECT='kunit: rust_dma_heap_carveout: (the_first_pfn_of_a_run_is_aligned|a_run_past_the_region_is_not_found|the suite passed as a whole)'
mutate() {
	edit memory/carveout.rs \
		's#^        let aligned = |from: usize| (phase % align + from).next_multiple_of(align) - phase % align;$#        let aligned = |from: usize| from.next_multiple_of(align) + 0 * phase;#'
}
