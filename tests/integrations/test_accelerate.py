"""A real Accelerate loop with WattwiseTracker in log_with: the run, FLOPs per batch shape, live metrics, card."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("accelerate")

from wattwise.integrations.accelerate import WattwiseTracker, track_loop  # noqa: E402
from wattwise.ledger import Ledger  # noqa: E402

from .conftest import tracker_kwargs  # noqa: E402
from .hf_util import Tokens, tiny_gpt2  # noqa: E402


def _loop(accelerator, ww, steps=4):
    model = tiny_gpt2()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(Tokens(), batch_size=4)
    model, opt, loader = accelerator.prepare(model, opt, loader)
    ww.watch(model, opt)
    logged = []
    for step, batch in enumerate(loader):
        if step == steps:
            break
        loss = model(**batch).loss
        accelerator.backward(loss)
        opt.step()
        opt.zero_grad()
        ww.step(batch)
        m = ww.metrics()
        accelerator.log({"loss": loss.item(), **m}, step=step)
        logged.append(m)
    accelerator.end_training()
    return logged


def test_accelerate_loop_with_log_with(tmp_path):
    from accelerate import Accelerator
    ww = WattwiseTracker("acc-tiny", project="acc", output_dir=tmp_path / "out", **tracker_kwargs(tmp_path))
    acc = Accelerator(cpu=True, log_with=[ww])
    acc.init_trackers("acc", config={"lr": 1e-3})
    assert ww.tracker is not None and ww.tracker.status == "running"
    logged = _loop(acc, ww)
    assert any("wattwise/energy_kwh" in m for m in logged)
    led = Ledger(tmp_path / "ledger.db")
    (rec,) = led.runs(project="acc")
    fp = led.footprint(rec["id"])
    assert rec["status"] == "ok" and fp.flops.method == "counted" and fp.extra["tokens"] == 4 * 4 * 16
    assert fp.mfu > 0 and fp.extra["j_per_token"] > 0
    assert rec["context"]["config"] == {"lr": 1e-3} and rec["context"]["metrics"]["loss"] > 0
    assert (tmp_path / "out" / "wattwise-card.md").is_file()
    assert "co2_eq_emissions:" in (tmp_path / "out" / "wattwise-modelcard.md").read_text()


def test_track_loop_helper_without_log_with(tmp_path):
    from accelerate import Accelerator
    acc = Accelerator(cpu=True)
    ww = track_loop(acc, "acc-helper", **tracker_kwargs(tmp_path))
    _loop(acc, ww, steps=3)
    assert ww.footprint is not None and ww.footprint.extra["status"] == "ok"
    assert ww.footprint.extra["tokens"] == 3 * 4 * 16
