"""Where dual's verdict flips: a payoff map over one-way hop latency x remote penalty.

    python experiments/hop_map.py [--seeds 3] [--workers 2] [--out experiments/out/hop_map.json]
                                  [--md docs/hop_map.md] [--boundary numasim/data/hawk-boundary.json]

Default scenario, layouts today and dual, seeds 1..N paired, each cell's dual p50 change (%, + =
faster than today) with its 95% t-interval and numasim.stats.classify's outcome. Writes the table
and the boundary file `numasim run` reads to print "dual pays off when ..." for the default
scenario (numasim/hawk/verdict.py). Finished cells are kept and not redone.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from numasim.hawk.scenario import default_scenario  # noqa: E402
from numasim.hawk.verdict import boundary_from_cells, scenario_key  # noqa: E402

sys.path.insert(0, HERE)
from tornado import point  # noqa: E402

HOPS = [25.0, 50.0, 100.0, 250.0, 1000.0]
PENALTIES = [1.0, 1.5, 2.0, 3.0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "hop_map.json"))
    ap.add_argument("--md", default=os.path.join(HERE, "..", "docs", "hop_map.md"))
    ap.add_argument("--boundary", default=os.path.join(HERE, "..", "numasim", "data", "hawk-boundary.json"))
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    done = json.load(open(a.out)) if os.path.exists(a.out) else {}
    base = default_scenario()
    for pen in PENALTIES:
        for hop in HOPS:
            key = f"{hop:g},{pen:g}"
            if key in done:
                continue
            sc = base.replace(**{"mpc.hop_us": hop, "memory.remote_penalty": pen})
            done[key] = dict(point(sc, a.seeds, a.workers), hop_us=hop, remote_penalty=pen)
            with open(a.out + ".part", "w") as f:
                json.dump(done, f, indent=1)
            os.replace(a.out + ".part", a.out)
            print(key, f"{done[key]['change_pct']['mean']:+.1f}%", done[key]["outcome"], flush=True)
    cells = list(done.values())
    widest = max((c["change_pct"]["high"] - c["change_pct"]["low"]) / 2 for c in cells)
    lines = ["# Payoff map: dual's p50 change over one-way hop latency x remote penalty", "",
             f"`python experiments/hop_map.py --seeds {a.seeds}` (default scenario, today and dual, {a.seeds} paired "
             "seeds per cell; + = faster than today; 95% t-intervals; outcome by numasim.stats.classify). "
             + (f"Every half-width is within 1% (largest {widest:.2f}%)." if widest <= 1.0 else
                f"With this few seeds some half-widths exceed 1% (largest {widest:.2f}%)."), "",
             "| remote penalty \\ hop latency | " + " | ".join(f"{h:g} us" for h in HOPS) + " |",
             "|---|" + "---|" * len(HOPS)]
    for pen in PENALTIES:
        row = []
        for hop in HOPS:
            c = done[f"{hop:g},{pen:g}"]["change_pct"]
            row.append(f"{c['mean']:+.1f}% ±{(c['high'] - c['low']) / 2:.1f} {done[f'{hop:g},{pen:g}']['outcome']}")
        lines.append(f"| {pen:g}x | " + " | ".join(row) + " |")
    b = boundary_from_cells(cells, a.seeds)
    lines += ["", f"Boundary (printed by `numasim run`): {b['text']}"]
    with open(a.md, "w") as f:
        f.write("\n".join(lines) + "\n")
    b["scenario_key"] = scenario_key(base)
    b["cells"] = cells
    with open(a.boundary, "w") as f:
        json.dump(b, f, indent=1)


if __name__ == "__main__":
    main()
