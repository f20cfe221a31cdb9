"""Work is estimated before it starts, refused above the limit unless --yes, and shown while it runs.

The estimate counts simulated events from the spec alone; it is checked here against the
engine's own poll counts (tokio 1.24 counts every poll) and used to refuse a billion-second spec,
a billion-batch scenario, 100000 seeds or a million-point sweep before any of them runs.
"""
import json
import re
import pathlib
import tracemalloc

import pytest

from numasim import budget
from numasim import sweep as S
from numasim.cli import main
from numasim.progress import Progress
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile

DATA = pathlib.Path(__file__).parent / "data"
TINY = json.loads((DATA / "sweeps" / "tiny.json").read_text())

LOOP = {"name": "loop", "runtime": {"workers": 1}, "duration_s": 0.05, "sources": [{"kind": "root", "task": {
    "name": "root", "steps": [{"loop_until_end": [{"spawn": {"name": "w", "steps": [
        {"repeat": 10, "steps": [{"spin_us": 20}, {"yield": 1}]}]}, "count": 4, "join": True}]}]}}]}


@pytest.mark.parametrize("raw", [TINY, LOOP], ids=["external", "loop_until_end"])
def test_the_estimate_is_within_a_factor_of_two_of_the_polls_run(raw):
    spec = parse_spec(raw)
    res = simulate(spec, get_profile("1.24"), seed=1)
    est = budget.spec_events(spec)
    assert res.polls > 0
    assert 0.5 < est / res.polls < 2, (est, res.polls)


def test_the_estimate_grows_with_the_duration():
    short = budget.spec_events(parse_spec(TINY))
    long = budget.spec_events(parse_spec(dict(TINY, duration_s=TINY["duration_s"] * 1000)))
    assert long == pytest.approx(1000 * short, rel=0.01)


def _refused(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "above the limit" in err and "--yes" in err
    return err


def test_predict_refuses_a_billion_second_spec(tmp_path, capsys):
    f = tmp_path / "big.json"
    f.write_text(json.dumps(dict(TINY, duration_s=1e9)))
    err = _refused(capsys, ["predict", str(f), "-o", str(tmp_path / "t.jsonl")])
    assert str(f) in err and "simulated events" in err
    assert not (tmp_path / "t.jsonl").exists()


def test_compare_refuses_a_billion_batches_and_100000_seeds(tmp_path, capsys):
    f = tmp_path / "big.toml"
    f.write_text((DATA / "small-scenario.toml").read_text().replace("batches = 1", "batches = 1000000000"))
    _refused(capsys, ["compare", str(f), "-q"])
    err = _refused(capsys, ["compare", str(DATA / "small-scenario.toml"), "--seeds", "100000", "-q"])
    assert "200k runs" in err


def test_max_events_sets_the_limit_and_yes_lifts_it(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(TINY))
    _refused(capsys, ["predict", str(f), "-o", str(out), "--max-events", "10"])
    assert main(["predict", str(f), "-o", str(out), "--max-events", "10", "--yes"]) == 0
    assert out.read_text().count("\n") > 1


def million_point_sweep(tmp_path) -> pathlib.Path:
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    f = tmp_path / "lhs.toml"
    f.write_text('spec = "tiny.json"\n[design]\nmethod = "lhs"\npoints = 1000000\n'
                 '[[param]]\npath = "sources.0.interval_us"\nlow = 100\nhigh = 800\n'
                 '[[param]]\npath = "host.unpark_latency_ns"\nlow = 2000\nhigh = 20000\ninteger = true\n')
    return f


def test_a_million_point_sweep_is_refused_before_anything_is_generated(tmp_path, capsys, monkeypatch):
    f = million_point_sweep(tmp_path)

    def boom(self, *a, **k):
        raise AssertionError("the design was generated")
    monkeypatch.setattr(S.Sweep, "iter_assignments", boom)
    err = _refused(capsys, ["sweep", str(f), "--out", str(tmp_path / "out")])
    assert "1M runs" in err
    assert not (tmp_path / "out").exists()


def test_a_million_point_design_is_generated_lazily_in_bounded_memory(tmp_path):
    sw = S.load_sweep(str(million_point_sweep(tmp_path)))
    tracemalloc.start()
    try:
        it = sw.iter_jobs()
        first = [next(it) for _ in range(50)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [j.point for j in first] == list(range(50))
    # the strata (2 x 1e6 integers, 16 MB) and one chunk of uniforms, never 1e6 payloads
    assert peak < 64 << 20, peak


def test_the_lazy_design_is_the_materialized_one():
    """Chunked draws give the numbers of one (n, d) draw: resumed sweeps keep their keys."""
    import numpy as np
    p = [{"path": "sources.0.interval_us", "low": 100, "high": 800}, {"path": "runtime.workers", "values": [1, 2, 3]}]
    sw = S.parse_sweep({"spec": TINY, "design": {"method": "lhs", "points": 5000, "seed": 3}, "param": p},
                       str(DATA / "sweeps" / "x.toml"))
    rng = np.random.default_rng(3)
    n, d = 5000, 2
    u = (np.stack([rng.permutation(n) for _ in range(d)], axis=1) + rng.random((n, d))) / n
    old = [{q.path: q.at(float(u[i, j])) for j, q in enumerate(sw.params)} for i in range(n)]
    assert list(sw.iter_assignments(chunk=777)) == old


def test_progress_off_a_terminal_is_a_line_every_few_seconds_and_none_when_quiet():
    import io
    import time
    buf = io.StringIO()
    bar = Progress(10, "numasim test", "run", every_s=0.05, stream=buf)
    bar.update(3)
    deadline = time.monotonic() + 10
    while buf.getvalue().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    bar.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) >= 2 and lines[0].startswith("numasim test: 3/10 runs")
    quiet = io.StringIO()
    bar = Progress(10, "numasim test", quiet=True, every_s=0.01, stream=quiet)
    bar.update(3)
    time.sleep(0.1)
    bar.close()
    assert quiet.getvalue() == ""


def test_calibrate_reports_progress_off_a_terminal_and_not_with_q(tmp_path, capsys, monkeypatch):
    from numasim import progress
    monkeypatch.setattr(progress, "EVERY_S", 0.01)
    spec = dict(TINY, duration_s=0.02)
    trace = tmp_path / "t.jsonl"
    simulate(parse_spec(spec), get_profile("1.49"), seed=1).write(trace.open("w"))
    out = tmp_path / "p.json"
    assert main(["calibrate", str(trace), "--free", "poll_ns", "--max-evals", "6", "--no-uncertainty",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"numasim calibrate: \d+/6 rounds, \dm\d\ds elapsed", err), err
    assert main(["calibrate", str(trace), "--free", "poll_ns", "--max-evals", "6", "--no-uncertainty",
                 "-o", str(out), "-q"]) == 0
    assert not re.search(r"\d+/6 rounds", capsys.readouterr().err)
