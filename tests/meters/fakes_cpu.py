"""Constructed /proc and /sys trees for the CPU-share meter: cpuinfo, sysfs topology, DMI, cgroup v1/v2."""

from __future__ import annotations

import os


def put(root, path, text):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def make_cpus(root, *, model_name, vendor="GenuineIntel", family=6, model=85, stepping=7, sockets=1,
              cores_per_socket=2, threads_per_core=1, flags="fpu sse2 avx2", hypervisor=False, dmi=None,
              sysfs=True):
    """/proc/cpuinfo and /sys/devices/system/cpu/*/topology for `sockets` x `cores` x `threads`, numbered as
    Linux does on Intel (first thread of every core, then the siblings)."""
    n = sockets * cores_per_socket * threads_per_core
    if hypervisor:
        flags += " hypervisor"
    blocks = []
    for cpu in range(n):
        thread, rest = divmod(cpu, sockets * cores_per_socket)
        pkg, core = divmod(rest, cores_per_socket)
        blocks.append(f"processor\t: {cpu}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"
                      f"model name\t: {model_name}\nstepping\t: {stepping}\nphysical id\t: {pkg}\n"
                      f"siblings\t: {cores_per_socket * threads_per_core}\ncore id\t\t: {core}\n"
                      f"cpu cores\t: {cores_per_socket}\nflags\t\t: {flags}\n")
        if sysfs:
            put(root, f"/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id", str(pkg))
            put(root, f"/sys/devices/system/cpu/cpu{cpu}/topology/core_id", str(core))
    put(root, "/proc/cpuinfo", "\n".join(blocks))
    if sysfs:
        put(root, "/sys/devices/system/cpu/online", f"0-{n - 1}")
    for k, v in (dmi or {}).items():
        put(root, f"/sys/class/dmi/id/{k}", v)
    return root


def make_cgroup_v2(root, *, path="/user.slice/job", cpu_max="150000 100000", parent_max="max 100000",
                   cpuset="0-3", allowed="0-7"):
    """A unified (v2) hierarchy at /sys/fs/cgroup with the process in `path`."""
    put(root, "/proc/self/cgroup", f"0::{path}")
    put(root, "/proc/self/mountinfo",
        "25 1 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n")
    put(root, "/proc/self/status", f"Name:\tpython\nCpus_allowed_list:\t{allowed}\n")
    leaf = "/sys/fs/cgroup" + path
    put(root, leaf + "/cpu.max", cpu_max)
    put(root, os.path.dirname(leaf) + "/cpu.max", parent_max)
    if cpuset is not None:
        put(root, leaf + "/cpuset.cpus.effective", cpuset)
    return root


def make_cgroup_v1(root, *, container="/docker/abc123", quota_us=250000, period_us=100000, cpuset="2-5",
                   allowed="0-15"):
    """Legacy (v1) cpu,cpuacct and cpuset hierarchies, as Docker without a cgroup namespace mounts them:
    /proc/self/cgroup names the host path, mountinfo's root field is that same path."""
    put(root, "/proc/self/cgroup", f"12:cpuset:{container}\n11:cpu,cpuacct:{container}\n1:name=systemd:{container}")
    put(root, "/proc/self/mountinfo",
        f"700 690 0:31 {container} /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        f"701 690 0:32 {container} /sys/fs/cgroup/cpuset ro,nosuid - cgroup cgroup rw,cpuset\n")
    put(root, "/proc/self/status", f"Cpus_allowed_list:\t{allowed}\n")
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", str(quota_us))
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", str(period_us))
    put(root, "/sys/fs/cgroup/cpuset/cpuset.cpus", cpuset)
    return root
