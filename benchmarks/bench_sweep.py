"""Sweep throughput: points per second with 1 and 2 local worker processes (and Dask on request).

    python benchmarks/bench_sweep.py [--points N] [--duration S] [--dask]

Each point is the tiny test spec (tests/data/sweeps/tiny.json) with its own arrival interval, run
into a fresh temporary folder, so nothing is reused. The 1-worker run is in-process; the others
pay process start-up once per sweep.
"""
import argparse
import json
import pathlib
import tempfile
import time

from numasim import sweep as S

ROOT = pathlib.Path(__file__).resolve().parents[1]


def make(points, duration):
    spec = json.loads((ROOT / "tests" / "data" / "sweeps" / "tiny.json").read_text())
    spec["duration_s"] = duration
    return S.parse_sweep({"spec": spec, "seeds": [1], "design": {"method": "random", "points": points, "seed": 1},
                          "param": [{"path": "sources.0.interval_us", "low": 100, "high": 800}]},
                         str(ROOT / "bench.toml"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--duration", type=float, default=0.05, help="simulated seconds per point")
    ap.add_argument("--dask", action="store_true", help="also time a 2-process Dask LocalCluster")
    a = ap.parse_args()
    sw = make(a.points, a.duration)
    S.run_job("spec", sw.jobs()[0].payload)  # warm imports (scipy, numba caches) out of the timing
    cases = [("local", 1, None), ("local", 2, None)] + ([("dask", 2, "local")] if a.dask else [])
    for name, workers, dask in cases:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            s = S.run_sweep(sw, d, workers=workers, dask=dask, quiet=True, plot=False)
            dt = time.perf_counter() - t
        print(f"{name:5s} workers={workers}: {s['ran']} points in {dt:6.2f} s = {s['ran'] / dt:6.1f} points/s")


if __name__ == "__main__":
    main()
