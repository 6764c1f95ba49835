"""`import wattwise` vs `import codecarbon`, measured in the same run.

Each import runs in a fresh interpreter; we take the median over repeats of (import time - empty interpreter
time), so the interpreter's own start-up is not counted. Goals: under 10 ms, and at most one tenth of codecarbon.
Prints `name: value` lines.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

REPEATS = 15


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t0


def median_import_s(module: str) -> float:
    samples = []
    for _ in range(REPEATS):  # interleave with the baseline so drift hits both
        base = wall("pass")
        samples.append(wall(f"import {module}") - base)
    return max(statistics.median(samples), 1e-6)


def main() -> None:
    ww = median_import_s("wattwise")
    print(f"import_wattwise_ms: {ww * 1e3:.1f}")
    print(f"goal.import_wattwise_under_10ms: {ww < 0.010}")
    try:
        subprocess.run([sys.executable, "-c", "import codecarbon"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        print("import_codecarbon_ms: skipped (codecarbon not installed: pip install codecarbon)")
        return
    cc = median_import_s("codecarbon")
    print(f"import_codecarbon_ms: {cc * 1e3:.1f}")
    print(f"import_wattwise_over_codecarbon: {ww / cc:.3f}  (goal <= 0.1)")


if __name__ == "__main__":
    main()
