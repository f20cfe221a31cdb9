"""Seed plan test scenario 2, "High concurrency": Hawk runs one batch at a time, so concurrency
grows with the batch size (one search task per eye, request and base rotation; 96-request
session pools). Batch sizes 8 (prod), 16 and 32.

    python experiments/hawk_high_concurrency.py [--seeds 3] [--out experiments/out]
"""
import argparse
import os

from hawk_common import HERE, run_variants

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--out", default=os.path.join(HERE, "out"))
a = ap.parse_args()
run_variants("hawk_high_concurrency",
             [(f"batch {b}", {"job.batch_size": b, "job.batches": 2}) for b in (8, 16, 32)],
             ["today", "pinned", "dual"], a.seeds, a.out, "requests per batch")
