// SPDX-License-Identifier: GPL-2.0
/*
 * User mappings of buffers: the VMA's flags and page protection, and the
 * vm_operations that count a buffer's mappings and fault its pages back in
 * (exporter/vma.rs decides how a buffer is mapped).
 */
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>

#include "compat.h"
#include "glue.h"

/**
 * rdh_vm_flags_set() - Set flags of a VMA being mapped.
 * @vma: the VMA.
 * @flags: the VM_* flags to add.
 */
void rdh_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vm_flags_set(vma, flags);
}

/**
 * rdh_vm_insert_run() - Map contiguous pages into a VMA as ordinary pages.
 * @vma: the VMA being set up, under the mmap lock.
 * @addr: where in @vma the first page goes.
 * @page: the first page.
 * @count: how many pages follow it, all inside @vma from @addr.
 *
 * vm_insert_pages() in batches of an on-stack array, so that mapping a run
 * takes one call from Rust and no allocation.
 *
 * Return: 0, a negative errno, or -EFAULT if a page was not inserted.
 */
int rdh_vm_insert_run(struct vm_area_struct *vma, unsigned long addr, struct page *page,
		      unsigned long count)
{
	struct page *batch[128];

	while (count) {
		unsigned long n = min_t(unsigned long, count, ARRAY_SIZE(batch)), left = n, i;
		int ret;

		for (i = 0; i < n; i++)
			batch[i] = rdh_compat_nth_page(page, i);
		ret = vm_insert_pages(vma, addr, batch, &left);
		if (ret)
			return ret;
		if (left)
			return -EFAULT;
		addr += n << PAGE_SHIFT;
		count -= n;
		if (count)
			page = rdh_compat_nth_page(page, n);
		/* A 4 GiB buffer is a million pages, mapped under the mmap lock. */
		cond_resched();
	}
	return 0;
}

/**
 * rdh_vma_set_writecombine() - Make a VMA's mappings write-combined.
 * @vma: the VMA, before anything is mapped in it.
 */
void rdh_vma_set_writecombine(struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
}

/*
 * Every user mapping of a buffer: the VMA's file is the buffer's (the
 * dma-buf core sets it, and the VMA keeps it), so its priv is live for
 * each call. open and close count the buffer's mappings (for debugfs,
 * without touching the file, which may be gone before the buffer's
 * release).
 */
static void *rdh_vma_buf(struct vm_area_struct *vma)
{
	return ((struct dma_buf *)vma->vm_file->private_data)->priv;
}

static void rdh_vma_open(struct vm_area_struct *vma)
{
	rdh_rust_vma_open(rdh_vma_buf(vma));
}

static void rdh_vma_close(struct vm_area_struct *vma)
{
	rdh_rust_vma_close(rdh_vma_buf(vma));
}

/*
 * A fault in a mapping of a buffer's ordinary pages (vm_insert_pages(),
 * which maps them all at mmap() time): only after MADV_DONTNEED or the
 * like emptied part of it. The page comes back with a reference for the
 * mapping, as vm_insert_pages() gave it one.
 */
static vm_fault_t rdh_vma_fault(struct vm_fault *vmf)
{
	struct page *page = rdh_rust_page(rdh_vma_buf(vmf->vma), vmf->pgoff);

	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

/* VM_PFNMAP mappings (remap_pfn_range()): no page to fault in. */
static const struct vm_operations_struct rdh_vm_ops = {
	.open = rdh_vma_open,
	.close = rdh_vma_close,
};

static const struct vm_operations_struct rdh_vm_ops_pages = {
	.open = rdh_vma_open,
	.close = rdh_vma_close,
	.fault = rdh_vma_fault,
};

/**
 * rdh_vma_set_ops() - Give a buffer's new mapping its vm_operations.
 * @vma: the VMA, its pages mapped.
 * @pages: whether they are ordinary pages, which may be faulted back in,
 *	rather than a VM_PFNMAP range.
 *
 * The mapping then counts as the buffer's first one from this VMA.
 */
void rdh_vma_set_ops(struct vm_area_struct *vma, bool pages)
{
	vma->vm_ops = pages ? &rdh_vm_ops_pages : &rdh_vm_ops;
	vma->vm_ops->open(vma);
}
