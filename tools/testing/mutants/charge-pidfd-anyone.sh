# SPDX-License-Identifier: GPL-2.0
# With charge_pid_fd=1 an allocator may charge a buffer to another
# process's memory cgroup; outside its own cgroup's subtree only with
# CAP_SYS_RESOURCE, or anyone who can open a heap could spend another
# user's memory budget. Here the privilege check is gone: every caller may
# charge every cgroup. heap-charge-pidfd (in a VM with mem_accounting=1, as
# check's memcg suite) drops the capability in cgroup A and asks for a
# buffer charged to cgroup B:
#     check_ok(st == 0 && rep->err == EPERM && ...,
#              "%s: without CAP_SYS_RESOURCE, charging B from A is EPERM and charges nothing ...", ...)
# sees the allocation succeed and B charged 16 MiB.
DESCRIPTION="charge_pid_fd charges any cgroup without CAP_SYS_RESOURCE"
FLAVOUR=x86_64
PROGRAMS='heap-charge-pidfd|./heap-charge-pidfd system linux,cma|300|21'
VMARGS=(--modargs mem_accounting=1)
EXPECT='heap-charge-pidfd: system: without CAP_SYS_RESOURCE, charging B from A is EPERM'
mutate() {
	edit frontend/ioctl.rs \
		's|^    if !own_subtree && !capable_sys_resource() {$|    if false \&\& !own_subtree \&\& !capable_sys_resource() {|'
}
