"""The seed plan's decision matrix, with correct formulas, over interval records.

Plain functions over the interval-record shape (numasim.traces), so that a real trace and a
simulated layout are judged by the same code. The matrix (seed-numa-analysis-plan.md §6):

    steal rate   migration rate   latency~steals   decision
    < 5%         < 1%             none             skip NUMA optimization
    5-15%        1-5%             weak             consider simple thread pinning
    > 15%        > 5%             strong           implement the dual runtime

Formulas (tokio-metrics.md A.5): the steal rate is stolen tasks per poll,
Σ total_steal_count / Σ total_polls_count (the plan's "5% of tasks"; `total_polls` does not
exist). Steal operations per poll (Σ total_steal_operations / Σ total_polls_count) is reported
beside it. `min_steal_operations` is never used: tokio-metrics never initialises its min-fold, so
it always reads 0. The slow-poll ratio comes from TaskMetrics (Σ total_slow_poll_count /
Σ total_poll_count): the runtime has no slow-poll fields.

Mixed cases: each judged input gives a level (0 skip, 1 pin, 2 dual) and the decision is the
*lowest* of them. Escalating needs every piece of evidence to agree: frequent steals that do not
raise latency cost little, and a strong correlation over rare steals has little to win. The steal
rate is required; without it there is no decision. An input that cannot be judged is left out
and named, and the decision is then marked provisional.
"""
from dataclasses import asdict, dataclass, field

LEVELS = ("skip", "pin", "dual")
DECISIONS = ("Skip NUMA optimization", "Consider simple thread pinning", "Implement the dual runtime approach")
STEAL_BANDS = (0.05, 0.15)       # stolen tasks per poll: < 5% low, 5-15% middle, > 15% high
MIGRATION_BANDS = (0.01, 0.05)   # migrated operations per operation
# Spearman's rho between per-interval steal rate and latency. Only a positive, significant
# association counts: strong is rho >= 0.5 at p < 0.01, weak is rho >= 0.2 at p < 0.05, and
# anything else (including a negative rho) is none. Fewer than 8 intervals are not judged:
# below that a p-value under 0.05 needs rho near 0.75 and says little.
CORR_STRONG = (0.5, 0.01)
CORR_WEAK = (0.2, 0.05)
MIN_INTERVALS = 8
RULE = ("decision = the lowest level among the judged inputs (steal rate required); "
        "not-judged inputs are left out and make the decision provisional")


@dataclass
class Figure:
    """One judged (or not judged) quantity: its value, band and level, or why it is not judged."""
    name: str
    value: float | None = None
    level: int | None = None
    band: str = "not judged"
    how: str = ""
    why_not: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def judged(self) -> bool:
        return self.value is not None and not self.why_not


def band(value: float, bands: tuple) -> tuple[int, str]:
    lo, hi = bands
    if value < lo:
        return 0, f"< {lo:.0%}"
    if value <= hi:
        return 1, f"{lo:.0%}-{hi:.0%}"
    return 2, f"> {hi:.0%}"


def _sum(intervals, field):
    return sum(r["runtime"].get(field, 0) for r in intervals)


def _has(intervals, *fields):
    return [f for f in fields if not any(f in r["runtime"] for r in intervals)]


UNSTABLE_WHY = "absent from the trace: it needs --cfg tokio_unstable (and a tokio that counts it)"


def _per_poll(intervals, name, counter, how) -> Figure:
    """Σ counter / Σ total_polls_count, or why it cannot be judged."""
    f = Figure(name, how=how)
    missing = _has(intervals, counter, "total_polls_count")
    if missing:
        f.why_not = f"{', '.join(missing)} {UNSTABLE_WHY}"
        return f
    polls = _sum(intervals, "total_polls_count")
    if polls == 0:
        f.why_not = "no polls in the trace"
        return f
    f.value = _sum(intervals, counter) / polls
    return f


def steal_rate(intervals) -> Figure:
    """Stolen tasks per poll over the whole trace (matrix input)."""
    f = _per_poll(intervals, "steal_rate", "total_steal_count",
                  "Σ total_steal_count / Σ total_polls_count (stolen tasks per poll)")
    if f.value is not None:
        f.level, f.band = band(f.value, STEAL_BANDS)
    return f


def steal_operations_per_poll(intervals) -> Figure:
    """Steal operations per poll (supplementary: one operation can move many tasks)."""
    f = _per_poll(intervals, "steal_operations_per_poll", "total_steal_operations",
                  "Σ total_steal_operations / Σ total_polls_count")
    if f.value is not None:
        f.band = "reported"
    return f


def migration_rate(rate: float | None) -> Figure:
    """Migration rate (matrix input). tokio-metrics has no migration counter, so it comes from
    the caller: an application counter (the plan's job_numa_migrations per job) or a simulation."""
    f = Figure("migration_rate", how="migrated operations / operations, supplied by the caller")
    if rate is None:
        f.why_not = ("tokio-metrics has no migration counter and the trace has none; "
                     "measure it in the application (e.g. job_numa_migrations / jobs) and pass it")
        return f
    if not 0 <= rate <= 1:
        raise ValueError("a migration rate is a fraction between 0 and 1")
    f.value = float(rate)
    f.level, f.band = band(f.value, MIGRATION_BANDS)
    return f


def _poll_duration(t):
    # total_poll_duration = fast + slow (tokio-metrics A.1b); captures that keep only the split
    # (the tokio-probe traces do) still give the total.
    if "total_poll_duration" in t:
        return t["total_poll_duration"]
    if "total_fast_poll_duration" in t and "total_slow_poll_duration" in t:
        return t["total_fast_poll_duration"] + t["total_slow_poll_duration"]
    return None


def latency_series(intervals):
    """Per-interval latency: TaskMetrics' mean poll duration (Σ total_poll_duration / Σ total_poll_count
    over task names), else the runtime's mean_poll_duration (an EWMA blend, unstable)."""
    task = [(sum(_poll_duration(t) or 0 for t in r["tasks"].values()),
             sum(t.get("total_poll_count", 0) for t in r["tasks"].values())) for r in intervals]
    if any(_poll_duration(t) is not None for r in intervals for t in r["tasks"].values()):
        return [d / n if n else None for d, n in task], "TaskMetrics mean poll duration (Σ total_poll_duration / Σ total_poll_count)"
    if any("mean_poll_duration" in r["runtime"] for r in intervals):
        return [r["runtime"].get("mean_poll_duration") for r in intervals], \
            "RuntimeMetrics mean_poll_duration (tokio's per-worker EWMA blend; an approximation)"
    return None, ""


def latency_steal_correlation(intervals) -> Figure:
    """Spearman's rho (and p) between per-interval stolen tasks per poll and latency (matrix input)."""
    f = Figure("latency_steal_correlation")
    missing = _has(intervals, "total_steal_count", "total_polls_count")
    if missing:
        f.why_not = f"{', '.join(missing)} {UNSTABLE_WHY}"
        return f
    lat, how = latency_series(intervals)
    if lat is None:
        f.why_not = "no latency signal: no TaskMetrics poll durations and no mean_poll_duration"
        return f
    xs, ys = [], []
    for r, y in zip(intervals, lat):
        polls = r["runtime"].get("total_polls_count", 0)
        if polls and y is not None and "total_steal_count" in r["runtime"]:
            xs.append(r["runtime"]["total_steal_count"] / polls)
            ys.append(y)
    f.how = f"Spearman rho over intervals: stolen tasks per poll vs {how}"
    f.extra["n"] = len(xs)
    if len(xs) < MIN_INTERVALS:
        f.why_not = f"only {len(xs)} intervals with polls and latency (need {MIN_INTERVALS})"
        return f
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        f.why_not = ("the steal rate never varies (no stealing, e.g. one worker)" if len(set(xs)) < 2
                     else "the latency never varies")
        return f
    from scipy.stats import spearmanr
    res = spearmanr(xs, ys)
    rho, p = float(res.statistic), float(res.pvalue)
    f.value, f.extra["p"] = rho, p
    if rho >= CORR_STRONG[0] and p < CORR_STRONG[1]:
        f.level, f.band = 2, "strong"
    elif rho >= CORR_WEAK[0] and p < CORR_WEAK[1]:
        f.level, f.band = 1, "weak"
    else:
        f.level, f.band = 0, "none"
    return f


def slow_poll_ratio(intervals) -> Figure:
    """Σ total_slow_poll_count / Σ total_poll_count from TaskMetrics (supplementary)."""
    f = Figure("slow_poll_ratio", how="TaskMetrics Σ total_slow_poll_count / Σ total_poll_count")
    tasks = [t for r in intervals for t in r["tasks"].values()]
    if not any("total_slow_poll_count" in t for t in tasks):
        f.why_not = "no TaskMetrics in the trace (the runtime has no slow-poll fields)"
        return f
    polls = sum(t.get("total_poll_count", 0) for t in tasks)
    if not polls:
        f.why_not = "no task polls"
        return f
    f.value, f.band = sum(t.get("total_slow_poll_count", 0) for t in tasks) / polls, "reported"
    return f


def stale_busy_intervals(intervals) -> list[int]:
    """Indices of intervals where a worker polled but published 0 busy time and 0 parks.

    tokio 1.24 adds busy time only when a worker parks, so a saturated worker that never parks
    reports 0 busy and 0 parks however busy it is (../shared/fidelity/README.md). With one worker
    the totals show it; with several, min_busy = min_park = 0 while min_polls > 0 does.
    """
    out = []
    for i, r in enumerate(intervals):
        rt = r["runtime"]
        if rt.get("workers_count") == 1:
            hit = rt.get("total_polls_count", 0) > 0 and rt.get("total_busy_duration") == 0 \
                and rt.get("total_park_count") == 0
        else:
            hit = rt.get("min_polls_count", 0) > 0 and rt.get("min_busy_duration") == 0 \
                and rt.get("min_park_count") == 0
        if hit:
            out.append(i)
    return out


def busy_ratio_per_worker(intervals) -> Figure:
    """Σ total_busy_duration / (Σ elapsed × workers): utilisation per worker (supplementary)."""
    f = Figure("busy_ratio_per_worker", how="Σ total_busy_duration / (Σ elapsed × workers_count)")
    missing = _has(intervals, "total_busy_duration", "elapsed", "workers_count")
    if missing:
        f.why_not = f"{', '.join(missing)} absent from the trace"
        return f
    stale = stale_busy_intervals(intervals)
    f.extra["stale_intervals"] = len(stale)
    if stale:
        f.why_not = (f"{len(stale)} of {len(intervals)} intervals have a worker that polled but published "
                     "0 busy time and 0 parks: a saturated worker on tokio 1.24, which adds busy time "
                     "only at park, so busy time is stale or zero")
        return f
    if not any("min_polls_count" in r["runtime"] for r in intervals) and any(
            r["runtime"].get("total_busy_duration") == 0 and r["runtime"].get("total_park_count") == 0
            for r in intervals):
        f.extra["ambiguous_zero_busy"] = True
    denom = sum(r["runtime"].get("elapsed", 0) * r["runtime"].get("workers_count", 0) for r in intervals)
    if not denom:
        f.why_not = "no elapsed time"
        return f
    f.value, f.band = _sum(intervals, "total_busy_duration") / denom, "reported"
    return f


@dataclass
class Verdict:
    level: int | None
    decision: str
    provisional: bool
    mixed: bool
    basis: list
    not_judged: list
    rule: str = RULE


def combine(inputs: list[Figure]) -> Verdict:
    """Apply the mixed-case rule to the matrix inputs (steal rate first)."""
    judged = [f for f in inputs if f.judged]
    missing = [f.name for f in inputs if not f.judged]
    steal = next((f for f in inputs if f.name == "steal_rate"), None)
    if steal is None or not steal.judged:
        return Verdict(None, "No decision: the steal rate cannot be judged", True, False, [], missing)
    level = min(f.level for f in judged)
    levels = {f.level for f in judged}
    basis = [f"{f.name}: {LEVELS[f.level]}" for f in judged]
    return Verdict(level, DECISIONS[level], bool(missing), len(levels) > 1, basis, missing)


def decide_intervals(intervals, migration=None, header=None) -> dict:
    """The whole judgement of one run: matrix inputs, verdict, supplementary figures, gaps."""
    inputs = [steal_rate(intervals), migration_rate(migration), latency_steal_correlation(intervals)]
    extra = [steal_operations_per_poll(intervals), slow_poll_ratio(intervals), busy_ratio_per_worker(intervals)]
    verdict = combine(inputs)
    return {
        "intervals": len(intervals),
        "tokio_version": (header or {}).get("tokio_version"),
        "inputs": {f.name: asdict(f) for f in inputs},
        "supplementary": {f.name: asdict(f) for f in extra},
        "verdict": asdict(verdict),
        "not_judged": [{"what": f.name, "why": f.why_not} for f in inputs + extra if not f.judged],
        "thresholds": {"steal_rate": STEAL_BANDS, "migration_rate": MIGRATION_BANDS,
                       "correlation_strong": CORR_STRONG, "correlation_weak": CORR_WEAK,
                       "min_intervals": MIN_INTERVALS},
    }
