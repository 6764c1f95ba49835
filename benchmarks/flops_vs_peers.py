"""FLOP counters side by side on the wattwise model zoo: wattwise, torch's FlopCounterMode, fvcore, ptflops (pytorch
and aten backends) and thop, all measured in this run against the zoo's analytic ground truth (2 FLOPs per
multiply-accumulate).

    python benchmarks/flops_vs_peers.py [--repeat 5] [--only gpt-sdpa,mlp] [--threads 2] [--tools wattwise,...]

Prints `name: ratio` lines (counted / truth, and counting time / one plain forward after warm-up), then a table.
fvcore, ptflops and thop report MACs under the name "flops": their number is taken as reported, and the table
also shows it doubled (and, for ptflops' pytorch backend, which reports per sample, times the batch) so that a
missing op can be told apart from a convention. Only wattwise and
FlopCounterMode count a backward pass. A peer that is not installed is skipped with a note.

The zoo also holds small real transformers models built from configs (GPT-2, Llama, Mistral, Qwen2, Mixtral with
the default grouped_mm experts, Qwen2-MoE, BLOOM, BERT, T5, ViT; `hf-*` entries), with the analytic ground
truth of tests/flops/test_hf_architectures.py; `--no-hf` leaves them out. calflops reports MACs and FLOPs: its
MACs are taken (x2 column), like fvcore's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import time
import warnings

import torch

import sys
from pathlib import Path

from wattwise.flops import count_flops
from wattwise.flops.zoo import ZOO, ZooEntry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.flops.test_hf_architectures: configs + truth


class _HFWrap(torch.nn.Module):
    """A transformers model as module(x) -> logits / last hidden state, so that every peer can call it."""

    def __init__(self, model, kind):
        super().__init__()
        self.model, self.kind = model, kind

    def forward(self, x):
        if self.kind == "vit":
            out = self.model(pixel_values=x)
        elif self.kind == "t5":
            out = self.model(input_ids=x, decoder_input_ids=x)
        elif self.kind == "bert":
            out = self.model(input_ids=x)
        else:
            out = self.model(input_ids=x, use_cache=False)
        return out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state


def hf_zoo() -> dict:
    try:
        import transformers
        from tests.flops import test_hf_architectures as th
    except Exception as e:  # transformers missing: the classic zoo only
        print(f"note: hf-* models skipped ({type(e).__name__}: {e})")
        return {}
    from wattwise.flops.hf_count import _model_class
    out = {}
    for name, c in th.TINY.items():
        def build(device, name=name, c=c):
            cfg = transformers.AutoConfig.for_model(c["model_type"],
                                                    **{k: v for k, v in c.items() if k != "model_type"})
            torch.manual_seed(0)
            with torch.device(device):
                m = _model_class(transformers, cfg, None).from_config(cfg)
            x = torch.randn(th.B, 3, 32, 32) if name == "vit" else torch.randint(0, c["vocab_size"], (th.B, th.S))
            return _HFWrap(m, name), (x.to(device),)
        f, b = th.truth(name, c)
        out[f"hf-{name}"] = ZooEntry(f"hf-{name}", build, f, b)
    return out


def _call(entry, model, args):
    return entry.call(model, *args) if entry.call else model(*args)


# ---- counters: each returns (forward FLOPs as reported, forward+backward or None) ---------------------------

def wattwise_count(entry, model, args, train):
    fwd = count_flops(lambda *a: _call(entry, model, a), *args).forward
    tot = None
    if train:
        r = count_flops(lambda *a: _call(entry, model, a), *args, train_step=True)
        tot = r.forward + r.backward
    return fwd, tot


def torch_count(entry, model, args, train):
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        _call(entry, model, args)
    fwd = fc.get_total_flops()
    tot = None
    if train:
        with FlopCounterMode(display=False) as fc:
            out = _call(entry, model, args)
            out.sum().backward()
        tot = fc.get_total_flops()
    return fwd, tot


def fvcore_count(entry, model, args, train):
    from fvcore.nn import FlopCountAnalysis
    logging.getLogger("fvcore").setLevel(logging.CRITICAL)
    fa = FlopCountAnalysis(model, args)
    fa.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    if entry.call is not None:
        with torch.no_grad():
            return fa.total(), None
    return fa.total(), None


def _ptflops(backend):
    def count(entry, model, args, train):
        from ptflops import get_model_complexity_info
        x = args[0]
        ctx = torch.no_grad() if entry.call else contextlib.nullcontext()
        with ctx, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            macs, _ = get_model_complexity_info(model, tuple(x.shape), input_constructor=lambda _: x,
                                                as_strings=False, print_per_layer_stat=False, verbose=False,
                                                backend=backend)
        return macs, None
    return count


def thop_count(entry, model, args, train):
    from thop import profile
    ctx = torch.no_grad() if entry.call else contextlib.nullcontext()
    with ctx, contextlib.redirect_stdout(io.StringIO()):
        macs, _ = profile(model, inputs=args, verbose=False)
    return macs, None


def calflops_count(entry, model, args, train):
    from calflops import calculate_flops
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        _, macs, _ = calculate_flops(model=model, args=list(args), output_as_string=False, print_results=False,
                                     print_detailed=False)
    return macs, None


PEERS = {
    "wattwise": (None, wattwise_count, False),
    "torch.FlopCounterMode": (None, torch_count, False),
    "fvcore": ("fvcore", fvcore_count, True),
    "ptflops[pytorch]": ("ptflops", _ptflops("pytorch"), "per-sample"),
    "ptflops[aten]": ("ptflops", _ptflops("aten"), True),
    "thop": ("thop", thop_count, True),
    "calflops": ("calflops", calflops_count, True),
}  # name -> (module to import or None, counter, reports MACs)


def _available(module):
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except Exception:
        return False


def _best_times(fa, fb, repeat):
    """Minimum time of fa and of fb over `repeat` interleaved runs (interleaving cancels machine drift)."""
    ta, tb = [], []
    for _ in range(repeat):
        for f, ts in ((fa, ta), (fb, tb)):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
    return min(ta), min(tb)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (the minimum is kept)")
    ap.add_argument("--only", default="", help="comma-separated zoo entries")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a shared machine OpenMP waits swamp small models; 0: as is)")
    ap.add_argument("--no-hf", action="store_true", help="leave out the transformers models (hf-*)")
    ap.add_argument("--tools", default="", help="comma-separated counters to run (default: all installed), e.g. "
                                                "wattwise,torch.FlopCounterMode")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    zoo = dict(ZOO)
    if not a.no_hf:
        zoo.update(hf_zoo())
    names = [n for n in zoo if not a.only or n in a.only.split(",")]
    peers = {}
    for name, (module, fn, macs) in PEERS.items():
        if a.tools and name not in a.tools.split(","):
            continue
        if _available(module):
            peers[name] = (fn, macs)
        else:
            print(f"note: {name} skipped: `{module}` is not installed (pip install {module})")

    rows = []
    for zname in names:
        e = zoo[zname]
        model, args = e.build("cpu")
        _call(e, model, args)  # warm-up
        for pname, (fn, macs) in peers.items():
            m, margs = e.build("cpu")  # a fresh model per peer: thop and ptflops attach hooks and buffers
            try:
                fwd, tot = fn(e, m, margs, e.trainable)
                fn(e, m, margs, False)  # warm-up of the counter itself
                t_fwd, t_cnt = _best_times(lambda: _call(e, model, args), lambda: fn(e, m, margs, False),
                                           a.repeat)
                err = None
            except Exception as ex:  # a peer that crashes on a model is a result, not a benchmark failure
                fwd, tot, t_fwd, t_cnt, err = None, None, 1.0, None, f"{type(ex).__name__}: {str(ex)[:60]}"
            rows.append(dict(model=zname, tool=pname, macs=macs, batch=args[0].shape[0], fwd=fwd, tot=tot, truth_fwd=e.forward_flops,
                             truth_tot=e.forward_flops + e.backward_flops if e.trainable else None,
                             t_fwd=t_fwd, t_cnt=t_cnt, err=err))

    for r in rows:
        key = f"{r['model']}.{r['tool']}"
        if r["err"]:
            print(f"{key}.error: {r['err']}")
            continue
        print(f"{key}.forward_vs_truth: {r['fwd'] / r['truth_fwd']:.4f}")
        if r["tot"] is not None and r["truth_tot"]:
            print(f"{key}.train_vs_truth: {r['tot'] / r['truth_tot']:.4f}")
        print(f"{key}.count_time_vs_forward: {r['t_cnt'] / r['t_fwd']:.2f}")

    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:  # pragma: no cover
        return
    t = Table(title="FLOP counters vs analytic ground truth (error %; time = counting / one plain forward)")
    for c in ("model", "tool", "fwd err %", "err % as MACs x2 (x batch)", "fwd+bwd err %", "time ratio"):
        t.add_column(c, justify="left" if c in ("model", "tool") else "right")
    summary: dict[str, list[float]] = {}
    for r in rows:
        if r["err"]:
            t.add_row(r["model"], escape(r["tool"]), "crash", "", "", escape(r["err"][:30]))
            continue
        e1 = 100 * (r["fwd"] - r["truth_fwd"]) / r["truth_fwd"]
        scale = 2 * (r["batch"] if r["macs"] == "per-sample" else 1)  # ptflops' pytorch backend divides by batch
        e2 = 100 * (scale * r["fwd"] - r["truth_fwd"]) / r["truth_fwd"] if r["macs"] else None
        e3 = 100 * (r["tot"] - r["truth_tot"]) / r["truth_tot"] if r["tot"] is not None and r["truth_tot"] else None
        summary.setdefault(r["tool"], []).append(abs(e1))
        t.add_row(r["model"], escape(r["tool"]), f"{e1:+.1f}", "" if e2 is None else f"{e2:+.1f}",
                  "n/a" if e3 is None else f"{e3:+.1f}", f"{r['t_cnt'] / r['t_fwd']:.2f}")
    Console(width=120).print(t)
    for tool, errs in summary.items():
        print(f"{tool}.worst_abs_forward_error_pct: {max(errs):.1f}")
        for label, pick in (("", lambda m: True), ("classic_zoo.", lambda m: not m.startswith("hf-")),
                            ("hf.", lambda m: m.startswith("hf-"))):
            ts = [r['t_cnt'] / r['t_fwd'] for r in rows if r['tool'] == tool and not r['err'] and pick(r['model'])]
            if ts:
                print(f"{tool}.{label}median_time_ratio: {statistics.median(ts):.2f}")


if __name__ == "__main__":
    main()
