"""One scenario per scheduler rule, each decided by tokio's rule (tokio-scheduler.md)."""
import pytest

from numasim.tokio.driver import Driver
from numasim.tokio.fastrand import FastRand, core_generators
from numasim.tokio.idle import Idle
from numasim.tokio.task import SCHEDULED, Task

from helpers import Recorder, bare_runtime, middle, run, spec


def mk(rt, n):
    out = []
    for i in range(n):
        rt.next_id += 1
        t = Task(rt.next_id, "x", None, None, 0)
        t.state = SCHEDULED
        out.append(t)
    return out


# ---------------------------------------------------------------- spawning and the LIFO slot
def test_a_lone_spawn_wakes_nobody():
    """The spawned task takes the LIFO slot, which notifies no one: the other worker stays parked."""
    s = spec([{"sleep_us": 3000}, {"spawn": {"name": "child", "steps": [{"spin_us": 5}]}, "count": 1}], workers=2)
    res, rec = run(s)
    root_worker = [w for _, w, n, _ in rec.polls if n == "root"]
    child_worker = [w for _, w, n, _ in rec.polls if n == "child"]
    assert child_worker == [root_worker[-1]]
    # after the start-up parks, nobody parked again, so nobody was woken
    assert sum(w.stats.steal_count for w in res.runtime.workers) == 0
    parks_after_spawn = [p for p in rec.parks if p[0] > rec.polls[-1][0] - 10_000 and p[1] != child_worker[0]]
    assert parks_after_spawn == []


def test_second_spawn_displaces_the_first_and_notifies():
    rt = bare_runtime(2)
    w = rt.workers[0]
    a, b = mk(rt, 2)
    rt.idle.transition_worker_to_parked(1, False)
    rt.workers[1].blocked = True
    rt.schedule_local(w, a, False)
    assert w.lifo is a and not w.queue and rt.idle.num_searching == 0
    rt.schedule_local(w, b, False)
    assert w.lifo is b and list(w.queue) == [a]
    assert rt.idle.num_searching == 1 and rt.workers[1].notified


def test_lifo_chain_capped_at_three_on_149_and_unbounded_on_124():
    # a chain: each task spawns the next, so each new task lands in the LIFO slot
    def chain(depth):
        t = {"name": "leaf", "steps": [{"spin_us": 1}]}
        for _ in range(depth):
            t = {"name": "link", "steps": [{"spin_us": 1}, {"spawn": t, "join": False}]}
        return t
    s = spec(None, workers=1, sources=[{"kind": "root", "task": chain(10)}])
    for v, per_run_task in (("1.49", True), ("1.24", False)):
        res, rec = run(s, v)
        w = res.runtime.workers[0]
        task_polls = sum(m.c[8] for m in res.runtime.monitors.values())
        assert task_polls == 11
        if per_run_task:
            # at most 1 + 3 polls per run_task: 11 polls need at least 3 run_tasks
            assert 3 <= w.stats.polls_count < 11
        else:
            assert w.stats.polls_count == 11


# ---------------------------------------------------------------- local queue and overflow
@pytest.mark.parametrize("version,moved", [("1.24", "oldest"), ("1.53", "newest")])
def test_overflow_moves_half_the_queue_and_the_new_task(version, moved):
    rt = bare_runtime(1, version)
    w = rt.workers[0]
    ts = mk(rt, 257)
    for t in ts[:256]:
        w.push_back_or_overflow(t)
    assert len(w.queue) == 256 and not rt.inject
    w.push_back_or_overflow(ts[256])
    assert w.stats.overflow_count == 1
    assert len(rt.inject) == 129 and len(w.queue) == 128
    expect = ts[:128] if moved == "oldest" else ts[128:256]
    assert list(rt.inject)[:128] == expect and rt.inject[-1] is ts[256]


def test_a_burst_of_600_overflows():
    s = spec([{"spawn": {"name": "b", "steps": [{"spin_us": 5}]}, "count": 600}], workers=1)
    for v in ("1.24", "1.49"):
        res, rec = run(s, v)
        assert sum(w.stats.overflow_count for w in res.runtime.workers) >= 2
        assert len(rec.completed) == 601


# ---------------------------------------------------------------- the inject queue
def test_inject_batch_pull_on_149_single_pop_on_124():
    for v, expect_local in (("1.49", 2), ("1.24", 0)):
        rt = bare_runtime(2, v)
        w = rt.workers[0]
        w.tick = 1
        rt.inject.extend(mk(rt, 5))
        t = w.next_task()
        assert t is not None
        # n = min(5/2 + 1, 128) = 3: one to run, two into the local queue
        assert len(w.queue) == expect_local
        assert len(rt.inject) == 5 - 1 - expect_local


def test_global_queue_tick_takes_inject_first():
    rt = bare_runtime(2, "1.24")
    w = rt.workers[0]
    local, remote = mk(rt, 2)
    w.lifo = local
    rt.inject.append(remote)
    w.tick = 61
    assert w.next_task() is remote
    w.tick = 62
    assert w.next_task() is local


def test_self_tuned_interval_follows_the_ewma():
    rt = bare_runtime(2, "1.49")
    st = rt.workers[0].stats
    assert st.tuned_global_queue_interval(61) == 61  # the first EWMA gives exactly 61
    st.ewma_ns = 100_000  # 100 µs polls: check the inject queue every 2 ticks
    assert st.tuned_global_queue_interval(61) == 2
    st.ewma_ns = 100  # tiny polls: clamp at 127
    assert st.tuned_global_queue_interval(61) == 127
    st.ewma_ns = 200_000 / 62.5  # 62: within the jitter filter, no change
    assert st.tuned_global_queue_interval(61) == 61


# ---------------------------------------------------------------- stealing
def test_steal_half_takes_the_oldest_and_runs_the_newest_of_them():
    rt = bare_runtime(2, "1.49")
    thief, victim = rt.workers
    ts = mk(rt, 5)
    victim.queue.extend(ts)
    got = thief.steal_work()
    assert got is ts[2]  # ceil(5/2) = 3 taken from the head; the newest of them runs now
    assert list(thief.queue) == ts[:2] and list(victim.queue) == ts[3:]
    assert thief.stats.steal_count == 3 and thief.stats.steal_operations == 1


def test_a_victim_with_one_task_loses_it_but_never_its_lifo():
    rt = bare_runtime(2)
    thief, victim = rt.workers
    a, b = mk(rt, 2)
    victim.lifo = a
    assert thief.steal_work() is None
    victim.queue.append(b)
    assert thief.steal_work() is b


def test_the_lifo_slot_is_stealable_only_on_151():
    for v, stolen in (("1.49", False), ("1.51", True)):
        rt = bare_runtime(2, v)
        thief, victim = rt.workers
        (a,) = mk(rt, 1)
        victim.lifo = a
        got = thief.steal_work()
        assert (got is a) == stolen and (victim.lifo is None) == stolen
        assert thief.stats.steal_count == int(stolen)


def test_a_lone_spawn_notifies_when_the_lifo_is_stealable():
    for v, notifies in (("1.49", False), ("1.51", True)):
        rt = bare_runtime(2, v)
        rt.idle.transition_worker_to_parked(1, False)
        rt.schedule_local(rt.workers[0], mk(rt, 1)[0], False)
        assert (rt.idle.num_searching == 1) == notifies


def test_searching_limit():
    for n, most in ((1, 1), (2, 1), (4, 2), (8, 4)):
        idle = Idle(n)
        k = 0
        while idle.transition_worker_to_searching():
            k += 1
        assert k == most


def test_refused_searcher_does_not_look_at_inject():
    rt = bare_runtime(2)
    rt.idle.num_searching = 1  # the other worker searches
    rt.inject.extend(mk(rt, 1))
    assert rt.workers[0].steal_work() is None and len(rt.inject) == 1


def test_fastrand_is_deterministic_and_uses_lemire_reduction():
    a, b = FastRand(7, 9), FastRand(7, 9)
    xs = [a.fastrand() for _ in range(100)]
    assert xs == [b.fastrand() for _ in range(100)]
    assert all(0 <= x < 2**32 for x in xs)
    c = FastRand(7, 9)
    assert [c.fastrand_n(5) for _ in range(100)] == [(x * 5) >> 32 for x in xs]
    assert FastRand(0, 0).two == 1  # an all-zero seed would stick at zero
    g = core_generators(1, 2, 3)
    assert len({(r.one, r.two) for r in g}) == 3


# ---------------------------------------------------------------- notification and parking
def test_notify_chain_wakes_one_worker_at_a_time_most_recent_sleeper_first():
    idle = Idle(4)
    for i in (1, 2, 3):
        idle.transition_worker_to_parked(i, False)
    assert idle.worker_to_notify() == 3
    assert idle.worker_to_notify() is None  # worker 3 counts as searching until it runs a task
    assert idle.transition_worker_from_searching()  # it was the last searcher: it wakes the next
    assert idle.worker_to_notify() == 2


def test_driver_woken_worker_is_not_searching():
    rt = bare_runtime(2)
    w = rt.workers[0]
    rt.idle.transition_worker_to_parked(0, False)
    w.lifo = mk(rt, 1)[0]
    assert w.transition_from_parked() and not w.is_searching
    rt2 = bare_runtime(2)
    w2 = rt2.workers[0]
    rt2.idle.transition_worker_to_parked(0, False)
    assert rt2.idle.worker_to_notify() == 0
    assert w2.transition_from_parked() and w2.is_searching


def test_a_saturated_124_worker_reports_no_parks_and_no_busy_time(fidelity_dir):
    from numasim.spec import load_spec
    s = load_spec(str(fidelity_dir / "specs" / "pub-fanout-w1-n8-c20.json"))
    r124, _ = run(s, "1.24")
    r149, _ = run(s, "1.49")
    for r in middle(r124):
        assert r["runtime"]["total_park_count"] == 0 and r["runtime"]["total_busy_duration"] == 0
        assert r["runtime"]["total_polls_count"] > 0
    busy = [r["runtime"]["total_busy_duration"] / r["runtime"]["elapsed"] for r in middle(r149)]
    assert min(busy) > 0.9


def test_counters_are_published_only_at_submit_points():
    """A saturated 1.49 worker publishes at maintenance, every 61 ticks: readers see stale counts."""
    s = spec([{"loop_until_end": [{"spin_us": 20}, {"yield": 1}]}], workers=1, duration_s=0.02)
    lag = []

    class Lag(Recorder):
        def poll_start(self, w, t):
            super().poll_start(w, t)
            lag.append(w.stats.polls_count - w.stats.published[4])

    from numasim.simulate import simulate
    from numasim.tokio.profile import get_profile
    simulate(s, get_profile("1.49"), observers=[Lag()])
    assert max(lag) <= 61  # never more than one event_interval behind
    assert max(lag) > 30  # and really behind between submits


def test_maintenance_polls_the_driver_on_a_worker_that_never_parks():
    """Timers still fire on a saturated runtime: the driver is polled every event_interval ticks."""
    s = spec(None, workers=1, duration_s=0.03, sources=[
        {"kind": "root", "task": {"name": "hog", "steps": [{"loop_until_end": [{"spin_us": 50}, {"yield": 1}]}]}},
        {"kind": "root", "task": {"name": "sleeper", "steps": [{"sleep_us": 1000}]}},
    ])
    res, rec = run(s, "1.49")
    lat = [p for p in rec.polls if p[2] == "sleeper"]
    assert len(lat) == 2
    assert not [p for p in rec.parks if lat[0][0] <= p[0] <= lat[1][0]]  # nobody parked meanwhile
    # woken within a 1–2 ms tick plus at most one event interval of 50 µs polls
    assert 1_000_000 <= lat[1][0] - lat[0][0] <= 2_000_000 + 61 * 60_000


# ---------------------------------------------------------------- timers and the driver
def test_timer_deadlines_round_up_to_the_next_ms():
    d = Driver()
    assert d.deadline_to_tick(1) == 1 and d.deadline_to_tick(1_000_000) == 1 and d.deadline_to_tick(1_000_001) == 2
    d.add_timer(2_300_000, "t")
    # the park timeout counts whole ticks from the current tick, so it overshoots by the fraction
    assert d.park_timeout_ns(500_000) == 3_000_000


def test_a_200us_sleep_idles_one_to_two_ms():
    s = spec([{"repeat": 20, "steps": [{"sleep_us": 200}, {"spin_us": 5}]}], workers=2, duration_s=0.1)
    res, _ = run(s)
    m = res.runtime.monitors["root"].c
    mean_idle = m[5] / m[4]
    assert 1_000_000 <= mean_idle <= 2_200_000


def test_io_wait_is_woken_by_the_driver():
    s = spec([{"repeat": 5, "steps": [{"io_us": 300}, {"spin_us": 5}]}], workers=2, duration_s=0.05)
    res, rec = run(s)
    assert res.runtime.driver.ready_count == 5
    m = res.runtime.monitors["root"].c
    assert 300_000 <= m[5] / m[4] < 1_000_000  # I/O is not rounded to the timer's ms ticks


# ---------------------------------------------------------------- yield_now and the coop budget
@pytest.mark.parametrize("version,lifo,queue", [("1.49", "A", "CB"), ("1.24", "C", "AB")])
def test_deferred_wakes_order(version, lifo, queue):
    rt = bare_runtime(2, version)
    w = rt.workers[0]
    tasks = mk(rt, 3)
    for t, name in zip(tasks, "ABC"):
        t.name = name
        t.state = 0  # idle: waiting for the deferred wake
        w.defer.append(t)
    w.in_park = True
    w.drain_defer()
    assert w.lifo.name == lifo and "".join(t.name for t in w.queue) == queue


def test_budget_forces_a_yield_after_128_ready_joins():
    s = spec([{"spawn": {"name": "c", "steps": [{"spin_us": 1}]}, "count": 300, "join": False},
              {"sleep_us": 2000},
              {"spawn": {"name": "d", "steps": [{"spin_us": 1}]}, "count": 300, "join": True}], workers=1)
    res, _ = run(s, "1.49")
    assert res.runtime.budget_forced_yield_count >= 1
    res, _ = run(s, "1.24")
    assert res.runtime.budget_forced_yield_count >= 1  # counted internally; 1.24 does not publish it


# ---------------------------------------------------------------- the blocking pool
def test_spawn_blocking_runs_on_pool_threads_and_wakes_remotely():
    s = spec([{"spawn": {"name": "c", "steps": [{"spawn_blocking_us": 500}]}, "count": 4}], workers=2)
    res, rec = run(s)
    rt = res.runtime
    assert rt.blocking.spawned_threads == 4
    # 1 root spawn + 4 blocking completions arrive from outside the workers
    assert rt.remote_schedule_count == 5
    assert len(rec.completed) == 5
