// SPDX-License-Identifier: GPL-2.0
/*
 * Pages and kernel mappings: the GFP bits, page helpers, vmap(), the x86
 * memory type of pages given write-combined mappings, and the few
 * scheduler and allocator calls the heaps' allocation loops make. Each is
 * a macro, an inline function or an arch call that Rust cannot reach on
 * 6.12.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kasan.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "compat.h"
#include "glue.h"

/*
 * GFP bits the Rust side composes its allocation policy from: 6.12's
 * bindings lack them (they are macros over an enum of bit numbers).
 */
const struct rdh_gfp_bits rdh_gfp = {
	.highuser = GFP_HIGHUSER,
	.user = GFP_USER,
	.dma32 = __GFP_DMA32,
	.zero = __GFP_ZERO,
	.nowarn = __GFP_NOWARN,
	.noretry = __GFP_NORETRY,
	.retry_mayfail = __GFP_RETRY_MAYFAIL,
	.reclaim = __GFP_RECLAIM,
	.comp = __GFP_COMP,
	.account = __GFP_ACCOUNT,
};

/**
 * rdh_nth_page() - The page @n pages after @page.
 * @page: the first page of a physically contiguous range.
 * @n: the offset in pages.
 *
 * Return: the page.
 */
struct page *rdh_nth_page(struct page *page, unsigned long n)
{
	return rdh_compat_nth_page(page, n);
}

/**
 * rdh_page_to_pfn() - The page frame number of a page.
 * @page: the page.
 *
 * Return: its PFN.
 */
unsigned long rdh_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

/**
 * rdh_clear_highpage() - Zero a page, wherever it is mapped.
 * @page: the page.
 */
void rdh_clear_highpage(struct page *page)
{
	clear_highpage(page);
}

/**
 * rdh_page_is_highmem() - Whether a page is outside the direct map.
 * @page: the page.
 *
 * Return: true for a highmem page.
 */
bool rdh_page_is_highmem(struct page *page)
{
	return PageHighMem(page);
}

/**
 * rdh_clear_lowmem_pages() - Zero contiguous lowmem pages.
 * @page: the first page.
 * @count: how many.
 *
 * Through the direct map: in one clear_pages() where the kernel has it
 * (7.x; on x86_64 a single string instruction), else a page at a time.
 */
void rdh_clear_lowmem_pages(struct page *page, unsigned int count)
{
	void *addr = page_address(page);

	rdh_compat_clear_pages(addr, count);
}

/**
 * rdh_vmap_runs() - Map runs of pages contiguously into the kernel.
 * @scratch: room for @count page pointers, used only during the call.
 * @runs: the runs, each of physically contiguous pages.
 * @nr_runs: how many runs there are.
 * @count: how many pages the runs hold in all.
 * @wc: map them write-combined rather than cached.
 *
 * Return: the address, or NULL (also if the runs do not hold @count pages).
 */
void *rdh_vmap_runs(struct page **scratch, const struct rdh_page_run *runs, size_t nr_runs,
		    unsigned int count, bool wc)
{
	unsigned int n = 0;

	for (size_t i = 0; i < nr_runs; i++) {
		if (runs[i].count > count - n)
			return NULL;
		for (size_t j = 0; j < runs[i].count; j++)
			scratch[n++] = rdh_compat_nth_page(runs[i].first, j);
	}
	if (n != count)
		return NULL;
	return vmap(scratch, count, VM_MAP, wc ? pgprot_writecombine(PAGE_KERNEL) : PAGE_KERNEL);
}

/**
 * rdh_lowmem_address() - The address of a page in the kernel's linear map.
 * @page: the page.
 *
 * page_address(), for lowmem pages only: pages that follow it physically
 * follow it there too. Untagged (tag-based KASAN): the pages after it may
 * have been allocated, and tagged, apart from it (a CMA range is made of
 * buddy chunks, each given its own tag).
 *
 * Return: the address, or NULL for a highmem page.
 */
void *rdh_lowmem_address(struct page *page)
{
	return PageHighMem(page) ? NULL : kasan_reset_tag(page_address(page));
}

/**
 * rdh_vunmap() - Undo rdh_vmap_runs().
 * @vaddr: the address they returned.
 */
void rdh_vunmap(const void *vaddr)
{
	vunmap(vaddr);
}

/**
 * rdh_invalidate_kernel_vmap_range() - Drop stale cache lines of a vmap range.
 * @vaddr: the start of the range.
 * @size: its length in bytes.
 *
 * Needed before the CPU reads through a vmap what a device wrote, on
 * architectures with virtually indexed caches; a no-op elsewhere.
 */
void rdh_invalidate_kernel_vmap_range(void *vaddr, int size)
{
	invalidate_kernel_vmap_range(vaddr, size);
}

/**
 * rdh_flush_kernel_vmap_range() - Write back a vmap range's cache lines.
 * @vaddr: the start of the range.
 * @size: its length in bytes.
 *
 * Needed before a device reads what the CPU wrote through a vmap, on
 * architectures with virtually indexed caches; a no-op elsewhere.
 */
void rdh_flush_kernel_vmap_range(void *vaddr, int size)
{
	flush_kernel_vmap_range(vaddr, size);
}

/*
 * x86 keeps one memory type per page of RAM (PAT), which every mapping of
 * it must share: the linear map is switched with the page's type. Other
 * architectures have no such call, and allow the kernel's cached linear map
 * next to write-combined ones.
 */

/**
 * rdh_set_pages_wc() - Give pages the write-combined type (x86).
 * @pages: the pages.
 * @count: how many.
 *
 * Return: 0 or a negative error; always 0 off x86.
 */
int rdh_set_pages_wc(struct page **pages, int count)
{
#ifdef CONFIG_X86
	return set_pages_array_wc(pages, count);
#else
	return 0;
#endif
}

/**
 * rdh_set_pages_wb() - Give pages back the write-back type (x86).
 * @pages: the pages.
 * @count: how many.
 *
 * Return: 0 or a negative error; always 0 off x86.
 */
int rdh_set_pages_wb(struct page **pages, int count)
{
#ifdef CONFIG_X86
	return set_pages_array_wb(pages, count);
#else
	return 0;
#endif
}

/**
 * rdh_fatal_signal_pending() - Whether the current task is being killed.
 *
 * Return: true if a fatal signal is pending.
 */
bool rdh_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

/**
 * rdh_totalram_pages() - The RAM the kernel manages.
 *
 * Return: its size in pages.
 */
unsigned long rdh_totalram_pages(void)
{
	return totalram_pages();
}

/**
 * rdh_page_count() - A page's reference count.
 * @page: the page.
 *
 * Return: the count.
 */
int rdh_page_count(struct page *page)
{
	return page_count(page);
}

/**
 * rdh_cond_resched() - Let other tasks run, if any is waiting.
 */
void rdh_cond_resched(void)
{
	cond_resched();
}

/**
 * rdh_kvmalloc_mayfail() - Allocate memory that may fail without the OOM killer.
 * @bytes: how much.
 *
 * Rust's allocation flags cannot say __GFP_RETRY_MAYFAIL.
 *
 * Return: the memory (free it with kvfree()), or NULL.
 */
void *rdh_kvmalloc_mayfail(size_t bytes)
{
	return kvmalloc(bytes, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}
