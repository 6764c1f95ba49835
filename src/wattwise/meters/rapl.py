"""CPU package and DRAM energy from Intel RAPL through the Linux powercap interface (also used by AMD Zen).

Layout (Documentation/power/powercap/powercap.rst): /sys/class/powercap/intel-rapl:N is package N
(`name` = 'package-N'); its sub-zone intel-rapl:N:M named 'dram' is that socket's DRAM. Each zone has
`energy_uj` (a counter that wraps at `max_energy_range_uj`). 'core'/'uncore' sub-zones are parts of the
package and are not added again. Since Linux 5.10 `energy_uj` is readable by root only (CVE-2020-8694,
"PLATYPUS"), hence the permission diagnosis.

RAPL MMIO: on Intel client parts since Tiger Lake (and some servers) the processor_thermal driver exposes the
same package domain through MMIO as `intel-rapl-mmio:N` (name 'package-N'). It is the same counter read another
way, so a package is counted once: the MSR zone `intel-rapl:N` where readable, else the MMIO zone.

RAPL covers the whole socket: every process on it, not only the tracked one (recorded in `source`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .base import MEASURED, MeterUnavailable, Reading, hostname

DEFAULT_ROOT = "/sys/class/powercap"
INTERFACES = ("intel-rapl", "intel-rapl-mmio")
DOMAINS = {"package": "cpu", "dram": "memory"}
# Accuracy band: RAPL package energy tracks wall-plug measurements closely on Haswell and later
# (Khan et al. 2018, "RAPL in Action", ACM TOMPECS 3(2)); +/-5% is a wattwise assumption covering
# model-based RAPL on older parts and Zen.
RELATIVE_ERROR = 0.05


@dataclass
class _Zone:
    label: str          # 'package-0', 'dram' (of package-0 -> 'package-0/dram')
    energy_path: str
    max_uj: int
    start_uj: int = 0
    last_uj: int = 0
    total_uj: int = 0   # accumulated since start, wrap-around corrected


def _read_int(path: str) -> int:
    with open(path, encoding="ascii") as f:
        return int(f.read().strip())


def _read_name(path: str) -> str:
    with open(os.path.join(path, "name"), encoding="ascii") as f:
        return f.read().strip()


def _label_of(root: str, energy_path: str, domain: str) -> str:
    """The zone label ('package-0', 'package-0/dram') of an energy_uj path, for matching MSR and MMIO views."""
    zone = os.path.dirname(energy_path)
    try:
        name = _read_name(zone)
        if domain == "dram":
            return f"{_read_name(os.path.dirname(zone))}/{name}"
        return name
    except OSError:
        return zone


def fix_command(paths: list[str]) -> str:
    """The exact command that makes these counters readable (until reboot)."""
    return "sudo chmod a+r " + " ".join(sorted(os.path.realpath(p) for p in paths))


def find_zones(root: str = DEFAULT_ROOT, domain: str = "package") -> list[_Zone]:
    """The RAPL zones of `domain` ('package' or 'dram') under `root`; raises MeterUnavailable with a fix."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {sorted(DOMAINS)}, got {domain!r}")
    if not os.path.isdir(root):
        raise MeterUnavailable(f"RAPL: {root} does not exist (no powercap driver: not Linux, a VM or container "
                               "without RAPL, or the intel_rapl_common module is not loaded)")
    found: list[_Zone] = []
    denied: list[str] = []
    entries = os.listdir(root)
    # MSR zones first, then MMIO: a label already found through MSR is not read again through MMIO
    packages = [d for prefix in INTERFACES for d in sorted(entries) if d.startswith(prefix + ":") and d.count(":") == 1]
    for pkg in packages:
        pkg_path = os.path.join(root, pkg)
        try:
            pkg_name = _read_name(pkg_path)
        except OSError:
            continue
        candidates = []
        if domain == "package" and pkg_name.startswith("package"):
            candidates.append((pkg_name, pkg_path))
        elif domain == "dram":
            for sub in sorted(os.listdir(pkg_path)):
                sub_path = os.path.join(pkg_path, sub)
                if sub.startswith(pkg + ":") and os.path.isdir(sub_path):
                    try:
                        if _read_name(sub_path) == "dram":
                            candidates.append((f"{pkg_name}/dram", sub_path))
                    except OSError:
                        continue
        for label, path in candidates:
            if any(z.label == label for z in found):
                continue  # the MMIO view of a package already read through MSR
            energy = os.path.join(path, "energy_uj")
            try:
                now = _read_int(energy)
                max_uj = _read_int(os.path.join(path, "max_energy_range_uj"))
            except PermissionError:
                denied.append(energy)
                continue
            except (OSError, ValueError):
                continue
            found.append(_Zone(label, energy, max_uj, now, now))
    found_labels = {z.label for z in found}
    denied = [d for d in denied if _label_of(root, d, domain) not in found_labels]
    if denied:
        raise MeterUnavailable(
            f"RAPL: permission denied reading {len(denied)} counter(s) under {root} (since Linux 5.10 energy_uj is "
            f"root-only, CVE-2020-8694). Fix: {fix_command(denied)}")
    if not found:
        raise MeterUnavailable(f"RAPL: no readable {domain} zone under {root}")
    return found


class RaplMeter:
    """Energy of every CPU package (domain='package') or DRAM zone (domain='dram') on this machine."""

    nonblocking = True   # reads /proc or sysfs and does arithmetic: no deadline thread needed

    kind = MEASURED

    def __init__(self, domain: str = "package", root: str = DEFAULT_ROOT, *, host: str | None = None):
        self.domain = domain
        self.root = root
        self.name = f"rapl-{domain}"
        self.component = DOMAINS.get(domain, "cpu")
        self.host = host or hostname()
        self.source = (f"RAPL {domain} energy counters ({root}), whole socket incl. other processes; "
                       f"range +/-{RELATIVE_ERROR:.0%} (Khan et al. 2018; wattwise assumption)")
        self._zones: list[_Zone] = []
        self._t0 = 0.0

    def start(self) -> None:
        self._zones = find_zones(self.root, self.domain)
        self._t0 = time.monotonic()

    def read(self) -> list[Reading]:
        out = []
        for z in self._zones:
            now = _read_int(z.energy_path)  # raises OSError -> the tracker falls back
            delta = now - z.last_uj
            if delta < 0:  # the counter wrapped at max_energy_range_uj
                delta += z.max_uj
            z.total_uj += delta
            z.last_uj = now
            e = z.total_uj / 1e6
            out.append(Reading(f"{self.host}/rapl/{z.label}", self.component, e, e * (1 - RELATIVE_ERROR),
                               e * (1 + RELATIVE_ERROR), MEASURED, z.label))
        return out

    def close(self) -> None:
        self._zones = []
