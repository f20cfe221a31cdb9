"""Sensitivity of dual's gain to each estimate: a tornado over docs/hawk.md's estimates table.

    python experiments/tornado.py [--seeds 3] [--workers 2] [--out experiments/out/tornado.json]
                                  [--png docs/tornado.png] [--md docs/tornado.md]

Each estimate moves alone to the low and the high end of its plausible range, the others at the
default; at each point layouts today and dual run over seeds 1..N (paired), and dual's p50 change
(% , + = faster than today) gets its 95% t-interval and the outcome of numasim.stats.classify.
Finished points are kept in the JSON file and not redone (kill it and run it again).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from numasim.hawk.layouts import compare_layouts  # noqa: E402
from numasim.hawk.scenario import default_scenario  # noqa: E402
from numasim.stats import Interval, classify  # noqa: E402

# (path, low, high, where the range comes from): docs/hawk.md, estimates table
RANGES = [
    ("mpc.hop_us", 25.0, 250.0, "one-way intra-AZ latency (qperf 50 us; ping up to ~200 us)"),
    ("mpc.session_gbps", 0.52, 5.0, "a session's wire bandwidth (NIC fair share of 96 sessions .. one 5 Gbps flow alone)"),
    ("memory.remote_penalty", 1.0, 3.0, "remote memory cost over local (machine's figures at default)"),
    ("mpc.cpu_ns_per_item_round", 10.0, 100.0, "share arithmetic per item per message"),
    ("mpc.bytes_per_item_round", 48.0, 192.0, "session bytes per item per message"),
    ("mpc.wire_ns_per_byte", 0.8, 3.6, "TLS + kernel copies + serde per byte, both ways"),
    ("mpc.wire_us_per_message", 2.0, 22.0, "multiplexer CPU per message"),
    ("mpc.layer0_iterations", 3, 5, "layer-0 iterations per search (batched search on the HNSW grid: 4)"),
    ("mpc.multiplexer_working_set_bytes", 8192, 65536, "what a multiplexer task re-fetches after a move (TLS state, the tails of its 8 KiB read and 32 KiB write buffers)"),
    ("mpc.session_working_set_bytes", 65536, 704000, "what a search task's poll re-fetches after a move (128 KB: the mean message's session bytes; 704 KB: the whole batch of lifted shares)"),
    ("job.query_prep_us", 200.0, 2000.0, "cache_queries on the job task per iris and pool"),
    ("pool.dot_ns_per_candidate", 1000.0, 5000.0, "dot products per candidate (11 rotations)"),
]


def point(sc, seeds, workers):
    out = compare_layouts(sc, ["today", "dual"], range(1, seeds + 1), workers=workers)
    pct = out["summary"]["dual"]["vs_baseline"]["job_p50_ms"]["improvement_pct"]
    iv = Interval(pct["mean"], pct["low"], pct["high"], pct["n"], pct.get("sd"))
    return {"change_pct": pct, "outcome": classify(iv)[0],
            "today_p50_ms": out["summary"]["today"]["figures"]["job_p50_ms"]["mean"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "tornado.json"))
    ap.add_argument("--png", default=os.path.join(HERE, "..", "docs", "tornado.png"))
    ap.add_argument("--md", default=os.path.join(HERE, "..", "docs", "tornado.md"))
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    done = json.load(open(a.out)) if os.path.exists(a.out) else {}
    base = default_scenario()
    todo = [("default", None, None)] + [(p, lo, "low") for p, lo, _, _ in RANGES] + \
        [(p, hi, "high") for p, _, hi, _ in RANGES]
    for path, v, end in todo:
        key = "default" if path == "default" else f"{path}={v}"
        if key in done:
            continue
        sc = base if path == "default" else base.replace(**{path: v})
        done[key] = point(sc, a.seeds, a.workers)
        with open(a.out + ".part", "w") as f:
            json.dump(done, f, indent=1)
        os.replace(a.out + ".part", a.out)
        print(key, f"{done[key]['change_pct']['mean']:+.1f}%", done[key]["outcome"], flush=True)
    write(done, a)


def write(done, a):
    d0 = done["default"]["change_pct"]["mean"]
    rows = []
    for path, lo, hi, why in RANGES:
        L, H = done.get(f"{path}={lo}"), done.get(f"{path}={hi}")
        if L and H:
            rows.append((path, lo, hi, why, L, H))
    rows.sort(key=lambda r: -abs(r[5]["change_pct"]["mean"] - r[4]["change_pct"]["mean"]))

    def cell(p):
        c = p["change_pct"]
        return f"{c['mean']:+.1f}% [{c['low']:+.1f}, {c['high']:+.1f}] {p['outcome']}"
    seeds = done["default"]["change_pct"]["n"]
    lines = [f"# Tornado: dual's p50 change as each estimate moves across its range",
             "",
             f"`python experiments/tornado.py --seeds {seeds}` (default scenario, layouts today and dual, "
             f"{seeds} paired seeds per point: few, so read the bars, not single outcomes). "
             "+ = faster than today; 95% t-intervals; outcome by numasim.stats.classify.",
             "",
             f"Default: {cell(done['default'])}",
             "",
             "| estimate | low | dual at low | high | dual at high | range from |",
             "|---|---|---|---|---|---|"]
    for path, lo, hi, why, L, H in rows:
        lines.append(f"| `{path}` | {lo:g} | {cell(L)} | {hi:g} | {cell(H)} | {why} |")
    with open(a.md, "w") as f:
        f.write("\n".join(lines) + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    for i, (path, lo, hi, why, L, H) in enumerate(reversed(rows)):
        for p, col, v in ((L, "tab:blue", lo), (H, "tab:orange", hi)):
            m = p["change_pct"]["mean"]
            ax.barh(i, m - d0, left=d0, color=col, alpha=0.7)
            ax.errorbar(m, i, xerr=[[m - p["change_pct"]["low"]], [p["change_pct"]["high"] - m]], color="k",
                        capsize=2, lw=0.8)
            ax.text(m, i + 0.25, f"{v:g}", fontsize=7, ha="center")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in reversed(rows)], fontsize=8)
    ax.axvline(d0, color="k", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.axvspan(-1, 1, color="grey", alpha=0.1)
    ax.set_xlabel("dual's p50 change vs today, % (+ = faster); blue = low end, orange = high end")
    ax.set_title(f"dual's gain over each estimate's range ({seeds} seeds per point)", fontsize=9)
    fig.tight_layout()
    fig.savefig(a.png, dpi=110)


if __name__ == "__main__":
    main()
