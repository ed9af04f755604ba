# SPDX-License-Identifier: GPL-2.0
# Hosted mode checks each name against the kernel's heap core before it
# adds a heap (rdh_dma_heap_name_taken() in glue/hosted.c, which looks for
# /sys/class/dma_heap/NAME): here it looks in /sys/class/dma-heap, which
# does not exist, so every name seems free and a name the kernel's own
# heap has goes to dma_heap_add() as well. 7.3's core cannot be made to
# replace its heap (device_create() fails first, with sysfs's "cannot
# create duplicate filename" and a stack dump, then "dma_heap: Unable to
# create device"); what reaches it is the clash the module must keep from
# it. The mainline c-heaps run (check's mainline_suite) loads the kernel's
# system and CMA heaps first, then the module, so system, reserved and
# default_cma_region are the kernel's; hosted.sh then finds
#     [ "$(log | grep -c "heap name $c is already registered")" -eq 1 ]
#     check $? "the clash on $c is reported once"
#     ! dmesg | grep -q -e 'cannot create duplicate filename' -e 'dma_heap: Already registered' \
#             -e 'dma_heap: Unable to'
#     check $? "no duplicate registration reached the heap core"
# red (and "no heap failed to be added": ours log "not added (EEXIST)").
# As in that run, the VM's init loads nothing (--no-module): the program
# insmods ./rust_dma_heap.ko (the mutant, which the runner puts in /work)
# after the kernel's heaps, and the module pins itself (--no-unload).
DESCRIPTION="hosted mode: a name the kernel's heap has is not seen as taken"
FLAVOUR=mainline
PROGRAMS="hosted-next-to-c-heaps|sh -c 'modprobe system_heap && modprobe cma_heap && insmod ./rust_dma_heap.ko && exec sh ./hosted.sh \"system default_cma_region reserved\" \"linux,cma system-uncached\" \"system default_cma_region reserved\"'|300|29"
VMARGS=(--no-module --no-unload)
EXPECT='hosted-next-to-c-heaps: (the clash on \S+ is reported once|no duplicate registration reached the heap core)'
mutate() {
	edit glue/hosted.c \
		's|kernfs_find_and_get(class, "dma_heap")|kernfs_find_and_get(class, "dma-heap")|'
}
