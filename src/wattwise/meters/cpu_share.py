"""CPU energy estimated by share, where no counter can be read: the power of the logical CPUs the process tree
actually uses, not a whole package's TDP.

Methods, chosen in this order (the method and its range are always in `source`):

1. `green-algorithms` -- the model is in Green Algorithms' TDP_cpu.csv (TDP and cores per model, CC BY 4.0):
   power per busy logical CPU = TDP / (cores x threads per core), threads per core from this machine's
   topology (1 or 2). Energy = that x CPU seconds of the tree. This is Lannelongue et al. 2021's per-core
   method (power = TDP per core x cores used x usage) at the granularity of logical CPUs.
2. `tdp-per-thread` -- bare metal (no hypervisor) with the model in codecarbon's cpu_power.csv (TDP only):
   power per busy logical CPU = TDP / logical CPUs per socket observed here (sockets counted, so a two-socket
   host is not halved).
3. `ccf` -- a VM (its package is shared and its model often hidden: 'Intel Xeon Processor', 'AMD EPYC') or a
   model in neither table: Cloud Carbon Footprint's per-vCPU watts at idle and full load (ccf-coefficients,
   from SPECpower, Apache-2.0) for the microarchitecture inferred from family/model (or ISA flags when the
   hypervisor masks the model), for the provider from DMI (else the spread over AWS, Azure and GCP), with
   linear interpolation on utilisation: power = vCPUs x (min + u x (max - min)), u = CPU seconds / (wall x
   vCPUs), vCPUs = the CPUs this process may use (affinity, cgroup cpuset, cgroup quota). So the idle power of
   the allocated vCPUs is charged, as CCF does for a VM. On bare metal with an unknown model only busy CPUs
   are charged, at CCF's full-load figure (a shared host's idle CPUs are not the job's).

Ranges (wattwise assumptions, always flagged as estimates): TDP methods x0.5-x1.25 of the central value
(sustained package power is often well under TDP; turbo may exceed it); CCF x0.75-x1.5 of the span over the
candidate microarchitectures and providers (SPECpower's integer Java load draws less than AVX-heavy ML).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache

from ..footprint import Range
from ._topology import CpuInfo, CpuLimit, cpu_limit, read_cpu_info
from .base import ESTIMATED, Reading, hostname

TDP_FACTOR = Range(0.5, 1.0, 1.25)
CCF_FACTOR = Range(0.75, 1.0, 1.5)
GA_SOURCE = ("Green Algorithms TDP_cpu.csv v3.0 (Lannelongue et al. 2021, CC BY 4.0), catalog/data/cpus_cores.csv")
CCF_SOURCE = ("Cloud Carbon Footprint ccf-coefficients use coefficients (SPECpower; Apache-2.0), "
              "catalog/data/cpu_ccf_use.csv")

# x86 family/model -> CCF microarchitecture. Intel family 6 model numbers: Linux arch/x86/include/asm/
# intel-family.h (SANDYBRIDGE_X 0x2D ... GRANITERAPIDS_X 0xAD); Skylake-SP vs Cascade Lake share model 0x55 and
# differ by stepping (4 vs 5-7; Intel Cascade Lake spec update). AMD: family 17h model 00h-0Fh Naples, 30h-3Fh
# Rome; family 19h 00h-0Fh Milan, 10h-1Fh Genoa, A0h-AFh Bergamo/Siena; family 1Ah 00h-1Fh Turin (AMD Processor
# Programming References; Linux Documentation/hwmon/amd_energy.rst lists the same server models).
_INTEL_MODELS = {
    0x2A: "Sandy Bridge", 0x2D: "Sandy Bridge", 0x3A: "Ivy Bridge", 0x3E: "Ivy Bridge",
    0x3C: "Haswell", 0x3F: "Haswell", 0x45: "Haswell", 0x46: "Haswell",
    0x3D: "Broadwell", 0x47: "Broadwell", 0x4F: "Broadwell", 0x56: "Broadwell",
    0x4E: "Skylake", 0x5E: "Skylake", 0x8E: "Coffee Lake", 0x9E: "Coffee Lake",
    0x6A: "Ice Lake", 0x6C: "Ice Lake", 0x8F: "Sapphire Rapids", 0xCF: "Emerald Rapids",
    0xAD: "Granite Rapids", 0xAE: "Granite Rapids",
}
_AMD_MODELS = {  # family -> [(first model, last model, architecture)]
    0x17: [(0x00, 0x0F, "EPYC 1st Gen"), (0x30, 0x3F, "EPYC 2nd Gen")],
    0x19: [(0x00, 0x0F, "EPYC 3rd Gen"), (0x10, 0x1F, "EPYC 4th Gen"), (0xA0, 0xAF, "EPYC 4th Gen")],
    0x1A: [(0x00, 0x1F, "EPYC 5th Gen")],
}
# aarch64 MIDR part numbers (Arm Technical Reference Manuals): Neoverse N1 0xD0C (Graviton2), V1 0xD40
# (Graviton3/3E), V2 0xD4F (Graviton4).
_ARM_PARTS = {0xD0C: ("Graviton2",), 0xD40: ("Graviton3", "Graviton3E"), 0xD4F: ("Graviton4",)}


def infer_architectures(info: CpuInfo) -> tuple[tuple[str, ...], str]:
    """(candidate CCF microarchitectures, how they were found); () when nothing is known."""
    f, m = info.family, info.model
    if info.vendor == "GenuineIntel" and f == 6 and m is not None:
        if m == 0x55:
            arch = "Cascade Lake" if (info.stepping or 0) >= 5 else "Skylake"
            return (arch,), f"family 6 model 0x55 stepping {info.stepping}"
        if m in _INTEL_MODELS:
            return (_INTEL_MODELS[m],), f"family 6 model {m:#x}"
    if info.vendor == "AuthenticAMD" and f in _AMD_MODELS and m is not None:
        for lo, hi, arch in _AMD_MODELS[f]:
            if lo <= m <= hi:
                return (arch,), f"family {f:#x} model {m:#x}"
    if info.vendor == "ARM" and info.arm_part in _ARM_PARTS:
        return _ARM_PARTS[info.arm_part], f"CPU part {info.arm_part:#x}"
    fl = info.flags
    if info.vendor == "GenuineIntel" and fl:
        # ISA features (Intel Architecture Instruction Set Extensions reference) when the model is masked
        if "amx_fp16" in fl:
            return ("Granite Rapids",), "ISA flags (amx_fp16)"
        if "amx_tile" in fl:
            return ("Sapphire Rapids", "Emerald Rapids"), "ISA flags (amx_tile, no amx_fp16)"
        if "avx512_vnni" in fl and "avx512ifma" in fl:
            return ("Ice Lake",), "ISA flags (avx512_vnni + avx512ifma)"
        if "avx512_vnni" in fl:
            return ("Cascade Lake",), "ISA flags (avx512_vnni)"
        if "avx512f" in fl:
            return ("Skylake",), "ISA flags (avx512f)"
        if "avx2" in fl:
            return ("Haswell", "Broadwell", "Coffee Lake"), "ISA flags (avx2, no avx512)"
    vendor_archs = {"GenuineIntel": "intel", "AuthenticAMD": "amd", "ARM": "arm"}.get(info.vendor)
    if vendor_archs:
        archs = tuple(a for a in _ccf_archs() if _arch_vendor(a) == vendor_archs)
        return archs, f"{info.vendor}, generation unknown: all its CCF microarchitectures"
    return (), "CPU vendor unknown"


def _arch_vendor(arch: str) -> str:
    return "amd" if arch.startswith("EPYC") else "arm" if arch.startswith("Graviton") else "intel"


@lru_cache(maxsize=1)
def _ccf_table() -> dict[tuple[str, str], tuple[float, float]]:
    from ..catalog._lookup import read_table
    return {(r["provider"], r["architecture"]): (float(r["min_w_per_vcpu"]), float(r["max_w_per_vcpu"]))
            for r in read_table("cpu_ccf_use.csv")}


def _ccf_archs() -> list[str]:
    return sorted({a for _, a in _ccf_table()})


def ccf_watts(archs: tuple[str, ...], provider: str | None) -> tuple[Range, Range, str]:
    """(idle W per vCPU, full-load W per vCPU, which rows) over the candidate architectures and providers."""
    table = _ccf_table()
    providers = (provider,) if provider and any(p == provider for p, _ in table) else ("aws", "azure", "gcp")
    rows = [(p, a, *table[(p, a)]) for a in archs for p in providers if (p, a) in table]
    if not rows and provider:  # the provider lacks this architecture: the other providers' figures
        rows = [(p, a, *table[(p, a)]) for a in archs for p in ("aws", "azure", "gcp") if (p, a) in table]
    if not rows:
        rows = [(p, a, lo, hi) for (p, a), (lo, hi) in table.items()]
    lo = [r[2] for r in rows]
    hi = [r[3] for r in rows]
    idle = Range(min(lo), sum(lo) / len(lo), max(lo))
    full = Range(min(hi), sum(hi) / len(hi), max(hi))
    which = ", ".join(sorted({r[1] for r in rows})) + " on " + "/".join(sorted({r[0].upper() for r in rows}))
    return idle, full, which


def _key(name: str) -> str:
    s = re.sub(r"\b(intel|amd|epyc)\b", " ", name.lower())
    return re.sub(r"[^a-z0-9]", "", s)


@lru_cache(maxsize=1)
def _ga_table() -> dict[str, tuple[str, float, int, str]]:
    from ..catalog._lookup import read_table
    out: dict[str, tuple[str, float, int, str]] = {}
    for r in read_table("cpus_cores.csv"):
        out.setdefault(_key(r["name"]), (r["name"], float(r["tdp_w"]), int(r["cores"]), r["source"]))
    return out


def ga_cpu(brand: str | None) -> tuple[str, float, int, str] | None:
    """(Green Algorithms name, TDP W, cores, source URL) for a CPU brand string, or None."""
    if not brand:
        return None
    from .cpu_fallback import clean_cpu_name
    table = _ga_table()
    for name in (brand, clean_cpu_name(brand)):
        rec = table.get(_key(name))
        if rec:
            return rec
    return None


def codecarbon_tdp(brand: str | None) -> tuple[str, float] | None:
    """(catalog name, TDP W) from codecarbon's cpu_power.csv, or None."""
    if not brand:
        return None
    from .cpu_fallback import _find_cpu, clean_cpu_name
    for name in dict.fromkeys((brand, clean_cpu_name(brand))):
        rec = _find_cpu(name)
        if rec is not None and rec[1] > 0:
            return rec
    return None


@dataclass(frozen=True)
class Plan:
    """How power is computed: power = idle_w x allocated CPUs + busy_w x CPUs in use (per logical CPU)."""

    method: str          # 'green-algorithms', 'tdp-per-thread', 'ccf', 'given'
    busy_w: Range        # W per fully busy logical CPU, above idle
    idle_w: Range        # W per allocated logical CPU at idle (CCF only; 0 for the TDP methods)
    allocated: float     # CPUs charged idle power
    text: str


def plan_for(info: CpuInfo, limit: CpuLimit, *, provider: str | None = None, tdp_w: float | None = None,
             cores: int | None = None) -> Plan:
    """The method for this CPU (see the module docstring)."""
    zero = Range.point(0.0)
    tpc = info.threads_per_core
    where = (f"{info.sockets} socket(s), {info.logical} logical CPU(s) here ({info.topology_source}"
             f"{', VM' if info.hypervisor else ''}); {limit.describe()}")
    if tdp_w is not None:
        threads = (cores * tpc) if cores else info.threads_per_socket
        busy = Range.point(tdp_w / threads) * TDP_FACTOR
        return Plan("given", busy, zero, limit.cpus,
                    f"given TDP {tdp_w:g} W / {threads:g} threads per package = {busy.central:.3g} W per busy "
                    f"logical CPU x CPU seconds; range x0.5-x1.25 (wattwise assumption); {where}")
    ga = ga_cpu(info.model_name)
    if ga is not None:
        name, tdp, n_cores, url = ga
        threads = n_cores * tpc
        busy = Range.point(tdp / threads) * TDP_FACTOR
        return Plan("green-algorithms", busy, zero, limit.cpus,
                    f"{name}: TDP {tdp:g} W / ({n_cores} cores x {tpc} thread(s) per core) = {busy.central:.3g} W per "
                    f"busy logical CPU x CPU seconds (per-core method, Lannelongue et al. 2021; {GA_SOURCE}, row "
                    f"source {url}); range x0.5-x1.25 (wattwise assumption); {where}")
    cc = None if info.hypervisor else codecarbon_tdp(info.model_name)
    if cc is not None:
        from ..catalog.cpus import SOURCE
        name, tdp = cc
        threads = info.threads_per_socket
        busy = Range.point(tdp / threads) * TDP_FACTOR
        return Plan("tdp-per-thread", busy, zero, limit.cpus,
                    f"{name}: TDP {tdp:g} W ({SOURCE}) / {threads:g} logical CPUs per socket observed = "
                    f"{busy.central:.3g} W per busy logical CPU x CPU seconds (Lannelongue et al. 2021 method); "
                    f"range x0.5-x1.25 (wattwise assumption); {where}")
    archs, how = infer_architectures(info)
    prov = provider or info.cloud
    idle, full, which = ccf_watts(archs, prov)
    # energy = idle x vCPUs x wall + (full - idle) x CPU seconds rises with both idle and full (CPU seconds <=
    # vCPUs x wall), so the low end takes the low idle and full figures, the high end the high ones
    idle_r = idle * CCF_FACTOR
    c = full.central - idle.central
    busy = Range(min(CCF_FACTOR.low * (full.low - idle.low), c), c, max(CCF_FACTOR.high * (full.high - idle.high), c))
    if not info.hypervisor:
        # bare metal with an unknown model: the host's CPUs are not this job's, so no idle power is charged; each
        # busy logical CPU costs CCF's full-load figure (as the TDP methods charge busy CPUs only)
        busy = full * CCF_FACTOR
        return Plan("ccf", Range(busy.low, full.central, busy.high), Range.point(0.0), limit.cpus,
                    f"CPU {info.model_name!r} ({how}; bare metal, model not in the tables): {full.central:.3g} W "
                    f"per busy logical CPU (CCF full-load per-vCPU figure; {which}; {CCF_SOURCE}) x CPU seconds, "
                    f"no idle charge; range x0.75-x1.5 of the CCF span (wattwise assumption); {where}")
    return Plan("ccf", busy, idle_r, limit.cpus,
                f"CPU {info.model_name!r} ({how}{'; VM' if info.hypervisor else ''}): per-vCPU {idle.central:.3g} W "
                f"idle to {full.central:.3g} W full load, linear in utilisation, x {limit.cpus:g} allocated vCPU(s) "
                f"({which}; {CCF_SOURCE}; provider {prov or 'unknown: AWS/Azure/GCP spread'}); range "
                f"{idle.low * CCF_FACTOR.low:.3g}-{full.high * CCF_FACTOR.high:.3g} W per vCPU (CCF span "
                f"x0.75-x1.5, wattwise assumption); {where}")


class CpuShareMeter:
    """Estimated CPU energy of a process tree (default: this process and its children) by its share of the CPU.

    `root` points the topology and cgroup readers at a constructed tree (tests); `tree` injects the process
    tree (default: psutil when installed, else /proc); `clock` the wall clock.
    """

    nonblocking = True   # reads /proc or sysfs and does arithmetic: no deadline thread needed

    name = "cpu-share"
    component = "cpu"
    kind = ESTIMATED

    def __init__(self, *, pid: int | None = None, tree=None, host: str | None = None, root: str = "",
                 provider: str | None = None, info: CpuInfo | None = None, limit: CpuLimit | None = None,
                 tdp_w: float | None = None, cores: int | None = None, clock=time.monotonic):
        self._pid = pid
        self._tree_arg = tree
        self.host = host or hostname()
        self._root = root
        self._provider = provider
        self._info = info
        self._limit = limit
        self._tdp_w, self._cores = tdp_w, cores
        self._clock = clock
        self._plan: Plan | None = None
        self._tree = None
        self._cpu0_s = 0.0
        self._t0 = 0.0

    @property
    def plan(self) -> Plan:
        """Resolved on first use (the sampler thread), not at start: the tables cost a few ms."""
        if self._plan is None:
            info = self._info or read_cpu_info(self._root)
            self._info = info
            pid = "self" if self._pid is None else str(self._pid)
            limit = self._limit or cpu_limit(self._root, pid, host_logical=info.logical)
            self._plan = plan_for(info, limit, provider=self._provider, tdp_w=self._tdp_w, cores=self._cores)
        return self._plan

    @property
    def cpu_name(self) -> str | None:
        return (self._info or read_cpu_info(self._root)).model_name

    @property
    def source(self) -> str:
        tree = getattr(self._tree, "source", "/proc")
        return f"estimate ({self.plan.method}): {self.plan.text}; process CPU time from {tree}"

    def start(self) -> None:
        from ._proc import make_tree
        self._tree = self._tree_arg or make_tree(self._pid)
        self._cpu0_s = self._tree.sample()[0]
        self._t0 = self._clock()

    def cpu_seconds(self) -> float:
        return max(self._tree.sample()[0] - self._cpu0_s, 0.0)

    def utilisation(self) -> float:
        """Mean utilisation (0-1) of the allocated CPUs by the tracked tree since start."""
        wall = self._clock() - self._t0
        return self.cpu_seconds() / (wall * self.plan.allocated) if wall > 0 else 0.0

    def read(self) -> list[Reading]:
        p = self.plan
        cpu_s = self.cpu_seconds()
        wall = max(self._clock() - self._t0, 0.0)
        e = p.busy_w * cpu_s + p.idle_w * (p.allocated * wall)
        return [Reading(f"{self.host}/pid/{self._tree.pid}/cpu", "cpu", e.central, e.low, e.high, ESTIMATED,
                        self.cpu_name or "unknown CPU")]

    def close(self) -> None:
        pass
