"""The counterfactual and the verdict: layouts compared over seeds, with 95% confidence intervals.

    s = summarise(per_seed)        # {layout: {seed: {"job_p50_ms", "job_p99_ms", "throughput_qps"}}}
    v = judge(s, baseline="today", candidate="dual")

Every layout runs with the same seeds (common random numbers: the same seed draws the same RTTs
and costs in every layout, so differences are paired by seed). For each layout and figure the
mean over seeds gets a t-interval; for each layout against the baseline the *paired* differences
(baseline - layout for latencies, layout - baseline for throughput: positive = better) get a
t-interval over seeds, so seed-to-seed noise common to both layouts cancels.

The rule (`RULE`): "dual pays off" only when dual's improvement in p50 job latency over today has a
95% CI entirely above zero and its throughput change has a CI not entirely below zero. "dual
loses" when the latency improvement's CI is entirely below zero. Otherwise the difference is
within noise. With fewer than 2 seeds there is no interval and no claim.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

FIGURES = ("job_p50_ms", "job_p99_ms", "throughput_qps")
LOWER_IS_BETTER = {"job_p50_ms": True, "job_p99_ms": True, "throughput_qps": False}
PRIMARY = "job_p50_ms"
LEVEL = 0.95
RULE = ("dual pays off only when its paired improvement over today in p50 job latency has a 95% "
        "t-interval over seeds entirely above zero and its throughput change is not significantly "
        "negative; dual loses when the latency improvement's interval is entirely below zero; "
        "otherwise no difference beyond noise")


@dataclass
class Interval:
    mean: float | None
    low: float | None
    high: float | None
    n: int
    sd: float | None = None

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)

    def fmt(self, digits=1, pct=False) -> str:
        if self.mean is None:
            return "n/a"
        u = "%" if pct else ""
        if self.low is None:
            return f"{self.mean:.{digits}f}{u}"
        return f"{self.mean:.{digits}f}{u} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def t_interval(xs, level: float = LEVEL) -> Interval:
    """Mean and two-sided t-interval; the bounds are None with fewer than 2 values."""
    xs = [float(x) for x in xs if x is not None and math.isfinite(x)]
    n = len(xs)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = sum(xs) / n
    if n < 2:
        return Interval(mean, None, None, n)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    from scipy.stats import t
    half = float(t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, sd)


def bootstrap_interval(xs, level: float = LEVEL, reps: int = 4000, seed: int = 0) -> Interval:
    """Percentile bootstrap of the mean (an alternative to the t-interval for skewed figures)."""
    import numpy as np
    a = np.asarray([x for x in xs if x is not None and math.isfinite(x)], dtype=float)
    if a.size == 0:
        return Interval(None, None, None, 0)
    if a.size < 2:
        return Interval(float(a.mean()), None, None, int(a.size))
    rng = np.random.default_rng(seed)
    means = a[rng.integers(0, a.size, (reps, a.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(a.mean()), float(lo), float(hi), int(a.size), float(a.std(ddof=1)))


def percentile(xs, q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default) of a list; None when empty."""
    if not xs:
        return None
    import numpy as np
    return float(np.percentile(np.asarray(xs, dtype=float), q))


def run_figures(job_latencies_ns, queries: int, makespan_ns: int) -> dict:
    """The per-run figures: p50/p99 job latency (ms) and throughput (queries per second)."""
    lat_ms = [x / 1e6 for x in job_latencies_ns]
    return {
        "job_p50_ms": percentile(lat_ms, 50),
        "job_p99_ms": percentile(lat_ms, 99),
        "throughput_qps": queries / (makespan_ns / 1e9) if makespan_ns > 0 else None,
        "jobs": len(lat_ms),
    }


def summarise(per_seed: dict, baseline: str = "today") -> dict:
    """`per_seed[layout][seed] = run figures` -> per layout: intervals of each figure, and the
    paired improvement over the baseline (absolute and relative %) on the seeds both have."""
    out = {}
    base = per_seed.get(baseline, {})
    for layout, runs in per_seed.items():
        seeds = sorted(runs)
        d = {"seeds": seeds, "figures": {}, "vs_baseline": {}}
        for f in FIGURES:
            d["figures"][f] = asdict(t_interval([runs[s].get(f) for s in seeds]))
            if layout == baseline or not base:
                continue
            common = [s for s in seeds if s in base and runs[s].get(f) is not None and base[s].get(f) is not None]
            sign = 1.0 if LOWER_IS_BETTER[f] else -1.0
            diffs = [sign * (base[s][f] - runs[s][f]) for s in common]
            rel = [100.0 * sign * (base[s][f] - runs[s][f]) / base[s][f] for s in common if base[s][f]]
            d["vs_baseline"][f] = {"improvement": asdict(t_interval(diffs)),
                                   "improvement_pct": asdict(t_interval(rel)), "paired_seeds": common}
        out[layout] = d
    return out


@dataclass
class Claim:
    candidate: str
    baseline: str
    outcome: str          # "pays off" | "loses" | "no difference beyond noise" | "not judged"
    text: str
    latency_improvement_ms: dict | None
    latency_improvement_pct: dict | None
    throughput_change_qps: dict | None
    rule: str = RULE


def _iv(d) -> Interval | None:
    return Interval(d["mean"], d["low"], d["high"], d["n"], d.get("sd")) if d else None


def judge(summary: dict, baseline: str = "today", candidate: str = "dual") -> Claim:
    """Apply `RULE` to one candidate layout against the baseline."""
    if candidate not in summary or baseline not in summary:
        return Claim(candidate, baseline, "not judged", f"{candidate} or {baseline} was not run", None, None, None)
    vs = summary[candidate]["vs_baseline"]
    lat, pct, thr = vs.get(PRIMARY, {}).get("improvement"), vs.get(PRIMARY, {}).get("improvement_pct"), \
        vs.get("throughput_qps", {}).get("improvement")
    L, P, T = _iv(lat), _iv(pct), _iv(thr)
    if L is None or L.low is None:
        return Claim(candidate, baseline, "not judged",
                     f"{candidate} vs {baseline}: fewer than 2 paired seeds, no interval and no claim",
                     lat, pct, thr)
    thr_bad = T is not None and T.high is not None and T.high < 0
    if L.low > 0 and not thr_bad:
        outcome = "pays off"
    elif L.high < 0:
        outcome = "loses"
    else:
        outcome = "no difference beyond noise"
    words = {"pays off": f"{candidate} pays off", "loses": f"{candidate} loses",
             "no difference beyond noise": f"{candidate} does not pay off: no difference beyond noise"}[outcome]
    if L.low > 0 and thr_bad:
        outcome, words = "no difference beyond noise", f"{candidate} does not pay off: lower latency but significantly lower throughput"
    text = (f"{words}: p50 job latency {'-' if L.mean >= 0 else '+'}{abs(L.mean):.1f} ms "
            f"({P.fmt(1, pct=True) if P else 'n/a'} of {baseline}'s; 95% CI of the improvement "
            f"[{L.low:.1f}, {L.high:.1f}] ms over {L.n} paired seeds)"
            + (f", throughput {T.mean:+.2f} q/s [{T.low:.2f}, {T.high:.2f}]" if T and T.low is not None else ""))
    return Claim(candidate, baseline, outcome, text, lat, pct, thr)


# ---------------------------------------------------------------------------------------------
# the whole comparison: every layout x every seed, the matrix, the counterfactual, the verdict

def _run(args):
    from .scenario import from_dict
    from .workload.hawk import run_layout
    d, layout, seed = args
    return run_layout(from_dict(d), layout, seed)


def compare_layouts(sc, layouts=None, seeds=None, workers: int = 1, progress: bool = False) -> dict:
    """Run each layout with the same seeds (common random numbers) and judge.

    Returns plain data: per layout the per-seed figures, their intervals and paired improvement
    over today, the app metrics of the first seed, the decision matrix over all its seeds'
    intervals (migration rate = search tasks polled on more than one node / search tasks), and
    the claims for dual (the verdict) and pinned."""
    from .decide import decide_intervals
    layouts = list(layouts or sc.layouts)
    seeds = list(seeds) if seeds is not None else list(range(1, sc.seeds + 1))
    tasks = [(sc.to_dict(), lay, s) for s in seeds for lay in layouts]
    from .procs import map_ordered
    from .progress import Progress
    # processes that die with this one; an interrupt stops them at once (numasim.procs)
    with Progress(len(tasks), "numasim", "run", quiet=not progress) as bar:
        results = map_ordered(_run, tasks, workers if len(tasks) > 1 else 1, on_result=bar.update)
    per_seed = {lay: {} for lay in layouts}
    by_layout = {lay: [] for lay in layouts}
    for r in results:
        per_seed[r["layout"]][r["seed"]] = r["figures"]
        by_layout[r["layout"]].append(r)
    baseline = "today" if "today" in layouts else layouts[0]
    summary = summarise(per_seed, baseline)
    out = {"scenario": sc.to_dict(), "layouts": layouts, "seeds": seeds, "baseline": baseline,
           "per_seed": {lay: {str(s): f for s, f in per_seed[lay].items()} for lay in layouts},
           "summary": summary, "matrix": {}, "app": {}, "app_means": {}, "runtimes": {}}
    for lay in layouts:
        runs = sorted(by_layout[lay], key=lambda r: r["seed"])
        ivs = [iv for r in runs for iv in r["intervals"]]
        n_tasks = sum(sum(r["app"]["search_tasks"].values()) for r in runs)
        n_mig = sum(sum(r["app"]["search_task_numa_migrations"].values()) for r in runs)
        mig = n_mig / n_tasks if n_tasks else None
        out["matrix"][lay] = decide_intervals(ivs, migration=mig)
        out["app"][lay] = runs[0]["app"]
        out["runtimes"][lay] = runs[0]["runtimes"]
        out["app_means"][lay] = _app_means(runs)
    out["verdict"] = asdict(judge(summary, baseline, "dual")) if "dual" in layouts else None
    out["pinned"] = asdict(judge(summary, baseline, "pinned")) if "pinned" in layouts else None
    out["claims"] = {lay: asdict(judge(summary, baseline, lay)) for lay in layouts if lay != baseline}
    return out


def _app_means(runs) -> dict:
    def mean(xs):
        xs = [x for x in xs if x is not None]
        return sum(xs) / len(xs) if xs else None
    a = [r["app"] for r in runs]
    return {
        "search_duration_ms": mean([mean(x["search_duration_ms"]) for x in a]),
        "search_steals_per_job": mean([mean(x["search_steals_per_job"]) for x in a]),
        "job_migration_rate": mean([x["job_migration_rate"] for x in a]),
        "search_task_migration_rate": mean([x["search_task_migration_rate"] for x in a]),
        "tokio_steal_rate": mean([x["tokio_steal_rate"] for x in a]),
        "tokio_slow_poll_ratio": mean([x["tokio_slow_poll_ratio"] for x in a]),
        "tokio_steal_vs_slow_poll_correlation": mean([x["tokio_steal_vs_slow_poll_correlation"] for x in a]),
    }


def format_report(out: dict) -> str:
    """The layouts side by side, the decision-matrix row (today) and the verdict, as text."""
    lays = out["layouts"]
    base = out["baseline"]
    w = max(12, max(len(x) for x in lays) + 2)
    lines = [f"scenario {out['scenario']['name']} on {out['scenario']['machine']}: "
             f"{len(out['seeds'])} seeds x {len(lays)} layouts (same seeds in every layout; 95% t-intervals over seeds)"]
    head = f"{'':34s}" + "".join(f"{x:>{w + 14}s}" for x in lays)
    lines.append(head)

    def row(label, cells):
        lines.append(f"{label:34s}" + "".join(f"{c:>{w + 14}s}" for c in cells))

    S = out["summary"]
    for f, label in (("job_p50_ms", "job latency p50 (ms)"), ("job_p99_ms", "job latency p99 (ms)"),
                     ("throughput_qps", "throughput (queries/s)")):
        row(label, [Interval(**S[x]["figures"][f]).fmt(1 if f != "throughput_qps" else 2) for x in lays])
    for f, label in (("job_p50_ms", f"p50 improvement vs {base} (%)"),
                     ("throughput_qps", f"throughput change vs {base} (%)")):
        cells = []
        for x in lays:
            v = S[x]["vs_baseline"].get(f)
            cells.append("-" if v is None else Interval(**v["improvement_pct"]).fmt(1, pct=True))
        row(label, cells)
    A = out["app_means"]
    for f, label, fmt in (("search_duration_ms", "search_duration_ms (mean)", "{:.1f}"),
                          ("search_steals_per_job", "search steals per job", "{:.0f}"),
                          ("tokio_steal_rate", "tokio_steal_rate", "{:.3f}"),
                          ("search_task_migration_rate", "search-task NUMA migration rate", "{:.3f}"),
                          ("job_migration_rate", "job NUMA migration rate", "{:.2f}"),
                          ("tokio_slow_poll_ratio", "tokio_slow_poll_ratio", "{:.3f}")):
        row(label, ["n/a" if A[x][f] is None else fmt.format(A[x][f]) for x in lays])
    M = out["matrix"]
    row("matrix decision", [("-" if M[x]["verdict"]["level"] is None else
                             ("skip", "pin", "dual")[M[x]["verdict"]["level"]]) for x in lays])
    lines.append("")
    if base in M:
        m = M[base]
        inp = m["inputs"]

        def fig(k, pct=True):
            f = inp[k]
            if f["value"] is None:
                return f"not judged ({f['why_not']})"
            v = f"{f['value']:.1%}" if pct else f"rho={f['value']:.2f}"
            return f"{v} ({f['band']})"
        lines.append(f"decision matrix ({base}, the plan's table): steal rate {fig('steal_rate')} | "
                     f"migration rate {fig('migration_rate')} | latency~steals "
                     f"{fig('latency_steal_correlation', False)} -> {m['verdict']['decision']}"
                     + (" (mixed)" if m["verdict"]["mixed"] else "") + (" (provisional)" if m["verdict"]["provisional"] else ""))
        lines.append(f"  rule: {m['verdict']['rule']}")
    if out.get("verdict"):
        lines.append(f"verdict: {out['verdict']['text']}")
    if out.get("pinned"):
        lines.append(f"  beside it: {out['pinned']['text']}")
    for lay, c in out.get("claims", {}).items():
        if lay not in ("dual", "pinned"):
            lines.append(f"  beside it: {c['text']}")
    return "\n".join(lines)
