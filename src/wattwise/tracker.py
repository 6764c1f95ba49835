"""Measure a block of code, a function or a whole command, and record it in the ledger.

    with Tracker("train", project="demo", region="FR") as t:
        for batch in loader:
            ...
            t.step(flops=6 * n_params * tokens_in_batch)
    print(t.footprint.co2e_kg)

- A background thread reads the meters every `interval_s` and appends a checkpoint to the ledger, so a
  SIGKILL loses at most one interval; SIGTERM/SIGINT and exceptions write the record (status 'interrupted' or
  'failed') and then chain to the handlers that were installed before.
- Meters per component, each with fallbacks: GPU NVML counter -> NVML power sampling; CPU RAPL package ->
  TDP x utilisation (estimate); memory RAPL DRAM -> W/GB model (estimate). A meter that raises mid-run hands
  over to the next with one warning. The tracker never raises into user code (bad explicit arguments are
  rejected at construction, before any work).
- Region and PUE: arguments, else WATTWISE_REGION / WATTWISE_PUE, else the config file
  ($WATTWISE_CONFIG, else $WATTWISE_HOME/config.toml or ~/.wattwise/config.toml, keys region, pue,
  interval_s, project). An unknown location stays unknown: CO2e uses the world average as a labelled range.
  No network call is made.
- Under torchrun every rank writes its part under one shared run id; totals count each device once.

Only the standard library is imported here; meters import their drivers when started.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import secrets
import signal
import socket
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from .errors import WattwiseError
from .footprint import Footprint

DEFAULT_INTERVAL_S = 1.0


class TrackerWarning(RuntimeWarning):
    """Something could not be measured or recorded; the job goes on."""


def _warn(msg: str) -> None:
    warnings.warn(msg, TrackerWarning, stacklevel=3)


# --- configuration ------------------------------------------------------------------------------------------------

def config_path() -> Path:
    if os.environ.get("WATTWISE_CONFIG"):
        return Path(os.environ["WATTWISE_CONFIG"]).expanduser()
    home = os.environ.get("WATTWISE_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".wattwise") / "config.toml"


def read_config(path: Path | None = None) -> dict[str, Any]:
    """The config file's keys (region, pue, interval_s, project), or {} if absent or unreadable."""
    path = path or config_path()
    try:
        text = path.read_bytes()
    except OSError:
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return {}
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except Exception as e:  # noqa: BLE001
        _warn(f"wattwise: ignoring unreadable config {path}: {e}")
        return {}
    return data.get("wattwise", data) if isinstance(data, dict) else {}


def resolve_location(region: str | None, pue: float | str | None, cfg: dict | None = None) -> dict[str, Any]:
    """Region (zone), intensity and PUE with their sources, resolved by wattwise.assumptions (as an estimate's).

    Explicit arguments must be valid (WattwiseError otherwise); environment and config values that do not
    resolve are reported with a warning and treated as unknown.
    """
    from . import assumptions
    cfg = read_config() if cfg is None else cfg
    loc = assumptions.location(
        region, pue, warn=_warn,
        fallbacks_region=[("WATTWISE_REGION", os.environ.get("WATTWISE_REGION")),
                          (f"config {config_path()}", cfg.get("region"))],
        fallbacks_pue=[("WATTWISE_PUE", os.environ.get("WATTWISE_PUE")), ("config", cfg.get("pue"))])
    return {"region": loc.region, "location_known": loc.known, "intensity_g_per_kwh": loc.intensity_g_per_kwh.range,
            "pue": loc.pue.range, "sources": {"intensity": loc.intensity_g_per_kwh.basis, "pue": loc.pue.basis}}


# --- run ids and ranks --------------------------------------------------------------------------------------------

_SEQ = {"n": 0}
_SEQ_LOCK = threading.Lock()


def _proc_start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:].split()[19].decode()
    except (OSError, IndexError, ValueError):
        return ""


def dist_env() -> dict[str, int] | None:
    """rank, world_size, local_rank, local_world_size from the torchrun environment, or None."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        return None
    if world <= 1 and "RANK" not in os.environ:
        return None
    local_rank = os.environ.get("LOCAL_RANK")
    local_world = os.environ.get("LOCAL_WORLD_SIZE")
    return {"rank": rank, "world_size": world,
            "local_rank": int(local_rank) if local_rank and local_rank.isdigit() else None,
            "local_world_size": int(local_world) if local_world and local_world.isdigit() else None}


def shared_run_id(name: str | None, seq: int) -> str | None:
    """The run id every rank of one distributed job derives alike, or None outside one.

    WATTWISE_RUN_ID wins; else TORCHELASTIC_RUN_ID (torchrun: a fresh uuid with --standalone, the --rdzv-id
    otherwise) with MASTER_ADDR/PORT; else MASTER_ADDR/PORT and the launching parent process (pid and start
    time: ranks spawned by one launcher on one host). The tracker's name and sequence number in the process
    separate several trackers of one job.
    """
    if os.environ.get("WATTWISE_RUN_ID"):
        base = os.environ["WATTWISE_RUN_ID"]
        return base if seq == 0 else f"{base}-{seq}"
    if dist_env() is None:
        return None
    elastic = os.environ.get("TORCHELASTIC_RUN_ID")
    master = f"{os.environ.get('MASTER_ADDR', '')}:{os.environ.get('MASTER_PORT', '')}"
    if elastic and elastic != "none":
        key = f"elastic|{elastic}|{master}"
    else:
        ppid = os.getppid()
        key = f"spawn|{master}|{socket.gethostname()}|{ppid}|{_proc_start_ticks(ppid)}"
    digest = hashlib.sha1(f"{key}|{name}|{seq}".encode()).hexdigest()[:12]
    return f"dist-{digest}"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


# --- meters with fallbacks ----------------------------------------------------------------------------------------

class _Slot:
    """One component's chain of meters: the active one, and energy banked from meters that failed."""

    def __init__(self, component: str, candidates: list, warn: Callable[[str], None]):
        self.component = component
        self.candidates = list(candidates)
        self.warn = warn
        self.meter = None
        self.used: list = []
        self.notes: list[str] = []
        self.banked: dict[str, dict] = {}
        self.last: list = []

    def start_next(self) -> bool:
        from .meters.base import MeterUnavailable
        while self.candidates:
            c = self.candidates.pop(0)
            m = None
            try:
                m = c() if not hasattr(c, "read") else c
                m.start()
            except MeterUnavailable as e:
                self.notes.append(str(e))
                if "Fix:" in str(e):
                    self.warn(f"wattwise: {e}")
                # the same source's other modes (NVML sampling after NVML counter) cannot start either
                name = getattr(m, "name", None)
                while self.candidates and name is not None:
                    nxt = self.candidates[0]
                    nxt = nxt() if not hasattr(nxt, "read") else nxt
                    if getattr(nxt, "name", None) != name:
                        self.candidates[0] = nxt
                        break
                    self.candidates.pop(0)
                continue
            except Exception as e:  # noqa: BLE001
                name = getattr(m, "name", getattr(c, "__name__", "meter"))
                self.notes.append(f"{name}: {type(e).__name__}: {e}")
                self.warn(f"wattwise: {self.component} meter {name} failed to start ({type(e).__name__}: {e}); "
                          "using the next fallback")
                continue
            self.meter = m
            self.used.append(m)
            self.last = []
            return True
        self.meter = None
        return False

    def _bank(self) -> None:
        for r in self.last:
            b = self.banked.get(r.device)
            d = {"device": r.device, "component": r.component, "energy_j": r.energy_j, "low_j": r.low_j,
                 "high_j": r.high_j, "kind": r.kind, "label": r.label}
            if b is not None:
                for k in ("energy_j", "low_j", "high_j"):
                    d[k] += b[k]
                if b["kind"] != d["kind"]:
                    d["kind"] = "estimated"
            self.banked[r.device] = d
        self.last = []

    def read(self) -> list[dict]:
        while self.meter is not None:
            try:
                self.last = list(self.meter.read())
                break
            except Exception as e:  # noqa: BLE001 - a failing meter never reaches user code
                old = self.meter
                self._bank()
                try:
                    old.close()
                except Exception:  # noqa: BLE001
                    pass
                self.start_next()
                nxt = getattr(self.meter, "name", None)
                msg = (f"wattwise: {self.component} meter {old.name} failed ({type(e).__name__}: {e}); "
                       + (f"falling back to {nxt}" if nxt else "no fallback left: this component stops counting"))
                self.notes.append(msg)
                self.warn(msg)
        out = dict(self.banked)
        for r in self.last:
            d = {"device": r.device, "component": r.component, "energy_j": r.energy_j, "low_j": r.low_j,
                 "high_j": r.high_j, "kind": r.kind, "label": r.label}
            b = out.get(r.device)
            if b is not None:
                for k in ("energy_j", "low_j", "high_j"):
                    d[k] += b[k]
                if b["kind"] != d["kind"]:
                    d["kind"] = "estimated"
            out[r.device] = d
        return list(out.values())

    def source(self) -> str:
        parts = [f"{m.name} ({m.kind}): {m.source}" for m in self.used]
        if self.notes:
            parts.append("not used: " + "; ".join(self.notes))
        return " | ".join(parts) or "none"

    def close(self) -> None:
        for m in self.used:
            try:
                m.close()
            except Exception:  # noqa: BLE001
                pass


NVML_NAMES = {  # nvmlDeviceGetName -> catalog accelerator id
    "NVIDIA H100 80GB HBM3": "nvidia_h100_sxm5_80gb", "NVIDIA H100 PCIe": "nvidia_h100_pcie_80gb",
    "NVIDIA H100 NVL": "nvidia_h100_nvl_94gb", "NVIDIA H200": "nvidia_h200_sxm_141gb",
    "NVIDIA H200 141GB HBM3e": "nvidia_h200_sxm_141gb",
    "NVIDIA A100-SXM4-80GB": "nvidia_a100_sxm4_80gb", "NVIDIA A100-SXM4-40GB": "nvidia_a100_sxm4_40gb",
    "NVIDIA A100-PCIE-40GB": "nvidia_a100_pcie_40gb", "NVIDIA A100 80GB PCIe": "nvidia_a100_pcie_80gb",
}


def catalog_gpu(nvml_name: str):
    """The catalog accelerator for an NVML device name, or None."""
    from . import catalog
    for name in (NVML_NAMES.get(nvml_name), nvml_name, nvml_name.replace("NVIDIA ", "", 1),
                 nvml_name.replace("Tesla ", "", 1)):
        if not name:
            continue
        try:
            return catalog.gpu(name)
        except WattwiseError:
            continue
    return None


_LEDGERS: dict[tuple[int, str], Any] = {}
_LEDGERS_LOCK = threading.Lock()


def _shared_ledger(path):
    """One open Ledger per (process, path), reused by every tracker (opening and closing costs ~15 ms)."""
    from .ledger import Ledger, default_path
    key = (os.getpid(), str(Path(path).expanduser() if path is not None else default_path()))
    with _LEDGERS_LOCK:
        led = _LEDGERS.get(key)
        if led is None or led._con is None:
            led = _LEDGERS[key] = Ledger(path)
        return led


@atexit.register
def _close_ledgers() -> None:
    for led in list(_LEDGERS.values()):
        try:
            led.close()
        except Exception:  # noqa: BLE001
            pass


# --- the tracker --------------------------------------------------------------------------------------------------

class Tracker:
    """Measure energy, carbon and cost of the work between start and stop; see the module docstring.

    ledger: a path, a `Ledger`, None (default ledger) or False (do not record).
    meters: replaces the default meters: Meter objects (or factories), grouped by component in the given
      order; the first of a component is used, the next ones are its fallbacks.
    pid: measure another process tree (used by `wattwise run`); default this process and its children.
    """

    def __init__(self, name: str | None = None, *, project: str | None = None, tags=(), region: str | None = None,
                 pue: float | str | None = None, interval_s: float | None = None, ledger: Any = None,
                 meters: list | None = None, flops_per_step: float | None = None, gpu: str | None = None,
                 dtype: str = "bf16", usd_per_kwh: float | None = None, usd_per_gpu_hour: float | None = None,
                 pid: int | None = None, run_id: str | None = None, handle_signals: bool = True,
                 nvml=None, rapl_root: str | None = None, config: dict | None = None,
                 extra: dict | None = None):
        from ._checks import check_number
        cfg = read_config() if config is None else config
        self.name = name
        self.project = project if project is not None else cfg.get("project")
        self.tags = [tags] if isinstance(tags, str) else list(tags or ())
        iv = interval_s if interval_s is not None else (os.environ.get("WATTWISE_INTERVAL")
                                                        or cfg.get("interval_s") or DEFAULT_INTERVAL_S)
        self.interval_s = check_number("interval_s", iv)
        self.flops_per_step = None if flops_per_step is None else check_number("flops_per_step", flops_per_step)
        self.usd_per_kwh = None if usd_per_kwh is None else check_number("usd_per_kwh", usd_per_kwh, allow_zero=True)
        self.usd_per_gpu_hour = (None if usd_per_gpu_hour is None else
                                 check_number("usd_per_gpu_hour", usd_per_gpu_hour, allow_zero=True))
        self.gpu = gpu
        if gpu is not None:
            from . import catalog
            self._gpu_acc = catalog.gpu(gpu)
            self._gpu_acc.peak(dtype)  # validate early
        else:
            self._gpu_acc = None
        self.dtype = dtype
        self._region, self._pue, self._cfg = region, pue, cfg
        # explicit values are checked now (an error before any work); env/config ones when first needed
        self._location = resolve_location(region, pue, cfg) if region is not None or pue is not None else None
        self._ledger_arg = ledger if ledger is not None else cfg.get("ledger")
        self._meters_arg = meters
        self._pid = pid
        self._run_id_arg = run_id
        self.handle_signals = handle_signals
        self._nvml = nvml
        self._rapl_root = rapl_root
        self.extra = dict(extra or {})
        self._reset_state()

    @property
    def location(self) -> dict[str, Any]:
        """Region, intensity and PUE (ranges) with sources; resolved from env/config on first use."""
        if self._location is None:
            self._location = resolve_location(self._region, self._pue, self._cfg)
        return self._location

    # public API
    def start(self) -> "Tracker":
        """Start measuring (no-op if running). Never raises."""
        with self._lock:
            if self._running:
                return self
            try:
                self._start()
            except Exception as e:  # noqa: BLE001
                self._warn_once("start", f"wattwise: tracker could not start ({type(e).__name__}: {e}); "
                                         "the job runs unmeasured")
                self._running = False
        return self

    def stop(self, status: str | None = None, error: str | None = None) -> Footprint | None:
        """Stop, write the final record, return this process's footprint. Never raises."""
        with self._lock:
            if not self._running or self._stopping:
                return self.footprint
            self._stopping = True
        try:
            self._stop(status or "ok", error)
        except Exception as e:  # noqa: BLE001
            self._warn_once("stop", f"wattwise: tracker could not finish the record ({type(e).__name__}: {e})")
        finally:
            with self._lock:
                self._running = False
                self._stopping = False
        return self.footprint

    def annotate(self, **fields: Any) -> None:
        """Add fields (results, metrics) to the run's context; the next checkpoint and the final record carry
        them, so a record written at stop is whole in one write. Never raises."""
        with self._lock:
            self.extra.update(fields)
            ctx = getattr(self, "ctx", None)
            if isinstance(ctx, dict):  # already built by the sampler thread: update in place
                ctx.update(fields)

    def step(self, flops: float | None = None, n: int = 1) -> None:
        """Count `n` steps and their FLOPs (default flops_per_step x n) for achieved FLOP/s and MFU."""
        try:
            self._steps += n
            if flops is not None:
                self._flops += float(flops)
            elif self.flops_per_step is not None:
                self._flops += self.flops_per_step * n
        except Exception:  # noqa: BLE001
            pass

    def __enter__(self) -> "Tracker":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.stop("ok")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.stop("interrupted", "KeyboardInterrupt")
        elif issubclass(exc_type, SystemExit) and exc.code in (0, None):
            self.stop("ok")
        else:
            self.stop("failed", f"{exc_type.__name__}: {exc}")
        return False

    def __call__(self, fn: Callable) -> Callable:
        """Use as a decorator: every call of `fn` is one tracked run."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone(name=self.name or getattr(fn, "__qualname__", None)) as t:
                wrapper.last_tracker = t
                return fn(*args, **kwargs)
        wrapper.last_tracker = None
        return wrapper

    def clone(self, **changes) -> "Tracker":
        """A fresh tracker with the same settings (one per decorated call)."""
        t = object.__new__(Tracker)
        t.__dict__.update({k: v for k, v in self.__dict__.items()})
        t._reset_state()
        for k, v in changes.items():
            setattr(t, k, v)
        return t

    def _reset_state(self) -> None:
        self.run_id: str | None = None
        self.status: str | None = None
        self.footprint: Footprint | None = None
        self.record: dict | None = None
        self._lock = threading.RLock()
        self._running = self._stopping = False
        self._warned, self._warnings, self._prev_handlers = set(), [], {}
        self.ledger = self.error = None
        self._own_ledger = False
        self.exit_code = None
        self._flops, self._steps = 0.0, 0

    # internals
    def _warn_once(self, key: str, msg: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        self._warnings.append(msg)
        _warn(msg)

    def _default_candidates(self, dist: dict | None) -> dict[str, list]:
        from .meters import cpu_fallback, memory, nvml, rapl
        root = self._rapl_root or os.environ.get("WATTWISE_RAPL_ROOT") or rapl.DEFAULT_ROOT
        lr = dist.get("local_rank") if dist else None
        lws = dist.get("local_world_size") if dist else None
        nv = self._nvml
        return {
            "gpu": [lambda: nvml.NvmlMeter(nv, local_rank=lr, local_world_size=lws),
                    lambda: nvml.NvmlMeter(nv, sampling=True, local_rank=lr, local_world_size=lws)],
            "cpu": [lambda: rapl.RaplMeter("package", root), lambda: cpu_fallback.CpuTdpMeter(pid=self._pid)],
            "memory": [lambda: rapl.RaplMeter("dram", root), lambda: memory.MemoryModelMeter(pid=self._pid)],
        }

    def _start(self) -> None:
        dist = dist_env()
        self._dist = dist
        self.rank = dist["rank"] if dist else 0
        with _SEQ_LOCK:
            seq = _SEQ["n"]
            _SEQ["n"] += 1
        self.run_id = self._run_id_arg or shared_run_id(self.name, seq) or new_run_id()
        if self._meters_arg is not None:
            cands: dict[str, list] = {}
            for m in self._meters_arg:
                m = m if hasattr(m, "component") else m()
                cands.setdefault(m.component, []).append(m)
        else:
            cands = self._default_candidates(dist)
        self._slots = [_Slot(c, cs, lambda msg, c=c: self._warn_once(f"{c}:{msg}", msg)) for c, cs in cands.items()]
        self._start_wall = time.time()
        self._t0 = time.monotonic()
        for s in self._slots:
            s.start_next()
        self._part_info = {"interval_s": self.interval_s, "world_size": dist["world_size"] if dist else 1,
                           "local_rank": dist.get("local_rank") if dist else None, "warnings": self._warnings}
        self._prepared = False
        self._stop_event = threading.Event()
        self._running = True
        self.status = "running"
        self._install_signals()
        atexit.register(self._atexit)
        self._thread = threading.Thread(target=self._sampler, name="wattwise-sampler", daemon=True)
        self._thread.start()

    def _open_ledger(self):
        if self._ledger_arg is False:
            return None
        from .ledger import Ledger
        if isinstance(self._ledger_arg, Ledger):
            return self._ledger_arg
        try:
            return _shared_ledger(self._ledger_arg)
        except Exception as e:  # noqa: BLE001 - measure anyway, say why nothing is recorded
            self._warn_once("ledger", f"wattwise: ledger unavailable ({e}); this run is measured but not recorded")
            return None

    def _context(self) -> dict[str, Any]:
        from .ledger import _d
        loc = self.location
        sources = dict(loc["sources"])
        gpus = [m for s in self._slots if s.component == "gpu" for m in s.used]
        labels = [d.name for m in gpus for d in getattr(m, "devices", [])]
        acc = self._gpu_acc or (catalog_gpu(labels[0]) if labels else None)
        peak = None
        if acc is not None:
            try:
                peak = acc.peak(self.dtype)
                sources["peak"] = f"{acc.model} peak {self.dtype} {peak:.4g} FLOP/s ({acc.source})"
            except WattwiseError as e:
                sources["peak"] = str(e)
        from . import assumptions
        pr, why = assumptions.price(acc if labels or self._gpu_acc is not None else None,
                                    usd_per_gpu_hour=self.usd_per_gpu_hour, usd_per_kwh=self.usd_per_kwh)
        price = pr.to_dict() if pr is not None else None
        sources["cost"] = pr.basis if pr is not None else why
        for s in self._slots:
            sources[f"energy_{s.component}"] = s.source()
        return {"name": self.name, "project": self.project, "tags": self.tags, "region": loc["region"],
                "location_known": loc["location_known"], "pue": _d(loc["pue"]),
                "intensity_g_per_kwh": _d(loc["intensity_g_per_kwh"]), "price": price, "peak_flop_per_s": peak,
                "dtype": self.dtype, "interval_s": self.interval_s, "sources": sources, **self.extra}

    def _readings(self) -> list[dict]:
        out = []
        for s in self._slots:
            out.extend(s.read())
        return out

    def _part(self, status: str, readings: list[dict], end: bool) -> dict:
        now = time.time()
        info = dict(self._part_info, sources={f"energy_{s.component}": s.source() for s in self._slots},
                    warnings=list(self._warnings), error=self.error, exit_code=self.exit_code)
        return {"rank": self.rank, "host": socket.gethostname(), "pid": os.getpid() if self._pid is None else self._pid,
                "status": status, "start_ts": self._start_wall, "end_ts": now if end else None, "updated_ts": now,
                "flops": self._flops or None, "steps": self._steps, "readings": readings, "info": info}

    def _sample(self, readings: list[dict]) -> dict:
        s: dict[str, Any] = {"t_s": time.monotonic() - self._t0, "flops": self._flops or None}
        for r in readings:
            k = f"energy_{r['component']}_j"
            s[k] = (s.get(k) or 0.0) + r["energy_j"]
        return s

    def _checkpoint(self, status: str = "running", end: bool = False) -> dict:
        readings = self._readings()
        part = self._part(status, readings, end)
        if self.ledger is not None:
            try:
                self.ledger.write_part(self.run_id, self.ctx, part, self._sample(readings))
            except Exception as e:  # noqa: BLE001
                self._warn_once("ledger-write", f"wattwise: could not write to the ledger ({e}); measuring goes on")
        return part

    def _prepare(self) -> None:
        """Catalog look-ups and the ledger: done in the sampler thread, off the caller's path."""
        with self._lock:
            if self._prepared:
                return
            self.ctx = self._context()
            self.ledger = self._open_ledger()
            self._prepared = True

    def _sampler(self) -> None:
        try:
            self._prepare()
            with self._lock:
                self._checkpoint()
            while not self._stop_event.wait(self.interval_s):
                with self._lock:
                    if not self._running or self._stopping:
                        break
                    self._checkpoint()
        except Exception as e:  # noqa: BLE001
            self._warn_once("sampler", f"wattwise: sampler stopped ({type(e).__name__}: {e})")

    def _stop(self, status: str, error: str | None) -> None:
        self._stop_event.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=max(5.0, 3 * self.interval_s))
        self.status, self.error = status, error if error is not None else self.error
        self._prepare()
        with self._lock:
            part = self._checkpoint(status, end=True)
        self._restore_signals()
        try:
            atexit.unregister(self._atexit)
        except Exception:  # noqa: BLE001
            pass
        for s in self._slots:
            s.close()
        from .ledger import aggregate, to_footprint
        cols = aggregate([part], self.ctx)
        self.record = {**cols, "id": self.run_id, "name": self.name, "project": self.project, "tags": self.tags,
                       "status": status, "region": self.ctx["region"], "context": self.ctx,
                       "pue": self.ctx["pue"]["central"],
                       "intensity_g_per_kwh": self.ctx["intensity_g_per_kwh"]["central"]}
        self.footprint = to_footprint(self.record)

    # signals and exit
    def _install_signals(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                prev = signal.getsignal(sig)
                if prev == signal.SIG_IGN:  # the program ignores it (e.g. started under nohup): so do we
                    continue
                self._prev_handlers[sig] = prev
                signal.signal(sig, self._on_signal)
            except (ValueError, OSError):
                self._prev_handlers.pop(sig, None)

    def _restore_signals(self) -> None:
        for sig, prev in list(self._prev_handlers.items()):
            try:
                if signal.getsignal(sig) == self._on_signal:
                    signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                pass

    def _on_signal(self, signum, frame) -> None:
        prev = self._prev_handlers.get(signum)
        try:
            self.stop("interrupted", f"signal {signal.Signals(signum).name}")
        except Exception:  # noqa: BLE001
            pass
        if callable(prev):
            prev(signum, frame)
        elif prev == signal.SIG_IGN:
            return
        else:  # SIG_DFL (or unknown): re-deliver with the default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _atexit(self) -> None:
        if self._running:
            failed = getattr(sys, "last_value", None) is not None or getattr(sys, "last_exc", None) is not None
            self.stop("failed" if failed else "interrupted", "process exited before stop()")


def track(fn: Callable | None = None, /, **kwargs) -> Callable:
    """Decorator: `@track` or `@track(name=..., project=...)`; every call is one tracked run."""
    if fn is not None and callable(fn):
        return Tracker(kwargs.pop("name", None) or fn.__qualname__, **kwargs)(fn)

    def deco(f: Callable) -> Callable:
        return Tracker(kwargs.pop("name", None) or f.__qualname__, **kwargs)(f)
    return deco
