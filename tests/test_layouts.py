"""One runtime against two: each mechanism of a cross-runtime hand-off, as a one-line spec pair.

`one` runs a workload on one runtime of 2 workers; `split` on two runtimes of 1 worker (r0, r1)
with the sources split and, where the case says so, spawns going into the other runtime. Each
test states which rule makes the split/one latency ratio what it is, and asserts a direction or
a size that the rule's absence would break (fidelity/layouts holds the real captures).
"""
import statistics

import pytest

from numasim.host.costs import Host
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile


def pair(sources, duration_s=0.3):
    """(one, split) specs of one workload: `sources` name r0/r1; `one` drops every runtime name."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "runtime"}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    base = {"name": "layout", "duration_s": duration_s, "sample_interval_ms": 50, "seed": 3}
    one = dict(base, runtime={"workers": 2}, sources=strip(sources))
    split = dict(base, runtimes=[{"name": "r0", "workers": 1}, {"name": "r1", "workers": 1}], sources=sources)
    return parse_spec(one), parse_spec(split)


def ext(interval_us, name, steps, runtime):
    return {"kind": "external", "interval_us": interval_us, "arrival": "poisson",
            "task": {"name": name, "steps": steps}, "runtime": runtime}


def spawn(name, steps, runtime, count=1):
    return {"spawn": {"name": name, "steps": steps}, "count": count, "join": True, "runtime": runtime}


def mean_latency(res, name):
    return statistics.fmean(res.task_latencies[name])


def ratio(sources, name="a", version="1.49", host=None, **kw):
    one, split = pair(sources, **kw)
    p = get_profile(version)
    r1 = simulate(one, p, host)
    r2 = simulate(split, p, host)
    return mean_latency(r2, name) / mean_latency(r1, name), r1, r2


@pytest.mark.parametrize("version", ["1.24", "1.49"])
def test_a_split_runtime_cannot_lend_its_idle_worker(version):
    """No stealing across runtimes: a source that loads its own runtime's only worker to 70%
    queues behind itself, while one runtime spreads the same load over both workers."""
    # how large the gap is depends on how fast one runtime's second worker takes work, which is the
    # host's placement: 1.8 with every wake-up on the wakee's own vCPU (taken here, so that the
    # test holds the tokio rule), 1.25-1.46 on the default host since issue 12's measured stacking
    # (a worker stacked on its busy sibling's vCPU takes no work until it is balanced away)
    host = Host(worker_unpark_latency_ns=8_000, stack_wake_prob=0.0, stack_again_prob=0.0)
    q, _, _ = ratio([ext(100, "a", [{"spin_us": 70}], "r0"), ext(2000, "b", [{"spin_us": 20}], "r1")],
                    version=version, host=host)
    assert q > 1.5


@pytest.mark.parametrize("version", ["1.24", "1.49"])
def test_a_balanced_timer_bound_split_costs_little(version):
    """Jobs that mostly wait on a timer: each runtime's worker owns its driver and timer wheel,
    so the split adds no hand-off; only the lost pooling of a lightly loaded CPU shows."""
    steps = [{"spin_us": 20}, {"sleep_us": 500}, {"spin_us": 20}]
    q, _, _ = ratio([ext(400, "a", steps, "r0"), ext(400, "b", steps, "r1")], version=version)
    assert 0.9 < q < 1.15


@pytest.mark.parametrize("version", ["1.24", "1.49"])
def test_a_spawn_into_the_other_runtime_is_a_remote_schedule_and_an_unpark(version):
    """tokio::spawn through another runtime's Handle from a worker: inject + notify_parked of
    that runtime, and the join's waker crossing back is a remote schedule of the joiner's
    runtime. Locally the children would sit in the LIFO slot and the join wake stays local."""
    n = 4
    q, one, split = ratio([ext(1000, "a", [{"spin_us": 10}, spawn("ca", [{"spin_us": 30}], "r1", n)], "r0")],
                          version=version)
    r0, r1 = split.system.runtimes["r0"], split.system.runtimes["r1"]
    jobs = len(split.task_latencies["a"])
    # every child enters r1 through its inject queue
    assert r1.remote_schedule_count == n * jobs == r1.spawned_tasks_count
    # r0 sees the job's arrival and at least one wake from r1 per job
    assert r0.remote_schedule_count >= 2 * jobs
    # one runtime: only the source's spawns are remote
    assert one.system.runtimes["main"].remote_schedule_count == len(one.task_latencies["a"])
    assert q > 1.2


def test_the_inject_lock_is_paid_by_the_spawning_worker():
    """A spawn into another runtime pushes under that runtime's `synced` mutex: the spawning
    task's poll pays `remote_schedule_ns` per child, which a local spawn does not."""
    n = 10
    src = [{"kind": "root", "runtime": "r0",
            "task": {"name": "a", "steps": [{"spawn": {"name": "c", "steps": [{"spin_us": 5}]}, "count": n,
                                             "join": False, "runtime": "r1"}]}}]
    _, split = pair(src, duration_s=0.01)
    p = get_profile("1.49")

    def poll_ns(host):
        res = simulate(split, p, host)
        c = res.system.runtimes["r0"].monitors["a"].c
        return c[10] + c[12]  # total_fast_poll_duration + total_slow_poll_duration

    base = poll_ns(Host(remote_schedule_ns=0))
    more = poll_ns(Host(remote_schedule_ns=20_000))
    # (plus, at most, one stacked wake of r1's worker on r0's vCPU landing at another moment)
    assert n * 20_000 <= more - base <= n * 20_000 + Host().unpark_latency_ns + Host().unpark_ns + 20_000


@pytest.mark.parametrize("version", ["1.24", "1.49"])
def test_each_hop_of_a_chain_pays_a_round_trip(version):
    """A chain r0 -> r1 -> r0 ... pays, per hop, an unpark of the other runtime's worker and a
    remote wake on the way back: a longer chain costs more, relative to local spawns."""
    def chain(hops):
        t = {"name": f"h{hops}", "steps": [{"spin_us": 10}]}
        for h in range(hops - 1, 0, -1):
            t = {"name": f"h{h}", "steps": [{"spin_us": 10}, {"spawn": t, "count": 1, "join": True,
                                                              "runtime": "r0" if h % 2 else "r1"}]}
        return [ext(800, "a", [{"spin_us": 10}, {"spawn": t, "count": 1, "join": True, "runtime": "r1"}], "r0")]

    q2, one2, split2 = ratio(chain(2), version=version)
    q4, one4, split4 = ratio(chain(4), version=version)
    assert q2 > 1.1 and q4 > 1.1
    extra2 = mean_latency(split2, "a") - mean_latency(one2, "a")
    extra4 = mean_latency(split4, "a") - mean_latency(one4, "a")
    # twice the hand-offs (8 crossings against 4): clearly more extra latency
    assert extra4 > 1.25 * extra2


@pytest.mark.parametrize("version", ["1.24", "1.49"])
def test_a_light_source_gains_a_runtime_of_its_own_only_if_a_long_idle_wake_is_cheap(version):
    """A light source beside a heavy one: on one runtime its jobs queue behind the heavy jobs on
    the busy workers; split, its own worker is idle between jobs, so every job pays the wake of
    a long-parked worker (`idle_wake_latency_ns`). Cheap, as measured on the capture machine
    (fidelity/wakeprobe: 13.5 µs), the light job gains (real imb-cpu b: 0.71); at the default
    host's 60 µs it loses."""
    src = [ext(120, "a", [{"spin_us": 50}], "r0"), ext(1000, "b", [{"spin_us": 50}], "r1")]
    cheap, _, _ = ratio(src, "b", version, Host.from_dict({}).with_values({"idle_wake_latency_ns": 13_500}))
    dear, _, _ = ratio(src, "b", version, Host.from_dict({}).with_values({"idle_wake_latency_ns": 60_000}))
    assert cheap < 1 < dear


def test_the_layout_table_replaces_only_its_own_section(tmp_path, fidelity_dir):
    """experiments/layouts.py rewrites the section between its markers and leaves the public
    table (experiments/fidelity.py's) alone; a file without the section gets it appended."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "layouts.py"
    spec = importlib.util.spec_from_file_location("layouts_script", path)
    L = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(L)
    md = tmp_path / "fidelity.md"
    md.write_text("# public\n\n| a | b |\n")
    L.write_section(md, f"{L.BEGIN}\nfirst\n{L.END}")
    assert md.read_text() == f"# public\n\n| a | b |\n\n{L.BEGIN}\nfirst\n{L.END}\n"
    md.write_text(md.read_text() + "tail\n")
    L.write_section(md, f"{L.BEGIN}\nsecond\n{L.END}")
    assert md.read_text() == f"# public\n\n| a | b |\n\n{L.BEGIN}\nsecond\n{L.END}\ntail\n"
    row = {"real": 1.5, "pred": 0.9, "error": 0.4}
    assert L.direction_ok(row) is False
    assert L.direction_ok(dict(row, real=1.05)) is None  # not a clear change
