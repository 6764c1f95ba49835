"""Shared check for the table-driven bad-input tests: a user mistake exits 2 with one line on stderr that
names the bad value, no traceback, and nothing written or created anywhere under the test's directory
(the working directory and WATTWISE_HOME both live there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `path` with (size, mtime_ns); folders have size -1."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for d in dirnames:
            p = Path(dirpath) / d
            out[str(p.relative_to(path)) + "/"] = (-1, 0)
        for f in filenames:
            p = Path(dirpath) / f
            st = p.stat()
            out[str(p.relative_to(path))] = (st.st_size, st.st_mtime_ns)
    return out


def run_cli(argv: list[str], cwd: Path, env: dict | None = None, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WATTWISE_")}
    e.update({"WATTWISE_HOME": str(cwd / "home"), "COLUMNS": "80", "NO_COLOR": "1", "PYTHONPATH": str(ROOT / "src")})
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "wattwise.cli.main", *argv], cwd=cwd, env=e, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def assert_clean_failure(argv: list[str], cwd: Path, mentions: str | list[str] | None = None,
                         env: dict | None = None, stdin: str | None = None) -> str:
    """Run `wattwise *argv` in `cwd`; assert exit 2, one stderr line (mentioning each of `mentions`, case-
    insensitively), no traceback, no 'internal error', nothing created or changed under `cwd`. The line."""
    before = tree(cwd)
    r = run_cli(argv, cwd, env, stdin)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ctx = f"wattwise {' '.join(argv)}\nexit {r.returncode}\nstdout: {r.stdout[-500:]}\nstderr: {r.stderr[-2000:]}"
    assert r.returncode == 2, ctx
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, ctx
    assert len(lines) == 1, ctx
    for m in [mentions] if isinstance(mentions, str) else (mentions or []):
        assert m.lower() in lines[0].lower(), f"{m!r} not in the message\n{ctx}"
    after = tree(cwd)
    assert after == before, f"files changed: {sorted(set(after.items()) ^ set(before.items()))}\n{ctx}"
    return lines[0]
