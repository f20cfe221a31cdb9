"""Calibration: figures as figures.py computes them, free-value syntax, planted-parameter recovery,
the profile file, interruption and bad input."""
import dataclasses
import importlib.util
import json
import os
import pathlib

import pytest

import numasim.calibrate as C
from numasim.cli import main
from numasim.commands.predict import load_host
from numasim.errors import SpecError, TraceError
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.host.costs import Host
from numasim.tokio.profile import get_profile

# ../shared/fidelity beside this checkout (as conftest.py finds it), wherever the checkout is
SHARED = str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "fidelity")


def req_spec(name, interval_us, spin, workers=1, duration_s=0.1):
    """Requests from outside at a fixed rate, each one spin: on one worker every request finds it
    parked, so the latency is the wake latency plus the spin."""
    return {"name": name, "runtime": {"workers": workers}, "duration_s": duration_s, "sample_interval_ms": 10,
            "seed": 7, "sources": [{"kind": "external", "interval_us": interval_us, "arrival": "fixed",
                                    "task": {"name": "req", "steps": [
                                        {"spin_us": {"dist": "lognormal", "mean_us": spin, "cv": 0.3}}]}}]}


def write_sim(path, raw, host, version="1.49"):
    res = simulate(parse_spec(raw), get_profile(version), host)
    with open(path, "w") as f:
        res.write(f)
    return str(path)


@pytest.mark.skipif(not os.path.exists(f"{SHARED}/figures.py"), reason="needs ../shared/fidelity/figures.py beside this checkout (the shared scoring script and traces)")
def test_figures_match_the_scoring_script():
    """The fit's figures are exactly those figures.py scores, read through read_trace."""
    spec = importlib.util.spec_from_file_location("shared_figures", f"{SHARED}/figures.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    path = f"{SHARED}/traces-1.49/pub-hawk-w2-mid.r1.jsonl"
    (case,) = C.load_cases([path])
    want = ref.figures(path)
    assert case.real.keys() == want.keys()
    for k, v in want.items():
        assert case.real[k] == pytest.approx(v, rel=1e-12), k
    assert case.tokio == "1.49"


def test_free_marker_forms():
    """"?", "?START" and {"free": ...} mark durations and cvs as free, with start and bounds."""
    raw = {"sources": [{"interval_us": "?", "task": {"steps": [
        {"spin_us": {"dist": "lognormal", "mean_us": "?25", "cv": {"free": 0.3, "min": 0.1, "max": 1, "name": "cv"}}}]}}]}
    marks = {txt: (name, start, lo, hi) for _p, txt, name, start, lo, hi in C.find_free(raw, "s.json")}
    assert marks["sources[0].interval_us"] == (None, 10.0, 0.5, 200.0)
    assert marks["sources[0].task.steps[0].spin_us.mean_us"] == (None, 25.0, 1.25, 500.0)
    assert marks["sources[0].task.steps[0].spin_us.cv"] == ("cv", 0.3, 0.1, 1)


@pytest.mark.parametrize("raw, where", [
    ({"runtime": {"workers": "?"}}, "runtime.workers"),
    ({"a_us": "?x"}, "a_us"),
    ({"a_us": {"free": 5, "max": 2}}, "a_us"),
    ({"a_us": {"free": 5, "step": 2}}, "a_us.step"),
])
def test_bad_free_markers_name_the_field(raw, where):
    with pytest.raises(SpecError) as e:
        C.find_free(raw, "s.json")
    assert e.value.where == f"s.json: {where}"


def test_planted_parameters_are_recovered(tmp_path):
    """A spin mean (from the mean poll), the short-park wake latency (from the latency of a
    request that finds the worker briefly parked) and the long-park one (requests far apart)
    are recovered within 10% from two traces fitted jointly, the spin mean shared by name."""
    planted = dataclasses.replace(Host(), unpark_latency_ns=12_000, idle_wake_latency_ns=80_000)
    cases = []
    for name, iv in (("fast", 150), ("slow", 600)):
        trace = write_sim(tmp_path / f"{name}.jsonl", req_spec(name, iv, 30), planted)
        spec_path = tmp_path / f"{name}.spec.json"
        spec_path.write_text(json.dumps(req_spec(name, iv, {"free": 20, "name": "spin"})))
        cases += C.load_cases([trace], str(spec_path))
    fit = C.calibrate(cases, free=("unpark_latency_ns", "idle_wake_latency_ns"), max_evals=100, uncertainty=False)
    assert fit.values["spec.spin"] == pytest.approx(30, rel=0.10)
    assert fit.values["host.unpark_latency_ns"] == pytest.approx(12_000, rel=0.10)
    assert fit.values["host.idle_wake_latency_ns"] == pytest.approx(80_000, rel=0.10)
    assert fit.objective < fit.start_objective
    assert fit.spec_values["fast"]["sources[0].task.steps[0].spin_us.mean_us"] == fit.values["spec.spin"]


def test_cli_writes_a_profile_predict_reads(tmp_path, monkeypatch):
    """The profile carries the fitted host, uncertainty, errors and provenance; --profile reads it."""
    monkeypatch.setenv("CI", "true")
    trace = write_sim(tmp_path / "t.jsonl", req_spec("t", 200, 20, duration_s=0.05),
                      dataclasses.replace(Host(), poll_ns=900))
    out = tmp_path / "p.json"
    assert main(["calibrate", trace, "--free", "poll_ns", "--max-evals", "12", "-o", str(out)]) == 0
    prof = json.loads(out.read_text())
    assert set(prof) >= {"host", "uncertainty", "errors", "tokio", "traces", "seconds"}
    assert prof["tokio"] == "1.49" and prof["traces"] == [trace]
    assert "host.poll_ns" in prof["uncertainty"]["relative"]
    assert prof["host"]["poll_ns"] == pytest.approx(900, rel=0.10)
    assert load_host(str(out)).poll_ns == prof["host"]["poll_ns"]


def test_interrupt_writes_best_so_far(tmp_path, monkeypatch, capsys):
    """Ctrl-C during the search writes the best profile so far and exits 130 with one line."""
    monkeypatch.setenv("CI", "true")
    trace = write_sim(tmp_path / "t.jsonl", req_spec("t", 200, 20, duration_s=0.05), Host())
    calls = {"n": 0}
    real = C.Objective.score

    def score(self, vals, seeds=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(self, vals, seeds)
    monkeypatch.setattr(C.Objective, "score", score)
    out = tmp_path / "p.json"
    assert main(["calibrate", trace, "--free", "poll_ns,unpark_latency_ns", "-o", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted" in err[0] and str(out) in err[0]
    prof = json.loads(out.read_text())
    assert prof["interrupted"] is True and prof["evaluations"] == 3


def test_bad_trace_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "header", "format": "tokio-probe/1"}\n{"kind": "interval", "t": \n')
    assert main(["calibrate", str(bad), "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.jsonl" in err[0]


def test_trace_without_spec_asks_for_one(tmp_path):
    trace = write_sim(tmp_path / "t.jsonl", req_spec("t", 200, 20, duration_s=0.05), Host())
    lines = open(trace).read().splitlines()
    head = json.loads(lines[0])
    del head["spec"]
    (tmp_path / "n.jsonl").write_text("\n".join([json.dumps(head)] + lines[1:]) + "\n")
    with pytest.raises(TraceError, match="--spec"):
        C.load_cases([str(tmp_path / "n.jsonl")])


def test_repetitions_of_one_name_must_share_the_spec(tmp_path):
    a = write_sim(tmp_path / "a.jsonl", req_spec("t", 200, 20, duration_s=0.05), Host())
    b = write_sim(tmp_path / "b.jsonl", req_spec("t", 300, 20, duration_s=0.05), Host())
    with pytest.raises(TraceError, match="differs"):
        C.load_cases([a, b])
    c = C.load_cases([a, a])
    assert len(c) == 1 and len(c[0].paths) == 2


def numa_layout_spec(name, cpus, spin, penalty):
    """Requests reading 8 KiB of a region bound to node 0, served by two workers pinned to `cpus`
    of a 2-node machine: on CPUs 0 and 1 every read is local, on CPUs 0 and 96 half are remote."""
    return {"name": name, "duration_s": 0.05, "sample_interval_ms": 5, "seed": 5,
            "machine": {"preset": "graviton4-2node"}, "remote_penalty": penalty,
            "runtimes": [{"name": "main", "workers": 2, "placement": {"kind": "pinned", "cpus": cpus}}],
            "regions": {"data": {"bytes": 1e9, "policy": "bind", "node": 0}},
            "sources": [{"kind": "external", "interval_us": 40, "arrival": "poisson", "task": {"name": "req", "steps": [
                {"spin_us": spin}, {"mem": {"region": "data", "bytes": 8192, "pattern": "random"}}]}}]}


def test_joint_calibration_recovers_a_planted_remote_penalty(tmp_path):
    """A single-node binding run beside a whole-machine run separates the remote-memory penalty
    from the rest: fitted jointly, the planted penalty (2.0) and spin (10 µs) come back within 10%."""
    cases = []
    for name, cpus in (("single-node", [0, 1]), ("whole-machine", [0, 96])):
        trace = write_sim(tmp_path / f"{name}.jsonl", numa_layout_spec(name, cpus, 10, 2.0), Host())
        spec_path = tmp_path / f"{name}.spec.json"
        spec_path.write_text(json.dumps(numa_layout_spec(name, cpus, {"free": 15, "name": "spin"}, "?1.4")))
        cases += C.load_cases([trace], str(spec_path))
    fit = C.calibrate(cases, free=(), max_evals=120, uncertainty=False)
    assert fit.values["spec.remote_penalty"] == pytest.approx(2.0, rel=0.10)
    assert fit.values["spec.spin"] == pytest.approx(10, rel=0.10)
