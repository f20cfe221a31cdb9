"""Seed plan test scenario 4, "NUMA binding": everything bound to one node (runtime, both iris
pools, all memory: numactl --cpunodebind=0 --membind=0) against today and dual, with the
machine's remote cost and with remote = local.

    python experiments/hawk_numa_binding.py [--seeds 3] [--out experiments/out]
"""
import argparse
import os

from hawk_common import HERE, run_variants

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--out", default=os.path.join(HERE, "out"))
a = ap.parse_args()
run_variants("hawk_numa_binding",
             [("machine remote cost", {"job.batches": 3}),
              ("remote = local", {"job.batches": 3, "memory.remote_penalty": 1.0})],
             ["today", "dual", "single-node"], a.seeds, a.out, "remote memory cost")
