"""Format-specific guarantees: JSON against its schema, LaTeX escaping, HTML escaping and self-containment."""

import json
import re

import pytest

import wattwise
from wattwise.report import build_card, card_from_estimate, render, schema_path
from wattwise.report.render_latex import escape as tex

from .ledger_fixture import XSS

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed (dev extra): schema checks skipped")


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(validator, card):
    doc = json.loads(render(card, "json"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return doc


def test_json_validates(validator, demo_card, ledger_path):
    doc = _valid(validator, demo_card)
    assert doc["schema"] == "wattwise.card/v1" and doc["series"] and doc["pareto"] and doc["inference"]
    _valid(validator, build_card(["run-0003"], ledger=ledger_path, plots=False))
    _valid(validator, build_card(tag="sweep", ledger=ledger_path))
    fp = wattwise.estimate(params=7e9, tokens=1.4e12, gpu="H100", region="us-west1", inference_tokens=1e12)
    _valid(validator, card_from_estimate(fp))
    _valid(validator, card_from_estimate(wattwise.estimate(flops=1e21)))


def test_schema_rejects_a_broken_card(validator, demo_card):
    doc = json.loads(render(demo_card, "json"))
    doc["totals"]["co2e_kg"]["method"] = "guessed"
    assert not validator.is_valid(doc)
    doc = json.loads(render(demo_card, "json"))
    doc["totals"]["co2e_kg"]["central"] = None            # known method but no number
    assert not validator.is_valid(doc)
    doc = json.loads(render(demo_card, "json"))
    del doc["methods"][0]["source"]
    assert not validator.is_valid(doc)


@pytest.mark.parametrize("raw, want", [("50%", r"50\%"), ("a_b", r"a\_b"), ("A&B", r"A\&B"), ("#1", r"\#1"),
                                       ("$5", r"\$5"), ("{x}", r"\{x\}"), ("~", r"\textasciitilde{}"),
                                       ("^", r"\textasciicircum{}"), ("\\", r"\textbackslash{}"),
                                       ("[x]", "{[}x{]}"), ("<b>", r"\textless{}b\textgreater{}")])
def test_latex_escape(raw, want):
    assert tex(raw) == want


def _strip_escapes(s):
    return re.sub(r"\\[%_&#${}]|\\text\w+\{\}|CO\$_2\$e", "", s)


def test_latex_table_is_valid(demo_card):
    text = render(demo_card, "latex")
    assert text.count(r"\begin{table}") == text.count(r"\end{table}") >= 3
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}")
    assert r"\toprule" in text and r"\midrule" in text and r"\bottomrule" in text
    body = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
    plain = _strip_escapes(body)
    for ch in "%#_~^$":
        assert ch not in plain, f"unescaped {ch!r} in the LaTeX output"
    assert plain.count("{") == plain.count("}")
    assert r"sweep\_lr=1e-3 50\% \& \#1" in text
    assert r"distilled \{student\} \textasciitilde{}50\% \textasciicircum{}2 \textbackslash{} \$5" in text
    # every tabular row has as many cells as its column spec
    ncols = None
    for line in body.splitlines():
        if line.startswith(r"\begin{tabular}{"):
            spec = line[len(r"\begin{tabular}{"):-1]
            ncols = len(re.findall(r"p\{[^}]*\}|[lrc]", re.sub(r"p\{[^}]*\}", "p{}", spec)))
        elif line.startswith(r"\end{tabular}"):
            ncols = None
        elif ncols and line.endswith(r" \\"):
            assert len(re.split(r"(?<!\\)&", line)) == ncols, line


def test_markdown_escapes_user_text(demo_card):
    text = render(demo_card, "md")
    assert XSS not in text and "&lt;script&gt;alert\\(1\\)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    for line in text.splitlines():
        if line.startswith("| `run-0002"):
            assert line.count(" | ") + 2 == 4 + 6 + 1                    # no cell broken by user text


def test_html_escapes_and_is_self_contained(demo_card):
    html = render(demo_card, "html")
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)   # nothing fetched
    assert html.count('<svg class="ww-plot"') == 4      # energy, power, components, Pareto
    assert 'class="ww-front"' in html


def test_html_plots_backends(demo_card):
    off = render(demo_card, "html", plots="none")
    assert "<svg" not in off and "plots turned off" in off
    mpl = render(demo_card, "html", plots="matplotlib")
    assert mpl.count('<svg class="ww-plot"') == 4 and XSS not in mpl
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in mpl          # the page still renders, with a note
    else:
        assert "matplotlib is not installed" not in mpl
        assert mpl == render(demo_card, "html", plots="matplotlib")   # reproducible SVG
