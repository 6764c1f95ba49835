"""A real transformers.Trainer training a tiny GPT-2 built from a config (no download) with WattwiseCallback."""

from __future__ import annotations

import json
import socket
import time
import warnings

import pytest
import torch

pytest.importorskip("transformers")

from transformers import TrainerCallback  # noqa: E402

from wattwise.integrations.hf import WattwiseCallback  # noqa: E402
from wattwise.ledger import Ledger  # noqa: E402
from wattwise.tracker import TrackerWarning  # noqa: E402

from .conftest import FlatCpuMeter, RampMeter, tracker_kwargs  # noqa: E402
from .hf_util import trainer  # noqa: E402


def _weights(tr):
    return {k: v.detach().clone() for k, v in tr.model.state_dict().items()}


def _losses(tr):
    return [h["loss"] for h in tr.state.log_history if "loss" in h]


class Slow(TrainerCallback):
    """Steps slower than the sampling interval, so the live reading (the last snapshot) has caught up."""

    def on_step_end(self, args, state, control, **kw):
        time.sleep(0.12)


def test_trainer_run_in_ledger_logs_card_and_model_card(tmp_path):
    cb = WattwiseCallback("hf-tiny", project="integrations", **tracker_kwargs(tmp_path))
    tr = trainer(tmp_path, [cb, Slow()], steps=4)
    tr.train()
    # the run in the ledger, whole and ok, with counted FLOPs and tokens
    led = Ledger(tmp_path / "ledger.db")
    (rec,) = led.runs(project="integrations")
    assert rec["status"] == "ok" and rec["name"] == "hf-tiny"
    fp = led.footprint(rec["id"])
    assert fp.flops is not None and fp.flops.method == "counted" and fp.flops > 0
    assert fp.extra["tokens"] == 4 * 4 * 16                        # 4 steps x batch 4 x 16 tokens
    assert fp.energy_kwh > 0 and fp.co2e_kg > 0 and fp.cost_usd > 0 and fp.mfu > 0
    assert cb.footprint.extra["run_id"] == rec["id"]
    # per-step values in the logs (and the log history Trainer saves)
    steps = [h for h in tr.state.log_history if "loss" in h]
    assert len(steps) == 4
    for h in steps:
        assert h["wattwise/energy_kwh"] > 0 and h["wattwise/co2e_kg"] > 0 and "wattwise/cost_usd" in h
    assert all(h["wattwise/mfu"] > 0 and h["wattwise/tokens_per_s"] > 0 for h in steps[1:])
    assert tr.callback_handler.callbacks[0] is cb                   # first: reporters see the values
    # FLOPs: one count per step shape, matching a real count of the same step
    from wattwise.flops import count_flops
    from .hf_util import tiny_gpt2
    m = tiny_gpt2()
    ids = torch.randint(1, 96, (4, 16))
    real = count_flops(m, input_ids=ids, labels=ids, train_step=True, loss_fn=lambda o: o.loss)
    assert len(cb_cache := tr.callback_handler.callbacks[0]._flops_cache) == 1
    (fb, opt), = cb_cache.values()
    assert fb == real.forward + real.backward and opt > 0
    assert float(fp.flops) == pytest.approx(4 * (fb + opt))
    # the card, the model-card block and the footprint in output_dir
    out = tmp_path / "out"
    card = json.loads((out / "wattwise-card.json").read_text())
    assert card["runs"][0]["id"] == rec["id"] if "runs" in card else True
    assert "co2_eq_emissions:" in (out / "wattwise-modelcard.md").read_text()
    assert "Environmental impact" in (out / "wattwise-card.md").read_text() or (out / "wattwise-card.md").stat().st_size
    assert json.loads((out / "wattwise-footprint.json").read_text())["run_id"] == rec["id"]
    # the Trainer's own model card gets the metadata, its own fields kept
    tr.create_model_card(model_name="tiny")
    readme = (out / "README.md").read_text()
    head = readme.split("---")[1]
    assert "co2_eq_emissions:" in head and "library_name: transformers" in head and "emissions:" in head
    assert readme.count("## Environmental impact") == 1
    tr.create_model_card(model_name="tiny")                          # again: replaced, not repeated
    assert (out / "README.md").read_text().count("co2_eq_emissions:") == 1


def test_survives_failing_meter_and_offline_machine_and_changes_no_result(tmp_path, monkeypatch):
    base = trainer(tmp_path, [], steps=4, out="base")
    base.train()

    def no_network(*a, **k):
        raise OSError("network is unreachable (test)")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    meter = RampMeter(fail_after=2)
    cb = WattwiseCallback("hf-fail", **tracker_kwargs(tmp_path, meters=[meter, FlatCpuMeter()]))
    tr = trainer(tmp_path, [cb], steps=4, out="with")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        tr.train()
    msgs = [str(w.message) for w in rec if issubclass(w.category, TrackerWarning)]
    assert sum("meter ramp failed" in m for m in msgs) == 1          # warned once
    assert meter.reads > 2
    assert cb.footprint.extra["status"] == "ok" and cb.footprint.energy_kwh > 0   # CPU still counted
    assert _losses(tr) == _losses(base)                                # exact, CPU
    wb, wt = _weights(base), _weights(tr)
    assert all(torch.equal(wb[k], wt[k]) for k in wb)


def test_any_failure_is_one_warning_and_training_finishes(tmp_path):
    class BadSink:
        def finish(self, fp, files):
            raise RuntimeError("sink down")

    cb = WattwiseCallback("hf-bad", sinks=[BadSink()], **tracker_kwargs(tmp_path))
    cb._log = lambda state, logs: 1 / 0                                 # a broken on_log, every step
    tr = trainer(tmp_path, [cb], steps=3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        tr.train()
    msgs = [str(w.message) for w in rec if issubclass(w.category, TrackerWarning)]
    assert sum("on_log failed" in m for m in msgs) == 1
    assert sum("sink BadSink failed" in m for m in msgs) == 1
    assert cb.guard.failures["on_log"] >= 3
    assert tr.state.global_step == 3 and cb.footprint.extra["status"] == "ok"


def test_mlflow_reporter_sees_the_values(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.delenv("DISABLE_MLFLOW_INTEGRATION", raising=False)
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "hf")
    cb = WattwiseCallback("hf-mlflow", **tracker_kwargs(tmp_path))
    tr = trainer(tmp_path, [cb], steps=3, report_to=["mlflow"])
    tr.train()
    client = mlflow.tracking.MlflowClient(uri)
    exp = client.get_experiment_by_name("hf")
    (run,) = client.search_runs([exp.experiment_id])
    hist = client.get_metric_history(run.info.run_id, "wattwise/energy_kwh")
    assert len(hist) >= 3 and all(m.value > 0 for m in hist)


def test_resume_from_checkpoint_continues_the_same_run(tmp_path):
    from transformers import Trainer, TrainingArguments

    from tests.integrations.hf_util import Tokens, tiny_gpt2
    from wattwise.integrations.hf import WattwiseCallback
    from wattwise.ledger import Ledger

    db = tmp_path / "l.db"

    def make(cb):
        args = TrainingArguments(output_dir=str(tmp_path / "run"), max_steps=4, per_device_train_batch_size=4,
                                 learning_rate=1e-3, logging_steps=1, save_strategy="steps", save_steps=2,
                                 report_to="none", use_cpu=True, seed=0, data_seed=0, dataloader_num_workers=0,
                                 disable_tqdm=True)
        return Trainer(model=tiny_gpt2(0), args=args, train_dataset=Tokens(), callbacks=[cb])

    first_cb = WattwiseCallback("resume", ledger=db, interval_s=0.05, write_card=False)
    make(first_cb).train()
    run_id = first_cb.footprint.extra["run_id"]
    ckpt = tmp_path / "run" / "checkpoint-2"
    assert ckpt.is_dir()

    second_cb = WattwiseCallback("resume", ledger=db, interval_s=0.05, write_card=False)
    make(second_cb).train(resume_from_checkpoint=str(ckpt))
    fp = second_cb.footprint
    assert fp.extra["run_id"] == run_id                               # the same run, continued
    with Ledger(db, create=False) as led:
        assert [r["id"] for r in led.runs()] == [run_id]
        part = led.parts(run_id)[0]
    assert part["info"]["processes"] == 2
    assert part["steps"] == 4 + 2                                     # steps 3-4 were run again after the resume
    assert fp.energy_kwh > first_cb.footprint.energy_kwh              # the earlier process's energy is kept
