"""The Tracker: start, sample, read, window, stop (see the package docstring for the behaviour).

Threads and locks, in acquisition order: `_lock` (lifecycle and ledger writes; held by the sampler for one
checkpoint), `_meter_lock` (the meter chains: one read at a time), `_state_lock` (step counters, the last
snapshot, the windows: held for microseconds, so `step()` and `reading()` never wait on I/O).
"""

from __future__ import annotations

import atexit
import functools
import os
import socket
import sys
import threading
import time
from typing import Any, Callable

from ..footprint import Footprint
from . import config, ids
from .chain import chains
from .context import RunContext
from .forking import LIVE as _LIVE
from .recording import RecordingMixin
from .signals import SignalChain
from .windows import OPEN_AT_STOP, Snapshot, Window, WindowsMixin


class Tracker(RecordingMixin, WindowsMixin):
    """Measure energy, carbon and cost of the work between start and stop; see `wattwise.tracker`.

    ledger: a path, a `Ledger`, None (default ledger) or False (do not record).
    meters: replaces the default meters: Meter objects (or factories), grouped by component in the given
      order; the first of a component is used, the next ones are its fallbacks.
    pid: measure another process tree (`run_command` uses it); default this process and its children.
    """

    def __init__(self, name: str | None = None, *, project: str | None = None, tags=(), region: str | None = None,
                 pue: float | str | None = None, interval_s: float | None = None, ledger: Any = None,
                 meters: list | None = None, flops_per_step: float | None = None, gpu: str | None = None,
                 dtype: str = "bf16", usd_per_kwh: float | None = None, usd_per_gpu_hour: float | None = None,
                 pid: int | None = None, run_id: str | None = None, handle_signals: bool = True,
                 nvml=None, rapl_root: str | None = None, config: dict | None = None,
                 extra: dict | None = None, deadline_s: float | None = None, embodied: bool = False,
                 nodes: int | None = None, embodied_gpu_kg: float | None = None,
                 embodied_server_kg: float | None = None, embodied_lifetime_years: float | None = None,
                 embodied_utilisation: float | None = None, prometheus_port: int | None = None):
        from .. import assumptions
        from .._checks import check_number
        from . import config as cfgmod
        cfg = cfgmod.read_config() if config is None else config
        self.name = name
        self.project = project if project is not None else cfg.get("project")
        self.tags = [tags] if isinstance(tags, str) else list(tags or ())
        self.interval_s = check_number("interval_s", cfgmod.interval_s(interval_s, cfg))
        # the longest the tracker waits for a meter read or a ledger write before going on without it
        self.deadline_s = check_number("deadline_s", cfgmod.deadline_s(deadline_s, cfg))
        self.flops_per_step = None if flops_per_step is None else check_number("flops_per_step", flops_per_step)
        # the price is checked now (an error before any work); the catalog offers are looked up at start
        assumptions.price(None, usd_per_gpu_hour=usd_per_gpu_hour, usd_per_kwh=usd_per_kwh)
        self.usd_per_kwh, self.usd_per_gpu_hour = usd_per_kwh, usd_per_gpu_hour
        self.gpu = gpu
        if gpu is not None:
            from .. import catalog
            self._gpu_acc = catalog.gpu(gpu)
            self._gpu_acc.peak(dtype)  # validate early
        else:
            self._gpu_acc = None
        self.dtype = dtype
        self._region, self._pue, self._cfg = region, pue, cfg
        # explicit values are checked now; env/config ones when first needed
        self._loc = cfgmod.location(region, pue, cfg) if region is not None or pue is not None else None
        self._ledger_arg = ledger if ledger is not None else cfg.get("ledger")
        self._meters_arg = meters
        self._pid = pid
        self._run_id_arg = run_id
        self.handle_signals = handle_signals
        self._nvml = nvml
        self._rapl_root = rapl_root
        self.extra = dict(extra or {})
        # a Prometheus pull endpoint on this port while the tracker runs (wattwise.prometheus)
        self.prometheus_port = None if prometheus_port is None else int(check_number(
            "prometheus_port", prometheus_port, allow_zero=True))   # 0: a free port (see tracker._exporter.port)
        self._exporter = None
        if embodied:   # the hardware's manufacturing carbon, amortised (wattwise.embodied); checked now
            emb = {"nodes": None if nodes is None else int(check_number("nodes", nodes)),
                   "gpu_kg": embodied_gpu_kg, "server_kg": embodied_server_kg,
                   "lifetime_years": embodied_lifetime_years, "utilisation": embodied_utilisation}
            from ..embodied import job_embodied
            job_embodied(gpus=1, nodes=1, wall_clock_h=1.0, **{k: v for k, v in emb.items() if k != "nodes"})
            self.extra["embodied"] = emb
        self._reset_state()

    @property
    def location(self) -> dict[str, Any]:
        """Region, location_known, intensity and PUE (Ranges) with sources; env/config resolved on first use."""
        return config.location_view(self._location())

    def _location(self):
        if self._loc is None:
            self._loc = config.location(self._region, self._pue, self._cfg, warn_fn=config.warn)
        return self._loc

    @property
    def exit_code(self) -> int | None:
        """The measured command's exit code (`run_command`), else None."""
        return self._exit_code

    # --- public API ---------------------------------------------------------------------------------------------
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

    def stop(self, status: str | None = None, error: str | None = None, *,
             exit_code: int | None = None) -> Footprint | None:
        """Stop, close open windows, write the final record, return this process's footprint. Never raises."""
        with self._lock:
            if not self._running or self._stopping:
                return self.footprint
            self._stopping = True
            if exit_code is not None:
                self._exit_code = exit_code
        try:
            self._stop(status or "ok", error)
        except Exception as e:  # noqa: BLE001
            self._warn_once("stop", f"wattwise: tracker could not finish the record ({type(e).__name__}: {e})")
        finally:
            with self._lock:
                self._running = False
                self._stopping = False
        return self.footprint

    def step(self, flops: float | None = None, n: int = 1, tokens: float | None = None) -> None:
        """Count `n` steps and their FLOPs (default flops_per_step x n) for achieved FLOP/s and MFU, and the
        `tokens` they processed for tokens/s and energy per token (footprint `extra`: tokens, tokens_per_s,
        j_per_token). Thread-safe; never raises."""
        try:
            add = float(flops) if flops is not None else (self.flops_per_step * n if self.flops_per_step else 0.0)
            tok = float(tokens) if tokens is not None else 0.0
            with self._state_lock:
                self._steps += n
                self._flops += add
                self._tokens += tok
        except Exception:  # noqa: BLE001
            pass

    def annotate(self, **fields: Any) -> None:
        """Add fields (results, metrics) to the run's context; the next checkpoint and the final record carry
        them, so a record written at stop is whole in one write. Never raises."""
        with self._lock:
            self.extra.update(fields)
            if self.ctx is not None:
                self.ctx.extra.update(fields)

    def reading(self) -> Footprint | None:
        """The footprint so far, as of the sampler's last meter read (at most `interval_s` old): thread-safe,
        no I/O on the caller's path. After stop, the final footprint; before start, None. Never raises."""
        if not self._running:
            return self.footprint
        try:
            with self._state_lock:
                snap = self._snap
            return self._footprint_of(self._part_of(snap, "running", end=False), "running")
        except Exception as e:  # noqa: BLE001
            self._warn_once("reading", f"wattwise: no reading ({type(e).__name__}: {e})")
            return None

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
        t.__dict__.update(self.__dict__)
        t._reset_state()
        for k, v in changes.items():
            setattr(t, k, v)
        return t

    # --- state --------------------------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.run_id: str | None = None
        self.status: str | None = None
        self.footprint: Footprint | None = None
        self.record: dict | None = None
        self.ctx: RunContext | None = None
        self.rank = 0
        self._lock = threading.RLock()
        self._meter_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._running = self._stopping = False
        self._warned, self._warnings = set(), []
        self._signals = SignalChain(self._on_signal)
        self.ledger = self.error = None
        self._exit_code = None
        self._flops, self._steps = 0.0, 0
        self._tokens = 0.0
        self._snap = Snapshot(time.time(), (), 0.0, 0)
        self._open: list[Window] = []
        self._closed: list[Window] = []
        self._unwritten: list[Window] = []
        self._ledger_target = None
        self._spooled = False

    def _warn_once(self, key: str, msg: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        self._warnings.append(msg)
        config.warn(msg)

    def _start(self) -> None:
        dist = ids.dist_env()
        self.rank = dist["rank"] if dist else 0
        given = self._run_id_arg or ids.shared_run_id(self.name, ids.next_seq())
        self._id_generated = given is None
        self._claimed = False
        self.run_id = given or ids.new_run_id()
        self._chains = chains(self._meters_arg, dist, self._warn_once, read_deadline_s=self.deadline_s,
                              nvml=self._nvml, rapl_root=self._rapl_root, pid=self._pid)
        self._start_wall, self._start_mono = time.time(), time.monotonic()   # the run's start, on both clocks
        for c in self._chains:
            c.start_next()
        self._part_info = {"interval_s": self.interval_s, "world_size": dist["world_size"] if dist else 1,
                           "local_rank": dist.get("local_rank") if dist else None}
        self._snap = Snapshot(self._start_wall, (), 0.0, 0, 0.0, self._start_mono)
        self._prepared = False
        self._stop_event = threading.Event()
        self._running = True
        self.status = "running"
        if self.handle_signals:
            self._signals.install()
        atexit.register(self._atexit)
        _LIVE.add(self)
        job = ids.job_info()
        if job:   # Slurm / torchrun job metadata, once per run
            self._part_info["job"] = job
            self.extra.setdefault("job", job)
        self._thread = threading.Thread(target=self._sampler, name="wattwise-sampler", daemon=True)
        self._thread.start()
        if self.prometheus_port is not None:
            try:
                from ..prometheus import serve
                self._exporter = serve(self, self.prometheus_port)
            except Exception as e:  # noqa: BLE001 - the endpoint is a courtesy; the job goes on
                self._warn_once("prometheus", f"wattwise: no Prometheus endpoint on port {self.prometheus_port} "
                                              f"({type(e).__name__}: {e})")

    def _prepare(self) -> None:
        """Catalog look-ups and the ledger: done in the sampler thread, off the caller's path."""
        with self._lock:
            if self._prepared:
                return
            from .context import build
            gpus = [m for c in self._chains if c.component == "gpu" for m in c.used]
            labels = [d.name for m in gpus for d in getattr(m, "devices", [])]
            self.ctx = build(self, self._location(), labels, self._meter_sources())
            self.ledger = self._open_ledger()
            self._prepared = True

    def _meter_sources(self) -> dict[str, str]:
        return {f"energy_{c.component}": c.source() for c in self._chains}

    # --- readings -----------------------------------------------------------------------------------------------
    def _fresh_snapshot(self) -> Snapshot:
        """Read every meter now (one reader at a time) and keep the result as the latest snapshot."""
        with self._meter_lock:
            readings = tuple(r for c in self._chains for r in c.read())
            with self._state_lock:
                self._snap = Snapshot(time.time(), readings, self._flops, self._steps, self._tokens, time.monotonic())
                return self._snap

    def _part_of(self, snap: Snapshot, status: str, end: bool) -> dict:
        info = dict(self._part_info, sources=self._meter_sources(), warnings=list(self._warnings),
                    error=self.error, exit_code=self._exit_code,
                    elapsed_s=max(0.0, snap.t_mono - self._start_mono) if snap.t_mono else None)
        if snap.tokens:
            info["tokens"] = snap.tokens
        return {"rank": self.rank, "host": socket.gethostname(), "pid": os.getpid() if self._pid is None else self._pid,
                "status": status, "start_ts": self._start_wall, "end_ts": snap.t_wall if end else None,
                "updated_ts": snap.t_wall, "flops": snap.flops or None, "steps": snap.steps,
                "readings": list(snap.readings), "info": info}

    def _context_dict(self) -> dict:
        if self.ctx is not None:
            return self.ctx.to_dict()
        from .context import located   # before the sampler prepared the context: no catalog look-ups
        return located(self, self._location()).to_dict()

    def _footprint_of(self, part: dict, status: str) -> Footprint:
        from ..measured import footprint_from_parts
        return footprint_from_parts([part], self._context_dict(), run_id=self.run_id, status=status)

    # --- sampler -------------------------------------------------------------------------------------------------
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
        with self._state_lock:
            still_open, self._open = self._open, []
        if still_open:
            end = self._fresh_snapshot()
            for w in still_open:
                self._close_window(w, end, OPEN_AT_STOP)
            self._warn_once("window-open", "wattwise: window(s) " + ", ".join(repr(w.name) for w in still_open)
                            + f" still open at stop: ended there with status {OPEN_AT_STOP!r}")
        with self._lock:
            part = self._checkpoint(status, end=True)
        self._signals.restore()
        try:
            atexit.unregister(self._atexit)
        except Exception:  # noqa: BLE001
            pass
        for c in self._chains:
            c.close()
        if self._exporter is not None:
            try:
                self._exporter.close()
            except Exception:  # noqa: BLE001
                pass
        from ..ledger_rows import index_columns
        ctx = self.ctx.to_dict()
        self.footprint = fp = self._footprint_of(part, status)
        self.record = {**index_columns(fp), "id": self.run_id, "name": self.name, "project": self.project,
                       "tags": self.tags, "status": status, "region": ctx["region"], "context": ctx,
                       "pue": ctx["pue"]["central"], "intensity_g_per_kwh": ctx["intensity_g_per_kwh"]["central"]}

    # --- signals and exit ---------------------------------------------------------------------------------------
    def _on_signal(self, signum: int) -> None:
        import signal
        self.stop("interrupted", f"signal {signal.Signals(signum).name}")

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
