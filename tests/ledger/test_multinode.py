"""One job across 'nodes': Slurm tasks on two hosts (different host names and Slurm variables, no torchrun)
record one run, with per-host parts and every device counted once."""

import os
import subprocess
import sys
import textwrap

import pytest

from wattwise.ledger import Ledger
from wattwise.tracker import ids

CHILD = textwrap.dedent("""
    import socket, sys
    host = sys.argv[2]
    socket.gethostname = lambda: host          # this process plays a task on another node
    from wattwise.meters.base import Reading
    from wattwise.tracker import Tracker, ids

    local = int(sys.argv[3])

    class NodeGpus:                            # every task of a node sees both GPUs of its node
        name, component, kind, source = "fake-nvml", "gpu", "measured", "test meter"
        def start(self):
            pass
        def read(self):
            e = 1000.0 * (1 + 0.1 * local)
            return [Reading(f"{host}/gpu/{i}", "gpu", e, e, e, label="fake GPU") for i in range(2)]
        def close(self):
            pass

    t = Tracker("train", ledger=sys.argv[1], meters=[NodeGpus()], interval_s=0.05, region="FR",
                extra={"job": ids.job_info()})
    with t:
        pass
    print(t.run_id)
""")


def test_two_nodes_one_slurm_job_one_run(target, tmp_path):
    script = tmp_path / "task.py"
    script.write_text(CHILD)
    env0 = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "TORCHELASTIC", "RANK",
                                                                     "WORLD_SIZE", "WATTWISE_RUN_ID"))}
    env0.update(PYTHONPATH=os.path.join(os.getcwd(), "src"), SLURM_JOB_ID="4242", SLURM_STEP_ID="0",
                SLURM_STEP_NUM_TASKS="4", SLURM_JOB_NUM_NODES="2", SLURM_JOB_PARTITION="gpu",
                SLURM_JOB_NODELIST="node-[a-b]", SLURM_STEP_TASKS_PER_NODE="2(x2)", WATTWISE_JOB_TAGS="ablation,v2")
    procs = []
    for rank in range(4):
        host, local = ("node-a", "node-b")[rank // 2], rank % 2
        env = dict(env0, SLURM_PROCID=str(rank), SLURM_LOCALID=str(local), SLURMD_NODENAME=host)
        procs.append(subprocess.Popen([sys.executable, str(script), target, host, str(local)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [o[1][-500:] for o in outs]
    assert not [o[1] for o in outs if "could not" in o[1]], [o[1][-800:] for o in outs]
    run_ids = {o[0].strip() for o in outs}
    assert len(run_ids) == 1 and run_ids.pop().startswith("slurm-4242.0-")
    with Ledger(target) as led:
        [rec] = led.runs()
        parts = led.parts(rec["id"])
        assert rec["status"] == "ok" and rec["world_size"] == 4 and rec["host"] == "node-a,node-b"
        assert sorted((p["rank"], p["host"]) for p in parts) == [(0, "node-a"), (1, "node-a"), (2, "node-b"),
                                                                 (3, "node-b")]
        assert rec["provenance"]["devices"] == ["node-a/gpu/0", "node-a/gpu/1", "node-b/gpu/0", "node-b/gpu/1"]
        # 4 GPUs, each once (seen by 2 tasks each: the largest reading, 1,100 J), not 8
        assert rec["energy_gpu_kwh"] * 3.6e6 == pytest.approx(4 * 1100.0)
        job = rec["context"]["job"]
        assert job["job_id"] == "4242" and job["nodes"] == 2 and job["partition"] == "gpu"
        assert job["tags"] == ["ablation", "v2"]
        assert {p["info"]["local_rank"] for p in parts} == {0, 1}


def test_slurm_ids(monkeypatch):
    for k in list(os.environ):
        if k.startswith(("SLURM_", "TORCHELASTIC", "WATTWISE_RUN_ID")) or k in ("RANK", "WORLD_SIZE"):
            monkeypatch.delenv(k)
    assert ids.dist_env() is None and ids.shared_run_id("x", 0) is None and ids.job_info() == {}
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_PROCID", "0")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    assert ids.dist_env() is None          # a batch script's own process: not a step of several tasks
    monkeypatch.setenv("SLURM_STEP_ID", "3")
    monkeypatch.setenv("SLURM_PROCID", "5")
    assert ids.dist_env() == {"rank": 5, "world_size": 8, "local_rank": None, "local_world_size": None}
    a = ids.shared_run_id("x", 0)
    assert a.startswith("slurm-7.3-") and a != ids.shared_run_id("x", 1) and a != ids.shared_run_id("y", 0)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "abc")   # torchrun under Slurm: its rendezvous id groups the ranks
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert ids.shared_run_id("x", 0).startswith("dist-") and ids.dist_env()["world_size"] == 2
