"""Bytes a tracker writes per checkpoint (the write(2) volume SQLite issues, from /proc/self/io wchar), and the
WAL's size after many checkpoints. Linux only.

    python benchmarks/ledger_write_volume.py [--checkpoints 200]

Prints `name: value` lines: bytes_per_checkpoint, wal_bytes_after, ledger_bytes_after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


def wchar() -> int:
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoints", type=int, default=200)
    args = ap.parse_args(argv)
    from wattwise.meters.base import Reading
    from wattwise.tracker import Tracker

    class Meter:
        name, component, kind, source = "bench", "gpu", "measured", "benchmark meter"

        def __init__(self):
            self.e = 0.0

        def start(self):
            pass

        def read(self):
            self.e += 250.0
            return [Reading("bench/gpu/0", "gpu", self.e, 0.95 * self.e, 1.05 * self.e, label="bench GPU")]

        def close(self):
            pass

    with tempfile.TemporaryDirectory() as d:
        os.environ["WATTWISE_HOME"] = d
        path = os.path.join(d, "ledger.db")
        t = Tracker("volume", ledger=path, meters=[Meter()], interval_s=3600, region="FR", gpu="H100")
        t.start()
        while t.ctx is None or t.ledger is None:
            time.sleep(0.01)
        time.sleep(0.1)
        with t._lock:
            t._checkpoint()
            w0 = wchar()
            for _ in range(args.checkpoints):
                t._checkpoint()
            w1 = wchar()
        t.stop()
        wal = path + "-wal"
        print(f"bytes_per_checkpoint: {(w1 - w0) / args.checkpoints:.0f}")
        print(f"wal_bytes_after: {os.path.getsize(wal) if os.path.exists(wal) else 0}")
        print(f"ledger_bytes_after: {os.path.getsize(path)}")


if __name__ == "__main__":
    main()
