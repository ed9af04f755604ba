# SPDX-License-Identifier: GPL-2.0
# A WARNING only when a heap's device node is removed, i.e. on unload:
# module-cycle unloads the module, and the console scan must see it.
DESCRIPTION="WARN_ON(1) when a heap node is removed (unload only)"
PROGRAMS='module-cycle|sh ./module-cycle.sh /rust_dma_heap.ko 2|300|19'
EXPECT='VM run not clean \(status 125\): .*kernel report on the console: .*WARNING: .* rdh_node_remove\+'
mutate() {
	edit glue/chardev.c '/^void rdh_node_remove(/,/^}/s|^\tdevice_unregister(|\tWARN_ON(1);\n&|'
}
