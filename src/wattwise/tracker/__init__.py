"""Measure a block of code, a function or a whole command, and record it in the ledger.

    with Tracker("train", project="demo", region="FR") as t:
        for epoch in range(3):
            with t.window(f"epoch-{epoch}") as w:
                for batch in loader:
                    ...
                    t.step(flops=6 * n_params * tokens_in_batch)
            print(w.footprint.energy_kwh, t.reading().co2e_kg)   # a window's footprint; the run so far
    print(t.footprint.co2e_kg)

- A background thread reads the meters every `interval_s` and appends a checkpoint to the ledger, so a
  SIGKILL loses at most one interval; SIGTERM/SIGINT and exceptions write the record (status 'interrupted' or
  'failed') and then chain to the handlers that were installed before (`signals`).
- `reading()` is the footprint so far, from the sampler's last read: thread-safe, no I/O on the caller's path.
  Windows (`window`, `begin_window`, `end_window`) may overlap and come from any thread; each gets a footprint
  and is recorded in the ledger under the run (`windows`).
- Meters per component, each with fallbacks (`chain`). The tracker never raises into user code; bad explicit
  arguments are rejected at construction, before any work.
- Region, PUE, interval, project and ledger: arguments, else the environment, else the config file (`config`).
  An unknown location stays unknown: CO2e uses the world average as a labelled range. No network call is made.
- Under torchrun every rank writes its part under one shared run id (`ids`); totals count each device once.
- `run_command(cmd)` runs and measures a whole command and its children (`wattwise run`).

Modules: config (home, config file, location), ids (run ids, ranks), chain (meter fallback chains), context
(the typed run context), windows (windows and snapshots), signals, ledgers (one open ledger per process), core
(the Tracker), command (run_command). Only the standard library is imported here; meters import their drivers
when started.
"""

from .command import CommandRun, run_command
from .config import (
           DEFAULT_INTERVAL_S,
           TrackerWarning,
           config_path,
           read_config,
           resolve_location,
)
from .context import RunContext
from .core import Tracker, track
from .ids import dist_env, new_run_id, shared_run_id
from .windows import OPEN_AT_STOP, Window

__all__ = ["CommandRun", "DEFAULT_INTERVAL_S", "OPEN_AT_STOP", "RunContext", "Tracker", "TrackerWarning", "Window",
           "config_path", "dist_env", "new_run_id", "read_config", "resolve_location", "run_command",
           "shared_run_id", "track"]
