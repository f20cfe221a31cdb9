"""Property tests over random specs: scheduler invariants that must hold whatever the workload.

`HYPOTHESIS_PROFILE=thorough` runs many more examples than the default CI profile.
"""
import io

from hypothesis import given, strategies as st

from numasim.spec import parse_spec
from helpers import noops_by_rule, run

durations = st.integers(0, 60)



def dist(hi):
    """A duration drawn inside the task, mean up to `hi` µs."""
    return st.one_of(
        st.builds(lambda m, cv: {"dist": "lognormal", "mean_us": m, "cv": cv}, st.integers(0, hi),
                  st.sampled_from([0.2, 0.5, 1.0, 2.0])),
        st.builds(lambda m: {"dist": "exponential", "mean_us": m}, st.integers(1, hi)),
        st.builds(lambda lo, w: {"dist": "uniform", "low_us": lo, "high_us": lo + w}, st.integers(0, hi // 2),
                  st.integers(0, hi // 2)),
    )


# the leaf steps, by name (tests/test_engine_equivalence.py draws from the compiled engine's subset)
LEAVES = {
    "spin": st.builds(lambda u: {"spin_us": u}, durations),
    "yield": st.just({"yield": 1}),
    "sleep": st.builds(lambda u: {"sleep_us": u}, st.integers(0, 2500)),
    "io": st.builds(lambda u: {"io_us": u}, st.integers(0, 800)),
    "blocking": st.builds(lambda u: {"spawn_blocking_us": u}, st.integers(0, 300)),
    # the same steps with durations drawn from each task's own stream
    "spin~": st.builds(lambda d: {"spin_us": d}, dist(60)),
    "sleep~": st.builds(lambda d: {"sleep_us": d}, dist(2500)),
    "io~": st.builds(lambda d: {"io_us": d}, dist(800)),
    "blocking~": st.builds(lambda d: {"spawn_blocking_us": d}, dist(300)),
}


def step(depth, leaf_names=tuple(LEAVES)):
    leaves = st.one_of(*(LEAVES[n] for n in leaf_names))
    if depth == 0:
        return leaves
    return st.one_of(
        leaves,
        st.builds(lambda t, n, j: {"spawn": t, "count": n, "join": j}, task(depth - 1, leaf_names), st.integers(1, 6),
                  st.booleans()),
        st.builds(lambda n, s: {"repeat": n, "steps": s}, st.integers(1, 3),
                  st.lists(step(depth - 1, leaf_names), min_size=1, max_size=3)),
    )


def task(depth, leaf_names=tuple(LEAVES)):
    return st.builds(lambda name, steps: {"name": name, "steps": steps},
                     st.sampled_from(["a", "b", "c"]), st.lists(step(depth, leaf_names), min_size=1, max_size=4))


def source(leaf_names=tuple(LEAVES)):
    return st.one_of(
        st.builds(lambda t: {"kind": "root", "task": t}, task(2, leaf_names)),
        st.builds(lambda t, iv, arr: {"kind": "external", "interval_us": iv, "arrival": arr, "task": t},
                  task(2, leaf_names), st.integers(200, 3000), st.sampled_from(["fixed", "poisson"])),
    )


def spec_strategy(leaf_names=tuple(LEAVES)):
    return st.builds(
        lambda w, srcs, seed: parse_spec({"name": "prop", "runtime": {"workers": w}, "duration_s": 0.02,
                                          "sample_interval_ms": 5, "seed": seed, "sources": srcs}),
        st.integers(1, 4), st.lists(source(leaf_names), min_size=1, max_size=2), st.integers(0, 2**31),
    )


specs = spec_strategy()
versions = st.sampled_from(["1.24", "1.49", "1.51", "1.53"])


@given(specs, versions)
def test_every_spawned_task_completes_exactly_once(s, v):
    res, rec = run(s, v)
    rt = res.runtime
    assert rec.errors == []
    assert len(rec.completed) == len(set(rec.completed)) == rt.spawned_tasks_count
    assert rt.num_alive_tasks == 0


@given(specs, versions)
def test_queues_and_searchers_stay_within_tokio_limits(s, v):
    res, rec = run(s, v)
    rt = res.runtime
    assert rec.errors == []  # no task in two places, no worker polling two tasks, queues ≤ 256
    n = rt.num_workers
    assert rt.idle.max_searching_seen <= max(1, (n + 1) // 2)


@given(specs, versions)
def test_counters_reconcile(s, v):
    """The counters add up to what happened, each side counted independently."""
    res, rec = run(s, v)
    rt = res.runtime
    assert rt.num_alive_tasks == 0
    task_polls = sum(m.c[8] for m in rt.monitors.values())
    worker_polls = sum(w.stats.polls_count for w in rt.workers)
    assert task_polls == len(rec.polls)
    if not rt.profile.poll_count_per_run_task:
        assert worker_polls == task_polls  # every poll counts, LIFO polls included
    else:
        assert worker_polls <= task_polls  # one per run_task; LIFO-chain polls are not counted
    # spawns, wakes and yields, local or remote: each schedule is polled exactly once, and a
    # finished run leaves nothing queued
    assert sum(w.stats.local_schedule_count for w in rt.workers) + rt.remote_schedule_count == len(rec.polls)
    # parks as the observer saw them; noops as about_to_park defines them, never more than parks
    parks = [sum(1 for k, i in rec.seq if k == "park" and i == w.index) for w in rt.workers]
    noops = noops_by_rule(rec.seq, rt.num_workers)
    for w, p, n in zip(rt.workers, parks, noops):
        assert (w.stats.park_count, w.stats.noop_count) == (p, n)
        assert w.stats.noop_count <= w.stats.park_count
        if rt.profile.has_park_unpark_count:
            # every park is unparked again, but the one a worker is still blocked in at the end
            assert w.stats.park_unpark_count == 2 * p - w.blocked
    # steals: the tasks the observer saw move from a victim's queue to the thief
    assert [w.stats.steal_count for w in rt.workers] == [sum(rec.stolen[w.index]) for w in rt.workers]
    assert [w.stats.steal_operations for w in rt.workers] == [len(rec.stolen[w.index]) for w in rt.workers]
    elapsed = rt.env.now
    for w in rt.workers:
        assert 0 <= w.stats.busy_duration <= elapsed
    # the samples add up to the published counters
    total = sum(r["runtime"]["total_polls_count"] for r in res.intervals)
    assert total == sum(w.stats.published[4] for w in rt.workers)


@given(specs, versions)
def test_same_seed_gives_a_byte_identical_trace(s, v):
    a, b = io.StringIO(), io.StringIO()
    run(s, v)[0].write(a)
    run(s, v)[0].write(b)
    assert a.getvalue() == b.getvalue()
