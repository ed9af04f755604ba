# SPDX-License-Identifier: GPL-2.0
# With mem_accounting=1 the system heap charges its pages to the
# allocating task's memory cgroup, and such pages must bypass the pools
# (a pooled page keeps its charge: the kernel lets a module neither move
# nor drop it). Here every released buffer goes to the pools, charged
# ones too: the cgroup stays charged for memory it no longer holds, until
# the shrinker runs. heap-memcg (in a VM with mem_accounting=1, as check's
# memcg suite) ends with
#     check_ok(heap_stat(heap_name, "pool_bytes") == 0,
#              "%s: charged pages never enter the pools (pool_bytes %ld)", ...)
# which sees the pooled pages (16 MiB from its first buffer alone; the
# pools take up to RAM/16, ~58 MiB in the 1 GiB VM). The cgroup's own
# figures turn red too ("and is back once it is freed", "and is uncharged
# when the process outside frees it": memory.current keeps the charge).
DESCRIPTION="charged (mem_accounting=1) system-heap pages enter the pools still charged"
FLAVOUR=x86_64
PROGRAMS='heap-memcg|./heap-memcg system|300|13'
VMARGS=(--modargs mem_accounting=1)
EXPECT='heap-memcg: system: (charged pages never enter the pools|and is back once it is freed)'
mutate() {
	edit memory/chunks.rs \
		's|^    pools\.backing(chunks, memcg == Memcg::Uncharged)$|    pools.backing(chunks, true)|'
}
