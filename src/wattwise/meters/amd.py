"""AMD GPU energy through AMD SMI (`amdsmi`, ROCm 6+; the module is injectable for tests).

Per device: the energy accumulator `amdsmi_get_energy_count` (ticks x `counter_resolution` microjoules; the
field is 'energy_accumulator' in ROCm 6.1+, 'power' before) where the GPU has it, else socket power from
`amdsmi_get_power_info` ('socket_power' in ROCm 7, else 'current_socket_power', else 'average_socket_power', W)
sampled at every `read()` and integrated with the trapezoid rule.

Devices are identified by UUID (`amdsmi_get_gpu_device_uuid`) with the PCI BDF as label, and chosen as the ROCm
runtime does: ROCR_VISIBLE_DEVICES (indices or UUIDs 'GPU-...') first, then HIP_VISIBLE_DEVICES (else
CUDA_VISIBLE_DEVICES, which HIP also honours) as indices into what is left. amdsmi's handle order is taken as
the runtime's enumeration order (both sort by PCI bus; an assumption recorded in `source`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from .base import MEASURED, MeterUnavailable, Reading, hostname

# wattwise assumption: as NVML's +/-5 W (AMD publishes no accuracy figure for socket power)
POWER_ERROR_W = 5.0
_UJ = 1e-6


@dataclass
class AmdDevice:
    index: int
    uuid: str
    bdf: str
    name: str
    handle: Any
    counter: bool
    start_j: float = 0.0
    energy_j: float = 0.0
    last_t: float = 0.0
    last_power_w: float | None = None


def _norm(uuid: str) -> str:
    """'GPU-5d4e-3f2a' and '5d4e3f2a' compare equal: case, a 'GPU-' prefix and dashes ignored (best effort: the
    runtime and amdsmi may format the same UUID differently)."""
    u = uuid.strip().lower()
    return (u[4:] if u.startswith("gpu-") else u).replace("-", "")


def _select(items: list[str], env: str | None) -> list[int]:
    """Positions in `items` (UUIDs) chosen by a *_VISIBLE_DEVICES value: indices or UUID prefixes, stopping at the
    first invalid entry; None = all."""
    if env is None:
        return list(range(len(items)))
    out: list[int] = []
    for tok in env.split(","):
        tok = tok.strip()
        if not tok:
            break
        if tok.lstrip("-").isdigit():
            i = int(tok)
            if not 0 <= i < len(items):
                break
            out.append(i)
        else:
            key = _norm(tok)
            m = [i for i, u in enumerate(items) if key and _norm(u).startswith(key)]
            if len(m) != 1:
                break
            out.append(m[0])
    return list(dict.fromkeys(out))


def visible_indices(uuids: list[str], env: dict | None = None) -> list[int]:
    """amdsmi positions the process can use under ROCR_VISIBLE_DEVICES then HIP_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES."""
    env = os.environ if env is None else env
    first = _select(uuids, env.get("ROCR_VISIBLE_DEVICES"))
    hip = env.get("HIP_VISIBLE_DEVICES", env.get("CUDA_VISIBLE_DEVICES"))
    second = _select([uuids[i] for i in first], hip)
    return [first[j] for j in second]


def load_amdsmi():
    try:
        import amdsmi  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError:
        raise MeterUnavailable("AMD SMI: the Python module amdsmi is missing: install the one matching your ROCm "
                               "(pip install amdsmi, or /opt/rocm/share/amd_smi)") from None
    return amdsmi


def _energy_j(info: dict) -> float:
    ticks = info.get("energy_accumulator", info.get("power"))
    return float(ticks) * float(info.get("counter_resolution", 1.0)) * _UJ


def _power_w(info: dict) -> float:
    for k in ("socket_power", "current_socket_power", "average_socket_power"):
        v = info.get(k)
        if isinstance(v, (int, float)) and v > 0 and v != 0xFFFF:
            return float(v)
    raise ValueError(f"no socket power in {sorted(info)}")


class AmdSmiMeter:
    """Energy of the visible AMD GPUs. `sampling=True` forces power sampling even where a counter exists."""

    name = "amdsmi"
    component = "gpu"
    kind = MEASURED

    def __init__(self, amdsmi=None, *, env: dict | None = None, sampling: bool = False, host: str | None = None,
                 clock=time.monotonic):
        self._smi = amdsmi
        self._env = env
        self._force_sampling = sampling
        self.host = host or hostname()
        self._clock = clock
        self.devices: list[AmdDevice] = []
        self._t0 = 0.0
        self._init = False
        self.source = "AMD SMI"

    def start(self) -> None:
        if self._smi is None and not os.path.exists("/dev/kfd"):
            raise MeterUnavailable("AMD SMI: no AMD GPU (no /dev/kfd): no ROCm driver on this machine")
        smi = self._smi or load_amdsmi()
        self._smi = smi
        try:
            smi.amdsmi_init()
        except Exception as e:  # AmdSmiLibraryException: driver not loaded, ...
            raise MeterUnavailable(f"AMD SMI: cannot initialise ({type(e).__name__}: {e}); is the amdgpu driver "
                                   "loaded?") from None
        self._init = True
        try:
            handles = list(smi.amdsmi_get_processor_handles())
            uuids = [str(smi.amdsmi_get_gpu_device_uuid(h)) for h in handles]
            now = self._clock()
            for i in visible_indices(uuids, self._env):
                h = handles[i]
                try:
                    name = str(smi.amdsmi_get_gpu_asic_info(h).get("market_name") or "AMD GPU")
                except Exception:
                    name = "AMD GPU"
                try:
                    bdf = str(smi.amdsmi_get_gpu_device_bdf(h))
                except Exception:
                    bdf = ""
                d = AmdDevice(i, uuids[i], bdf, name, h, False, last_t=now)
                if not self._force_sampling:
                    try:
                        d.start_j = _energy_j(smi.amdsmi_get_energy_count(h))
                        d.counter = True
                    except Exception:  # not supported on this GPU
                        d.counter = False
                if not d.counter:
                    d.last_power_w = _power_w(smi.amdsmi_get_power_info(h))
                self.devices.append(d)
        except MeterUnavailable:
            raise
        except Exception as e:
            self.close()
            raise MeterUnavailable(f"AMD SMI: cannot query devices ({type(e).__name__}: {e})") from None
        if not self.devices:
            self.close()
            raise MeterUnavailable("AMD SMI: no visible GPU (ROCR_VISIBLE_DEVICES="
                                   f"{(self._env or os.environ).get('ROCR_VISIBLE_DEVICES')!r}, HIP_VISIBLE_DEVICES="
                                   f"{(self._env or os.environ).get('HIP_VISIBLE_DEVICES')!r})")
        self._t0 = now
        modes = sorted({"energy counter" if d.counter else "socket power sampling (trapezoid)" for d in self.devices})
        bdfs = ", ".join(d.bdf for d in self.devices)
        self.source = (f"AMD SMI {' + '.join(modes)} on {len(self.devices)} GPU(s) ({bdfs}); "
                       f"range +/-{POWER_ERROR_W:g} W x duration per GPU (wattwise assumption); devices chosen by "
                       "ROCR/HIP_VISIBLE_DEVICES in amdsmi handle order")

    def read(self) -> list[Reading]:
        smi = self._smi
        now = self._clock()
        out = []
        for d in self.devices:
            if d.counter:
                e = max(_energy_j(smi.amdsmi_get_energy_count(d.handle)) - d.start_j, 0.0)
            else:
                p = _power_w(smi.amdsmi_get_power_info(d.handle))
                dt = now - d.last_t
                if dt > 0:
                    prev = d.last_power_w if d.last_power_w is not None else p
                    d.energy_j += 0.5 * (prev + p) * dt
                d.last_t, d.last_power_w = now, p
                e = d.energy_j
            err = POWER_ERROR_W * max(now - self._t0, 0.0)
            out.append(Reading(f"{self.host}/gpu/{d.uuid}", "gpu", e, max(e - err, 0.0), e + err, MEASURED,
                               f"{d.name} ({d.bdf})" if d.bdf else d.name))
        return out

    def close(self) -> None:
        if self._init:
            try:
                self._smi.amdsmi_shut_down()
            except Exception:
                pass
            self._init = False
