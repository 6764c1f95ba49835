"""Checkpoint latency and throughput, SQLite vs PostgreSQL, with 1, 8 and 32 concurrent writer processes (each
writing checkpoints of its own running run: a part and a sample, as the tracker does).

    python benchmarks/ledger_backends.py [--checkpoints 100] [--writers 1 8 32] [--pg-url URL]

Without --pg-url a throwaway server is started with scripts/pg_test_server.sh (skipped if that fails). Prints a
markdown table: backend, writers, p50 / p95 latency (ms), checkpoints per second (all writers together).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

CTX = {"name": "bench", "project": "p", "tags": [], "pue": {"low": 1.1, "central": 1.2, "high": 1.5},
       "intensity_g_per_kwh": {"low": 50.0, "central": 60.0, "high": 70.0}, "interval_s": 1.0}


def _writer(target, w, n, q):
    from wattwise.ledger import Ledger
    led = Ledger(target)
    lat = []
    t0 = time.time()
    for i in range(n):
        e = 250.0 * i
        part = {"rank": 0, "host": "bench", "pid": os.getpid(), "status": "running", "start_ts": t0,
                "end_ts": None, "updated_ts": t0 + i * 0.1, "flops": None, "steps": i,
                "readings": [{"device": f"bench/gpu/{w}", "component": "gpu", "energy_j": e, "low_j": e,
                              "high_j": e, "kind": "measured", "label": "H100"}], "info": {"interval_s": 1.0}}
        s = time.perf_counter()
        led.write_part(f"bench-{w}", CTX, part, {"t_s": i * 0.1, "energy_gpu_j": e})
        lat.append(time.perf_counter() - s)
    led.close()
    q.put(lat)


def run(target, writers, n):
    from wattwise.ledger import Ledger
    Ledger(target).close()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(target, w, n, q)) for w in range(writers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lat = []
    for _ in procs:
        lat += q.get(timeout=600)
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.95)] * 1e3, len(lat) / wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoints", type=int, default=100)
    ap.add_argument("--writers", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--pg-url")
    args = ap.parse_args(argv)
    folder = None
    url = args.pg_url
    if url is None:
        folder = tempfile.mkdtemp(prefix="wattwise-pg-bench-")
        out = subprocess.run([os.path.join(ROOT, "scripts", "pg_test_server.sh"), "start", folder],
                             capture_output=True, text=True)
        url = out.stdout.strip().splitlines()[-1] if out.returncode == 0 else None
        if url is None:
            print(f"(no PostgreSQL server: {out.stderr.strip()[-200:]})")
    print(f"{args.checkpoints} checkpoints per writer, {os.cpu_count()} CPUs\n")
    print("| backend | writers | p50 ms | p95 ms | checkpoints/s |")
    print("|---|---:|---:|---:|---:|")
    try:
        with tempfile.TemporaryDirectory() as d:
            os.environ["WATTWISE_HOME"] = d
            for writers in args.writers:
                for backend in ("sqlite", "postgresql"):
                    if backend == "postgresql":
                        if url is None:
                            continue
                        import psycopg
                        db = f"bench_{writers}_{os.getpid()}"
                        with psycopg.connect(url, autocommit=True) as c:
                            c.execute(f"DROP DATABASE IF EXISTS {db}")
                            c.execute(f"CREATE DATABASE {db}")
                        target = url.rsplit("/", 1)[0] + "/" + db
                    else:
                        target = os.path.join(d, f"bench-{writers}.db")
                    p50, p95, rate = run(target, writers, args.checkpoints)
                    print(f"| {backend} | {writers} | {p50:.2f} | {p95:.2f} | {rate:.0f} |", flush=True)
    finally:
        if folder:
            subprocess.run([os.path.join(ROOT, "scripts", "pg_test_server.sh"), "destroy", folder],
                           capture_output=True)


if __name__ == "__main__":
    main()
