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

The rule (`RULE`, `classify`): one sign convention everywhere, positive = the candidate is better
than the baseline (lower latency, higher throughput). On the paired relative change of the primary
figure (p50 job latency) and its 95% t-interval over seeds:
- "no difference": the interval lies inside +-EQUIVALENCE_PCT (an equivalence claim, not a
  failure to find one; checked first, so a change shown to be below the margin is not called a
  payoff even when its interval excludes 0);
- "pays off": otherwise, the interval lies above 0 (and throughput is not significantly lower);
- "loses": the interval lies below 0;
- "not resolved": none of these; `seeds_to_resolve` says how many paired seeds would resolve it
  if the observed mean and paired SD held.
With fewer than 2 seeds there is no interval and no claim ("not judged").
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

FIGURES = ("job_p50_ms", "job_p99_ms", "throughput_qps")
LOWER_IS_BETTER = {"job_p50_ms": True, "job_p99_ms": True, "throughput_qps": False}
PRIMARY = "job_p50_ms"
LEVEL = 0.95
EQUIVALENCE_PCT = 1.0
OUTCOMES = ("pays off", "loses", "no difference", "not resolved", "not judged")
RULE = ("positive = better than the baseline (faster p50). On the paired p50 change over seeds (95% "
        "t-interval): no difference when the interval lies inside +-1% (equivalence, checked first); "
        "else pays off when it lies above 0 and throughput is not significantly lower; "
        "loses when it lies below 0; "
        "not resolved otherwise (with the seeds that would resolve it)")


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


def seeds_to_resolve(mean: float, sd: float, margin: float = EQUIVALENCE_PCT, level: float = LEVEL,
                     max_n: int = 100_000) -> int | None:
    """Paired seeds whose t-interval would resolve a claim if `mean` and `sd` held: its half-width
    below |mean| (the interval excludes 0) or below margin - |mean| (it fits inside +-margin).
    None when even `max_n` would not (the mean sits on the margin)."""
    import numpy as np
    from scipy.stats import t
    target = max(abs(mean), margin - abs(mean))
    if target <= 0:
        return None
    if sd <= 0:
        return 2
    n = np.arange(2, max_n + 1)
    half = t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)
    ok = np.nonzero(half < target)[0]
    return int(n[ok[0]]) if ok.size else None


def classify(change: Interval, throughput: Interval | None = None, margin: float = EQUIVALENCE_PCT) -> tuple:
    """(outcome, seeds needed) of a paired relative change in % (positive = better), by `RULE`."""
    if change is None or change.low is None:
        return "not judged", None
    thr_bad = throughput is not None and throughput.high is not None and throughput.high < 0
    # inside the margin first: a change shown to be smaller than +-margin is no difference even
    # when its interval also excludes 0 (significant but below what the margin calls relevant)
    if -margin < change.low and change.high < margin:
        return "no difference", None
    if change.low > 0:
        return ("not resolved", None) if thr_bad else ("pays off", None)
    if change.high < 0:
        return "loses", None
    return "not resolved", seeds_to_resolve(change.mean, change.sd or 0.0, margin)


@dataclass
class Claim:
    candidate: str
    baseline: str
    outcome: str          # one of OUTCOMES
    latency_improvement_ms: dict | None
    latency_improvement_pct: dict | None
    throughput_change_qps: dict | None
    seeds_to_resolve: int | None = None
    throughput_lower: bool = False
    margin_pct: float = EQUIVALENCE_PCT
    rule: str = RULE


def _iv(d) -> Interval | None:
    return Interval(d["mean"], d["low"], d["high"], d["n"], d.get("sd")) if d else None


def judge(summary: dict, baseline: str = "today", candidate: str = "dual") -> Claim:
    """Apply `RULE` to one candidate layout against the baseline (numbers only; the words are the
    caller's)."""
    if candidate not in summary or baseline not in summary:
        return Claim(candidate, baseline, "not judged", None, None, None)
    vs = summary[candidate]["vs_baseline"]
    lat, pct, thr = vs.get(PRIMARY, {}).get("improvement"), vs.get(PRIMARY, {}).get("improvement_pct"), \
        vs.get("throughput_qps", {}).get("improvement")
    P, T = _iv(pct), _iv(thr)
    outcome, need = classify(P, T)
    thr_bad = T is not None and T.high is not None and T.high < 0
    return Claim(candidate, baseline, outcome, lat, pct, thr, need, thr_bad)
