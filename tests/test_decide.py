"""The decision matrix: correct formulas, stated thresholds, the mixed-case rule, and honest gaps."""
import glob
import json
import os

import pytest

from numasim import decide as D
from numasim.cli import main

FIDELITY = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fidelity")
REAL = sorted(glob.glob(os.path.join(FIDELITY, "traces*", "*.jsonl")))
DATA = os.path.join(os.path.dirname(__file__), "data", "traces")


def rec(steals, polls, ops=None, min_steal_ops=0, poll_ns=None, **rt):
    r = {"t": 0, "runtime": {"workers_count": 2, "total_steal_count": steals, "total_polls_count": polls,
                             "min_steal_operations": min_steal_ops, **rt}, "tasks": {}}
    if ops is not None:
        r["runtime"]["total_steal_operations"] = ops
    if poll_ns is not None:
        r["tasks"]["job"] = {"total_poll_count": polls, "total_poll_duration": poll_ns * polls,
                             "total_slow_poll_count": 1}
    return r


def test_steal_rate_is_stolen_tasks_per_total_polls_count():
    """Σ total_steal_count / Σ total_polls_count; min_steal_operations (always 0 in tokio-metrics) is ignored."""
    f = D.steal_rate([rec(10, 100, min_steal_ops=99), rec(0, 100)])
    assert f.value == pytest.approx(0.05) and f.band == "5%-15%" and f.level == 1
    g = D.steal_operations_per_poll([rec(10, 100, ops=4), rec(0, 100, ops=0)])
    assert g.value == pytest.approx(0.02)


@pytest.mark.parametrize("value, level", [(0.0, 0), (0.0499, 0), (0.05, 1), (0.15, 1), (0.1501, 2)])
def test_steal_bands(value, level):
    assert D.band(value, D.STEAL_BANDS)[0] == level


def test_missing_unstable_fields_are_not_judged_with_the_reason():
    stable = [{"t": 0, "runtime": {"workers_count": 2, "total_busy_duration": 5, "elapsed": 10,
                                   "total_park_count": 1}, "tasks": {}}]
    rep = D.decide_intervals(stable)
    assert rep["verdict"]["level"] is None
    why = {g["what"]: g["why"] for g in rep["not_judged"]}
    assert "tokio_unstable" in why["steal_rate"] and "tokio_unstable" in why["steal_operations_per_poll"]
    assert "migration counter" in why["migration_rate"]


def test_correlation_thresholds_and_minimum_samples():
    up = [rec(i, 100, poll_ns=1000 + 100 * i) for i in range(10)]
    f = D.latency_steal_correlation(up)
    assert f.band == "strong" and f.value == pytest.approx(1.0) and f.extra["p"] < 0.01
    down = [rec(i, 100, poll_ns=5000 - 100 * i) for i in range(10)]
    assert D.latency_steal_correlation(down).band == "none"      # only a rise in latency counts
    few = D.latency_steal_correlation(up[:5])
    assert not few.judged and "need 8" in few.why_not
    flat = D.latency_steal_correlation([rec(0, 100, poll_ns=1000 + i) for i in range(10)])
    assert not flat.judged and "never varies" in flat.why_not


def test_mixed_case_takes_the_lowest_judged_level():
    """High steal rate, weak-or-no correlation: the lower level wins and the case is marked mixed."""
    steal = D.Figure("steal_rate", 0.3, 2, "> 15%")
    corr = D.Figure("latency_steal_correlation", 0.1, 0, "none")
    mig = D.migration_rate(0.03)
    v = D.combine([steal, mig, corr])
    assert v.level == 0 and v.mixed and not v.provisional
    v = D.combine([steal, D.migration_rate(0.2), D.Figure("latency_steal_correlation", 0.7, 2, "strong")])
    assert v.level == 2 and v.decision.startswith("Implement") and not v.mixed
    v = D.combine([steal, D.migration_rate(None), D.Figure("latency_steal_correlation", 0.3, 1, "weak")])
    assert v.level == 1 and v.provisional and v.not_judged == ["migration_rate"]


def test_saturated_124_worker_busy_time_is_not_judged():
    """A 1.24 worker that never parks publishes 0 busy and 0 parks: busy ratio is not judged."""
    sat = [{"t": 0, "runtime": {"workers_count": 1, "total_polls_count": 5000, "total_busy_duration": 0,
                                "total_park_count": 0, "elapsed": 10**8, "total_steal_count": 0}, "tasks": {}}]
    f = D.busy_ratio_per_worker(sat)
    assert not f.judged and "0 busy time and 0 parks" in f.why_not


@pytest.mark.skipif(not REAL, reason="needs the real traces of ../shared/fidelity beside this checkout")
def test_decide_runs_on_every_fidelity_trace_and_names_its_gaps(capsys):
    assert main(["decide", "--json", *REAL]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert len(reports) == len(REAL)
    for r in reports:
        gaps = {g["what"] for g in r["not_judged"]}
        assert "migration_rate" in gaps
        assert r["inputs"]["steal_rate"]["value"] is not None
        if r["tokio_version"].startswith("1.24"):
            assert "steal_operations_per_poll" in gaps
    fanout124 = next(r for r in reports if r["trace"].endswith(os.path.join("traces", "pub-fanout-w1-n8-c20.r1.jsonl")))
    assert "busy_ratio_per_worker" in {g["what"] for g in fanout124["not_judged"]}


def test_decide_text_output_and_migration_rate_flag(capsys):
    path = os.path.join(DATA, "debug-0.5-tracing.log")
    assert main(["decide", "--migration-rate", "0.02", path]) == 0
    out = capsys.readouterr().out
    assert "decision:" in out and "migration_rate               2.00%" in out


def test_decide_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"kind": "header", "format": "tokio-probe/1"}\n{"kind": "interval", "t": "soon"}\n')
    assert main(["decide", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{p}:2" in err and "Traceback" not in err
    assert main(["decide", "--migration-rate", "3", str(p)]) == 2
