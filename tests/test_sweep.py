"""Sweeps: designs, the sweep file's errors, resuming after a kill, and Dask agreeing with local runs."""
import itertools
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from numasim import sweep as S
from numasim.cli import main
from numasim.errors import SpecError

DATA = pathlib.Path(__file__).parent / "data" / "sweeps"
TINY = json.loads((DATA / "tiny.json").read_text())


def make(design="grid", params=None, **kw):
    t = {"spec": TINY, "seeds": kw.pop("seeds", [1]), "design": {"method": design, **kw},
         "param": params or [{"path": "sources.0.interval_us", "values": [100, 200, 400]},
                             {"path": "runtime.workers", "values": [1, 2]}]}
    return S.parse_sweep(t, str(DATA / "inline.toml"))


def test_grid_is_the_product_of_values_in_order():
    sw = make()
    a = sw.assignments()
    assert len(a) == 6
    assert a[0] == {"sources.0.interval_us": 100, "runtime.workers": 1}
    assert a[1] == {"sources.0.interval_us": 100, "runtime.workers": 2}
    assert a[-1] == {"sources.0.interval_us": 400, "runtime.workers": 2}


def test_grid_over_a_log_range_includes_both_ends():
    sw = make(params=[{"path": "sources.0.interval_us", "low": 10, "high": 1000, "steps": 3, "scale": "log"}])
    assert [x["sources.0.interval_us"] for x in sw.assignments()] == pytest.approx([10, 100, 1000])


def test_random_design_is_deterministic_in_its_seed_and_stays_in_range():
    p = [{"path": "sources.0.interval_us", "low": 100, "high": 200},
         {"path": "runtime.workers", "low": 1, "high": 4, "integer": True},
         {"path": "tokio", "values": ["1.24", "1.49"]}]
    a = make("random", p, points=20, seed=3).assignments()
    assert a == make("random", p, points=20, seed=3).assignments()
    assert a != make("random", p, points=20, seed=4).assignments()
    assert all(100 <= x["sources.0.interval_us"] <= 200 for x in a)
    assert {x["runtime.workers"] for x in a} <= {1, 2, 3, 4}
    assert {x["tokio"] for x in a} == {"1.24", "1.49"}


def test_latin_hypercube_puts_one_point_in_each_stratum_of_each_parameter():
    n = 10
    p = [{"path": "sources.0.interval_us", "low": 0, "high": 1},
         {"path": "host.unpark_latency_ns", "low": 0, "high": 1}]
    a = make("lhs", p, points=n, seed=1).assignments()
    for path in ("sources.0.interval_us", "host.unpark_latency_ns"):
        assert sorted(int(x[path] * n) for x in a) == list(range(n))


def test_seeds_multiply_points_and_each_job_carries_its_seed():
    jobs = make(seeds=3).jobs()
    assert len(jobs) == 18 and len({j.key for j in jobs}) == 18
    assert [j.seed for j in jobs[:3]] == [1, 2, 3]
    assert jobs[0].payload["seed"] == 1 and jobs[0].payload["spec"]["runtime"]["workers"] == 1


def test_host_and_tokio_parameters_reach_the_payload():
    sw = make(params=[{"path": "host.unpark_latency_ns", "values": [1234]}, {"path": "tokio", "values": ["1.24"]}])
    pay = sw.jobs()[0].payload
    assert pay["host"] == {"unpark_latency_ns": 1234} and pay["tokio"] == "1.24"


@pytest.mark.parametrize("text,field", [
    ('spec = "tiny.json"\n[[param]]\npath = "sources.4.interval_us"\nvalues = [1]\n', "sources.4.interval_us"),
    ('spec = "tiny.json"\n[design]\nmethod = "sobol"\n[[param]]\npath = "a"\nvalues = [1]\n', "design.method"),
    ('spec = "tiny.json"\n[design]\nmethod = "lhs"\n[[param]]\npath = "a"\nvalues = [1]\n', "design.points"),
    ('spec = "tiny.json"\n[[param]]\npath = "runtime.workers"\nlow = 1\nhigh = 4\n', "param[0].steps"),
    ('spec = "tiny.json"\n[[param]]\npath = "runtime.workers"\nvalues = [0]\n', "runtime.workers"),
    ('spec = "tiny.json"\n[[param]]\npath = "host.nope_ns"\nvalues = [1]\n', "host.nope_ns"),
    ('spec = "tiny.json"\n[[param]]\npath = "tokio"\nvalues = ["0.1"]\n', "tokio"),
    ('spec = "tiny.json"\nseeds = "many"\n[[param]]\npath = "tokio"\nvalues = ["1.49"]\n', "seeds"),
    ('spec = "missing.json"\n[[param]]\npath = "tokio"\nvalues = ["1.49"]\n', "spec"),
    ('spec = "tiny.json"\n[[param\n', "not valid TOML"),
])
def test_a_bad_sweep_file_is_one_line_naming_file_and_field(tmp_path, capsys, text, field):
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(SpecError) as e:
        S.load_sweep(str(f)).jobs()
    assert str(f) in str(e.value) and field in str(e.value)
    assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err


def _rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_a_torn_last_line_is_cut_off_and_the_sweep_completes(tmp_path):
    sw = make(params=[{"path": "sources.0.interval_us", "values": [200, 400]}])
    S.run_sweep(sw, tmp_path, quiet=True)
    lines = (tmp_path / S.RESULTS).read_text().splitlines(keepends=True)
    # drop the last row and leave half of it, as a kill inside write() would
    (tmp_path / S.RESULTS).write_text(lines[0] + lines[1][:40])
    s = S.run_sweep(sw, tmp_path, quiet=True)
    assert (s["ran"], s["reused"]) == (1, 1)
    rows = _rows(tmp_path / S.RESULTS)
    assert sorted(r["point"] for r in rows) == [0, 1]
    table = S.read_table(tmp_path / S.TABLE)
    assert [r["sources.0.interval_us"] for r in table] == [200, 400]


RUNNER = """
import sys
sys.path.insert(0, {data!r})
import counting
from numasim.sweep import load_sweep, run_sweep
run_sweep(load_sweep({toml!r}), {out!r}, workers=2, quiet=True, plot=False)
"""


def test_killed_sweep_resumes_without_rerunning_a_finished_point(tmp_path, monkeypatch):
    """SIGKILL the whole sweep (parent and pool) after a few rows, then run it again: one row per
    point and seed, and no point that had a row before the kill was evaluated again."""
    log = tmp_path / "evals.log"
    out = tmp_path / "out"
    monkeypatch.setenv("NUMASIM_EVAL_LOG", str(log))
    code = RUNNER.format(data=str(DATA), toml=str(DATA / "resume.toml"), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, env=os.environ.copy())
    results = out / S.RESULTS
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 4:
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    before = S.read_rows(str(results), repair=False)
    assert 4 <= len(before) < 24, "the kill should land mid-sweep"

    sys.path.insert(0, str(DATA))
    try:
        import counting  # noqa: F401  registers kind "counting" here too
    finally:
        sys.path.remove(str(DATA))
    sw = S.load_sweep(str(DATA / "resume.toml"))
    s = S.run_sweep(sw, out, workers=2, quiet=True, plot=False)
    assert s["runs"] == 24 and s["reused"] == len(before)

    rows = _rows(results)
    assert len(rows) == 24 and len({r["key"] for r in rows}) == 24
    assert {(r["point"], r["seed"]) for r in rows} == {(p, k) for p in range(8) for k in (1, 2, 3)}
    evals = log.read_text().split()
    for key in before:
        assert evals.count(key) == 1, "a finished point ran again"
    assert len(S.read_table(out / S.TABLE)) == 24


def test_local_processes_and_dask_give_identical_rows(tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster
    sw = make(seeds=[1, 2], params=[{"path": "sources.0.interval_us", "values": [150, 300]},
                                    {"path": "runtime.workers", "values": [1, 2]}])
    S.run_sweep(sw, tmp_path / "local", workers=2, quiet=True, plot=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            Client(cl) as client:
        S.run_sweep(sw, tmp_path / "dask", dask=client, quiet=True, plot=False)
    a = {r["key"]: r for r in _rows(tmp_path / "local" / S.RESULTS)}
    b = {r["key"]: r for r in _rows(tmp_path / "dask" / S.RESULTS)}
    assert len(a) == 8 and a == b
    assert (tmp_path / "local" / S.TABLE).read_text() == (tmp_path / "dask" / S.TABLE).read_text()


def test_two_runs_of_one_point_and_seed_are_identical(tmp_path):
    job = make().jobs()[1]
    assert S.run_job(job.kind, job.payload) == S.run_job(job.kind, job.payload)


def test_an_interrupt_keeps_finished_rows_and_the_table(tmp_path):
    sw = make(seeds=[1, 2])

    def interrupted(todo):
        for j in itertools.islice(todo, 2):
            yield j, S.run_job(j.kind, j.payload)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        S.run_sweep(sw, tmp_path, quiet=True, executor=interrupted)
    assert len(_rows(tmp_path / S.RESULTS)) == 2 and len(S.read_table(tmp_path / S.TABLE)) == 2
    s = S.run_sweep(sw, tmp_path, quiet=True, plot=False)
    assert (s["ran"], s["reused"]) == (10, 2)


def test_a_fresh_worker_process_finds_the_scenario_kind():
    """Dask workers are fresh interpreters: the `scenario` kind must load itself on first use
    (it lives in another module) rather than rely on the parent's imports."""
    import subprocess
    import sys
    code = ("import numasim.sweep as s; assert 'scenario' not in s.EVALUATORS; "
            "ev = s.evaluator('scenario'); print(type(ev).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Evaluator"
