"""RAPL without root: the kernel's `power` perf PMU (arch/x86/events/rapl.c), read through perf_event_open(2).

Since Linux 5.10 the powercap `energy_uj` files are root-only (CVE-2020-8694), but the same counters are perf
events: /sys/bus/event_source/devices/power/{type, cpumask, events/energy-pkg, events/energy-pkg.scale}. A
CPU-wide event (pid=-1) needs `kernel.perf_event_paranoid` <= 0 or CAP_PERFMON, which an administrator can grant
once without making the process root. One event per package (one CPU of each in `cpumask`); the count is a 64-bit
value in units of `scale` joules (2^-32 J on Intel), so it does not wrap in practice.

The syscall is injectable (`opener`, `reader`) so tests run on any machine.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

from ._topology import parse_cpu_list
from .base import MEASURED, MeterUnavailable, Reading, hostname
from .rapl import RELATIVE_ERROR

PMU_ROOT = "/sys/bus/event_source/devices/power"
EVENTS = {"package": ("energy-pkg", "cpu"), "dram": ("energy-ram", "memory")}
# perf_event_open syscall numbers (Linux: arch/x86/entry/syscalls/syscall_64.tbl 298; include/uapi/asm-generic/
# unistd.h 241 for arm64; syscall_32.tbl 336)
_SYSCALL = {"x86_64": 298, "amd64": 298, "aarch64": 241, "arm64": 241, "i386": 336, "i686": 336}


def _read(path: str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read().strip()


def _event_config(text: str) -> int:
    """'event=0x02' (or 'event=0x02,umask=0x0') -> 0x02."""
    for part in text.split(","):
        k, _, v = part.partition("=")
        if k.strip() == "event":
            return int(v, 0)
    raise ValueError(f"no event= in {text!r}")


def perf_open(pmu_type: int, config: int, cpu: int) -> int:
    """perf_event_open(attr{type, config}, pid=-1, cpu, group=-1, flags=0) -> fd; OSError on failure."""
    nr = _SYSCALL.get(platform.machine().lower())
    if nr is None:
        raise OSError(38, f"perf_event_open: unknown syscall number on {platform.machine()}")
    # struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes): type, size, config, then zeros
    attr = ctypes.create_string_buffer(struct.pack("IIQQQQQIIQ", pmu_type, 64, config, 0, 0, 0, 0, 0, 0, 0), 64)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(nr, attr, -1, cpu, -1, 0)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return fd


def perf_read(fd: int) -> int:
    return struct.unpack("Q", os.pread(fd, 8, 0) if hasattr(os, "pread") else os.read(fd, 8))[0]


class RaplPerfMeter:
    """Package (domain='package') or DRAM (domain='dram') energy through the perf `power` PMU, no root needed."""

    kind = MEASURED

    def __init__(self, domain: str = "package", pmu_root: str = PMU_ROOT, *, host: str | None = None,
                 opener=perf_open, reader=perf_read, closer=os.close):
        if domain not in EVENTS:
            raise ValueError(f"domain must be one of {sorted(EVENTS)}, got {domain!r}")
        self.domain = domain
        self.name = f"rapl-perf-{domain}"
        self.component = EVENTS[domain][1]
        self.pmu_root = pmu_root
        self.host = host or hostname()
        self._open, self._read, self._close = opener, reader, closer
        self._fds: list[tuple[str, int, int]] = []   # (label, fd, start count)
        self.scale = 0.0
        self.source = f"RAPL {domain} energy through perf events ({pmu_root})"

    def start(self) -> None:
        event = EVENTS[self.domain][0]
        if not os.path.isdir(self.pmu_root):
            raise MeterUnavailable(f"RAPL perf: {self.pmu_root} does not exist (no RAPL perf PMU: not Linux, a VM, "
                                   "or a CPU without RAPL)")
        try:
            pmu_type = int(_read(os.path.join(self.pmu_root, "type")))
            config = _event_config(_read(os.path.join(self.pmu_root, "events", event)))
            self.scale = float(_read(os.path.join(self.pmu_root, "events", f"{event}.scale")))
            cpus = sorted(parse_cpu_list(_read(os.path.join(self.pmu_root, "cpumask"))))
        except (OSError, ValueError) as e:
            raise MeterUnavailable(f"RAPL perf: no {event} event under {self.pmu_root} ({e})") from None
        try:
            for i, cpu in enumerate(cpus):
                fd = self._open(pmu_type, config, cpu)
                self._fds.append((f"package-{i}" + ("/dram" if self.domain == "dram" else ""), fd, self._read(fd)))
        except OSError as e:
            self.close()
            if e.errno in (1, 13):  # EPERM, EACCES
                try:
                    paranoid = _read("/proc/sys/kernel/perf_event_paranoid")
                except OSError:
                    paranoid = "?"
                raise MeterUnavailable(
                    f"RAPL perf: permission denied opening {event} (kernel.perf_event_paranoid={paranoid}; CPU-wide "
                    "events need <= 0 or CAP_PERFMON). To enable: sudo sysctl kernel.perf_event_paranoid=0, or "
                    "sudo setcap cap_perfmon+ep <your python>") from None
            raise MeterUnavailable(f"RAPL perf: cannot open {event} ({e})") from None
        if not self._fds:
            raise MeterUnavailable(f"RAPL perf: {self.pmu_root}/cpumask lists no CPU")
        self.source = (f"RAPL {self.domain} energy through perf events ({event}, {len(self._fds)} package(s)), whole "
                       f"socket incl. other processes; range +/-{RELATIVE_ERROR:.0%} (Khan et al. 2018; wattwise "
                       "assumption)")

    def read(self) -> list[Reading]:
        out = []
        for label, fd, c0 in self._fds:
            e = (self._read(fd) - c0) * self.scale
            out.append(Reading(f"{self.host}/rapl/{label}", self.component, e, e * (1 - RELATIVE_ERROR),
                               e * (1 + RELATIVE_ERROR), MEASURED, label))
        return out

    def close(self) -> None:
        for _, fd, _ in self._fds:
            try:
                self._close(fd)
            except OSError:
                pass
        self._fds = []
