"""`wattwise bench-serve`: measure text generation of a causal LM (prefill and decode apart): tokens/s, latency,
J per token and CO2e per 1,000 tokens, next to the 2N + attention FLOPs-per-token estimate.

Mounted in main.py with:  app.command("bench-serve", help=...)(bench_serve_command)
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from .. import display as fmt
from ..errors import InvalidValueError
from ._output import console, print_json

HELP = ("Measure text generation of a causal LM: prefill and decode apart, tokens/s, latency, J/token and CO2e per "
        "1,000 tokens, against the 2N + attention FLOPs per token.")


def _model(model: str | None, config: str | None):
    try:
        import transformers
    except ImportError as e:
        raise InvalidValueError("bench-serve needs transformers: pip install 'wattwise[hf]'") from e
    if (model is None) == (config is None):
        raise InvalidValueError("give --model (a local folder or a cached Hub name) or --config (a config.json: "
                                "random weights, nothing downloaded), one of them")
    import os
    if config is not None:   # a local config.json (or a folder holding one) only: never a download
        import json

        from ..files import read_text
        if os.path.isdir(os.path.expanduser(config)):   # a model folder: its config.json
            config = os.path.join(os.path.expanduser(config), "config.json")
        try:
            data = json.loads(read_text(config, "--config"))
        except json.JSONDecodeError as e:
            raise InvalidValueError(f"--config {config!r} is not valid JSON: {e}") from None
        if not isinstance(data, dict) or "model_type" not in data:
            raise InvalidValueError(f"--config {config!r} is not a transformers config.json (no 'model_type')")
        try:
            cfg = transformers.AutoConfig.for_model(**data)
            return transformers.AutoModelForCausalLM.from_config(cfg), None
        except (ValueError, KeyError, TypeError) as e:
            raise InvalidValueError(f"--config {config!r}: {e}") from None
    if not os.path.isdir(os.path.expanduser(model)):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")    # a Hub name is read from the local cache, never fetched
    tok = None
    try:
        tok = transformers.AutoTokenizer.from_pretrained(model)
    except Exception:  # noqa: BLE001 - a model folder without a tokenizer still takes token ids
        tok = None
    return transformers.AutoModelForCausalLM.from_pretrained(model), tok


def bench_serve_command(
        model: Annotated[Optional[str], typer.Option("--model", help="Local model folder or cached Hub name.")] = None,
        config: Annotated[Optional[str], typer.Option("--config", help="A transformers config.json: the model is built "
                                                      "with random weights (no download).")] = None,
        prompt: Annotated[Optional[list[str]], typer.Option("--prompt", help="A prompt (repeatable; needs a "
                                                            "tokenizer).")] = None,
        prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", help="Without --prompt: prompts of this many "
                                                   "random token ids.")] = 128,
        batch_sizes: Annotated[str, typer.Option("--batch-sizes", help="Comma-separated batch sizes.")] = "1,4",
        new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Tokens generated per sequence.")] = 32,
        region: Annotated[Optional[str], typer.Option("--region", help="Grid zone for CO2e (default: unknown = "
                                                      "world average).")] = None,
        pue: Annotated[Optional[str], typer.Option("--pue", help="Data-centre PUE or preset.")] = None,
        power_w: Annotated[Optional[str], typer.Option("--power-w", help="Device watts, used when no meter gives "
                                                       "energy (labelled estimated).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table.")] = False) -> None:
    from ..serving import measure_generation
    try:
        sizes = [int(b) for b in batch_sizes.split(",") if b.strip()]
    except ValueError:
        raise InvalidValueError(f"--batch-sizes must be comma-separated whole numbers, got {batch_sizes!r}") from None
    lm, tok = _model(model, config)
    if prompt:
        if tok is None:
            raise InvalidValueError("--prompt needs a tokenizer (a --model folder with one); use --prompt-tokens")
        prompts = list(prompt)
    else:
        import torch
        g = torch.Generator().manual_seed(0)
        prompts = torch.randint(0, int(lm.config.vocab_size), (max(sizes), prompt_tokens), generator=g).tolist()
    pue_v = fmt.parse_quantity("pue", pue) if pue and pue[:1].isdigit() else pue
    rows = measure_generation(lm, prompts, batch_sizes=sizes, max_new_tokens=new_tokens, tokenizer=tok,
                              region=region, pue=pue_v, power_w=fmt.parse_quantity("power-w", power_w))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    t = Table(title=f"Generation ({rows[0].prompt_tokens} prompt + {new_tokens} new tokens per sequence)",
              title_justify="left")
    for col in ("Batch", "Prefill tok/s", "Decode tok/s", "Latency/token", "J/token (decode)", "CO2e / 1k tokens",
                "Decode FLOPs/token", "Energy"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r.batch_size), fmt.plain(r.prefill_tokens_per_s), fmt.plain(r.decode_tokens_per_s),
                  fmt.duration(r.latency_per_token_s),
                  fmt.plain(r.j_per_token_decode, "J") if r.j_per_token_decode is not None else "n/a",
                  fmt.co2e(r.co2e_per_1000_tokens_kg) if r.co2e_per_1000_tokens_kg is not None else "n/a",
                  fmt.flops(r.decode_flops_per_token["total"]), r.energy_method)
    console.print(t)
    console.print("FLOPs per token: 2 x matmul weights + 4 x layers x context x heads x head_dim (KV cache), at the "
                  "mean decode context. Use the J/token in `wattwise estimate --serving-j-per-token`.")
