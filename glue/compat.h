/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels the C glue builds against, Linux
 * 6.12 and 7.x: Kbuild defines RDH_KERNEL_7 for the latter, and only this
 * header reads it (compat/mod.rs is the Rust side's counterpart). The
 * helpers are macros, so that this header needs no include of its own:
 * each user already includes the kernel header the macro expands into.
 */
#ifndef RDH_COMPAT_H
#define RDH_COMPAT_H

#ifdef RDH_KERNEL_7

/* MODULE_IMPORT_NS() takes a string. */
#define RDH_NS(ns) #ns

/* dma_heap_add() is in the DMA_BUF_HEAP namespace. */
#define RDH_IMPORT_HEAP_NS() MODULE_IMPORT_NS("DMA_BUF_HEAP")

/* No nth_page(): step through the PFN, right in every memory model. */
#define rdh_compat_nth_page(page, n) pfn_to_page(page_to_pfn(page) + (n))

/* clear_pages() zeroes a run of pages in one go. */
#define rdh_compat_clear_pages(addr, count) clear_pages(addr, count)

/* dma_capable() takes the mapping's attributes as well. */
#define rdh_compat_dma_capable(dev, addr, size) dma_capable(dev, addr, size, true, 0)

/* The firmware's E820 table is exported to KVM only. */
#define rdh_compat_e820_raw_has_ram(start, end) ((void)(start), (void)(end), -EOPNOTSUPP)

/*
 * A kernfs node's parent is RCU-protected; a node that never moves (such
 * as /sys/kernel) may have it read directly.
 */
#define rdh_compat_kernfs_fixed_parent(kn) rcu_dereference_protected((kn)->__parent, true)

/* With DMABUF_DEBUG the core hands importers a copy of an exporter's table. */
#define RDH_DMA_BUF_MANGLES_TABLES false

#else /* Linux 6.12 */

#define RDH_NS(ns) ns

/* Kernels that export dma_heap_add() do so outside any namespace. */
#define RDH_IMPORT_HEAP_NS() struct rdh_no_heap_namespace

#define rdh_compat_nth_page(page, n) nth_page(page, n)

/* No clear_pages(): a page at a time. */
#define rdh_compat_clear_pages(addr, count)				\
	do {								\
		for (unsigned int __i = 0; __i < (count); __i++)	\
			clear_page((addr) + __i * PAGE_SIZE);		\
	} while (0)

#define rdh_compat_dma_capable(dev, addr, size) dma_capable(dev, addr, size, true)

#define rdh_compat_e820_raw_has_ram(start, end) e820__mapped_raw_any(start, end, E820_TYPE_RAM)

#define rdh_compat_kernfs_fixed_parent(kn) ((kn)->parent)

/*
 * With DMABUF_DEBUG the core scrambles the page links of the exporter's
 * table while an importer holds it.
 */
#define RDH_DMA_BUF_MANGLES_TABLES IS_ENABLED(CONFIG_DMABUF_DEBUG)

#endif /* RDH_KERNEL_7 */

#endif /* RDH_COMPAT_H */
