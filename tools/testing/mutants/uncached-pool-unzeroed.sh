# SPDX-License-Identifier: GPL-2.0
# The system-uncached heap's pools hand out chunks without zeroing them
# (WcChunk's zero() skips the clearing): a buffer made of pooled chunks
# shows the previous owner's bytes. heap-uncached's 200 rounds write a 1
# into every page of their 4 MiB buffers; after them a buffer taken whole
# from the pools is mapped and read,
#     check_ok(... zeroes == SIZE ...,
#              "a new buffer takes all its %lu pages from the pools ... and reads as zeroes ...")
DESCRIPTION="system-uncached pooled chunks handed out without zeroing"
FLAVOUR=x86_64
PROGRAMS='heap-uncached|sh ./with-importer.sh ./heap-uncached|300|31'
EXPECT='heap-uncached: a new buffer takes all its \d+ pages from the pools'
mutate() {
	edit memory/uncached.rs 's|^        BuddyPages::zero(\&mut self\.pages);$|        let _ = \&mut self.pages;|'
}
