"""NVIDIA GPU energy through NVML (`nvidia-ml-py`, module `pynvml`).

Per device: the total-energy counter `nvmlDeviceGetTotalEnergyConsumption` (mJ since driver load; Volta and
later) where the GPU has it, else board power `nvmlDeviceGetPowerUsage` (mW) sampled at every `read()` and
integrated with the trapezoid rule. Devices are those in CUDA_VISIBLE_DEVICES (indices or UUID prefixes, CUDA's
rules: the list stops at the first invalid entry) and are identified by UUID, so ranks sharing a GPU count it
once. The `pynvml` module is injectable for tests.

MIG: NVML reads power and energy only for the whole board, not per MIG slice. A MIG device named in
CUDA_VISIBLE_DEVICES (`MIG-<uuid>`) is measured as its parent board's energy x the slice's share of the board's
compute: compute slices of its compute instance (nvmlDeviceGetAttributes: computeInstanceSliceCount, else
gpuInstanceSliceCount, else the '<n>g' / '<n>c.' of its profile name) / the board's compute slices (7 on A100,
H100, H200, B200; 4 on A30: NVIDIA MIG User Guide, "Supported GPUs"). That attribution is a wattwise assumption
(idle slices and shared memory draw power too), so slices are 'estimated' with a x0.5-x1.5 range.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

from .base import ESTIMATED, MEASURED, MeterUnavailable, Reading, hostname

# nvidia-smi(1), "Power Draw": "accurate to within +/- 5 watts" -> energy range = +/- 5 W x duration per GPU.
POWER_ERROR_W = 5.0


@dataclass
class Device:
    index: int
    uuid: str
    name: str
    handle: Any
    counter: bool              # True: energy counter; False: power sampling
    power_limit_w: float | None
    start_mj: float = 0.0
    energy_j: float = 0.0      # sampling mode: integrated energy
    last_t: float = 0.0
    last_power_w: float | None = None
    samples: int = 0
    share: float = 1.0         # MIG slice: fraction of the parent board's energy
    parent_uuid: str = ""


def _text(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def visible_devices(env: str | None, count: int) -> list[int | str]:
    """Entries of CUDA_VISIBLE_DEVICES: ints (indices) or str (UUID prefixes); None = all `count` devices."""
    if env is None:
        return list(range(count))
    out: list[int | str] = []
    for item in env.split(","):
        item = item.strip()
        if not item:
            break
        if item.lstrip("-").isdigit():
            i = int(item)
            if i < 0 or i >= count:
                break  # CUDA ignores this entry and all after it
            out.append(i)
        elif item.startswith(("GPU-", "MIG-")):
            out.append(item)
        else:
            break
    return out


def mig_total_slices(parent_name: str) -> int:
    """Compute slices of a MIG-capable board: 4 on A30, 7 on A100/H100/H200/B200 (NVIDIA MIG User Guide)."""
    return 4 if "A30" in parent_name else 7


def mig_profile_slices(name: str) -> int | None:
    """Compute slices from a MIG profile in a device name: '... MIG 3g.40gb' -> 3, '... MIG 1c.3g.40gb' -> 1."""
    m = re.search(r"MIG\s+(?:(\d+)c\.)?(\d+)g\.", name)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def mig_devices(nv, handles: list) -> list[tuple[int, str, str, float]]:
    """(parent index, MIG UUID, name, share of the parent's compute) of every MIG device on boards in MIG mode."""
    out = []
    for pi, h in enumerate(handles):
        try:
            current = nv.nvmlDeviceGetMigMode(h)[0]
        except Exception:  # not MIG-capable
            continue
        if not current:
            continue
        parent_name = _text(nv.nvmlDeviceGetName(h))
        total = mig_total_slices(parent_name)
        try:
            n = nv.nvmlDeviceGetMaxMigDeviceCount(h)
        except Exception:
            n = total
        for i in range(n):
            try:
                mh = nv.nvmlDeviceGetMigDeviceHandleByIndex(h, i)
            except Exception:  # NVMLError_NotFound: no MIG device at this index
                continue
            uuid = _text(nv.nvmlDeviceGetUUID(mh))
            try:
                name = _text(nv.nvmlDeviceGetName(mh))
            except Exception:
                name = f"{parent_name} MIG"
            slices = None
            try:
                a = nv.nvmlDeviceGetAttributes(mh)
                slices = getattr(a, "computeInstanceSliceCount", 0) or getattr(a, "gpuInstanceSliceCount", 0) or None
            except Exception:
                pass
            slices = slices or mig_profile_slices(name) or 1
            out.append((pi, uuid, name, min(slices / total, 1.0)))
    return out


def load_pynvml():
    try:
        import pynvml  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError:
        raise MeterUnavailable("NVML: the Python module pynvml is missing: pip install 'wattwise[nvidia]' "
                               "(nvidia-ml-py)") from None
    return pynvml


class NvmlMeter:
    """Energy of the visible NVIDIA GPUs. `sampling=True` forces power sampling even where a counter exists.

    Under torchrun (`local_rank`, `local_world_size` given) with as many visible GPUs as local ranks, a rank
    measures only its own GPU; otherwise every visible GPU (the ledger counts each UUID once).
    """

    name = "nvml"
    component = "gpu"
    kind = MEASURED

    def __init__(self, pynvml=None, *, visible: str | None = None, sampling: bool = False,
                 local_rank: int | None = None, local_world_size: int | None = None, host: str | None = None,
                 clock=time.monotonic):
        self._nv = pynvml
        self._visible = visible if visible is not None else os.environ.get("CUDA_VISIBLE_DEVICES")
        self._force_sampling = sampling
        self._local = (local_rank, local_world_size)
        self.host = host or hostname()
        self._clock = clock
        self.devices: list[Device] = []
        self._t0 = 0.0
        self._init = False
        self.source = "NVML"

    def start(self) -> None:
        if self._nv is None and sys.platform.startswith("linux") and not any(
                os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")):
            raise MeterUnavailable("NVML: no NVIDIA device (no /dev/nvidiactl): no GPU or driver on this machine")
        nv = self._nv or load_pynvml()
        self._nv = nv
        try:
            nv.nvmlInit()
        except Exception as e:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            raise MeterUnavailable(f"NVML: cannot initialise ({type(e).__name__}: {e}); is an NVIDIA driver "
                                   "installed and a GPU visible?") from None
        self._init = True
        try:
            count = nv.nvmlDeviceGetCount()
            handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [_text(nv.nvmlDeviceGetUUID(h)) for h in handles]
            wanted = visible_devices(self._visible, count)
            chosen: list[int] = []
            migs: list[tuple[int, str, str, float]] = []  # (parent index, MIG UUID, name, share)
            mig_index = None
            for w in wanted:
                if isinstance(w, int):
                    chosen.append(w)
                elif w.startswith("MIG-"):
                    if mig_index is None:
                        mig_index = mig_devices(nv, handles)
                    match = [m for m in mig_index if m[1].startswith(w) or w.startswith(f"MIG-{uuids[m[0]]}")]
                    if len(match) != 1:
                        break
                    migs.append(match[0])
                else:
                    match = [i for i, u in enumerate(uuids) if u.startswith(w)]
                    if len(match) != 1:
                        break
                    chosen.append(match[0])
            lr, lws = self._local
            if lr is not None and lws is not None and len(chosen) == lws and 0 <= lr < lws:
                chosen = [chosen[lr]]  # one GPU per local rank (torchrun convention); else all, deduplicated by UUID
            now = self._clock()
            for i in dict.fromkeys(chosen):
                h = handles[i]
                counter, start_mj = False, 0.0
                if not self._force_sampling:
                    try:
                        start_mj = float(nv.nvmlDeviceGetTotalEnergyConsumption(h))
                        counter = True
                    except Exception:  # NVMLError_NotSupported on pre-Volta and some boards
                        counter = False
                try:
                    limit_w = nv.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0
                except Exception:
                    limit_w = None
                d = Device(i, uuids[i], _text(nv.nvmlDeviceGetName(h)), h, counter, limit_w, start_mj, last_t=now)
                if not counter:
                    d.last_power_w = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
                    d.samples = 1
                self.devices.append(d)
            for parent, mig_uuid, mig_name, share in dict.fromkeys(migs):
                h = handles[parent]
                counter, start_mj = False, 0.0
                if not self._force_sampling:
                    try:
                        start_mj = float(nv.nvmlDeviceGetTotalEnergyConsumption(h))
                        counter = True
                    except Exception:
                        counter = False
                d = Device(parent, mig_uuid, mig_name, h, counter, None, start_mj, last_t=now, share=share,
                           parent_uuid=uuids[parent])
                if not counter:
                    d.last_power_w = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
                    d.samples = 1
                self.devices.append(d)
        except MeterUnavailable:
            raise
        except Exception as e:
            self.close()
            raise MeterUnavailable(f"NVML: cannot query devices ({type(e).__name__}: {e})") from None
        if not self.devices:
            self.close()
            raise MeterUnavailable(f"NVML: no visible GPU (CUDA_VISIBLE_DEVICES={self._visible!r})")
        self._t0 = now
        modes = sorted({"energy counter" if d.counter else "power sampling (trapezoid)" for d in self.devices})
        self.source = (f"NVML {' + '.join(modes)} on {len(self.devices)} GPU(s); range +/-{POWER_ERROR_W:g} W x "
                       "duration per GPU (nvidia-smi power accuracy)")
        mig = [d for d in self.devices if d.share < 1.0]
        if mig:
            self.source += ("; MIG slices: parent board energy x compute-slice share (" + ", ".join(
                f"{d.name} {d.share:.3g}" for d in mig) + "), range x0.5-x1.5 (wattwise assumption)")

    def read(self) -> list[Reading]:
        nv = self._nv
        now = self._clock()
        out = []
        for d in self.devices:
            if d.counter:
                e = (float(nv.nvmlDeviceGetTotalEnergyConsumption(d.handle)) - d.start_mj) / 1000.0
                e = max(e, 0.0)
            else:
                p = nv.nvmlDeviceGetPowerUsage(d.handle) / 1000.0
                dt = now - d.last_t
                if dt > 0:
                    prev = d.last_power_w if d.last_power_w is not None else p
                    d.energy_j += 0.5 * (prev + p) * dt
                d.last_t, d.last_power_w = now, p
                d.samples += 1
                e = d.energy_j
            err = POWER_ERROR_W * max(now - self._t0, 0.0)
            if d.share < 1.0:
                lo, hi = max(e - err, 0.0) * d.share * 0.5, (e + err) * min(d.share * 1.5, 1.0)
                e *= d.share
                out.append(Reading(f"{self.host}/gpu/{d.uuid}", "gpu", e, min(lo, e), max(hi, e), ESTIMATED,
                                   f"{d.name} ({d.share:.3g} of {d.parent_uuid})"))
                continue
            out.append(Reading(f"{self.host}/gpu/{d.uuid}", "gpu", e, max(e - err, 0.0), e + err, MEASURED, d.name))
        return out

    def power_w(self) -> list[float | None]:
        """Instantaneous board power per device (for reports and the GPU check)."""
        out = []
        for d in self.devices:
            try:
                out.append(self._nv.nvmlDeviceGetPowerUsage(d.handle) / 1000.0)
            except Exception:
                out.append(None)
        return out

    def close(self) -> None:
        if self._init:
            try:
                self._nv.nvmlShutdown()
            except Exception:
                pass
            self._init = False


def catalog_gpu(nvml_name: str):
    """The catalog accelerator for an NVML device name, or None (the catalog knows NVML's names, with or
    without the vendor prefix)."""
    from .. import catalog
    from ..errors import WattwiseError
    nvml_name = re.sub(r"\s+MIG\s+\S+$", "", nvml_name.strip())  # a MIG slice is its parent board's model
    try:
        return catalog.gpu(nvml_name)
    except WattwiseError:
        return None
