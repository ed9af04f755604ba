# SPDX-License-Identifier: GPL-2.0
# The carveout's range allocator (memory/carveout.rs) finds a free run but
# marks it free instead of lent (lent.set(start, count, false)): every
# allocation gets the first suitably aligned run again, so buffers share
# pages and the region never runs out. heap-carveout (module arguments
# carveout=carveout carveout_base=0x20000000 carveout_size=0x3000000, the
# range check's cmdline takes out of RAM with memmap=) fills the region
# with four 8 MiB buffers, all at the same pages now, then reads each
# buffer and scribbles 0x5a5a5a5a over it:
#     zero &= all_zero(bufs[i], size / 4, true);
#     check_ok(zero, "%s: each buffer is zeroed", name);
# buffer 1 shows buffer 0's scribble; and the region is not full:
#     check_ok(extra == -ENOMEM, "%s: one page more is ENOMEM (%s)", ...);
DESCRIPTION="a carveout run handed out twice (range never marked lent)"
FLAVOUR=x86_64
PROGRAMS="heap-carveout|sh ./with-importer.sh ./heap-carveout carveout 0x3000000 'carveout=carveout carveout_base=0x20000000 carveout_size=0x3000000'|600|19"
EXPECT='heap-carveout: carveout: (each buffer is zeroed|one page more is ENOMEM)'
mutate() {
	edit memory/carveout.rs \
		's|^            lent\.set(start, count, true);$|            lent.set(start, count, false);|'
}
