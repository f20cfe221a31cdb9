"""Where does a dual runtime pay off? Remote penalty x load x eye imbalance, for the Hawk job.

    python experiments/payoff_map.py [--out experiments/out/payoff_map] [--workers 2] [--dask local]
                                     [--seeds 3] [--png docs/payoff_map.png]

Runs a `scenario` sweep (numasim.sweep: resumable, local processes or Dask) of the default
scenario with one batch per run, over
  memory.remote_penalty  1.0, 1.5, 2.0, 3.0   (1.0: remote memory costs what local does)
  job.batch_size         2, 8, 16             (the load: requests per batch)
  job.eye_work           (1, 1), (1.5, 0.5), (1.9, 0.1)  (search work of left vs right store)
with both stores first-touched on node 0 (`memory.stores = "node0"`) so that remote reads exist
to be saved, layouts today and dual, the same seeds in both (paired). A cell says "pays" when
the 95% t-interval of dual's p50 improvement over today (paired by seed) lies above zero,
"loses" when it lies below, and "noise" otherwise. Kill it and run it again: finished runs are
not redone.
"""
import argparse
import math
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numasim.commands.compare  # noqa: E402,F401  (registers the `scenario` sweep kind)
from numasim.sweep import parse_sweep, read_table, run_sweep  # noqa: E402

PENALTIES = [1.0, 1.5, 2.0, 3.0]
LOADS = [2, 8, 16]
IMBALANCES = [[1.0, 1.0], [1.5, 0.5], [1.9, 0.1]]


def sweep_definition(seeds: int) -> dict:
    return {
        "name": "payoff_map", "kind": "scenario", "seeds": seeds,
        "scenario": "../numasim/data/hawk-default.toml",
        "set": {"job.batches": 1, "layouts": ["today", "dual"], "memory.stores": "node0"},
        "design": {"method": "grid"},
        "param": [{"path": "memory.remote_penalty", "values": PENALTIES},
                  {"path": "job.batch_size", "values": LOADS},
                  {"path": "job.eye_work", "values": IMBALANCES}],
    }


def t_interval(xs):
    """Mean and 95% t-interval half-width (scipy's t quantile) of a small sample."""
    from scipy import stats
    m = statistics.fmean(xs)
    if len(xs) < 2:
        return m, math.inf
    return m, stats.t.ppf(0.975, len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))


def cells(rows):
    """{(penalty, load, imbalance index): (mean improvement %, half-width, verdict)}."""
    groups = {}
    for r in rows:
        key = (r["memory.remote_penalty"], int(r["job.batch_size"]), _imb_index(r["job.eye_work"]))
        if r.get("dual.improvement_pct") is not None:
            groups.setdefault(key, []).append(r["dual.improvement_pct"])
    out = {}
    for k, xs in groups.items():
        m, h = t_interval(xs)
        out[k] = (m, h, "pays" if m - h > 0 else "loses" if m + h < 0 else "noise")
    return out


def _imb_index(v):
    if isinstance(v, str):
        v = [float(x) for x in v.strip("[]() ").split(",")]
    for i, w in enumerate(IMBALANCES):
        if abs(float(v[0]) - w[0]) < 1e-9:
            return i
    raise ValueError(f"unexpected eye_work {v!r}")


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm
    vals = [m for m, _h, _v in table.values()]
    lim = max(1.0, max(abs(x) for x in vals)) if vals else 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    fig, axes = plt.subplots(1, len(IMBALANCES), figsize=(4.2 * len(IMBALANCES), 4.0), sharey=True,
                             constrained_layout=True)
    im = None
    for ax, (ii, w) in zip(axes, enumerate(IMBALANCES)):
        grid = [[table.get((p, load, ii), (math.nan, 0, ""))[0] for p in PENALTIES] for load in LOADS]
        im = ax.imshow(grid, origin="lower", cmap="RdBu", norm=norm, aspect="auto")
        for yi, load in enumerate(LOADS):
            for xi, p in enumerate(PENALTIES):
                m, h, verdict = table.get((p, load, ii), (math.nan, 0, "-"))
                mark = {"pays": "pays", "loses": "loses", "noise": "~0"}.get(verdict, "-")
                dark = not math.isnan(m) and abs(m) > 0.6 * lim  # white text on the darkest cells
                ax.text(xi, yi, f"{m:+.1f}%\n{mark}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
        ax.set_xticks(range(len(PENALTIES)), [f"{p:g}x" for p in PENALTIES])
        ax.set_yticks(range(len(LOADS)), [str(x) for x in LOADS])
        ax.set_xlabel("remote memory penalty (remote / local cost)")
        ax.set_title(f"eye work left:right = {w[0]:g}:{w[1]:g}")
    axes[0].set_ylabel("load: requests per batch")
    cb = fig.colorbar(im, ax=list(axes), shrink=0.9)
    cb.set_label("dual's p50 job latency improvement over today (%)")
    fig.suptitle("Where a dual runtime pays off (Hawk job, graviton4-2node, stores on node 0; "
                 "pays/loses = 95% CI excludes 0)", fontsize=10)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", "payoff_map"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--png", default=None, help="also copy the figure here (e.g. docs/payoff_map.png)")
    args = ap.parse_args(argv)
    sw = parse_sweep(sweep_definition(args.seeds), os.path.join(HERE, "payoff_map.toml"))
    summary = run_sweep(sw, args.out, workers=args.workers, dask=args.dask, plot=False)
    table = cells(read_table(os.path.join(args.out, "results.csv")))
    lines = ["| eye work L:R | load | " + " | ".join(f"penalty {p:g}x" for p in PENALTIES) + " |",
             "|---|---|" + "---|" * len(PENALTIES)]
    for ii, w in enumerate(IMBALANCES):
        for load in LOADS:
            row = [table.get((p, load, ii)) for p in PENALTIES]
            lines.append(f"| {w[0]:g}:{w[1]:g} | {load} | " + " | ".join(
                "-" if c is None else f"{c[0]:+.1f}% ±{c[1]:.1f} {c[2]}" for c in row) + " |")
    md = "\n".join(lines)
    with open(os.path.join(args.out, "payoff_map.md"), "w") as f:
        f.write(md + "\n")
    png = os.path.join(args.out, "payoff_map.png")
    plot(table, png)
    if args.png:
        import shutil
        shutil.copyfile(png, args.png)
    print(md)
    print(f"{summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
