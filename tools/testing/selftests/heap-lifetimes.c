// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers whose last reference is held by another driver, after every fd
 * of the heap and of the buffer is closed:
 *   - a vgem GEM handle: the buffer stays alive (and the module loaded)
 *     while the handle exists, exports back to an fd with its data intact,
 *     and goes away with the handle; then the module unloads;
 *   - a V4L2 queue (vivid, videobuf2 dma-contig, if CMA_HEAP is given):
 *     queued buffers stay alive while the queue holds them and go away
 *     when the video node is closed; then the module unloads.
 * The module is loaded again at the end.
 *   heap-lifetimes MODULE.ko [CMA_HEAP]
 * (vivid loaded with n_devs=1 node_types=0x1 allocators=1, for CMA_HEAP)
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <linux/videodev2.h>
#include <drm/drm.h>

#include "heaptest.h"

#define LEN (256 << 10)
#define NBUF 3

static const char *module;

static bool module_loaded(void)
{
	return system("grep -q '^rust_dma_heap ' /proc/modules") == 0;
}

static bool try_rmmod(void)
{
	return system("rmmod rust_dma_heap 2>/dev/null") == 0;
}

static bool load(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "insmod %s", module);
	return system(cmd) == 0 && !access(HEAP_DIR "/system", F_OK);
}

static void vgem_lifetime(void)
{
	int vgem = open("/dev/dri/card0", O_RDWR | O_CLOEXEC), bufs0 = count_dmabufs();
	int heap = open_heap("system", O_RDONLY), fd;
	struct drm_prime_handle h = { 0 }, back = { 0 };
	struct drm_gem_close c = { 0 };
	uint32_t *p;
	bool intact = true;

	if (!check_ok(vgem >= 0 && heap >= 0, "vgem and the system heap open"))
		return;
	fd = heap_alloc(heap, LEN);
	p = fd < 0 ? MAP_FAILED : mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!check_ok(p != MAP_FAILED, "a system-heap buffer, mapped"))
		return;
	for (size_t i = 0; i < LEN / 4; i++)
		p[i] = pattern_word(i, 77);
	munmap(p, LEN);
	h.fd = fd;
	check_ok(!ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h), "vgem imports it");
	close(fd);
	close(heap);
	check_ok(count_dmabufs() == bufs0 + 1,
		 "with every fd closed, the vgem handle keeps the buffer alive (%d -> %d)", bufs0,
		 count_dmabufs());
	check_ok(!try_rmmod() && module_loaded(), "the module cannot be unloaded meanwhile");
	back.handle = h.handle;
	back.flags = DRM_CLOEXEC | DRM_RDWR;
	check_ok(!ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &back), "vgem exports the handle back to an fd");
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, back.fd, 0);
	if (p == MAP_FAILED) {
		intact = false;
	} else {
		for (size_t i = 0; i < LEN / 4; i++)
			intact &= p[i] == pattern_word(i, 77);
		munmap(p, LEN);
	}
	check_ok(intact, "it is the same buffer, data intact");
	close(back.fd);
	c.handle = h.handle;
	check_ok(!ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &c), "vgem closes its handle");
	check_ok(count_dmabufs() == bufs0, "the buffer is gone with the handle (%d -> %d)", bufs0,
		 count_dmabufs());
	close(vgem);
	check_ok(try_rmmod(), "then the module unloads");
	check_ok(load(), "and loads again");
}

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

static void v4l2_lifetime(const char *cma)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = {
		.count = NBUF, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
	};
	int video = find_vivid(), heap = open_heap(cma, O_RDONLY), bufs0 = count_dmabufs();
	bool queued = true;
	size_t size;

	if (!check_ok(video >= 0 && heap >= 0, "vivid's capture node and %s open", cma))
		return;
	if (!check_ok(!ioctl(video, VIDIOC_G_FMT, &fmt) && !ioctl(video, VIDIOC_REQBUFS, &req) &&
		      req.count >= 1, "vivid takes %u DMABUF buffers", req.count))
		return;
	size = fmt.fmt.pix.sizeimage;
	for (unsigned int i = 0; i < req.count; i++) {
		int fd = heap_alloc(heap, size);
		struct v4l2_buffer b = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
			.memory = V4L2_MEMORY_DMABUF, .m.fd = fd, .length = size,
		};

		queued &= fd >= 0 && !ioctl(video, VIDIOC_QBUF, &b);
		close(fd);
		ksft_print_msg("buffer %u queued: %d dma-bufs alive\n", i, count_dmabufs());
	}
	close(heap);
	check_ok(queued, "%u %s buffers of %zu bytes are queued, and their fds closed", req.count, cma,
		 size);
	/* videobuf2 keeps a queued DMABUF buffer until it is requeued with
	 * another fd or the queue is released; whether it keeps every one of
	 * several queued before streaming varies, so at least one must live. */
	check_ok(count_dmabufs() > bufs0,
		 "the V4L2 queue keeps its buffers alive (%d -> %d of %u queued)", bufs0,
		 count_dmabufs(), req.count);
	check_ok(!try_rmmod() && module_loaded(), "the module cannot be unloaded meanwhile");
	close(video);
	check_ok(count_dmabufs() == bufs0, "closing the video node frees them (%d -> %d)", bufs0,
		 count_dmabufs());
	check_ok(try_rmmod(), "then the module unloads");
	check_ok(load(), "and loads again");
}

int main(int argc, char **argv)
{
	ksft_print_header();
	if (argc < 2) {
		check_ok(0, "usage: heap-lifetimes MODULE.ko [CMA_HEAP]");
		return finish_checks();
	}
	module = argv[1];
	vgem_lifetime();
	if (argc > 2)
		v4l2_lifetime(argv[2]);
	return finish_checks();
}
