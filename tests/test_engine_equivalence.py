"""The compiled engine against the SimPy reference: the same bytes for the same input.

Random specs from the property tests' generator (restricted to the steps the compiled engine
covers), the public specs, and the property tests' invariants on the compiled engine's side.
The Numba cache is warmed once per session (a fresh clone pays the compile there, ~1 minute).
"""
import io
import json

import pytest
from hypothesis import given, strategies as st

from numasim.engine import simulate, which
from numasim.engine.run import EngineUnsupported, simulate_fast, unsupported
from numasim.errors import UserError
from numasim.simulate import simulate as simulate_simpy
from numasim.spec import load_spec, parse_spec
from numasim.tokio.profile import get_profile
from test_properties import spec_strategy

VERSIONS = ("1.24", "1.49", "1.51", "1.53")
COVERED_LEAVES = ("spin", "yield", "sleep", "io", "blocking")
covered_specs = spec_strategy(COVERED_LEAVES)


@pytest.fixture(scope="session", autouse=True)
def warm_numba_cache():
    """Compile (or load) the kernels once, before any test runs them."""
    s = parse_spec({"name": "warm", "runtime": {"workers": 2}, "duration_s": 0.001, "sample_interval_ms": 1,
                    "sources": [{"kind": "root", "task": {"name": "r", "steps": [{"spin_us": 1}]}}]})
    simulate_fast(s, get_profile("1.49"))


def text(res):
    f = io.StringIO()
    res.write(f)
    return f.getvalue()


def assert_same(spec, v, seed=None):
    p = get_profile(v)
    a = simulate_simpy(spec, p, seed=seed)
    b = simulate_fast(spec, p, seed=seed)
    ta, tb = text(a), text(b)
    if ta != tb:
        la, lb = ta.splitlines(), tb.splitlines()
        i = next(i for i, (x, y) in enumerate(zip(la + [""], lb + [""])) if x != y)
        raise AssertionError(f"{spec.name} {v}: traces differ from line {i}:\n{la[i] if i < len(la) else '<end>'}\n"
                             f"{lb[i] if i < len(lb) else '<end>'}")
    assert a.polls == b.polls
    assert a.task_latencies == b.task_latencies
    assert a.per_worker == b.per_worker
    assert a.runtime.spawned_tasks_count == b.runtime.spawned_tasks_count
    assert a.runtime.num_alive_tasks == b.runtime.num_alive_tasks
    assert a.runtime.idle.max_searching_seen == b.runtime.max_searching_seen
    return a, b


@given(covered_specs, st.sampled_from(VERSIONS))
def test_random_specs_give_the_same_trace_on_both_engines(s, v):
    assert unsupported(s, get_profile(v)) is None
    assert_same(s, v)


@pytest.mark.parametrize("v", VERSIONS)
def test_public_specs_give_the_same_trace_on_both_engines(fidelity_specs, v):
    for path in fidelity_specs:
        spec = load_spec(path)
        if v not in ("1.24", "1.49"):
            # the other profiles on the first half second: the same rules, a quarter of the time
            raw = dict(spec.raw, duration_s=0.5)
            spec = parse_spec(raw, path)
        assert_same(spec, v)


KEPT = {"name": "as", "runtime": {"workers": 3}, "duration_s": 0.05, "sample_interval_ms": 10, "seed": 9,
        "sources": [{"kind": "external", "interval_us": 400, "arrival": "poisson", "task": {"name": "req", "steps": [
            {"spawn": {"name": "x", "steps": [{"spin_us": 30}, {"sleep_us": 200}]}, "count": 2, "as": "h"},
            {"spawn": {"name": "y", "steps": [{"io_us": 5}]}, "count": 3, "as": "h"},
            {"spawn": {"name": "z", "steps": [{"spin_us": 5}]}, "count": 2, "as": "never"},
            {"spin_us": 10}, {"join_all": "h"},
            {"repeat": 2, "steps": [{"spawn": {"name": "y", "steps": [{"yield": 1}]}, "as": "r"},
                                    {"spawn_blocking_us": 50, "join": False}]},
            {"join_all": "r"}]}}]}


@pytest.mark.parametrize("v", VERSIONS)
def test_kept_handles_and_join_all_give_the_same_trace(v):
    assert_same(parse_spec(KEPT), v)


def test_another_seed_and_host_give_the_same_trace(fidelity_specs):
    from numasim.host.costs import Host
    spec = load_spec(fidelity_specs[0])
    spec = parse_spec(dict(spec.raw, duration_s=0.3))
    host = Host(cpus=3, stack_wake_prob=0.9, halt_poll_ns=50_000)
    p = get_profile("1.49")
    assert text(simulate_simpy(spec, p, host, seed=77)) == text(simulate_fast(spec, p, host, seed=77))


# ---- the property tests' invariants, on the compiled engine
@given(covered_specs, st.sampled_from(VERSIONS))
def test_fast_engine_keeps_the_scheduler_invariants(s, v):
    res = simulate_fast(s, get_profile(v))
    rt = res.runtime
    # no lost or duplicated task: each spawned task completes exactly once
    assert rt.num_alive_tasks == 0
    dropped = sum(t["dropped_count"] for r in res.intervals for t in r["tasks"].values())
    assert dropped == rt.spawned_tasks_count
    # the searching limit
    assert rt.max_searching_seen <= max(1, (rt.num_workers + 1) // 2)
    # queues stay within 256 at every sample, and the counters reconcile
    for r in res.intervals:
        assert r["runtime"]["max_local_queue_depth"] <= 256
    task_polls = sum(t["total_poll_count"] for r in res.intervals for t in r["tasks"].values())
    assert task_polls == rt.polls_run
    if not get_profile(v).poll_count_per_run_task:
        assert sum(rt.worker_polls) == task_polls
    else:
        assert sum(rt.worker_polls) <= task_polls
    # determinism
    assert text(res) == text(simulate_fast(s, get_profile(v)))


# ---- choosing an engine
LOGNORMAL_SPIN = {"spin_us": {"dist": "lognormal", "mean_us": 5, "cv": 0.5}}


def _spec(steps, **extra):
    d = {"name": "t", "runtime": {"workers": 2}, "duration_s": 0.01, "sample_interval_ms": 5,
         "sources": [{"kind": "root", "task": {"name": "r", "steps": steps}}]}
    d.update(extra)
    return parse_spec(d)


def test_fast_refuses_what_it_does_not_cover_naming_the_feature():
    s = _spec([LOGNORMAL_SPIN])
    with pytest.raises(EngineUnsupported, match="spin with a lognormal distribution"):
        simulate(s, get_profile("1.49"), engine="fast")
    assert isinstance(EngineUnsupported("x", "y"), UserError)  # one line and exit 2 on the CLI


def test_auto_runs_fast_where_covered_and_simpy_elsewhere():
    p = get_profile("1.49")
    assert which(_spec([{"spin_us": 5}]), p, engine="auto") == "fast"
    assert which(_spec([LOGNORMAL_SPIN]), p, engine="auto") == "simpy"
    assert which(_spec([{"spin_us": 5}]), p, engine="simpy") == "simpy"
    assert which(_spec([{"spin_us": 5}]), p, observers=[object()], engine="auto") == "simpy"


def test_cli_engine_flag_writes_the_same_trace(tmp_path, fidelity_specs):
    from numasim.cli import main
    spec = load_spec(fidelity_specs[-1])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(dict(spec.raw, duration_s=0.2)))
    outs = []
    for e in ("fast", "simpy"):
        out = tmp_path / f"{e}.jsonl"
        assert main(["predict", str(path), "--engine", e, "-q", "-o", str(out)]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    path.write_text(json.dumps(dict(spec.raw, duration_s=0.2, sources=[
        {"kind": "root", "task": {"name": "r", "steps": [LOGNORMAL_SPIN]}}])))
    assert main(["predict", str(path), "--engine", "fast", "-q", "-o", str(tmp_path / "x")]) == 2
