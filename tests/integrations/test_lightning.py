"""A real lightning.pytorch.Trainer with WattwiseCallback: the run in the ledger, values through log_dict (a CSV
logger's file), the card, a resume from a checkpoint that continues the same run, the same weights."""

from __future__ import annotations

import csv
import time

import pytest
import torch

L = pytest.importorskip("lightning.pytorch")

from wattwise.integrations.lightning import WattwiseCallback  # noqa: E402
from wattwise.ledger import Ledger  # noqa: E402

from .conftest import RampMeter, FlatCpuMeter, tracker_kwargs  # noqa: E402


class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                                       torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, idx):
        x, y = batch
        time.sleep(0.03)                       # slower than the sampling interval: the reading moves
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _loader():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16, 8, generator=g)
    ds = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False)


def _trainer(tmp_path, callbacks, epochs, sub="run"):
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
    return L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=CSVLogger(tmp_path / sub, name="csv"),
                     callbacks=[*callbacks, ModelCheckpoint(dirpath=tmp_path / sub / "ckpt", save_last=True)],
                     log_every_n_steps=1, enable_progress_bar=False, enable_model_summary=False,
                     default_root_dir=tmp_path / sub, deterministic=True)


def _fit(tmp_path, callbacks, epochs, sub="run", ckpt_path=None):
    L.seed_everything(0, verbose=False)
    model = Tiny()
    tr = _trainer(tmp_path, callbacks, epochs, sub)
    tr.fit(model, _loader(), ckpt_path=ckpt_path)
    return tr, model


def _csv_rows(tr):
    with open(f"{tr.logger.log_dir}/metrics.csv") as f:
        return list(csv.DictReader(f))


def test_fit_logs_records_and_resumes_the_same_run(tmp_path):
    cb = WattwiseCallback("pl-tiny", project="pl", **tracker_kwargs(tmp_path))
    tr, _ = _fit(tmp_path, [cb], epochs=1)
    led = Ledger(tmp_path / "ledger.db")
    (rec,) = led.runs(project="pl")
    rid = rec["id"]
    assert rec["status"] == "ok" and cb.footprint.extra["run_id"] == rid
    first = led.footprint(rid)
    (part,) = led.parts(rid)
    assert part["steps"] == 4 and first.flops.method == "counted" and first.flops > 0 and first.mfu > 0
    rows = [r for r in _csv_rows(tr) if r.get("wattwise/energy_kwh")]
    assert len(rows) >= 3 and all(float(r["wattwise/energy_kwh"]) > 0 for r in rows)
    assert any(r.get("wattwise/mfu") for r in rows)
    assert (tmp_path / "run" / "wattwise-card.md").is_file()
    assert "co2_eq_emissions:" in (tmp_path / "run" / "wattwise-modelcard.md").read_text()
    ckpt = torch.load(tmp_path / "run" / "ckpt" / "last.ckpt", weights_only=False)
    assert ckpt["callbacks"]["WattwiseCallback[pl-tiny]"]["run_id"] == rid

    # a new process's callback (fresh meters) resumes from the checkpoint: the same run continues
    cb2 = WattwiseCallback("pl-tiny", project="pl", **tracker_kwargs(tmp_path))
    tr2, _ = _fit(tmp_path, [cb2], epochs=2, ckpt_path=tmp_path / "run" / "ckpt" / "last.ckpt")
    assert cb2.run_id == rid and cb2.resumed_from["run_id"] == rid
    (rec2,) = led.runs(project="pl")                                       # still one run
    (part2,) = led.parts(rid)
    assert part2["steps"] == 8 and part2["info"]["processes"] == 2
    both = led.footprint(rid)
    assert both.extra["status"] == "ok"
    assert float(both.it_energy_kwh) > float(first.it_energy_kwh)         # the earlier energy is kept, and more
    assert float(both.flops) == pytest.approx(2 * float(first.flops))     # same shapes, twice the steps
    assert float(both.duration_s) < (part2["end_ts"] - part["start_ts"])  # the pause is not counted
    assert float(both.duration_s) > float(first.duration_s)


def test_same_weights_with_and_without_the_callback_and_a_failing_meter(tmp_path):
    _, base = _fit(tmp_path, [], epochs=1, sub="base")
    meters = [RampMeter(fail_after=1), FlatCpuMeter()]
    cb = WattwiseCallback("pl-fail", **tracker_kwargs(tmp_path, meters=meters))
    with pytest.warns(Warning):
        _, with_cb = _fit(tmp_path, [cb], epochs=1, sub="with")
    assert cb.footprint.extra["status"] == "ok"
    sb, sw = base.state_dict(), with_cb.state_dict()
    assert all(torch.equal(sb[k], sw[k]) for k in sb)


def test_exception_ends_the_run_failed(tmp_path):
    class Boom(Tiny):
        def training_step(self, batch, idx):
            if idx == 2:
                raise RuntimeError("boom")
            return super().training_step(batch, idx)

    cb = WattwiseCallback("pl-boom", **tracker_kwargs(tmp_path))
    tr = _trainer(tmp_path, [cb], 1)
    with pytest.raises(RuntimeError, match="boom"):
        tr.fit(Boom(), _loader())
    rec = Ledger(tmp_path / "ledger.db").run(cb.run_id)
    assert rec["status"] == "failed"

