# SPDX-License-Identifier: GPL-2.0
# DmaBuf::into_file (exporter/dma_buf.rs) drops the buffer's reference
# (dma_buf_put(), i.e. fput() of its file) instead of handing it to
# fd_install(): every allocation puts its file once too often. The file's
# count reaches zero inside the ioctl, the file and the buffer are torn
# down on the way back to userspace, and the caller gets a descriptor of a
# freed struct file. Its first close() meets a file count of 0, which
# 6.12's filp_flush() (fs/open.c) reports as data corruption:
#     if (CHECK_DATA_CORRUPTION(file_count(filp) == 0,
#                     "VFS: Close: file count is 0 (f_op=%ps)", filp->f_op))
# (a WARN, CONFIG_BUG_ON_DATA_CORRUPTION being off), and the console scan
# and the W taint make the run not clean. heap-ioctl's first allocation
# is closed right away, before anything opens a file that could reuse the
# freed struct file (SLAB_TYPESAFE_BY_RCU keeps its f_count at 0 until
# then):
#     fd = heap_alloc(heap, PAGE);
#     check_ok(fd >= 0, "%s: allocates on a read-only heap fd", h);
#     close(fd);
# so the report is deterministic and needs no KASAN; heap-ioctl touches
# its buffers only through fd calls (lseek, fcntl, close), never through a
# mapping of the freed pages. (Its TAP may go red later too, e.g. "no fd
# left behind by the command cases", once a freed struct file still in
# the fd table is reused by an opendir().)
DESCRIPTION="a buffer's file reference put once too often (dma_buf_put before fd_install)"
FLAVOUR=x86_64
PROGRAMS='heap-ioctl-system|./heap-ioctl system|120|40'
EXPECT='VM run not clean \(status \d+\): .*(VFS: Close: file count is 0|at fs/open\.c:\d+ filp_flush)'
mutate() {
	edit exporter/dma_buf.rs \
		'/^    pub(crate) fn into_file(self)/,/^    }$/s|^        core::mem::forget(self);$|        drop(self);|'
}
