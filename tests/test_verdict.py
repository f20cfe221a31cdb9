"""The counterfactual's statistics and the dual-pays-off rule, on synthetic per-seed figures."""
import math
from dataclasses import asdict

import numpy as np
import pytest

from numasim.stats import (Interval, bootstrap_interval, classify, judge, percentile, run_figures, seeds_to_resolve,
                           summarise, t_interval)
from numasim.hawk.verdict import claim_text


def test_t_interval_matches_scipy():
    """The 95% t-interval is mean ± t(0.975, n-1) · sd / √n."""
    from scipy import stats
    xs = [10.0, 12.0, 11.0, 13.0, 9.0]
    iv = t_interval(xs)
    lo, hi = stats.t.interval(0.95, len(xs) - 1, loc=np.mean(xs), scale=stats.sem(xs))
    assert iv.mean == pytest.approx(11.0)
    assert (iv.low, iv.high) == (pytest.approx(lo), pytest.approx(hi))


def test_one_value_has_no_interval():
    """With one seed there is a mean but no interval, and no claim can exclude zero."""
    iv = t_interval([3.0])
    assert iv.mean == 3.0 and iv.low is None and not iv.excludes_zero


def test_bootstrap_covers_the_mean():
    iv = bootstrap_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert iv.low < 3.0 < iv.high


def test_run_figures():
    """p50/p99 over the run's jobs (ms) and throughput in queries per second."""
    f = run_figures([1_000_000, 2_000_000, 3_000_000], queries=24, makespan_ns=2_000_000_000)
    assert f["job_p50_ms"] == 2.0 and f["throughput_qps"] == 12.0
    assert f["job_p99_ms"] == pytest.approx(percentile([1, 2, 3], 99))


def _per_seed(delta, noise, n=6, seed=0, base=100.0, own_sd=0.05):
    """today ~ base + common seed noise; dual = today - delta + independent noise (own_sd)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, noise, n)
    own = rng.normal(0, own_sd, n)
    out = {"today": {}, "dual": {}}
    for i in range(n):
        t = base + common[i]
        out["today"][i + 1] = {"job_p50_ms": t, "job_p99_ms": t * 1.2, "throughput_qps": 1000 / t}
        d = t - delta + own[i]
        out["dual"][i + 1] = {"job_p50_ms": d, "job_p99_ms": d * 1.2, "throughput_qps": 1000 / d}
    return out


def test_pairing_by_seed_cancels_common_noise():
    """Seed noise shared by both layouts (common random numbers) cancels in the paired difference:
    a 1 ms gain under 10 ms of seed noise is still found."""
    s = summarise(_per_seed(delta=1.0, noise=10.0))
    unpaired = t_interval([s_["job_p50_ms"] for s_ in _per_seed(1.0, 10.0)["dual"].values()])
    assert unpaired.high - unpaired.low > 5
    c = judge(s)
    assert c.outcome == "pays off"
    assert c.latency_improvement_ms["low"] > 0
    assert claim_text(asdict(c)).startswith("dual pays off: p50 job latency +1.0%")


def test_no_difference_is_an_equivalence_claim():
    """Identical layouts up to small independent noise: the CI of the change lies inside +-1%,
    which is said as "no difference" (not as a payoff, and not as "unresolved")."""
    c = judge(summarise(_per_seed(delta=0.0, noise=5.0, own_sd=0.2, n=8)))
    p = c.latency_improvement_pct
    assert -1 < p["low"] and p["high"] < 1
    assert c.outcome == "no difference"
    assert "no difference between dual and today" in claim_text(asdict(c))


def test_noisy_and_small_is_not_resolved_and_says_how_many_seeds():
    """A +0.3% change under 2% of paired noise over 4 seeds: the CI covers 0 and reaches past
    +-1%, so nothing is claimed; the seeds that would resolve it come from the observed paired SD."""
    c = judge(summarise(_per_seed(delta=0.3, noise=5.0, own_sd=2.0, n=4, seed=1)))
    p = c.latency_improvement_pct
    assert p["low"] < 0 < p["high"] and (p["low"] < -1 or p["high"] > 1)
    assert c.outcome == "not resolved"
    assert c.seeds_to_resolve == seeds_to_resolve(p["mean"], p["sd"]) and c.seeds_to_resolve > 4
    assert f"about {c.seeds_to_resolve} paired seeds would resolve it" in claim_text(asdict(c))


def test_seeds_to_resolve_is_the_first_n_whose_half_width_fits():
    """n is the smallest count whose t half-width is below max(|mean|, 1 - |mean|)."""
    from scipy import stats
    mean, sd = 0.2, 1.5
    n = seeds_to_resolve(mean, sd)
    half = lambda k: stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k)  # noqa: E731
    assert half(n) < 0.8 <= half(n - 1)
    assert seeds_to_resolve(0.5, 0.0) == 2
    assert seeds_to_resolve(3.0, 1.0) < seeds_to_resolve(0.5, 1.0)


def test_every_outcome_is_reachable_from_an_interval():
    """The rule on intervals alone (percent, positive = faster)."""
    assert classify(Interval(2.0, 0.5, 3.5, 5, 1.0))[0] == "pays off"
    assert classify(Interval(-2.0, -3.5, -0.5, 5, 1.0))[0] == "loses"
    assert classify(Interval(0.1, -0.4, 0.6, 5, 0.4))[0] == "no difference"
    out, need = classify(Interval(0.1, -1.9, 2.1, 5, 1.6))
    assert out == "not resolved" and need > 5
    assert classify(Interval(1.0, None, None, 1))[0] == "not judged"
    # faster but significantly lower throughput: no payoff is claimed
    assert classify(Interval(2.0, 0.5, 3.5, 5, 1.0), Interval(-1.0, -2.0, -0.5, 5, 0.5))[0] == "not resolved"


def test_a_loss_is_called_a_loss():
    c = judge(summarise(_per_seed(delta=-5.0, noise=3.0)))
    assert c.outcome == "loses"
    assert c.latency_improvement_ms["high"] < 0
    assert claim_text(asdict(c)).startswith("dual loses: p50 job latency -5.0%")


def test_lower_latency_but_lower_throughput_is_no_payoff():
    per = _per_seed(delta=5.0, noise=1.0)
    for s in per["dual"]:
        per["dual"][s]["throughput_qps"] = per["today"][s]["throughput_qps"] * 0.5
    c = judge(summarise(per))
    assert c.outcome != "pays off"


def test_one_seed_is_not_judged():
    c = judge(summarise(_per_seed(delta=5.0, noise=1.0, n=1)))
    assert c.outcome == "not judged"


def test_interval_format():
    assert Interval(1.0, 0.5, 1.5, 3).fmt(1) == "1.0 [0.5, 1.5]"
    assert Interval(None, None, None, 0).fmt() == "n/a"
    assert not math.isnan(Interval(1.0, None, None, 1).mean)
