# SPDX-License-Identifier: GPL-2.0
# The heap_flags check of every request (Request::check, which
# DMA_HEAP_IOCTL_ALLOC calls) loses its `!`: the mask of
# allowed flags is tested instead of its complement, and as upstream
# allows none (VALID_HEAP_FLAGS is 0) every heap_flags value is accepted
# and a buffer is made where upstream fails with EINVAL. heap-ioctl's
# errno paths pass heap_flags 1 and 1 << 63 on each heap:
#     check_ok(alloc_with(heap, PAGE, O_RDWR, 1, 0, NULL) == -EINVAL,
#              "%s: heap_flags bit 0 is EINVAL", h);
#     check_ok(alloc_with(heap, PAGE, O_RDWR, 1ULL << 63, 0, NULL) == -EINVAL,
#              "%s: heap_flags bit 63 is EINVAL", h);
# Both calls now return 0 (alloc_with closes the fd, so nothing else
# turns red: no fd or buffer leaks). One heap suffices: the check comes
# before any heap is called (40 checks on one heap).
DESCRIPTION="invalid heap_flags accepted by DMA_HEAP_IOCTL_ALLOC"
FLAVOUR=x86_64
PROGRAMS='heap-ioctl-system|./heap-ioctl system|120|40'
EXPECT='heap-ioctl-system: system: heap_flags bit (0|63) is EINVAL'
mutate() {
	edit heap.rs \
		's#^        if heap_flags & !VALID_HEAP_FLAGS != 0 {$#        if heap_flags \& VALID_HEAP_FLAGS != 0 {#'
}
