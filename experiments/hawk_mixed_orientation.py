"""Seed plan test scenario 3, "Mixed orientation": jobs with different normal/mirror ratios
(share of requests that also run the Mirror search, which crosses the eyes: 0, 0.5, 1).

    python experiments/hawk_mixed_orientation.py [--seeds 3] [--out experiments/out]
"""
import argparse
import os

from hawk_common import HERE, run_variants

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--out", default=os.path.join(HERE, "out"))
a = ap.parse_args()
run_variants("hawk_mixed_orientation",
             [(f"mirror {m}", {"job.mirror": m, "job.batches": 3}) for m in (0.0, 0.5, 1.0)],
             ["today", "pinned", "dual"], a.seeds, a.out, "share of requests with a Mirror search")
