"""Seed plan test scenario 1, "Baseline load test": the prod-like job in every layout.

    python experiments/hawk_baseline.py [--seeds 5] [--out experiments/out]

Writes out/hawk_baseline.{md,json,png}: job latency p50/p99 and throughput per layout with 95%
t-intervals over seeds, the paired improvement over today, the app metrics and the matrix.
"""
import argparse
import os

from hawk_common import HERE, run_variants

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=5)
ap.add_argument("--out", default=os.path.join(HERE, "out"))
a = ap.parse_args()
run_variants("hawk_baseline", [("prod", {}), ("prod, remote 2x", {"memory.remote_penalty": 2.0}),
                               ("prod, hop 250us", {"mpc.hop_us": 250.0})],
             ["today", "pinned", "dual", "single-node"], a.seeds, a.out, "scenario")
