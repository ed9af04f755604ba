// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only importer: exercises the kernel-side paths of a dma-buf that no
 * userspace ioctl reaches, the way a driver would.
 *
 * /sys/kernel/debug/rdh_importer/vmap: writing a dma-buf fd
 *   - maps the buffer into the kernel twice (dma_buf_vmap() is refcounted
 *     by the exporter: both must give the same address),
 *   - brackets the access with begin/end_cpu_access,
 *   - checks that word i of the buffer is i ^ 0xa5a5a5a5 (written by the
 *     test through mmap) and replaces it with ~i,
 *   - unmaps twice and drops the buffer.
 * The write returns the byte count on success, -EIO on a data mismatch and
 * the failing call's error otherwise.
 *
 * /sys/kernel/debug/rdh_importer/ctl: one command per write, on two DMA
 * devices of its own: device 0 (64-bit DMA mask, no segment limit) and
 * device 1 (32-bit DMA mask, segments of at most 64 KiB). "The bytes the
 * device sees" are read and written at the DMA addresses of the mapped
 * table, as the device's DMA would (with swiotlb=force these are bounce
 * buffers: a missing or wrong sync changes them). Word i of pattern SEED is
 * i * 2654435761 ^ SEED (u32, native endianness).
 *   attach SLOT FD DEV     attach to DEV and map (bidirectional), keep it
 *   detach SLOT            unmap and detach
 *   remap SLOT             map SLOT's attachment a second time while the
 *                          first mapping stands (undone at once if it works)
 *   mapcycle SLOT N        N times: unmap SLOT's mapping and map its
 *                          attachment again (the attachment stays); if a
 *                          map fails, SLOT is detached and emptied
 *   check SLOT SEED        the device sees pattern SEED, else -EIO
 *   fill SLOT SEED         the device writes pattern SEED
 *   cycle FD DEV N SEED    N times: attach, map, check SEED (unless 0),
 *                          unmap, detach
 *   sync FD N              N times begin_cpu_access + end_cpu_access
 *   vmap FD N              N times vmap + vunmap
 *   probe FD OFFSET VALUE  vmap, the u32 at OFFSET is VALUE (else -EIO)
 *   info SLOT              reading ctl then gives "nents= bytes= bounced="
 *                          (bounced: some DMA address is not the page's)
 *   pin SLOT               take a page reference on every page of SLOT's
 *                          buffer (as a driver pinning pages for DMA does),
 *                          kept past detach and the buffer's release
 *   pinfill SEED           write pattern SEED into the pinned pages, through
 *                          the kernel's mapping (DMA into a page still
 *                          pinned after its buffer is gone)
 *   unpin                  drop every pinned page's reference
 *   hold SLOT              vmap SLOT's buffer and keep the mapping (until
 *                          unhold or detach); reading ctl then gives
 *                          "vaddr=" and the mapping's address
 *   prot ADDR              reading ctl then gives "wc=1" if the caller's
 *                          mapping at ADDR is write-combined (its VMA's
 *                          page protection is pgprot_writecombine() of the
 *                          one its flags give), else "wc=0"; -EFAULT if
 *                          nothing is mapped there
 *   unhold SLOT            undo hold
 * Each write returns the byte count on success or the first error.
 * The importer itself allocates nothing per command, so that fault
 * injection (fail-nth) steps only through dma-buf's and the exporter's
 * allocations.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/version.h>

/* Since 6.13 the namespace is a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

#define NSLOTS 8
#define NDEVS 2

static struct dentry *dir;
static struct platform_device *pdevs[NDEVS];

static DEFINE_MUTEX(slots_lock);
static struct {
	struct dma_buf *buf;
	struct dma_buf_attachment *att;
	struct sg_table *sgt;
	struct iosys_map held;
	bool holding;
} slots[NSLOTS];
static char info[128];

/* Pages referenced by "pin", under slots_lock. */
#define NPINS 8192
static struct page *pins[NPINS];
static unsigned int npins;

static int check_and_flip(struct dma_buf *buf)
{
	struct iosys_map a, b;
	u32 *words;
	size_t i;
	int ret;

	ret = dma_buf_vmap_unlocked(buf, &a);
	if (ret)
		return ret;
	ret = dma_buf_vmap_unlocked(buf, &b);
	if (ret)
		goto unmap_a;
	if (a.is_iomem || a.vaddr != b.vaddr) {
		ret = -EINVAL;
		goto unmap_b;
	}
	ret = dma_buf_begin_cpu_access(buf, DMA_BIDIRECTIONAL);
	if (ret)
		goto unmap_b;
	words = a.vaddr;
	for (i = 0; i < buf->size / 4; i++) {
		if (words[i] != ((u32)i ^ 0xa5a5a5a5)) {
			ret = -EIO;
			break;
		}
		words[i] = ~(u32)i;
	}
	dma_buf_end_cpu_access(buf, DMA_BIDIRECTIONAL);
unmap_b:
	dma_buf_vunmap_unlocked(buf, &b);
unmap_a:
	dma_buf_vunmap_unlocked(buf, &a);
	return ret;
}

static ssize_t vmap_write(struct file *file, const char __user *ubuf, size_t count, loff_t *pos)
{
	struct dma_buf *buf;
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (ret)
		return ret;
	buf = dma_buf_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = check_and_flip(buf);
	dma_buf_put(buf);
	return ret ? ret : count;
}

static const struct file_operations vmap_fops = {
	.owner = THIS_MODULE,
	.write = vmap_write,
};

static u32 pattern(size_t i, u32 seed)
{
	return (u32)i * 2654435761u ^ seed;
}

/*
 * Walks the bytes the device sees through @sgt's DMA addresses: checks
 * them against pattern @seed, or writes it (@fill). The devices here have
 * no DMA offset (no dma_range_map): a DMA address is a physical address.
 */
static int device_view(struct device *dev, struct sg_table *sgt, u32 seed, bool fill)
{
	struct scatterlist *sg;
	size_t word = 0;
	int i;

	if (dev->dma_range_map)
		return -EOPNOTSUPP;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		u32 *p = phys_to_virt((phys_addr_t)sg_dma_address(sg));
		size_t n = sg_dma_len(sg) / 4, j;

		for (j = 0; j < n; j++, word++) {
			if (fill)
				p[j] = pattern(word, seed);
			else if (p[j] != pattern(word, seed))
				return -EIO;
		}
		cond_resched();
	}
	return 0;
}

static int attach_map(struct dma_buf *buf, int devno, struct dma_buf_attachment **att,
		      struct sg_table **sgt)
{
	if (devno < 0 || devno >= NDEVS)
		return -EINVAL;
	*att = dma_buf_attach(buf, &pdevs[devno]->dev);
	if (IS_ERR(*att))
		return PTR_ERR(*att);
	*sgt = dma_buf_map_attachment_unlocked(*att, DMA_BIDIRECTIONAL);
	if (IS_ERR(*sgt)) {
		int ret = PTR_ERR(*sgt);

		dma_buf_detach(buf, *att);
		return ret;
	}
	return 0;
}

static void unmap_detach(struct dma_buf *buf, struct dma_buf_attachment *att, struct sg_table *sgt)
{
	dma_buf_unmap_attachment_unlocked(att, sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(buf, att);
}

static int cmd_cycle(struct dma_buf *buf, int devno, int n, u32 seed)
{
	struct dma_buf_attachment *att;
	struct sg_table *sgt;
	int ret = 0;

	while (n-- > 0 && !ret) {
		ret = attach_map(buf, devno, &att, &sgt);
		if (ret)
			break;
		if (seed)
			ret = device_view(&pdevs[devno]->dev, sgt, seed, false);
		unmap_detach(buf, att, sgt);
		cond_resched();
	}
	return ret;
}

static int cmd_sync(struct dma_buf *buf, int n)
{
	int ret = 0;

	while (n-- > 0 && !ret) {
		ret = dma_buf_begin_cpu_access(buf, DMA_BIDIRECTIONAL);
		if (!ret)
			ret = dma_buf_end_cpu_access(buf, DMA_BIDIRECTIONAL);
		cond_resched();
	}
	return ret;
}

static int cmd_vmap(struct dma_buf *buf, int n)
{
	struct iosys_map map;
	int ret = 0;

	while (n-- > 0 && !ret) {
		ret = dma_buf_vmap_unlocked(buf, &map);
		if (ret)
			break;
		if (iosys_map_is_null(&map) || map.is_iomem)
			ret = -EINVAL;
		dma_buf_vunmap_unlocked(buf, &map);
		cond_resched();
	}
	return ret;
}

static int cmd_probe(struct dma_buf *buf, u64 offset, u32 value)
{
	struct iosys_map map;
	int ret;

	if (offset > buf->size - 4 || offset % 4)
		return -EINVAL;
	ret = dma_buf_vmap_unlocked(buf, &map);
	if (ret)
		return ret;
	ret = dma_buf_begin_cpu_access(buf, DMA_FROM_DEVICE);
	if (!ret) {
		if (*(u32 *)(map.vaddr + offset) != value)
			ret = -EIO;
		dma_buf_end_cpu_access(buf, DMA_FROM_DEVICE);
	}
	dma_buf_vunmap_unlocked(buf, &map);
	return ret;
}

/*
 * "nents= bytes= bounced=" of a mapped table. The CPU side of each segment
 * is found through the buffer's vmap, not through the table's pages: with
 * CONFIG_DMABUF_DEBUG the dma-buf core scrambles the page links of the
 * table an importer gets, which may use only the DMA addresses.
 */
static int slot_info(struct dma_buf *buf, struct sg_table *sgt)
{
	struct scatterlist *sg;
	struct iosys_map map;
	u64 bytes = 0;
	int bounced = 0, i, ret;

	ret = dma_buf_vmap_unlocked(buf, &map);
	if (ret)
		return ret;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		void *cpu = map.vaddr + bytes;
		phys_addr_t phys = is_vmalloc_addr(cpu) ?
			page_to_phys(vmalloc_to_page(cpu)) + offset_in_page(cpu) : virt_to_phys(cpu);

		bounced |= (phys_addr_t)sg_dma_address(sg) != phys;
		bytes += sg_dma_len(sg);
	}
	dma_buf_vunmap_unlocked(buf, &map);
	snprintf(info, sizeof(info), "nents=%u bytes=%llu bounced=%d\n", sgt->nents, bytes,
		 bounced);
	return 0;
}

/*
 * "pin": a reference on every page of @buf, all or none. The pages are
 * found through a kernel mapping (vmalloc_to_page()), not the table:
 * CONFIG_DMABUF_DEBUG scrambles the page pointers of the tables importers
 * get, as an importer must not use them.
 */
static int pin_pages(struct dma_buf *buf)
{
	struct iosys_map map;
	unsigned int n = npins;
	size_t off;
	int ret = dma_buf_vmap_unlocked(buf, &map);

	if (ret)
		return ret;
	for (off = 0; off < buf->size; off += PAGE_SIZE) {
		void *cpu = map.vaddr + off;
		/* (The linear map's address, for a buffer of one run.) */
		struct page *page = map.is_iomem ? NULL :
				    is_vmalloc_addr(cpu) ? vmalloc_to_page(cpu) : virt_to_page(cpu);

		if (n == NPINS || !page) {
			while (n > npins)
				put_page(pins[--n]);
			dma_buf_vunmap_unlocked(buf, &map);
			return page ? -ENOSPC : -EINVAL;
		}
		pins[n] = page;
		get_page(pins[n++]);
	}
	npins = n;
	dma_buf_vunmap_unlocked(buf, &map);
	return 0;
}

static void pin_fill(u32 seed)
{
	for (unsigned int n = 0; n < npins; n++) {
		u32 *words = kmap_local_page(pins[n]);

		for (size_t i = 0; i < PAGE_SIZE / 4; i++)
			words[i] = pattern(n * (PAGE_SIZE / 4) + i, seed);
		kunmap_local(words);
	}
}

static void unpin_pages(void)
{
	while (npins)
		put_page(pins[--npins]);
}

/* The commands on a slot, under slots_lock. */
static int cmd_slot(const char *cmd, long long *a, int nargs)
{
	int slot = a[0], ret = 0;

	if (nargs < 1 || slot < 0 || slot >= NSLOTS)
		return -EINVAL;
	if (!strcmp(cmd, "attach")) {
		struct dma_buf *buf;

		if (nargs < 3 || slots[slot].buf)
			return -EINVAL;
		buf = dma_buf_get(a[1]);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		ret = attach_map(buf, a[2], &slots[slot].att, &slots[slot].sgt);
		if (ret) {
			dma_buf_put(buf);
			return ret;
		}
		slots[slot].buf = buf;
		return 0;
	}
	if (!slots[slot].buf)
		return -ENOENT;
	if (!strcmp(cmd, "detach")) {
		if (slots[slot].holding)
			dma_buf_vunmap_unlocked(slots[slot].buf, &slots[slot].held);
		slots[slot].holding = false;
		unmap_detach(slots[slot].buf, slots[slot].att, slots[slot].sgt);
		dma_buf_put(slots[slot].buf);
		slots[slot].buf = NULL;
	} else if (!strcmp(cmd, "check") || !strcmp(cmd, "fill")) {
		if (nargs < 2)
			return -EINVAL;
		ret = device_view(slots[slot].att->dev, slots[slot].sgt, a[1], cmd[0] == 'f');
	} else if (!strcmp(cmd, "remap")) {
		struct sg_table *sgt = dma_buf_map_attachment_unlocked(slots[slot].att,
								       DMA_BIDIRECTIONAL);

		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		dma_buf_unmap_attachment_unlocked(slots[slot].att, sgt, DMA_BIDIRECTIONAL);
	} else if (!strcmp(cmd, "mapcycle")) {
		if (nargs < 2 || a[1] < 1)
			return -EINVAL;
		for (long long n = a[1]; n > 0; n--) {
			struct dma_buf_attachment *att = slots[slot].att;

			dma_buf_unmap_attachment_unlocked(att, slots[slot].sgt, DMA_BIDIRECTIONAL);
			slots[slot].sgt = dma_buf_map_attachment_unlocked(att, DMA_BIDIRECTIONAL);
			if (IS_ERR(slots[slot].sgt)) {
				ret = PTR_ERR(slots[slot].sgt);
				if (slots[slot].holding)
					dma_buf_vunmap_unlocked(slots[slot].buf, &slots[slot].held);
				slots[slot].holding = false;
				dma_buf_detach(slots[slot].buf, att);
				dma_buf_put(slots[slot].buf);
				slots[slot].buf = NULL;
				break;
			}
			cond_resched();
		}
	} else if (!strcmp(cmd, "info")) {
		ret = slot_info(slots[slot].buf, slots[slot].sgt);
	} else if (!strcmp(cmd, "pin")) {
		ret = pin_pages(slots[slot].buf);
	} else if (!strcmp(cmd, "hold")) {
		if (slots[slot].holding)
			return -EBUSY;
		ret = dma_buf_vmap_unlocked(slots[slot].buf, &slots[slot].held);
		slots[slot].holding = !ret;
		if (!ret)
			snprintf(info, sizeof(info), "vaddr=0x%px\n",
				 slots[slot].held.is_iomem ? NULL : slots[slot].held.vaddr);
	} else if (!strcmp(cmd, "unhold")) {
		if (!slots[slot].holding)
			return -EINVAL;
		dma_buf_vunmap_unlocked(slots[slot].buf, &slots[slot].held);
		slots[slot].holding = false;
	} else {
		ret = -EINVAL;
	}
	return ret;
}

/* "prot": whether the caller's mapping at @addr is write-combined. */
static int cmd_prot(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int ret = -EFAULT;

	if (!mm)
		return -EFAULT;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (vma) {
		pgprot_t wc = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));

		snprintf(info, sizeof(info), "wc=%d\n",
			 pgprot_val(vma->vm_page_prot) == pgprot_val(wc));
		ret = 0;
	}
	mmap_read_unlock(mm);
	return ret;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *pos)
{
	char line[128], cmd[16];
	long long a[4] = { 0 };
	struct dma_buf *buf;
	int nargs, ret;

	if (count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = 0;
	nargs = sscanf(line, "%15s %lld %lld %lld %lld", cmd, &a[0], &a[1], &a[2], &a[3]) - 1;
	if (nargs < 0)
		return -EINVAL;
	if (!strcmp(cmd, "prot") && nargs >= 1) {
		mutex_lock(&slots_lock);
		ret = cmd_prot(a[0]);
		mutex_unlock(&slots_lock);
		return ret ? ret : count;
	}
	if (!strcmp(cmd, "unpin") || !strcmp(cmd, "pinfill")) {
		mutex_lock(&slots_lock);
		if (cmd[3] == 'f')
			pin_fill(a[0]);
		else
			unpin_pages();
		mutex_unlock(&slots_lock);
		return count;
	}
	if (!strcmp(cmd, "attach") || !strcmp(cmd, "detach") || !strcmp(cmd, "remap") ||
	    !strcmp(cmd, "mapcycle") || !strcmp(cmd, "check") ||
	    !strcmp(cmd, "fill") || !strcmp(cmd, "info") || !strcmp(cmd, "pin") ||
	    !strcmp(cmd, "hold") || !strcmp(cmd, "unhold")) {
		mutex_lock(&slots_lock);
		ret = cmd_slot(cmd, a, nargs);
		mutex_unlock(&slots_lock);
		return ret ? ret : count;
	}
	if (nargs < 2)
		return -EINVAL;
	buf = dma_buf_get(a[0]);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (!strcmp(cmd, "cycle") && nargs >= 3)
		ret = cmd_cycle(buf, a[1], a[2], a[3]);
	else if (!strcmp(cmd, "sync"))
		ret = cmd_sync(buf, a[1]);
	else if (!strcmp(cmd, "vmap"))
		ret = cmd_vmap(buf, a[1]);
	else if (!strcmp(cmd, "probe") && nargs >= 3)
		ret = cmd_probe(buf, a[1], a[2]);
	else
		ret = -EINVAL;
	dma_buf_put(buf);
	return ret ? ret : count;
}

static ssize_t ctl_read(struct file *file, char __user *ubuf, size_t count, loff_t *pos)
{
	ssize_t ret;

	mutex_lock(&slots_lock);
	ret = simple_read_from_buffer(ubuf, count, pos, info, strlen(info));
	mutex_unlock(&slots_lock);
	return ret;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
	.read = ctl_read,
};

static void remove_devices(void)
{
	for (int i = 0; i < NDEVS; i++)
		if (!IS_ERR_OR_NULL(pdevs[i]))
			platform_device_unregister(pdevs[i]);
}

static int __init rdh_importer_init(void)
{
	static const u64 masks[NDEVS] = { DMA_BIT_MASK(64), DMA_BIT_MASK(32) };
	static const unsigned int segs[NDEVS] = { UINT_MAX, SZ_64K };

	for (int i = 0; i < NDEVS; i++) {
		pdevs[i] = platform_device_register_simple("rdh-importer", i, NULL, 0);
		if (IS_ERR(pdevs[i])) {
			int ret = PTR_ERR(pdevs[i]);

			remove_devices();
			return ret;
		}
		dma_coerce_mask_and_coherent(&pdevs[i]->dev, masks[i]);
		dma_set_max_seg_size(&pdevs[i]->dev, segs[i]);
	}
	dir = debugfs_create_dir("rdh_importer", NULL);
	debugfs_create_file("vmap", 0200, dir, NULL, &vmap_fops);
	debugfs_create_file("ctl", 0600, dir, NULL, &ctl_fops);
	return 0;
}
module_init(rdh_importer_init);

static void __exit rdh_importer_exit(void)
{
	debugfs_remove_recursive(dir);
	unpin_pages();
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].buf) {
			if (slots[i].holding)
				dma_buf_vunmap_unlocked(slots[i].buf, &slots[i].held);
			unmap_detach(slots[i].buf, slots[i].att, slots[i].sgt);
			dma_buf_put(slots[i].buf);
		}
	remove_devices();
}
module_exit(rdh_importer_exit);

MODULE_DESCRIPTION("Test importer for dma-buf heaps: kernel mappings, CPU access, DMA");
MODULE_LICENSE("GPL");
