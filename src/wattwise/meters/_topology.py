"""What CPU this is and how much of it the process may use: model, family/model/flags, sockets, cores and
threads (sysfs topology, /proc/cpuinfo, else psutil), whether it is a virtual machine and on which cloud (DMI),
and the CPUs the process is allowed (affinity, cgroup v1/v2 cpuset and CFS quota).

Every reader takes `root` (default '' = the real filesystem) so tests can point it at a constructed tree.
Standard library only; psutil is used, when importable, only where /proc and /sys are absent (macOS, Windows).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field


def _read(root: str, path: str) -> str | None:
    try:
        with open(root + path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def parse_cpu_list(text: str | None) -> frozenset[int]:
    """'0-3,8,10-11' -> {0, 1, 2, 3, 8, 10, 11}; '' or None -> empty."""
    out: set[int] = set()
    for part in (text or "").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.update(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return frozenset(out)


@dataclass(frozen=True)
class CpuInfo:
    """The host's CPUs as this OS sees them (a VM sees its vCPUs, not the host's sockets)."""

    model_name: str | None
    vendor: str = ""                 # 'GenuineIntel', 'AuthenticAMD', 'ARM' (aarch64 implementer 0x41), ...
    family: int | None = None        # x86 'cpu family'
    model: int | None = None         # x86 'model'
    stepping: int | None = None
    arm_part: int | None = None      # aarch64 'CPU part'
    flags: frozenset[str] = field(default_factory=frozenset)
    logical: int = 1                 # online logical CPUs
    cores: int = 1                   # distinct physical cores (package, core id)
    sockets: int = 1                 # distinct physical packages
    topology_source: str = "unknown"
    hypervisor: bool = False
    cloud: str | None = None         # 'aws', 'gcp', 'azure' or None

    @property
    def threads_per_core(self) -> int:
        return max(1, round(self.logical / max(self.cores, 1)))

    @property
    def threads_per_socket(self) -> float:
        return self.logical / max(self.sockets, 1)


def _cpuinfo_blocks(text: str) -> list[dict[str, str]]:
    blocks, cur = [], {}
    for line in text.splitlines():
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur = {}
            continue
        if ":" in line:
            k, v = line.split(":", 1)
            cur[k.strip().lower()] = v.strip()
    if cur:
        blocks.append(cur)
    return blocks


def _int(x: str | None, base: int = 10) -> int | None:
    try:
        return int(x, 0 if base == 0 else base) if x is not None else None
    except ValueError:
        return None


# DMI strings of the big clouds (the values each provider documents for instance identification):
# AWS "Amazon EC2" (sys_vendor / bios_vendor, Nitro; Xen instances: bios_version contains 'amazon'),
# GCP "Google" / product "Google Compute Engine", Azure "Microsoft Corporation" + product "Virtual Machine"
# (chassis asset tag 7783-7084-3265-9085-8269-3286-77).
_CLOUDS = (("aws", re.compile(r"amazon ec2|amazon", re.I)), ("gcp", re.compile(r"google", re.I)),
           ("azure", re.compile(r"microsoft corporation|7783-7084-3265-9085-8269-3286-77", re.I)))
_VM_PRODUCTS = re.compile(r"kvm|qemu|vmware|virtualbox|virtual machine|hvm domu|bochs|google compute engine|"
                          r"openstack|cloud hypervisor", re.I)


def detect_cloud(root: str = "") -> tuple[str | None, bool]:
    """(cloud provider or None, looks like a VM) from DMI identification strings."""
    dmi = " | ".join(filter(None, (_read(root, f"/sys/class/dmi/id/{k}") for k in (
        "sys_vendor", "product_name", "bios_vendor", "bios_version", "board_vendor", "chassis_asset_tag"))))
    cloud = next((name for name, pat in _CLOUDS if pat.search(dmi)), None)
    hyp = _read(root, "/sys/hypervisor/type")
    return cloud, bool(hyp) or bool(_VM_PRODUCTS.search(dmi)) or cloud is not None


def read_cpu_info(root: str = "") -> CpuInfo:
    """The CPU model, identification and topology of this machine."""
    text = _read(root, "/proc/cpuinfo")
    blocks = _cpuinfo_blocks(text) if text else []
    first = blocks[0] if blocks else {}
    model_name = first.get("model name") or first.get("hardware") or None
    vendor = first.get("vendor_id", "")
    arm_part = None
    if not vendor and "cpu implementer" in first:
        impl = _int(first.get("cpu implementer"), 0)
        vendor = {0x41: "ARM", 0x61: "Apple"}.get(impl or -1, f"implementer {first.get('cpu implementer')}")
        arm_part = _int(first.get("cpu part"), 0)
    flags = frozenset((first.get("flags") or first.get("features") or "").split())
    cloud, vm = detect_cloud(root)
    hypervisor = "hypervisor" in flags or vm

    logical = cores = sockets = 0
    source = "unknown"
    online = parse_cpu_list(_read(root, "/sys/devices/system/cpu/online"))
    if online:
        pkgs, core_ids = set(), set()
        for c in sorted(online):
            base = f"/sys/devices/system/cpu/cpu{c}/topology"
            pkg = _read(root, f"{base}/physical_package_id")
            core = _read(root, f"{base}/core_id")
            if pkg is None or core is None:
                pkgs = set()
                break
            pkgs.add(pkg)
            core_ids.add((pkg, core))
        if pkgs:
            logical, cores, sockets, source = len(online), len(core_ids), len(pkgs), "sysfs topology"
    if not logical and blocks:
        procs = [b for b in blocks if "processor" in b]
        pkgs = {b.get("physical id", "0") for b in procs}
        core_ids = {(b.get("physical id", "0"), b.get("core id", b.get("processor"))) for b in procs}
        if procs:
            logical, cores, sockets, source = len(procs), len(core_ids), len(pkgs), "/proc/cpuinfo"
    if not logical:
        logical, cores, sockets, source, model_name = _psutil_topology(model_name)
    return CpuInfo(model_name, vendor, _int(first.get("cpu family")), _int(first.get("model")),
                   _int(first.get("stepping")), arm_part, flags, logical, max(cores, 1), max(sockets, 1), source,
                   hypervisor, cloud)


def _psutil_topology(model_name: str | None) -> tuple[int, int, int, str, str | None]:
    logical = os.cpu_count() or 1
    cores, src = logical, "os.cpu_count (cores = logical CPUs assumed)"
    try:
        import psutil  # noqa: PLC0415 - optional
        cores = psutil.cpu_count(logical=False) or logical
        src = "psutil (sockets not reported: 1 assumed)"
    except ImportError:
        pass
    if model_name is None:
        model_name = _platform_cpu_name()
    return logical, cores, 1, src, model_name


def _platform_cpu_name() -> str | None:
    if sys.platform == "darwin":
        import subprocess  # noqa: PLC0415
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                 timeout=2)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    import platform  # noqa: PLC0415
    return platform.processor() or None


# --- CPUs the process may use -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CpuLimit:
    """CPUs this process may run on: affinity and cgroup cpuset (sets of CPUs) and CFS quota (CPUs' worth of
    time per period). `cpus` is the tightest of them."""

    cpus: float
    affinity: int | None = None
    cpuset: int | None = None
    quota_cpus: float | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.affinity is not None:
            parts.append(f"affinity {self.affinity}")
        if self.cpuset is not None:
            parts.append(f"cgroup cpuset {self.cpuset}")
        if self.quota_cpus is not None:
            parts.append(f"cgroup quota {self.quota_cpus:g} CPUs")
        return f"{self.cpus:g} CPUs allowed ({', '.join(parts) or 'no limit found'})"


def _mounts(root: str, pid: str) -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fstype, super options) of the cgroup mounts in /proc/<pid>/mountinfo."""
    text = _read(root, f"/proc/{pid}/mountinfo") or ""
    out = []
    for line in text.splitlines():
        if " - " not in line:
            continue
        pre, post = line.split(" - ", 1)
        a, b = pre.split(), post.split()
        if len(a) >= 5 and len(b) >= 3 and b[0] in ("cgroup", "cgroup2"):
            out.append((a[3], a[4].replace("\\040", " "), b[0], set(b[2].split(","))))
    return out


def cgroup_dirs(root: str = "", pid: str = "self") -> dict[str, list[str]]:
    """Controller ('cpu', 'cpuset' or 'v2') -> this process's cgroup directory and its ancestors up to the
    mount point, leaf first (paths include `root`)."""
    text = _read(root, f"/proc/{pid}/cgroup") or ""
    mounts = _mounts(root, pid)
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            keys, want = ["v2"], [m for m in mounts if m[2] == "cgroup2"]
        else:
            ctrl = set(controllers.split(","))
            keys = [k for k in ("cpu", "cpuset") if k in ctrl]
            want = [m for m in mounts if m[2] == "cgroup" and ctrl & m[3]]
        if not keys or not want:
            continue
        mroot, mpoint = want[0][0], want[0][1]
        rel = path[len(mroot):] if mroot != "/" and path.startswith(mroot) else (path if mroot == "/" else "")
        leaf = os.path.normpath(root + mpoint + "/" + rel.lstrip("/"))
        top = os.path.normpath(root + mpoint)
        chain, d = [], leaf
        while True:
            chain.append(d)
            if d == top or len(d) <= len(top):
                break
            d = os.path.dirname(d)
        for k in keys:
            out.setdefault(k, chain)
    return out


def _quota(path_max: str | None = None, quota_us: str | None = None, period_us: str | None = None) -> float | None:
    if path_max is not None:  # v2 cpu.max: '<quota|max> <period>'
        bits = path_max.split()
        if bits and bits[0] != "max":
            q, p = int(bits[0]), int(bits[1]) if len(bits) > 1 else 100000
            return q / p if p > 0 else None
        return None
    if quota_us is not None and period_us is not None:  # v1: cfs_quota_us = -1 when unlimited
        q, p = int(quota_us), int(period_us)
        return q / p if q > 0 and p > 0 else None
    return None


def cpu_limit(root: str = "", pid: str = "self", *, host_logical: int | None = None) -> CpuLimit:
    """The CPUs this process may use: min(affinity, cgroup cpuset, cgroup CFS quota)."""
    notes: list[str] = []
    affinity = None
    status = _read(root, f"/proc/{pid}/status")
    m = re.search(r"^Cpus_allowed_list:\s*(\S+)", status or "", re.M)
    if m:
        affinity = len(parse_cpu_list(m.group(1)))
    elif not root and hasattr(os, "sched_getaffinity"):
        affinity = len(os.sched_getaffinity(0))
    cpuset = quota = None
    dirs = cgroup_dirs(root, pid)
    if "v2" in dirs:
        leaf = dirs["v2"][0]
        cs = _read("", leaf + "/cpuset.cpus.effective")
        if cs:
            cpuset = len(parse_cpu_list(cs))
        for d in dirs["v2"]:
            q = _quota(path_max=_read("", d + "/cpu.max"))
            if q is not None:
                quota = q if quota is None else min(quota, q)
    if "cpuset" in dirs and cpuset is None:
        leaf = dirs["cpuset"][0]
        cs = _read("", leaf + "/cpuset.effective_cpus") or _read("", leaf + "/cpuset.cpus")
        if cs:
            cpuset = len(parse_cpu_list(cs))
    if "cpu" in dirs:
        for d in dirs["cpu"]:
            q = _quota(quota_us=_read("", d + "/cpu.cfs_quota_us"), period_us=_read("", d + "/cpu.cfs_period_us"))
            if q is not None:
                quota = q if quota is None else min(quota, q)
    found = [x for x in (affinity, cpuset, quota) if x is not None]
    if not found:
        found = [host_logical or os.cpu_count() or 1]
        notes.append("no affinity or cgroup limit readable: all logical CPUs assumed")
    return CpuLimit(float(min(found)), affinity, cpuset, quota, tuple(notes))
