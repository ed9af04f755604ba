// SPDX-License-Identifier: GPL-2.0
/*
 * A real contiguous importer: the V4L2 vivid driver, loaded with
 * allocators=1 (videobuf2 dma-contig), captures into buffers from a CMA
 * heap queued as V4L2_MEMORY_DMABUF, and the frames hold its test pattern;
 * system-heap buffers that are not contiguous are refused cleanly.
 *   v4l2-capture CMA_HEAP
 * Run after: modprobe vivid n_devs=1 node_types=0x1 allocators=1
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

static int find_vivid(void)
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
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			return fd;
		close(fd);
	}
	return -1;
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

	tap_header();
	video = find_vivid();
	if (video >= 0) {
		/* Non-blocking, so that poll() bounds every wait. */
		fcntl(video, F_SETFL, O_NONBLOCK);
	}
	if (!tap_ok(video >= 0, "vivid's capture node is there"))
		return tap_finish();
	fmt.fmt.pix.width = WIDTH;
	fmt.fmt.pix.height = HEIGHT;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	tap_ok(!ioctl(video, VIDIOC_S_FMT, &fmt) && fmt.fmt.pix.width == WIDTH &&
	       fmt.fmt.pix.pixelformat == V4L2_PIX_FMT_YUYV,
	       "vivid captures %ux%u YUYV", fmt.fmt.pix.width, fmt.fmt.pix.height);
	size = fmt.fmt.pix.sizeimage;
	tap_ok(!ioctl(video, VIDIOC_REQBUFS, &req) && req.count >= 1,
	       "vivid takes %u DMABUF buffers", req.count);

	heap = open_heap(cma, O_RDONLY);
	for (unsigned int i = 0; i < req.count; i++) {
		fds[i] = heap_alloc(heap, size);
		maps[i] = mmap(NULL, size, PROT_READ, MAP_SHARED, fds[i], 0);
		queued &= fds[i] >= 0 && maps[i] != MAP_FAILED && !queue(video, i, fds[i], size);
	}
	tap_ok(queued, "%u %s buffers of %zu bytes are queued", req.count, cma, size);
	tap_ok(!ioctl(video, VIDIOC_STREAMON, &type), "streaming starts");
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
	tap_ok(frames == 8, "8 frames are captured (%d)", frames);
	tap_ok(patterned == frames && frames > 0,
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
	tap_ok(refused > 0 && refused + accepted == 8,
	       "non-contiguous system-heap buffers are refused with EFAULT (%d refused, %d contiguous by chance)",
	       refused, accepted);
	for (int i = 1; i < 24; i += 2)
		close(holes[i]);
	req.count = 0;
	tap_ok(!ioctl(video, VIDIOC_REQBUFS, &req), "buffers are released");
	close(video);
	return tap_finish();
}
