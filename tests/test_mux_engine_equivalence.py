"""The compiled engine against the SimPy reference on `mpc_hop` and the connections' multiplexer
tasks (workload/mux.py, engine/fast/mux.py): the same trace, task latencies, TaskMetrics (the
"multiplexer" name included) and runtime counters for the same input.
"""
import pytest
from hypothesis import given, strategies as st

from numasim.engine import which
from numasim.engine.run import simulate_fast, unsupported
from numasim.hawk.appmetrics import HawkObserver, app_metrics
from numasim.hawk.jobs import generate
from numasim.hawk.parties import small_scenario, three_party_spec
from numasim.simulate import simulate as simulate_simpy
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile
from test_engine_equivalence import (VERSIONS, _rewrite, _with_round, assert_same, assert_same_machine,
                                     assert_same_observed, assert_same_parties, covered_specs, machine_specs,
                                     party_lists, spread, text)
from test_multiplexer import spec as hop_spec
from test_three_parties import _mini

LOGN = {"dist": "lognormal", "mean_us": 40, "cv": 0.8}


def same(d, v, seed=None):
    s = parse_spec(d) if isinstance(d, dict) else d
    assert unsupported(s, get_profile(v)) is None
    a, b = assert_same(s, v, seed)
    assert sorted(a.system.connections) == sorted(b.system.connections)
    for i, c in a.system.connections.items():
        # what each connection has left queued or taken (by count: the task objects differ)
        assert [len(q) for q in c.queues + c.batch] == [len(q) for q in
                                                     b.system.connections[i].queues + b.system.connections[i].batch]
    return a, b


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("case", [
    {}, {"rounds": 4}, {"rounds": 5, "workers": 1},
    {"tasks": 6, "rounds": 7, "hop": LOGN, "conn": (0, 2, 3)},
    {"tasks": 5, "rounds": 3, "hop": 0.0, "conn": (1, 0, 1)},  # a zero wait: ready at the write
])
def test_the_multiplexer_tests_specs_give_the_same_trace(case, v):
    a, _ = same(hop_spec(**case), v)
    assert a.task_latencies["session"]


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_the_budget_case_gives_the_same_trace(v):
    """200 sessions on one connection, one worker: the receiving multiplexer runs out of budget."""
    a, _ = same(hop_spec(tasks=200, rounds=1, workers=1, hop={"dist": "lognormal", "mean_us": 2000, "cv": 3},
                         spin=1.0), v)
    assert a.runtime.budget_forced_yield_count > 0


def _hops(first, stride, slots, hop, send, recv):
    return {"mpc_hop": {"us": hop, "send_us": send, "recv_us": recv, "conn": [first, stride, slots]}}


def several(workers=3, runtimes=None):
    """Two task names sharing connections by slot, drawn CPU on both sides, waits that overtake
    (lognormal, high cv: the ordering clamp), a name with hops on two connection rules in one
    body, an external source adding sessions while others run."""
    a = {"name": "a", "steps": [{"repeat": 4, "steps": [
        _hops(0, 1, 4, {"dist": "lognormal", "mean_us": 30, "cv": 2.0}, {"dist": "exponential", "mean_us": 3},
              {"dist": "uniform", "low_us": 2, "high_us": 6}),
        {"spin_us": {"dist": "exponential", "mean_us": 8}}]}]}
    b = {"name": "b", "steps": [_hops(2, 3, 2, 25, 2, 2), {"spin_us": 5}, _hops(9, 0, 1, LOGN, 1, 6), {"yield": 1}]}
    root = {"name": "root", "steps": [{"spawn": a, "count": 5, "join": False}, {"spawn": b, "count": 3, "join": True},
                                      {"sleep_us": 300}, {"spawn": a, "count": 2, "join": True}]}
    ext = {"name": "req", "steps": [_hops(1, 1, 3, 15, 1, 1), {"spin_us": 3}]}
    d = {"name": "several", "duration_s": 0.004, "sample_interval_ms": 1, "seed": 5,
         "sources": [{"kind": "root", "task": root},
                     {"kind": "external", "interval_us": 150, "arrival": "poisson", "task": ext}]}
    if runtimes:
        d["runtimes"] = runtimes
    else:
        d["runtime"] = {"workers": workers}
    return d


@pytest.mark.parametrize("v", VERSIONS)
def test_several_and_shared_connections_give_the_same_trace(v):
    a, _ = same(several(), v)
    assert len(a.system.connections) >= 6
    assert a.task_latencies["req"] and len(a.task_latencies["a"]) == 7


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_connections_shared_across_runtimes_give_the_same_trace(v):
    """Sessions of two runtimes on one flat host: a connection is made in the runtime of its
    first sender, and the other's sessions wake its multiplexers (and are woken) across runtimes
    through System.cross."""
    d = several(runtimes=[{"name": "x", "workers": 2}, {"name": "y", "workers": 2}])
    root = d["sources"][0]["task"]
    root["steps"][1]["runtime"] = "y"  # the b sessions in y, the a sessions in x
    d["sources"][1]["runtime"] = "y"
    a, b = same(d, v)
    assert a.runtimes["y"] == b.runtimes["y"]
    rts = {c.tasks[0].rt.name for c in a.system.connections.values()}
    assert rts == {"x", "y"}


def dual_on_machine():
    """The dual layout's shape: one runtime per node of a machine, sessions spawned into each."""
    d = several(runtimes=[{"name": "n0", "workers": 3, "placement": {"kind": "pinned", "cpus": [0, 1, 2]}},
                          {"name": "n1", "workers": 3, "placement": {"kind": "pinned", "cpus": [96, 97, 98]}}])
    d["machine"] = {"preset": "graviton4-2node"}
    root = d["sources"][0]["task"]
    root["steps"][0]["runtime"] = "n1"
    root["steps"][3]["runtime"] = "n0"
    return d


def test_a_numa_machine_with_two_runtimes_gives_the_same_trace():
    a, _ = assert_same_machine(parse_spec(dual_on_machine()), "1.49")
    assert a.numa["runtimes"]["n1"]["polls_by_node"][1] > 0


def _hopify(steps):
    """A random spec's io waits become mpc_hop messages (connection rule and CPU from the wait)."""
    def leaf(s):
        if "io_us" in s:
            u = s["io_us"] if isinstance(s["io_us"], int) else 7
            return [_hops(u % 3, u % 2, 1 + u % 4, s["io_us"], u % 5, {"dist": "exponential", "mean_us": 1 + u % 3})]
        return [s]
    return _rewrite(steps, leaf)


def _hop_raw(raw):
    return dict(raw, sources=[dict(src, task=dict(src["task"], steps=_hopify(src["task"]["steps"])))
                              for src in raw["sources"]])


hop_specs = st.builds(lambda s: parse_spec(_hop_raw(s.raw)), covered_specs)
multi_hop_specs = st.builds(spread, st.builds(lambda s: _hop_raw(s.raw), covered_specs), st.integers(2, 3),
                            st.lists(st.integers(1, 3), min_size=3, max_size=3), st.integers(0, 2**31))


@given(hop_specs, st.sampled_from(VERSIONS))
def test_random_specs_with_hops_give_the_same_trace(s, v):
    same(s, v)


@given(multi_hop_specs, st.sampled_from(("1.24", "1.49")))
def test_random_specs_with_hops_on_several_runtimes_give_the_same_trace(s, v):
    same(s, v)


@given(st.one_of(hop_specs, multi_hop_specs), st.sampled_from(("1.24", "1.49")))
def test_observers_see_the_same_events_with_hops(s, v):
    """The multiplexers' polls, parks and steals reach a replayed observer as on SimPy."""
    assert_same_observed(s, v)


@pytest.mark.parametrize("layout", ["today", "dual"])
def test_the_small_hawk_job_with_multiplexers_gives_the_same_trace(layout):
    """The Hawk job with every message through its connection's multiplexers, watched by the
    Hawk app metrics' observer (its facts taken whole from the kernel), as `numasim run` runs it."""
    sc = small_scenario().replace(**{"mpc.multiplexer_tasks": True})
    s = parse_spec(generate(sc, layout, 1))
    p = get_profile("1.49")
    assert which(s, p, engine="auto") == "fast"
    ha, hb = HawkObserver(), HawkObserver()
    a = simulate_simpy(s, p, observers=[ha])
    b = simulate_fast(s, p, observers=[hb])
    assert text(a) == text(b)
    assert a.task_latencies == b.task_latencies and a.runtimes == b.runtimes and a.numa == b.numa
    for name, ra in a.system.runtimes.items():
        rb = b.system.runtimes[name]
        assert (ra.spawned_tasks_count, ra.num_alive_tasks, ra.remote_schedule_count, ra.budget_forced_yield_count) \
            == (rb.spawned_tasks_count, rb.num_alive_tasks, rb.remote_schedule_count, rb.budget_forced_yield_count)
    assert ha.records() == hb.records() and app_metrics(ha, a.intervals) == app_metrics(hb, b.intervals)
    assert sorted(a.system.connections) == sorted(b.system.connections) and len(a.system.connections) > 4
    assert sum(r["tasks"]["multiplexer"]["total_poll_count"] for r in a.intervals) > 0


def test_the_multiplexers_working_set_is_the_specs_on_both_engines():
    """`multiplexer.working_set_bytes` prices a multiplexer's refill after a move: on a machine a
    bigger one costs today's job time (its multiplexers move across nodes), both engines alike."""
    p = get_profile("1.49")
    lat = []
    for ws in (1024, 262144):
        sc = small_scenario().replace(**{"mpc.multiplexer_tasks": True, "mpc.multiplexer_working_set_bytes": ws})
        d = generate(sc, "today", 1)
        assert d["multiplexer"] == {"working_set_bytes": ws}
        s = parse_spec(d)
        a, b = simulate_simpy(s, p), simulate_fast(s, p)
        assert text(a) == text(b) and a.numa == b.numa
        refill = sum(r["refill_ns"] for r in a.numa["runtimes"].values())
        lat.append((max(a.task_latencies["hawk_job"]), refill))
    assert lat[1][0] > lat[0][0] and lat[1][1] > lat[0][1]


# ---- mpc_hop with parties: a write reaches the next party's receiving multiplexer
def same_parties(d, v, seed=None):
    """assert_same_parties (every party's trace and facts, the network's counts, endpoint order,
    waits, last arrivals, messages in flight) and each party's connections left the same."""
    s = parse_spec(d) if isinstance(d, dict) else d
    assert unsupported(s, get_profile(v)) is None
    a, b = assert_same_parties(s, v, seed)
    for ra, rb in zip(a.parties, b.parties):
        ca, cb = ra.system.connections, rb.system.connections
        assert sorted(ca) == sorted(cb)
        for i, c in ca.items():
            assert [len(q) for q in c.queues + c.batch] == [len(q) for q in cb[i].queues + cb[i].batch]
        assert ra.runtimes == rb.runtimes
    return a, b


def _with_parties(d, parties):
    return dict(d, parties=parties)


@pytest.mark.parametrize("v", ("1.24", "1.49"))
@pytest.mark.parametrize("case, parties", [
    ({"tasks": 3, "rounds": 5, "conn": (0, 2, 3)}, 3),  # the ring of test_multiplexer.py
    ({"tasks": 6, "rounds": 7, "hop": LOGN, "conn": (0, 2, 3), "workers": 3},
     [{"stream": 2, "spin_scale": 0.7}, {"stream": 0}, {"stream": 1, "spin_scale": 1.5}, {"stream": 3}]),
    ({"tasks": 5, "rounds": 3, "hop": 0.0, "conn": (1, 0, 1)}, 2),  # a zero wait: ready at the write
    # one connection: draws that overtake meet the ordering clamp
    ({"tasks": 4, "rounds": 4, "hop": {"dist": "lognormal", "mean_us": 30, "cv": 3}, "conn": (0, 1, 1),
      "workers": 1}, 3),
])
def test_hop_rings_with_parties_give_the_same_traces_and_network(case, parties, v):
    a, _ = same_parties(_with_parties(hop_spec(**case), parties), v)
    assert sum(c[0] for c in a.network.counts().values()) > 0
    assert all(len(r.system.connections) > 0 for r in a.parties)


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_several_and_shared_connections_with_parties_give_the_same_traces(v):
    """Shared connections, lognormal waits that overtake, an external source arriving by each
    party's own draws (sessions that exist at one party only: messages for a key no task there
    takes, and receiving connections made by an arrival before any session of that party)."""
    a, _ = same_parties(_with_parties(several(), 3), v)
    assert any(e.sent != e.used for e in a.network.endpoints.values())


def test_shared_connections_across_runtimes_with_parties_give_the_same_traces():
    d = several(runtimes=[{"name": "x", "workers": 2}, {"name": "y", "workers": 2}])
    root = d["sources"][0]["task"]
    root["steps"][1]["runtime"] = "y"
    d["sources"][1]["runtime"] = "y"
    same_parties(_with_parties(d, [{"stream": 1}, {"stream": 0, "spin_scale": 2.0}]), "1.49")


def test_a_numa_machine_with_two_runtimes_and_parties_gives_the_same_traces():
    a, _ = same_parties(_with_parties(dual_on_machine(), 3), "1.49")
    assert a.parties[1].numa["runtimes"]["n1"]["polls_by_node"][1] > 0


def test_a_rerun_with_more_room_for_hop_messages_gives_the_same_bytes(monkeypatch):
    """The table of messages between arrival and handover too small: the run starts over with it
    doubled, and the result is the same."""
    import numasim.engine.run as run_mod
    seen = []
    real = run_mod._Party.__init__

    def record(self, *args, **kw):
        seen.append(args[8][2])  # this attempt's room for hop messages
        real(self, *args, **kw)
    monkeypatch.setattr(run_mod._Party, "__init__", record)
    monkeypatch.setattr(run_mod, "HOP_CAP", 1)
    same_parties(_with_parties(hop_spec(tasks=6, rounds=4, hop=LOGN, conn=(0, 1, 2)), 3), "1.49")
    assert seen[0] == 1 and seen[-1] >= 4


multi_party_hop_specs = st.builds(
    lambda s, parties: parse_spec(_with_parties(_hop_raw(_with_round(s.raw)), parties)),
    st.one_of(covered_specs, st.builds(spread, st.builds(lambda s: s.raw, covered_specs), st.integers(2, 3),
                                       st.lists(st.integers(1, 3), min_size=3, max_size=3),
                                       st.integers(0, 2**31)),
              machine_specs(max_runtimes=2, pools=True)),
    party_lists)


@given(multi_party_hop_specs, st.sampled_from(VERSIONS))
def test_random_specs_with_hops_and_parties_give_the_same_traces_and_network(s, v):
    """Random specs whose io waits are mpc_hop messages, run by 2-4 parties (streams relabelled,
    spins scaled): hops in repeats and spawned tasks, on several runtimes, on a machine with
    placements, pools and memory."""
    same_parties(s, v)


@pytest.mark.parametrize("layout", ["today", "dual"])
def test_the_hawk_mini_job_three_parties_with_multiplexers_gives_the_same_traces(layout):
    sc = _mini().replace(**{"mpc.multiplexer_tasks": True})
    s = parse_spec(three_party_spec(sc, layout, 1))
    assert which(s, get_profile("1.49"), engine="auto") == "fast"
    a, _ = same_parties(s, "1.49")
    assert sum(c[0] for c in a.network.counts().values()) > 0
