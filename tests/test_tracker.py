import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from tests.meters.fakes import FakeNvml, make_powercap, write
from wattwise.errors import WattwiseError
from wattwise.ledger import Ledger
from wattwise.meters.base import Reading
from wattwise.meters.cpu_fallback import CpuTdpMeter
from wattwise.tracker import Tracker, TrackerWarning, track

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    for k in ("WATTWISE_REGION", "WATTWISE_PUE", "WATTWISE_CONFIG", "WATTWISE_RUN_ID", "RANK", "WORLD_SIZE",
              "CUDA_VISIBLE_DEVICES", "WATTWISE_INTERVAL"):
        monkeypatch.delenv(k, raising=False)


def busy(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass


def test_context_manager_records_a_measured_run(tmp_path):
    with Tracker("block", project="p", tags=["x"], interval_s=0.05, ledger=tmp_path / "l.db") as t:
        busy(0.3)
        deadline = time.monotonic() + 20  # a loaded machine may start the sampler late: wait for 2 checkpoints
        while time.monotonic() < deadline:
            try:
                with Ledger(tmp_path / "l.db") as led:
                    if len(led.samples(t.run_id)) >= 2:
                        break
            except WattwiseError:
                pass
            busy(0.05)
    fp = t.footprint
    assert t.status == "ok" and fp.method == "measured"
    assert fp.energy_by_component_kwh["cpu"].central > 0
    assert fp.sources["energy_cpu"].startswith("estimated")           # flagged, never passed off as measured
    assert fp.zone is None and "UNKNOWN" in fp.sources["intensity"]    # no silent default location
    assert fp.intensity_g_per_kwh.central == 473.0 and fp.intensity_g_per_kwh.low < 473.0
    with Ledger(tmp_path / "l.db") as led:
        r = led.run(t.run_id)
        assert r["status"] == "ok" and r["project"] == "p" and r["tags"] == ["x"]
        assert r["energy_kwh"] == pytest.approx(fp.energy_kwh)
        assert len(led.samples(t.run_id)) >= 3  # periodic checkpoints, not only at stop


def test_region_and_pue_from_arguments_env_and_config(tmp_path, monkeypatch):
    t = Tracker(region="France", pue=1.1, ledger=False)
    assert t.location["region"] == "FR" and t.location["pue"].exact and t.location["pue"].central == 1.1
    monkeypatch.setenv("WATTWISE_REGION", "US-WV")
    monkeypatch.setenv("WATTWISE_PUE", "gcp")
    t = Tracker(ledger=False)
    assert t.location["region"] == "US-WV" and "gcp" in t.location["sources"]["pue"]
    monkeypatch.delenv("WATTWISE_REGION")
    monkeypatch.delenv("WATTWISE_PUE")
    cfg = tmp_path / "c.toml"
    cfg.write_text('region = "us-west1"\npue = 1.3\ninterval_s = 0.5\n')
    monkeypatch.setenv("WATTWISE_CONFIG", str(cfg))
    t = Tracker(ledger=False)
    assert t.location["region"] == "gcp:us-west1" and t.location["pue"].central == 1.3 and t.interval_s == 0.5


def test_bad_explicit_region_fails_early_bad_env_region_warns(monkeypatch):
    with pytest.raises(WattwiseError, match="did you mean"):
        Tracker(region="Frnace")
    with pytest.raises(WattwiseError, match="pue"):
        Tracker(pue=0.7)
    monkeypatch.setenv("WATTWISE_REGION", "Atlantis")
    with pytest.warns(TrackerWarning, match="Atlantis"):
        with Tracker(ledger=False) as t:  # env/config are resolved off the caller's path, and only warn
            pass
    assert t.location["region"] is None and not t.location["location_known"] and t.status == "ok"


def test_decorator_one_run_per_call(tmp_path):
    led = tmp_path / "l.db"

    @track(project="deco", interval_s=0.05, ledger=led)
    def work(x):
        busy(0.02)
        return x * 2

    assert work(2) == 4 and work(3) == 6
    with Ledger(led) as ledger:
        runs = ledger.runs(project="deco")
    assert len(runs) == 2 and {r["name"] for r in runs} == {work.__wrapped__.__qualname__}
    assert work.last_tracker.status == "ok"

    @track
    def bare():
        return 1
    assert bare() == 1


def test_exception_in_block_is_recorded_as_failed_and_propagates(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with Tracker("boom", interval_s=0.05, ledger=tmp_path / "l.db") as t:
            1 / 0
    with Ledger(tmp_path / "l.db") as led:
        r = led.run(t.run_id)
    assert r["status"] == "failed" and "ZeroDivisionError" in r["provenance"]["parts"][0]["error"]


class FlakyMeter:
    """Measured CPU meter that works for `ok_reads` reads, then raises."""
    name, component, kind, source = "flaky", "cpu", "measured", "test meter"

    def __init__(self, ok_reads):
        self.ok_reads, self.reads = ok_reads, 0

    def start(self):
        pass

    def read(self):
        self.reads += 1
        if self.reads > self.ok_reads:
            raise OSError("sensor gone")
        return [Reading("h/flaky/0", "cpu", 10.0 * self.reads, 9.0 * self.reads, 11.0 * self.reads)]

    def close(self):
        pass


def test_meter_failing_mid_run_falls_back_with_one_warning(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flaky = FlakyMeter(3)
        with Tracker("flaky", interval_s=0.02, ledger=tmp_path / "l.db",
                     meters=[flaky, CpuTdpMeter(tdp_w=50.0)]) as t:
            busy(0.3)
            deadline = time.monotonic() + 20  # a cold start may delay the sampler: wait until the meter failed
            while flaky.reads <= flaky.ok_reads and time.monotonic() < deadline:
                busy(0.05)
    ours = [w for w in caught if issubclass(w.category, TrackerWarning)]
    assert len(ours) == 1 and "flaky failed" in str(ours[0].message) and "cpu-tdp" in str(ours[0].message)
    fp = t.footprint
    assert t.status == "ok"
    assert fp.energy_by_component_kwh["cpu"].central * 3.6e6 > 30.0 - 1e-9  # banked 3 reads + the fallback
    assert "mixed" in fp.sources["energy_cpu"] or "estimated" in fp.sources["energy_cpu"]


def test_tracker_never_raises_into_user_code(tmp_path):
    bad = tmp_path / "not-a-ledger.db"
    bad.write_text("hello")

    class Broken:
        name, component, kind, source = "broken", "gpu", "measured", "x"

        def start(self):
            raise RuntimeError("kaboom")

    with pytest.warns(TrackerWarning):
        with Tracker("safe", interval_s=0.05, ledger=bad, meters=[Broken(), CpuTdpMeter(tdp_w=10.0)]) as t:
            busy(0.05)
    assert t.status == "ok" and t.footprint is not None
    assert bad.read_text() == "hello"  # never overwritten


def test_fake_gpu_gives_measured_energy_mfu_and_cost(tmp_path, monkeypatch):
    nv = FakeNvml(n=1, power_w=350.0)
    with Tracker("gpu", interval_s=0.05, ledger=tmp_path / "l.db", nvml=nv, flops_per_step=1e12) as t:
        for _ in range(10):
            time.sleep(0.02)
            t.step()
    fp = t.footprint
    assert fp.sources["energy_gpu"].startswith("measured")
    gpu_j = fp.energy_by_component_kwh["gpu"].central * 3.6e6
    assert gpu_j == pytest.approx(350.0 * fp.duration_s, rel=0.25)
    assert fp.flops == pytest.approx(1e13)
    peak = 9.895e14  # H100 SXM5 bf16 dense, catalog
    assert fp.mfu == pytest.approx(1e13 / fp.duration_s / peak, rel=1e-6)
    assert fp.cost_usd is not None and fp.gpu_hours == pytest.approx(fp.duration_s / 3600)
    assert "1 x NVIDIA H100 80GB HBM3" in fp.hardware


def test_gpu_counter_failing_falls_back_to_sampling(tmp_path):
    nv = FakeNvml(n=1, power_w=100.0)
    calls = {"n": 0}
    real = nv.nvmlDeviceGetTotalEnergyConsumption

    def counter(h):
        calls["n"] += 1
        if calls["n"] > 3:
            nv.counter = False
        return real(h)

    nv.nvmlDeviceGetTotalEnergyConsumption = counter
    with pytest.warns(TrackerWarning, match="falling back to nvml"):
        with Tracker("gpu-fb", interval_s=0.02, ledger=False, nvml=nv) as t:
            time.sleep(0.3)
    assert t.footprint.energy_by_component_kwh["gpu"].central * 3.6e6 == pytest.approx(
        100.0 * t.footprint.duration_s, rel=0.3)


def test_fake_rapl_is_used_before_estimates(tmp_path):
    root = make_powercap(str(tmp_path / "pc"))
    with Tracker("rapl", interval_s=0.02, ledger=False, rapl_root=root) as t:
        write(os.path.join(root, "intel-rapl:0"), "energy_uj", 1_000_000 + 7_200_000)
        time.sleep(0.1)
    fp = t.footprint
    assert fp.sources["energy_cpu"].startswith("measured")
    assert fp.energy_by_component_kwh["cpu"].central == pytest.approx(7.2 / 3.6e6)


def test_import_is_light():
    code = ("import sys, wattwise, wattwise.tracker, wattwise.ledger, wattwise.meters;"
            "print(sorted(m for m in ('torch', 'numpy', 'pynvml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- faults in real processes --------------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import faulthandler, os, signal, sys, time
    faulthandler.register(signal.SIGUSR1)  # the test asks for a stack dump if this child hangs
    from wattwise.tracker import Tracker
    mode = sys.argv[2]
    # an interactive program's SIGINT: under pytest-xdist the child inherits SIGINT ignored, and the tracker
    # rightly chains to that (it records the run and the process goes on), which is not the case tested here
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if mode == "user-term":
        def mine(signum, frame):
            print("user handler ran", flush=True)
            sys.exit(7)
        signal.signal(signal.SIGTERM, mine)
    t = Tracker("fault-" + mode, interval_s=0.05, ledger=sys.argv[1])
    t.start()
    time.sleep(0.3)
    try:  # "ready" inside the try: a signal right after it must reach the handler below, not the top level
        print("ready", t.run_id, flush=True)
        while True:
            x = sum(range(10000))
            time.sleep(0.001)
    except KeyboardInterrupt:
        print("keyboard interrupt reached user code", flush=True)
        sys.exit(130)
""")


def test_signals_and_sigkill_leave_a_record(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    cases = {"term": signal.SIGTERM, "int": signal.SIGINT, "user-term": signal.SIGTERM, "kill": signal.SIGKILL}
    procs = {}
    for mode in cases:  # all four in parallel
        procs[mode] = subprocess.Popen([sys.executable, str(script), str(tmp_path / f"{mode}.db"), mode],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    run_ids = {}
    for mode, p in procs.items():
        line = p.stdout.readline().split()
        assert line[0] == "ready", mode
        run_ids[mode] = line[1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # SIGKILL only after checkpoints exist (loses at most one interval)
        try:
            with Ledger(tmp_path / "kill.db") as led:
                if len(led.samples(run_ids["kill"])) >= 3:
                    break
        except WattwiseError:
            pass
        time.sleep(0.05)
    for mode, p in procs.items():
        p.send_signal(cases[mode])
    results = {}
    for mode, p in procs.items():
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGUSR1)  # stack dump of the hung child, for the failure message
            time.sleep(0.5)
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"child {mode!r} did not exit within 60 s of its signal; its stacks:\n{err}")
        results[mode] = (p.returncode, out + err)

    assert results["term"][0] == -signal.SIGTERM          # default action still happens (chained)
    assert results["user-term"][0] == 7 and "user handler ran" in results["user-term"][1]
    assert results["int"][0] == 130 and "keyboard interrupt reached user code" in results["int"][1], results["int"]
    assert results["kill"][0] == -signal.SIGKILL
    for mode in cases:
        with Ledger(tmp_path / f"{mode}.db") as led:
            r = led.run(run_ids[mode])
            samples = led.samples(run_ids[mode])
        assert r["energy_kwh"] > 0 and r["duration_s"] >= 0.25, mode
        if mode == "kill":
            assert r["status"] == "lost" and len(samples) >= 3   # last checkpoint survives SIGKILL
            assert r["end_ts"] is None
        else:
            assert r["status"] == "interrupted", mode
            assert "signal SIG" in r["provenance"]["parts"][0]["error"]


# --- distributed: 2 ranks, gloo, one shared run id, devices counted once -----------------------------------------

def _rank(rank, world, port, ledger, pc_root, epoch):
    import torch
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    os.environ.pop("LOCAL_WORLD_SIZE", None)  # so each rank sees both fake GPUs: dedup by UUID must hold
    dist.init_process_group("gloo", rank=rank, world_size=world)
    nv = FakeNvml(n=2, power_w=100.0, epoch=epoch)
    with Tracker("ddp", interval_s=0.05, ledger=ledger, nvml=nv, rapl_root=pc_root, flops_per_step=1e9) as t:
        x = torch.ones(1000)
        for _ in range(20):
            dist.all_reduce(x)
            t.step()
            time.sleep(0.01)
        dist.barrier()
    assert x[0].item() == world ** 20
    dist.destroy_process_group()


def test_torch_distributed_two_ranks_one_run_devices_once(tmp_path):
    pytest.importorskip("torch")
    import socket

    import torch.multiprocessing as tmp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pc = make_powercap(str(tmp_path / "pc"))
    ledger = str(tmp_path / "l.db")
    tmp.spawn(_rank, args=(2, port, ledger, pc, time.time() - 1000.0), nprocs=2, join=True)
    with Ledger(ledger) as led:
        runs = led.runs()
        assert len(runs) == 1
        r = runs[0]
        parts = led.parts(r["id"])
    assert r["id"].startswith("dist-") and r["world_size"] == 2 and len(parts) == 2
    assert r["status"] == "ok" and r["flops"] == pytest.approx(2 * 20 * 1e9)
    gpus = {d for d in r["provenance"]["devices"] if "/gpu/" in d}
    assert len(gpus) == 2
    # each rank saw both GPUs; the total counts 2 devices x 100 W, not 4
    assert r["energy_gpu_kwh"] * 3.6e6 == pytest.approx(2 * 100.0 * r["duration_s"], rel=0.25)
    rapl = sorted(d.split("/rapl/")[1] for d in r["provenance"]["devices"] if "/rapl/" in d)
    assert rapl == ["package-0", "package-0/dram"]  # one host: its package and DRAM once, not once per rank
    assert sum(1 for d in r["provenance"]["devices"] if d.endswith("/cpu") and "/pid/" in d) == 0  # RAPL measured


def test_ignored_signal_stays_ignored(tmp_path):
    """A program that ignores SIGINT (nohup, xdist workers) keeps ignoring it: the tracker installs no handler."""
    from wattwise.tracker import Tracker
    prev = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Tracker("ignored", interval_s=0.05, ledger=tmp_path / "l.db"):
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL  # the other one is still chained
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, prev)


def test_annotate_puts_results_in_the_final_record(tmp_path):
    with Tracker("annotated", interval_s=0.05, ledger=tmp_path / "l.db") as t:
        busy(0.1)
        t.annotate(accuracy=0.93, loss=0.21)
    with Ledger(tmp_path / "l.db") as led:
        ctx = led.run(t.run_id)["context"]
    assert ctx["accuracy"] == 0.93 and ctx["loss"] == 0.21
