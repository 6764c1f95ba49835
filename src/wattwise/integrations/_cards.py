"""The card files an integration writes at the end of a run, and the Hub's `co2_eq_emissions` model-card
metadata merged into a README."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._metrics import CARD_FILES  # noqa: F401

# --- the card at the end of a run ----------------------------------------------------------------------------

def run_footprint(tracker):
    """The whole run's footprint: the ledger's record (every rank's part, each device once) when there is a
    ledger, else this process's footprint."""
    fp = tracker.footprint
    led = getattr(tracker, "ledger", None)
    if led is not None and tracker.run_id:
        try:
            return led.footprint(tracker.run_id)
        except Exception:  # noqa: BLE001
            return fp
    return fp


def write_card(fp, output_dir: str | os.PathLike, *, title: str | None = None,
               training_type: str = "pre-training") -> dict[str, Path]:
    """Write the efficiency card (Markdown, JSON) and the Hugging Face `co2_eq_emissions` model-card block of
    the run `fp` into `output_dir`; {format: path}."""
    from ..report import card_from_runs, render_card
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    card = card_from_runs([fp], title=title, generator="wattwise")
    paths: dict[str, Path] = {}
    for fmt, name in CARD_FILES.items():
        text = render_card(card, fmt, training_type=training_type) if fmt == "modelcard" else render_card(card, fmt)
        p = out / name
        p.write_text(text, encoding="utf-8")
        paths[fmt] = p
    p = out / "wattwise-footprint.json"
    p.write_text(json.dumps(fp.to_dict(), indent=2, default=str), encoding="utf-8")
    paths["footprint"] = p
    return paths


def co2_metadata(fp, training_type: str = "pre-training") -> dict:
    """The `co2_eq_emissions` block (grams) of the run `fp`."""
    from ..report import card_from_runs
    from ..report.render_modelcard import co2_eq_emissions
    return co2_eq_emissions(card_from_runs([fp], generator="wattwise"), training_type=training_type)


def merge_model_card(readme: str | os.PathLike, fp, training_type: str = "pre-training") -> bool:
    """Put the run's `co2_eq_emissions` into an existing model card's YAML metadata (README.md) and its
    "Environmental impact" section into the body (replacing earlier ones); False when there is no README."""
    path = Path(readme)
    if not path.is_file():
        return False
    from ..report import card_from_runs, render_card
    block = render_card(card_from_runs([fp], generator="wattwise"), "modelcard", training_type=training_type)
    head, _, body_ours = block.partition("\n---\n")
    ours_meta = head.split("\n", 1)[1]                         # "co2_eq_emissions:\n  emissions: ..."
    text = path.read_text(encoding="utf-8")
    meta, body = "", text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            meta, body = text[4:end], text[end + 4:].lstrip("\n")
    kept, skip = [], False
    for line in meta.splitlines():
        if line.startswith("co2_eq_emissions:"):
            skip = True
            continue
        if skip and (line.startswith(" ") or line.startswith("\t") or not line.strip()):
            continue
        skip = False
        kept.append(line)
    new_meta = "\n".join([*kept, ours_meta.rstrip("\n")])
    section = body_ours.strip("\n")
    marker = "## Environmental impact"
    if marker in body:
        before, _, after = body.partition(marker)
        nxt = after.find("\n## ")
        body = before + section + ("\n" + after[nxt + 1:] if nxt != -1 else "\n")
    else:
        body = body.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(f"---\n{new_meta}\n---\n\n{body.lstrip(chr(10))}", encoding="utf-8")
    return True
