// SPDX-License-Identifier: GPL-2.0
/*
 * A real contiguous importer: the V4L2 vivid driver, loaded with
 * allocators=1 (videobuf2 dma-contig), captures into buffers from a CMA
 * heap queued as V4L2_MEMORY_DMABUF, and the frames hold its test pattern;
 * system-heap buffers that are not contiguous are refused cleanly. Then,
 * on a second vivid instance on videobuf2 vmalloc, USERPTR: a system-heap
 * mapping is pinned and captured into, a system-uncached one is refused.
 *   v4l2-capture CMA_HEAP
 * Run after: modprobe vivid n_devs=2 node_types=0x1,0x1 allocators=1,0
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <poll.h>
#include <sys/mman.h>
#include <linux/videodev2.h>

#include "heaptest.h"

#define NBUF 4
#define WIDTH 640
#define HEIGHT 480

/* Whether a capture node takes buffers of @memory (REQBUFS with count 0
 * only checks the memory type). */
static bool takes(int video, unsigned int memory)
{
	struct v4l2_requestbuffers req = {
		.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = memory,
	};

	return !ioctl(video, VIDIOC_REQBUFS, &req);
}

/* vivid's capture node on videobuf2 dma-contig (no USERPTR there), or, with
 * @userptr, on vmalloc (which takes USERPTR). */
static int find_vivid(bool userptr)
{
	for (int i = 0; i < 16; i++) {
		struct v4l2_capability cap = { 0 };
		char path[32];
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) && !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    takes(fd, V4L2_MEMORY_USERPTR) == userptr)
			return fd;
		close(fd);
	}
	return -1;
}

static int queue_userptr(int video, void *p, size_t len)
{
	struct v4l2_buffer b = {
		.index = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_USERPTR, .m.userptr = (unsigned long)p, .length = len,
	};

	return ioctl(video, VIDIOC_QBUF, &b) ? -errno : 0;
}

static int distinct_luma(const uint8_t *frame, unsigned int bytesperline);

/*
 * USERPTR, on vivid's vmalloc instance, which pins the pages behind the
 * pointer and maps them with vm_map_ram(): a system-heap mapping is taken
 * (its pages are ordinary, as O_DIRECT needs) and captured into; a
 * system-uncached mapping is refused with EFAULT, because its pages are
 * write-combined and a pin would let the importer make a cached alias of
 * them (the mapping is VM_PFNMAP, which GUP refuses, as upstream's is).
 */
static void userptr(void)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = {
		.count = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_USERPTR,
	};
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_USERPTR };
	struct pollfd pfd = { .events = POLLIN };
	int video = find_vivid(true), type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int heap, sys, unc, ret = -1;
	uint8_t *sysmap = MAP_FAILED, *uncmap = MAP_FAILED;
	size_t size = 0;

	if (video >= 0) {
		fcntl(video, F_SETFL, O_NONBLOCK);
		fmt.fmt.pix.width = WIDTH;
		fmt.fmt.pix.height = HEIGHT;
		fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		fmt.fmt.pix.field = V4L2_FIELD_NONE;
		if (!ioctl(video, VIDIOC_S_FMT, &fmt) && !ioctl(video, VIDIOC_REQBUFS, &req))
			size = (fmt.fmt.pix.sizeimage + 4095) & ~4095UL;
	}
	if (!check_ok(size > 0, "vivid's vmalloc instance takes a %zu-byte USERPTR buffer", size)) {
		check_ok(0, "a system-uncached mapping is refused as a USERPTR buffer (no node)");
		check_ok(0, "a system-heap mapping is taken as a USERPTR buffer (no node)");
		return;
	}
	heap = open_heap("system-uncached", O_RDONLY);
	unc = heap_alloc(heap, size);
	close(heap);
	if (unc >= 0)
		uncmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, unc, 0);
	if (uncmap != MAP_FAILED)
		ret = queue_userptr(video, uncmap, size);
	check_ok(ret == -EFAULT,
		 "a system-uncached mapping is refused as a USERPTR buffer (%d, want -EFAULT): no pin of write-combined pages",
		 ret);

	heap = open_heap("system", O_RDONLY);
	sys = heap_alloc(heap, size);
	close(heap);
	if (sys >= 0)
		sysmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, sys, 0);
	ret = -1;
	pfd.fd = video;
	if (sysmap != MAP_FAILED && !queue_userptr(video, sysmap, size) &&
	    !ioctl(video, VIDIOC_STREAMON, &type) && poll(&pfd, 1, 20000) == 1 &&
	    !ioctl(video, VIDIOC_DQBUF, &b))
		ret = distinct_luma(sysmap, fmt.fmt.pix.bytesperline);
	check_ok(ret >= 6, "a system-heap mapping is taken as a USERPTR buffer and holds the colour bars (%d luma values)",
		 ret);
	ioctl(video, VIDIOC_STREAMOFF, &type);
	req.count = 0;
	ioctl(video, VIDIOC_REQBUFS, &req);
	if (sysmap != MAP_FAILED)
		munmap(sysmap, size);
	if (uncmap != MAP_FAILED)
		munmap(uncmap, size);
	close(sys);
	close(unc);
	close(video);
}

static int queue(int video, int index, int dmabuf, size_t len)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .m.fd = dmabuf, .length = len,
	};

	return ioctl(video, VIDIOC_QBUF, &b) ? -errno : 0;
}

/* vivid's default pattern is 75% colour bars: a row of a frame holds
 * several distinct bars of luma. Counts distinct Y values in the middle row. */
static int distinct_luma(const uint8_t *frame, unsigned int bytesperline)
{
	const uint8_t *row = frame + (HEIGHT / 2) * bytesperline;
	bool seen[256] = { false };
	int n = 0;

	for (int x = 0; x < WIDTH; x++)
		if (!seen[row[2 * x]]) {
			seen[row[2 * x]] = true;
			n++;
		}
	return n;
}

int main(int argc, char **argv)
{
	const char *cma = argc > 1 ? argv[1] : "linux,cma";
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = {
		.count = NBUF, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
	};
	int video, heap, sys, fds[NBUF], type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	int frames = 0, patterned = 0, refused = 0, accepted = 0, holes[24];
	uint8_t *maps[NBUF];
	size_t size;
	bool queued = true;

	ksft_print_header();
	video = find_vivid(false);
	if (video >= 0) {
		/* Non-blocking, so that poll() bounds every wait. */
		fcntl(video, F_SETFL, O_NONBLOCK);
	}
	if (!check_ok(video >= 0, "vivid's capture node is there"))
		return finish_checks();
	fmt.fmt.pix.width = WIDTH;
	fmt.fmt.pix.height = HEIGHT;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	check_ok(!ioctl(video, VIDIOC_S_FMT, &fmt) && fmt.fmt.pix.width == WIDTH &&
		 fmt.fmt.pix.pixelformat == V4L2_PIX_FMT_YUYV,
		 "vivid captures %ux%u YUYV", fmt.fmt.pix.width, fmt.fmt.pix.height);
	size = fmt.fmt.pix.sizeimage;
	check_ok(!ioctl(video, VIDIOC_REQBUFS, &req) && req.count >= 1,
		 "vivid takes %u DMABUF buffers", req.count);

	heap = open_heap(cma, O_RDONLY);
	for (unsigned int i = 0; i < req.count; i++) {
		fds[i] = heap_alloc(heap, size);
		maps[i] = mmap(NULL, size, PROT_READ, MAP_SHARED, fds[i], 0);
		queued &= fds[i] >= 0 && maps[i] != MAP_FAILED && !queue(video, i, fds[i], size);
	}
	check_ok(queued, "%u %s buffers of %zu bytes are queued", req.count, cma, size);
	check_ok(!ioctl(video, VIDIOC_STREAMON, &type), "streaming starts");
	for (int f = 0; f < 8; f++) {
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF };

		struct pollfd pfd = { .fd = video, .events = POLLIN };

		/* A frame takes well under a second even under emulation; a
		 * stream that produces nothing fails instead of hanging. */
		if (poll(&pfd, 1, 20000) != 1 || ioctl(video, VIDIOC_DQBUF, &b))
			break;
		frames++;
		if (b.bytesused >= size / 2 && distinct_luma(maps[b.index], fmt.fmt.pix.bytesperline) >= 6)
			patterned++;
		queue(video, b.index, fds[b.index], size);
	}
	check_ok(frames == 8, "8 frames are captured (%d)", frames);
	check_ok(patterned == frames && frames > 0,
		 "every frame holds vivid's colour bars (%d of %d)", patterned, frames);
	ioctl(video, VIDIOC_STREAMOFF, &type);
	for (unsigned int i = 0; i < req.count; i++) {
		munmap(maps[i], size);
		close(fds[i]);
	}

	/* 4 MiB system-heap buffers are made of 1 MiB chunks: those that are
	 * not physically contiguous must be refused (vb2-dma-contig needs one
	 * contiguous chunk) with an error, not a crash. */
	sys = open_heap("system", O_RDONLY);
	/* Leave 1 MiB holes between held 1 MiB blocks, so that the 4 MiB
	 * buffers below are made of scattered chunks rather than, by chance,
	 * of adjacent ones. */
	for (int i = 0; i < 24; i++)
		holes[i] = heap_alloc(sys, 1 << 20);
	for (int i = 0; i < 24; i += 2)
		close(holes[i]);
	for (int i = 0; i < 8; i++) {
		int fd = heap_alloc(sys, 4 << 20), ret;

		ret = queue(video, 0, fd, 4 << 20);
		if (ret == -EFAULT)
			refused++;
		else if (!ret)
			accepted++;
		if (!ret) {
			/* Contiguous by chance: take it back. */
			req.count = 0;
			ioctl(video, VIDIOC_REQBUFS, &req);
			req.count = NBUF;
			ioctl(video, VIDIOC_REQBUFS, &req);
		}
		close(fd);
	}
	check_ok(refused > 0 && refused + accepted == 8,
		 "non-contiguous system-heap buffers are refused with EFAULT (%d refused, %d contiguous by chance)",
		 refused, accepted);
	for (int i = 1; i < 24; i += 2)
		close(holes[i]);
	req.count = 0;
	check_ok(!ioctl(video, VIDIOC_REQBUFS, &req), "buffers are released");
	close(video);
	userptr();
	return finish_checks();
}
