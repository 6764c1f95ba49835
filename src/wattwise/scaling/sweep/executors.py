"""Where runs execute: in this process (default), in N worker processes on this machine, or as Ray tasks.

Every executor calls `on_done(spec, payload)` in the driver as each run finishes, in completion order. Local and
process workers write their records straight into the shared ledger file (SQLite WAL, many writers); Ray tasks
track into a private ledger on their node and send the record back for the driver to write, so the same sweep
runs on a cluster whose nodes do not share a disk with the driver.
"""

from __future__ import annotations

import os
from typing import Callable

from ...errors import InvalidValueError, MissingExtraError
from .planner import RunSpec
from .trainer import execute, write_back

EXECUTORS = ("local", "workers", "ray")
OnDone = Callable[[RunSpec, dict], None]
OnStep = Callable[[RunSpec, int], None]


def run_local(specs: list[RunSpec], ledger_path: str, tracker_opts: dict, on_done: OnDone,
              on_step: OnStep | None = None) -> None:
    """One run after another in this process."""
    for spec in specs:
        cb = None if on_step is None else (lambda i, _f, s=spec: on_step(s, i))
        on_done(spec, execute(spec, ledger_path, tracker_opts, on_step=cb))


def run_workers(specs: list[RunSpec], ledger_path: str, tracker_opts: dict, on_done: OnDone, workers: int) -> None:
    """Runs in `workers` spawned processes (spawn, not fork: torch's thread pools do not survive a fork)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if workers < 1:
        raise InvalidValueError(f"workers must be >= 1, got {workers!r}")
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(execute, spec, ledger_path, tracker_opts): spec for spec in specs}
        try:
            for fut in as_completed(futures):
                on_done(futures[fut], fut.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def import_ray():
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray", "ray") from None
    return ray


def run_ray(specs: list[RunSpec], ledger, tracker_opts: dict, on_done: OnDone, address: str | None = None,
            num_cpus: int | None = None) -> None:
    """Each run is a `ray.remote(num_cpus=threads)` task; without an address a local cluster of `num_cpus` CPUs
    (default: this machine's) is started and shut down afterwards. Records come back and the driver writes them."""
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        pending = {}
        for spec in specs:
            task = ray.remote(num_cpus=max(1, spec.threads))(execute)
            pending[task.remote(spec, None, tracker_opts, send_back=True)] = spec
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            payload = ray.get(done[0])
            write_back(ledger, payload)
            on_done(spec, payload)
    finally:
        if started:
            ray.shutdown()
