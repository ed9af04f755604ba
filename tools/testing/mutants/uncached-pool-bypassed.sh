# SPDX-License-Identifier: GPL-2.0
# The system-uncached heap never pools its chunks (as before it had pools
# of its own): every released buffer's pages switch back to write-back at
# once and every new buffer switches new pages to write-combining, a TLB
# flush on every CPU per 128 pages, in the steady state too. heap-uncached
# waits for the pools' worker after its 200 rounds of 4 MiB buffers, then
#     check_ok(pooled >= SIZE / 4096 && ... not_wb >= not_wb0 + pooled * 4096,
#              "the freed buffers' chunks wait in the heap's pools still write-combined ...")
# which finds nothing pooled.
DESCRIPTION="system-uncached chunks never pooled: every buffer switches memory types"
FLAVOUR=x86_64
PROGRAMS='heap-uncached|sh ./with-importer.sh ./heap-uncached|300|31'
EXPECT="heap-uncached: the freed buffers' chunks wait in the heap's pools still write-combined"
mutate() {
	edit memory/uncached.rs \
		's|^    let pooled = memcg == Memcg::Uncharged;$|    let pooled = memcg == Memcg::Uncharged \&\& false;|'
}
