"""Shared by the four Hawk experiments (the seed plan's test scenarios): run a list of scenario
variants through `compare_layouts`, write a markdown table and a plot (95% CIs over seeds)."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from numasim.hawk.layouts import compare_layouts  # noqa: E402
from numasim.hawk.scenario import default_scenario  # noqa: E402
from numasim.stats import Interval  # noqa: E402


def run_variants(name, variants, layouts, seeds, out_dir, x_label, workers=2):
    """variants: [(label, {dotted override: value})]. Writes NAME.md, NAME.json and NAME.png."""
    os.makedirs(out_dir, exist_ok=True)
    base = default_scenario()
    rows, results = [], {}
    t0 = time.time()
    for label, over in variants:
        sc = base.replace(**over) if over else base
        t = time.time()
        out = compare_layouts(sc, layouts, range(1, seeds + 1), workers=workers, progress=sys.stderr.isatty())
        results[label] = out
        for lay in layouts:
            S = out["summary"][lay]
            vs = S["vs_baseline"].get("job_p50_ms")
            m = out["matrix"][lay]["verdict"]
            rows.append({
                "variant": label, "layout": lay,
                "p50_ms": Interval(**S["figures"]["job_p50_ms"]),
                "p99_ms": Interval(**S["figures"]["job_p99_ms"]),
                "qps": Interval(**S["figures"]["throughput_qps"]),
                "impr_pct": Interval(**vs["improvement_pct"]) if vs else None,
                "steal_rate": out["app_means"][lay]["tokio_steal_rate"],
                "migration": out["app_means"][lay]["search_task_migration_rate"],
                "matrix": ("skip", "pin", "dual")[m["level"]] if m["level"] is not None else "-",
            })
        print(f"{label}: {time.time() - t:.0f} s; {out['verdict']['text'] if out.get('verdict') else ''}", flush=True)
    wall = time.time() - t0
    md = [f"# {name}", "",
          f"Default scenario (numasim/data/hawk-default.toml) with the overrides below; layouts {', '.join(layouts)}; "
          f"seeds 1..{seeds} in every layout (paired); 95% t-intervals over seeds. Wall time {wall:.0f} s.", "",
          "| variant | layout | job p50 ms | job p99 ms | queries/s | p50 improvement vs today | steal rate | search-task migration | matrix |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        steal = "n/a" if r["steal_rate"] is None else f"{r['steal_rate']:.3f}"
        mig = "n/a" if r["migration"] is None else f"{r['migration']:.2f}"
        impr = r["impr_pct"].fmt(1, pct=True) if r["impr_pct"] else "-"
        md.append(f"| {r['variant']} | {r['layout']} | {r['p50_ms'].fmt(1)} | {r['p99_ms'].fmt(1)} | {r['qps'].fmt(2)} | "
                  f"{impr} | {steal} | {mig} | {r['matrix']} |")
    md.append("")
    for label, out in results.items():
        if out.get("verdict"):
            md.append(f"- **{label}**: {out['verdict']['text']}")
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({k: {kk: vv for kk, vv in v.items() if kk != "runtimes"} for k, v in results.items()}, f,
                  indent=1, default=str)
    plot(name, rows, [v[0] for v in variants], layouts, os.path.join(out_dir, f"{name}.png"), x_label)
    print("\n".join(md))
    return results


def plot(name, rows, labels, layouts, path, x_label):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    n = len(layouts)
    width = 0.8 / n
    for i, lay in enumerate(layouts):
        xs, ys, lo, hi, ys2, lo2, hi2 = [], [], [], [], [], [], []
        for j, lab in enumerate(labels):
            r = next(r for r in rows if r["variant"] == lab and r["layout"] == lay)
            iv = r["p50_ms"]
            xs.append(j + (i - (n - 1) / 2) * width)
            ys.append(iv.mean)
            lo.append(iv.mean - (iv.low if iv.low is not None else iv.mean))
            hi.append((iv.high if iv.high is not None else iv.mean) - iv.mean)
            p = r["impr_pct"]
            ys2.append(p.mean if p else 0.0)
            lo2.append(p.mean - p.low if p and p.low is not None else 0.0)
            hi2.append(p.high - p.mean if p and p.high is not None else 0.0)
        a1.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=lay)
        if lay != "today":
            a2.bar(xs, ys2, width, yerr=[lo2, hi2], capsize=3, label=lay, color=f"C{i}")
    for a in (a1, a2):
        a.set_xticks(range(len(labels)))
        a.set_xticklabels(labels)
        a.set_xlabel(x_label)
        a.legend(fontsize=8)
    means = [r["p50_ms"].mean for r in rows if r["p50_ms"].mean is not None]
    if means:  # the layouts differ by a few percent at most: do not start the axis at zero
        a1.set_ylim(0.9 * min(means), 1.06 * max(means))
    a1.set_ylabel("job latency p50 (ms), 95% CI over seeds")
    a2.set_ylabel("p50 improvement over today (%), paired 95% CI")
    a2.axhline(0, color="k", lw=0.8)
    a1.set_title(f"{name}: job latency")
    a2.set_title("improvement over today (positive = faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def replot(name, out_dir, x_label):
    """Redraw NAME.png from NAME.json (no simulation)."""
    with open(os.path.join(out_dir, f"{name}.json")) as f:
        results = json.load(f)
    rows = []
    for label, out in results.items():
        for lay in out.get("layout_names", out["layouts"]):  # older JSON: "layouts" was the list
            S = out["summary"][lay]
            vs = S["vs_baseline"].get("job_p50_ms")
            rows.append({"variant": label, "layout": lay, "p50_ms": Interval(**S["figures"]["job_p50_ms"]),
                         "impr_pct": Interval(**vs["improvement_pct"]) if vs else None})
    first = next(iter(results.values()))
    layouts = list(first.get("layout_names", first["layouts"]))
    return plot(name, rows, list(results), layouts, os.path.join(out_dir, f"{name}.png"), x_label)


if __name__ == "__main__":
    # python experiments/hawk_common.py NAME "x label": redraw a plot from its JSON
    replot(sys.argv[1], os.path.join(HERE, "out"), sys.argv[2])
