"""Kernel throughput and HNSW growth figures (prints them; asserts nothing).

    python benchmarks/bench_kernels.py            # everything, including the 80k-vector point
    python benchmarks/bench_kernels.py --quick    # skip N = 80k

Numbers go into docs/machine.md; the machine is shared, so treat them as +-20%.
"""
import argparse
import time

import numpy as np

from numasim.kernels import hnsw
from numasim.machine import preset
from numasim.machine.memory import LoadState, cost_batch_ns, cost_ns


def bench_memcost():
    m = preset("genoa-2s-nps4")
    rng = np.random.default_rng(0)
    cost_ns(m, 0, 1, 64)  # compile / load cache
    load = LoadState.from_streams(m, [(0, 1, 30.0), (2, 5, 40.0)])
    print("memory-cost kernel (genoa-2s-nps4, 8 nodes):")
    for k in (1, 1000, 100_000):
        cpu = rng.integers(0, 8, k)
        frac = np.eye(8)[rng.integers(0, 8, k)]
        nb = rng.integers(64, 1 << 20, k).astype(float)
        pat = rng.integers(0, 2, k)
        out = np.empty(k, dtype=np.int64)
        reps = max(1, 200_000 // k)
        t0 = time.perf_counter()
        for _ in range(reps):
            cost_batch_ns(m, cpu, frac, nb, pat, load, out=out)
        dt = (time.perf_counter() - t0) / reps
        print(f"  batch {k:>7}: {dt * 1e6:9.1f} us/call  {k / dt / 1e6:7.2f} M accesses/s")
    t0 = time.perf_counter()
    for _ in range(2000):
        cost_ns(m, 0, 4, 4096)
    print(f"  cost_ns (one access, Python wrapper): {(time.perf_counter() - t0) / 2000 * 1e6:.1f} us/call")


def bench_hnsw(quick: bool):
    print("HNSW (clustered 32-d, M=16, ef_construction=100, 300 queries):")
    print(f"  {'N':>6} {'ef':>4} {'recall@10':>9} {'NDC':>7} {'hops':>6} {'NDC/hop':>7} {'build s':>8} "
          f"{'inserts/s':>9} {'QPS':>7}")
    rows = [(n, 64) for n in (1250, 5000, 20000) + (() if quick else (80000,))]
    rows += [(20000, ef) for ef in (16, 32, 128, 256)]
    for n, ef in rows:
        r = hnsw.run(n, 32, 16, ef, 300)
        print(f"  {n:>6} {ef:>4} {r['recall_at_10']:>9.4f} {r['mean_distance_evals']:>7.1f} {r['mean_hops']:>6.1f} "
              f"{r['mean_distance_evals_per_hop']:>7.2f} {r['build_s']:>8.2f} {n / r['build_s']:>9.0f} "
              f"{r['search_qps']:>7.0f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    bench_memcost()
    bench_hnsw(a.quick)
