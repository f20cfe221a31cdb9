"""The statistics of the verdict: intervals, paired differences over seeds, and the rule.

    s = summarise(per_seed)        # {layout: {seed: {"job_p50_ms", "job_p99_ms", "throughput_qps"}}}
    v = judge(s, baseline="today", candidate="dual")

Plain numbers in, plain records out: this module knows the figure names it compares but nothing of
the Hawk job that produces them (`numasim.hawk.layouts` runs the layouts and calls these).

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
