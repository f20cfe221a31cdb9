"""Plots of sweeps and traces (matplotlib, Agg backend: files only, no display needed).

    heatmap(rows, x, y, figure, path)            a figure over two swept parameters (mean over seeds)
    decision_regions(rows, x, y, path)           the decide verdict level over two swept parameters
    steal_latency_scatter(xs, ys, path)          steal rate vs latency, with Spearman's rho
    steal_latency_from_intervals(intervals)      the per-interval series `decide` correlates
    worker_utilisation(intervals, path)          busy share per worker over time (max, mean, min)
    metric_over_time(intervals, fields, path)    any runtime or task field over time

`rows` are dicts as `numasim.sweep.read_table` returns them. Each function writes one PNG and
returns its path. Durations are plotted in the unit that suits them (ms or µs), time in seconds.
"""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")  # before pyplot: never try a display (CI, ssh, worker processes)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .decide import DECISIONS, LEVELS, latency_series  # noqa: E402
from .traces.fields import DURATION_FIELDS  # noqa: E402

DPI = 120
LEVEL_COLOURS = ("#4caf50", "#ffb300", "#e53935")  # skip, pin, dual


def _label(name: str) -> str:
    """An axis label with its unit, from a sweep column or a figure name."""
    units = {"_us": "µs", "_ns": "ns", "_ms": "ms", "_per_s": "1/s", "_s": "s"}
    if name == "tokio":
        return "tokio version"
    if name == "runtime.workers":
        return "runtime.workers (threads)"
    for suf, u in units.items():
        if name.endswith(suf):
            return f"{name} ({u})"
    if name.endswith(("_ratio", "_per_poll", "_per_park", "steal_rate")):
        return f"{name} (fraction)"
    return name


def _save(fig, path) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return str(path)


def _cells(rows, x, y, value):
    """Mean of `value` per (x, y) over seeds: (xs, ys, matrix with NaN for empty cells)."""
    xs = sorted({r[x] for r in rows}, key=_order)
    ys = sorted({r[y] for r in rows}, key=_order)
    acc = {}
    for r in rows:
        v = value(r)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        acc.setdefault((r[x], r[y]), []).append(v)
    m = np.full((len(ys), len(xs)), np.nan)
    for (a, b), vs in acc.items():
        m[ys.index(b), xs.index(a)] = float(np.mean(vs))
    return xs, ys, m


def _order(v):
    return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))


def _is_grid(rows, x, y) -> bool:
    # a grid design repeats each value; a random or LHS design has (almost) all values distinct
    pts = {(r[x], r[y]) for r in rows}
    return len({r[x] for r in rows}) * len({r[y] for r in rows}) <= 2 * len(pts)


def _ticks(v):
    if isinstance(v, float):
        # the CSV gives every number back as a float: 16000.0 reads better as 16000 than 1.6e+04
        return str(int(v)) if v.is_integer() and abs(v) < 1e9 else f"{v:.4g}"
    return str(v)


def heatmap(rows, x, y, figure, path, title=None) -> str:
    """`figure` (mean over seeds) over parameters x and y: cells for a grid design, coloured points
    for a random or Latin-hypercube one."""
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if _is_grid(rows, x, y):
        xs, ys, m = _cells(rows, x, y, lambda r: r.get(figure))
        im = ax.imshow(np.ma.masked_invalid(m), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xs)), [_ticks(v) for v in xs], rotation=30 if len(xs) > 6 else 0)
        ax.set_yticks(range(len(ys)), [_ticks(v) for v in ys])
        if m.size <= 64:
            # annotate each cell; the text colour flips on the dark half of viridis
            lo, hi = np.nanmin(m) if np.isfinite(m).any() else 0, np.nanmax(m) if np.isfinite(m).any() else 1
            for i in range(len(ys)):
                for j in range(len(xs)):
                    if np.isfinite(m[i, j]):
                        dark = (m[i, j] - lo) < 0.5 * (hi - lo)
                        ax.text(j, i, f"{m[i, j]:.3g}", ha="center", va="center", fontsize=8,
                                color="white" if dark else "black")
    else:
        pts = {}
        for r in rows:
            if r.get(figure) is not None:
                pts.setdefault((r[x], r[y]), []).append(r[figure])
        px = [k[0] for k in pts]
        py = [k[1] for k in pts]
        im = ax.scatter(px, py, c=[np.mean(v) for v in pts.values()], cmap="viridis", s=60, edgecolors="k")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(_label(figure) + " (mean over seeds)")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    ax.set_title(title or f"{figure} over {x} × {y}")
    return _save(fig, path)


def decision_regions(rows, x, y, path, title=None) -> str:
    """The verdict level over x and y: per cell the lowest level over seeds (the decide rule asks
    every piece of evidence to agree before escalating, and seeds are repetitions of one run)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    cmap = ListedColormap(LEVEL_COLOURS)
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)
    if _is_grid(rows, x, y):
        xs = sorted({r[x] for r in rows}, key=_order)
        ys = sorted({r[y] for r in rows}, key=_order)
        m = np.full((len(ys), len(xs)), np.nan)
        for r in rows:
            v = r.get("verdict_level")
            if v is None:
                continue
            i, j = ys.index(r[y]), xs.index(r[x])
            m[i, j] = v if np.isnan(m[i, j]) else min(m[i, j], v)
        ax.imshow(np.ma.masked_invalid(m), origin="lower", aspect="auto", cmap=cmap, norm=norm)
        ax.set_xticks(range(len(xs)), [_ticks(v) for v in xs], rotation=30 if len(xs) > 6 else 0)
        ax.set_yticks(range(len(ys)), [_ticks(v) for v in ys])
        if np.isnan(m).any():
            ax.set_facecolor("#dddddd")  # no decision (steal rate not judged): grey
    else:
        lv = {}
        for r in rows:
            if r.get("verdict_level") is not None:
                k = (r[x], r[y])
                lv[k] = min(lv.get(k, 2), r["verdict_level"])
        ax.scatter([k[0] for k in lv], [k[1] for k in lv], c=list(lv.values()), cmap=cmap, norm=norm,
                   s=60, edgecolors="k")
    handles = [Patch(color=c, label=f"{LEVELS[i]}: {DECISIONS[i]}") for i, c in enumerate(LEVEL_COLOURS)]
    handles.append(Patch(color="#dddddd", label="no decision"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    ax.set_title(title or "decide verdict (lowest level over seeds)")
    return _save(fig, path)


def steal_latency_from_intervals(intervals):
    """(steal rate per interval, latency per interval in µs, latency label) as `decide` pairs them."""
    lat, how = latency_series(intervals)
    xs, ys = [], []
    for r, v in zip(intervals, lat or []):
        polls = r["runtime"].get("total_polls_count", 0)
        if polls and v is not None and "total_steal_count" in r["runtime"]:
            xs.append(r["runtime"]["total_steal_count"] / polls)
            ys.append(v / 1e3)
    return xs, ys, "mean poll duration (µs)" if how.startswith("TaskMetrics") else "mean_poll_duration (µs)"


def steal_latency_scatter(xs, ys, path, xlabel="steal rate (stolen tasks per poll)",
                          ylabel="latency (µs)", title=None) -> str:
    """Scatter of steal rate against latency, with Spearman's rho and p in the legend."""
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    label = f"n = {len(xs)}"
    if len(xs) >= 3 and len(set(xs)) > 1 and len(set(ys)) > 1:
        from scipy.stats import spearmanr
        res = spearmanr(xs, ys)
        label += f", Spearman ρ = {res.statistic:.2f} (p = {res.pvalue:.2g})"
    else:
        label += ", Spearman ρ undefined (constant or too few points)"
    ax.scatter(xs, ys, s=18, alpha=0.7, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "steal rate vs latency")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _times(intervals):
    return np.array([r["t"] for r in intervals]) / 1e9


def worker_utilisation(intervals, path, title=None, per_worker=None) -> str:
    """Busy share of a worker per interval over time.

    Interval records carry totals and per-worker extremes, not each worker's series, so the plot
    shows the busiest worker (max_busy_duration / elapsed), the mean (total / (workers × elapsed))
    and the idlest (min_busy_duration / elapsed), with the band between them. On tokio 1.24 a
    saturated worker may publish 0 busy time (busy is added at park only): a min at 0 beside a
    high max can be that, not idleness.
    """
    t = _times(intervals)
    el = np.array([max(r["runtime"].get("elapsed", 0), 1) for r in intervals], dtype=float)
    w = np.array([max(r["runtime"].get("workers_count", 1), 1) for r in intervals], dtype=float)
    g = lambda k: np.array([r["runtime"].get(k, np.nan) for r in intervals], dtype=float)  # noqa: E731
    mean = g("total_busy_duration") / (el * w)
    hi, lo = g("max_busy_duration") / el, g("min_busy_duration") / el
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    ax.fill_between(t, lo, hi, step="post", alpha=0.2, color="C0", label="range over workers")
    ax.step(t, hi, where="post", color="C3", lw=1, label="busiest worker (max)")
    ax.step(t, mean, where="post", color="C0", lw=1.6, label="mean over workers")
    ax.step(t, lo, where="post", color="C2", lw=1, label="idlest worker (min)")
    if per_worker:
        # a simulation knows each worker's series (SimResult.per_worker): draw them faintly
        pt = np.array([s["t"] for s in per_worker], dtype=float) / 1e9
        n = len(per_worker[0]["busy_duration"])
        for i in range(n):
            u = [s["busy_duration"][i] / max(s["elapsed"], 1) for s in per_worker]
            ax.step(pt, u, where="post", lw=0.7, alpha=0.6, color="0.4",
                    label="each worker" if i == 0 else None)
    ax.set_ylim(0, max(1.05, float(np.nanmax(hi)) * 1.05 if np.isfinite(hi).any() else 1.05))
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("busy share of the interval (fraction)")
    ax.set_title(title or f"worker utilisation ({int(w.max())} workers)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _series(intervals, field):
    """Values of a runtime field, or `TASK.field`, or `TASK.completed.STAT`, per interval."""
    if field in intervals[0]["runtime"] or "." not in field:
        return [r["runtime"].get(field) for r in intervals], field
    task, rest = field.split(".", 1)
    out = []
    for r in intervals:
        t = r.get("tasks", {}).get(task, {})
        if rest.startswith("completed."):
            c = t.get("completed", {})
            # no completions in the interval: its latency statistics are undefined, not 0
            stat = rest.split(".", 1)[1]
            out.append(c.get(stat) if c.get("count") or stat == "count" else None)
        else:
            out.append(t.get(rest))
    return out, rest


def metric_over_time(intervals, fields, path, title=None, log=False) -> str:
    """A line per field over time: runtime fields (`total_polls_count`), task fields
    (`job.total_poll_count`) or task latency statistics (`job.completed.p99`). Durations go to
    one axis in ms (or µs when all are small); counts, per interval, to another."""
    if isinstance(fields, str):
        fields = [fields]
    t = _times(intervals)
    durs, counts = [], []
    for f in fields:
        vals, base = _series(intervals, f)
        is_dur = base in DURATION_FIELDS or base.startswith("completed.") and not base.endswith("count")
        (durs if is_dur else counts).append((f, np.array([np.nan if v is None else v for v in vals], dtype=float)))
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
    axes = []
    if durs:
        peak = max(float(np.nanmax(v)) if np.isfinite(v).any() else 0 for _, v in durs)
        scale, unit = (1e6, "ms") if peak >= 1e6 else (1e3, "µs")
        for i, (f, v) in enumerate(durs):
            ax.plot(t, v / scale, marker=".", lw=1.2, color=f"C{i}", label=f"{f} ({unit})")
        ax.set_ylabel(f"duration ({unit})")
        axes.append(ax)
    if counts:
        ax2 = ax.twinx() if durs else ax
        for i, (f, v) in enumerate(counts, start=len(durs)):
            ax2.plot(t, v, marker=".", lw=1.2, ls="--" if durs else "-", color=f"C{i}", label=f"{f} (per interval)")
        ax2.set_ylabel("count per interval")
        if ax2 is not ax:
            axes.append(ax2)
        elif not axes:
            axes.append(ax)
    for a in axes:
        if log:
            a.set_yscale("log")
    handles = [h for a in axes for h in a.get_legend_handles_labels()[0]]
    labels = [lb for a in axes for lb in a.get_legend_handles_labels()[1]]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.12 if len(axes) > 1 else 1.01, 1),
              fontsize=8, frameon=False)
    ax.set_xlabel("time since start (s)")
    ax.set_title(title or ", ".join(fields))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def default_figure(columns) -> str | None:
    """What a sweep heatmap shows unless the sweep file says: the first task's mean latency, else
    the busy ratio."""
    lat = [c for c in columns if c.endswith(".latency_mean_ms")]
    return lat[0] if lat else ("busy_ratio" if "busy_ratio" in columns else None)


def sweep_plots(sweep, rows, out) -> list:
    """The plots `numasim sweep` writes for a two-parameter design (`rows`: its results table):
    the heatmap of the chosen figure, the decision regions, and steal rate vs latency across all
    runs."""
    from .errors import SpecError
    if not rows:
        return []
    x, y = (p.path for p in sweep.params)
    cols = list(rows[0])
    figure = sweep.plot.get("figure") or default_figure(cols)
    if figure not in cols:
        raise SpecError(f"{sweep.path}: plot.figure", f"{figure!r} is not a column of the results "
                        f"(e.g. {', '.join(c for c in cols[2 + len(sweep.params):][:6])})")
    made = [heatmap(rows, x, y, figure, os.path.join(out, "heatmap.png"),
                    title=f"{sweep.name}: {figure}")]
    if any(r.get("verdict_level") is not None for r in rows):
        made.append(decision_regions(rows, x, y, os.path.join(out, "decision.png"),
                                     title=f"{sweep.name}: decide verdict (lowest over seeds)"))
    lat = default_figure(cols)
    if "steal_rate" in cols and lat:
        pts = [(r["steal_rate"], r[lat]) for r in rows if r.get("steal_rate") is not None and r.get(lat) is not None]
        if pts:
            made.append(steal_latency_scatter([p[0] for p in pts], [p[1] for p in pts],
                                              os.path.join(out, "steal_latency.png"), ylabel=_label(lat),
                                              title=f"{sweep.name}: steal rate vs {lat}, one point per run"))
    return made


def numa_migrations(timeline, node_of, path, title=None) -> str:
    """Thread placement over time from a simulation's CPU timeline (SimResult.numa["timeline"]):
    top, the node each thread ran on at each sample; bottom, how many threads changed node since
    the previous sample (a migration is a change of node, not of CPU)."""
    names = sorted({n for s in timeline for n in s["cpus"]})
    t = np.array([s["t"] for s in timeline], dtype=float) / 1e9
    grid = np.full((len(names), len(timeline)), np.nan)
    for j, s in enumerate(timeline):
        for i, n in enumerate(names):
            c = s["cpus"].get(n)
            if c is not None:
                grid[i, j] = node_of(c)
    both = np.isfinite(grid[:, 1:]) & np.isfinite(grid[:, :-1])
    moves = [0] + [int(x) for x in ((grid[:, 1:] != grid[:, :-1]) & both).sum(axis=0)]
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.6, 5.2), sharex=True, gridspec_kw={"height_ratios": [2, 1]},
                                 constrained_layout=True)
    nodes = int(np.nanmax(grid)) + 1 if np.isfinite(grid).any() else 1
    cmap = plt.get_cmap("tab10", max(nodes, 2))
    extent = (t[0] if len(t) else 0, t[-1] if len(t) else 1, -0.5, len(names) - 0.5)
    im = a1.imshow(grid, aspect="auto", interpolation="nearest", origin="lower", cmap=cmap,
                   vmin=-0.5, vmax=max(nodes, 2) - 0.5, extent=extent)
    step = max(1, len(names) // 16)
    a1.set_yticks(range(0, len(names), step), [names[i] for i in range(0, len(names), step)], fontsize=7)
    a1.set_ylabel("thread")
    cb = fig.colorbar(im, ax=a1, ticks=range(max(nodes, 2)))
    cb.set_label("NUMA node")
    a1.set_title(title or "threads' NUMA node over time")
    a2.step(t, moves, where="post", color="C3")
    a2.set_ylabel("threads that changed\nnode since last sample")
    a2.set_xlabel("time since start (s)")
    a2.grid(alpha=0.3)
    return _save(fig, path)
