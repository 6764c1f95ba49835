"""Run ids, the ranks of a distributed job (torchrun, or Slurm `srun` tasks) and its scheduler metadata. Standard
library only."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import threading
import time

_SEQ = {"n": 0}
_SEQ_LOCK = threading.Lock()


def next_seq() -> int:
    """0, 1, 2...: the order in which trackers of this process start (separates several trackers of one job)."""
    with _SEQ_LOCK:
        n = _SEQ["n"]
        _SEQ["n"] += 1
    return n


def _reset_after_fork() -> None:
    global _SEQ_LOCK
    _SEQ_LOCK = threading.Lock()


def _proc_start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:].split()[19].decode()
    except (OSError, IndexError, ValueError):
        return ""


def _slurm_tasks() -> dict[str, int] | None:
    """rank, world_size, local_rank, local_world_size of an `srun` step of several tasks, or None (a batch
    script's own process, outside a step, is not a distributed job)."""
    env = os.environ
    if not env.get("SLURM_JOB_ID") or not env.get("SLURM_STEP_ID") or "SLURM_PROCID" not in env:
        return None
    try:
        world = int(env.get("SLURM_STEP_NUM_TASKS") or env.get("SLURM_NTASKS") or "1")
        rank = int(env["SLURM_PROCID"])
    except ValueError:
        return None
    if world <= 1:
        return None
    local = env.get("SLURM_LOCALID")
    per_node = (env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE") or "").split("(")[0]
    return {"rank": rank, "world_size": world, "local_rank": int(local) if local and local.isdigit() else None,
            "local_world_size": int(per_node) if per_node.isdigit() else None}


def job_info() -> dict[str, object]:
    """The scheduler's job metadata of this process (Slurm job and step ids, node list and count, partition,
    task id; torchrun's elastic run id), for the run's part info; {} outside a job."""
    env = os.environ
    out: dict[str, object] = {}
    if env.get("SLURM_JOB_ID"):
        out.update(scheduler="slurm", job_id=env["SLURM_JOB_ID"], step_id=env.get("SLURM_STEP_ID"),
                   job_name=env.get("SLURM_JOB_NAME"), partition=env.get("SLURM_JOB_PARTITION"),
                   nodelist=env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST"),
                   procid=env.get("SLURM_PROCID"), node=env.get("SLURMD_NODENAME"),
                   account=env.get("SLURM_JOB_ACCOUNT"))
        nodes = env.get("SLURM_JOB_NUM_NODES") or env.get("SLURM_NNODES")
        if nodes and nodes.isdigit():
            out["nodes"] = int(nodes)
    elastic = env.get("TORCHELASTIC_RUN_ID")
    if elastic and elastic != "none":
        out["torchelastic_run_id"] = elastic
    if env.get("WATTWISE_JOB_TAGS"):
        out["tags"] = [t.strip() for t in env["WATTWISE_JOB_TAGS"].split(",") if t.strip()]
    return {k: v for k, v in out.items() if v is not None}


def dist_env() -> dict[str, int] | None:
    """rank, world_size, local_rank, local_world_size from the torchrun environment, else from an `srun` step
    of several tasks (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID), or None."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        return None
    if world <= 1 and "RANK" not in os.environ:
        return _slurm_tasks()
    local_rank = os.environ.get("LOCAL_RANK")
    local_world = os.environ.get("LOCAL_WORLD_SIZE")
    return {"rank": rank, "world_size": world,
            "local_rank": int(local_rank) if local_rank and local_rank.isdigit() else None,
            "local_world_size": int(local_world) if local_world and local_world.isdigit() else None}


def shared_run_id(name: str | None, seq: int) -> str | None:
    """The run id every rank of one distributed job derives alike, or None outside one.

    WATTWISE_RUN_ID wins; else TORCHELASTIC_RUN_ID (torchrun: a fresh uuid with --standalone, the --rdzv-id
    otherwise) with MASTER_ADDR/PORT; else Slurm's SLURM_JOB_ID and SLURM_STEP_ID (every task of one `srun`
    step, on every node, with or without torchrun); else MASTER_ADDR/PORT and the launching parent process (pid
    and start time: ranks spawned by one launcher on one host). The tracker's name and sequence number in the
    process separate several trackers of one job.
    """
    if os.environ.get("WATTWISE_RUN_ID"):
        base = os.environ["WATTWISE_RUN_ID"]
        return base if seq == 0 else f"{base}-{seq}"
    if dist_env() is None:
        return None
    elastic = os.environ.get("TORCHELASTIC_RUN_ID")
    master = f"{os.environ.get('MASTER_ADDR', '')}:{os.environ.get('MASTER_PORT', '')}"
    job, step = os.environ.get("SLURM_JOB_ID"), os.environ.get("SLURM_STEP_ID")
    if elastic and elastic != "none":
        key = f"elastic|{elastic}|{master}"
    elif job and step is not None:
        digest = hashlib.sha1(f"slurm|{job}|{step}|{name}|{seq}".encode()).hexdigest()[:8]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{job}.{step}")
        return f"slurm-{safe}-{digest}"
    else:
        ppid = os.getppid()
        key = f"spawn|{master}|{socket.gethostname()}|{ppid}|{_proc_start_ticks(ppid)}"
    digest = hashlib.sha1(f"{key}|{name}|{seq}".encode()).hexdigest()[:12]
    return f"dist-{digest}"


def new_run_id() -> str:
    """A fresh id: local time to the second, then 64 random bits (20261202-134501-a3f9c2e07b5d4e18). Sortable by
    start; a million ids started in the same second collide with probability ~3e-8 (was 24 bits: 2.9% for
    1,000 runs in one second), and the ledger refuses a second run under an existing id."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(8)
