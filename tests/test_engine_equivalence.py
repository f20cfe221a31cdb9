"""The compiled engine against the SimPy reference: the same bytes for the same input.

Random specs from the property tests' generator (restricted to the steps the compiled engine
covers), the public specs, and the property tests' invariants on the compiled engine's side.
The Numba cache is warmed once per session (a fresh clone pays the compile there, ~1 minute).
"""
import io
import json
import os

import pytest
from hypothesis import given, strategies as st

from numasim.engine import simulate, which
from numasim.engine.run import EngineUnsupported, simulate_fast, unsupported
from numasim.errors import UserError
from numasim.machine import preset, read_numactl
from numasim.simulate import simulate as simulate_simpy
from numasim.spec import load_spec, parse_spec
from numasim.tokio.profile import get_profile
from test_properties import spec_strategy

VERSIONS = ("1.24", "1.49", "1.51", "1.53")
COVERED_LEAVES = ("spin", "yield", "sleep", "io", "blocking", "spin~", "sleep~", "io~", "blocking~")
covered_specs = spec_strategy(COVERED_LEAVES)


@pytest.fixture(scope="session", autouse=True)
def warm_numba_cache():
    """Compile (or load) the kernels once, before any test runs them."""
    s = parse_spec({"name": "warm", "runtime": {"workers": 2}, "duration_s": 0.001, "sample_interval_ms": 1,
                    "sources": [{"kind": "root", "task": {"name": "r", "steps": [{"spin_us": 1}]}}]})
    simulate_fast(s, get_profile("1.49"))
    simulate_fast(parse_spec(dict(s.raw, parties=2)), get_profile("1.49"))  # the multi-party loop


def text(res):
    f = io.StringIO()
    res.write(f)
    return f.getvalue()


def assert_same(spec, v, seed=None, host=None):
    p = get_profile(v)
    a = simulate_simpy(spec, p, host, seed=seed)
    b = simulate_fast(spec, p, host, seed=seed)
    assert_same_result(a, b, f"{spec.name} {v}")
    return a, b


def assert_same_result(a, b, what):
    """The same trace and SimResult facts (one system's, or one party's)."""
    ta, tb = text(a), text(b)
    if ta != tb:
        la, lb = ta.splitlines(), tb.splitlines()
        i = next(i for i, (x, y) in enumerate(zip(la + [""], lb + [""])) if x != y)
        raise AssertionError(f"{what}: traces differ from line {i}:\n{la[i] if i < len(la) else '<end>'}\n"
                             f"{lb[i] if i < len(lb) else '<end>'}")
    assert a.polls == b.polls
    assert a.task_latencies == b.task_latencies
    assert a.per_worker == b.per_worker
    assert a.runtimes == b.runtimes  # every runtime's interval records
    for name, ra in a.system.runtimes.items():
        rb = b.system.runtimes[name]
        assert ra.spawned_tasks_count == rb.spawned_tasks_count
        assert ra.num_alive_tasks == rb.num_alive_tasks
        assert ra.remote_schedule_count == rb.remote_schedule_count
        assert ra.idle.max_searching_seen == rb.max_searching_seen


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


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_four_workers_leaving_the_sleepers_by_id_give_the_same_trace(fidelity_specs, v):
    """pub-timers-w2 on four workers: driver wakes take workers out of the middle of the
    sleepers stack (unpark_worker_by_id's swap_remove), which decides who is notified next."""
    path = next(p for p in fidelity_specs if p.endswith("pub-timers-w2.json"))
    raw = load_spec(path).raw
    assert_same(parse_spec(dict(raw, runtime=dict(raw["runtime"], workers=4), duration_s=0.3), path), v)


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


# ---- a NUMA machine: NodeAware placement, masks and OS migration, memory and scheduling costs
P4D = os.path.join(os.path.dirname(__file__), "..", "examples", "machines", "xeon-2s-p4d.numactl.txt")
# the spec's "machine" and the machine it names
MACHINES = {"graviton4-2node": ({"preset": "graviton4-2node"}, lambda: preset("graviton4-2node")),
            "genoa-2s-nps4": ({"preset": "genoa-2s-nps4"}, lambda: preset("genoa-2s-nps4")),
            "p4d": ({"numactl": P4D}, lambda: read_numactl(P4D))}


def assert_same_machine(spec, v, seed=None, host=None):
    """assert_same, and the NUMA facts (polls by node, migrations, remote costs, memory bytes,
    the thread timeline) equal too."""
    a, b = assert_same(spec, v, seed, host)
    assert a.numa is not None and a.numa == b.numa
    return a, b


def _rewrite(steps, leaf):
    """A random spec's steps with each leaf step replaced by `leaf(step)` (a list of steps),
    inside spawned tasks and repeats too."""
    out = []
    for s in steps:
        if "spawn" in s:
            out.append(dict(s, spawn=dict(s["spawn"], steps=_rewrite(s["spawn"]["steps"], leaf))))
        elif "repeat" in s:
            out.append(dict(s, steps=_rewrite(s["steps"], leaf)))
        else:
            out += leaf(s)
    return out


def _memify(steps):
    """Some spins of a random spec become `mem` steps (which spins, which region, how many bytes,
    fixed or drawn, and how read follow from the spin's length)."""
    def leaf(s):
        if isinstance(s.get("spin_us"), int) and s["spin_us"] % 3 == 0:
            u = s["spin_us"]
            nbytes = u * 2048 + 64
            if u % 2 == 0:  # drawn from the task's own stream, as its drawn durations are
                nbytes = ({"dist": "lognormal", "mean": nbytes, "cv": 0.5} if u % 4 else
                          {"dist": "exponential", "mean": nbytes})
            return [{"mem": {"region": f"r{u % 2}", "bytes": nbytes, "pattern": "random" if u % 4 else "stream"}}]
        return [s]
    return _rewrite(steps, leaf)


def _placement(draw, m, workers):
    """Pinned, floating (OS migration on or off) or node-confined, on few CPUs (so that threads
    wait for CPUs and get balanced)."""
    kind = draw(st.sampled_from(["pinned", "float", "node"]))
    if kind == "pinned":
        cpus = draw(st.lists(st.sampled_from(m.cpus), min_size=workers, max_size=workers, unique=True))
        return {"kind": "pinned", "cpus": cpus}
    if kind == "float":
        cpus = draw(st.lists(st.sampled_from(m.cpus), min_size=1, max_size=6, unique=True))
        return {"kind": "float", "cpus": cpus, "migrate_hz": draw(st.sampled_from([0, 300, 5000]))}
    node = draw(st.integers(0, m.n_nodes - 1))
    cpus = draw(st.lists(st.sampled_from(m.node_cpus[node]), min_size=1, max_size=4, unique=True))
    return {"kind": "node", "node": node, "cpus": cpus, "migrate_hz": draw(st.sampled_from([0, 300, 5000]))}


def _poolify(steps):
    """Some spins of a random spec become offloads to pool p (how many jobs, whether they read
    memory and whether they are kept for a later join_all follow from the spin's length)."""
    def leaf(s):
        if isinstance(s.get("spin_us"), int) and s["spin_us"] % 5 == 0:
            u = s["spin_us"]
            job = {"pool": "p", "us": u if u % 2 else {"dist": "exponential", "mean_us": u}}
            if u % 3 == 0:
                job["mem"] = {"region": f"r{u % 2}", "bytes": u * 1024 + 64, "pattern": "random" if u % 4 else "stream"}
            s = {"offload": job, "count": 1 + u % 3}
            if u % 7 == 0:
                return [dict(s, **{"as": "o"}), {"spin_us": 1}, {"join_all": "o"}]
        return [s]
    return _rewrite(steps, leaf)


@st.composite
def machine_specs(draw, max_runtimes=1, pools=False):
    """A random covered spec on a machine: a random placement, two regions, `mem` steps; with
    max_runtimes > 1 maybe spread over several runtimes (`spread`), each with its own placement."""
    base = draw(covered_specs)
    mname = draw(st.sampled_from(sorted(MACHINES)))
    m = MACHINES[mname][1]()
    workers = base.runtimes[0].workers
    raw = {k: v for k, v in base.raw.items() if k != "runtime"}
    raw["machine"] = MACHINES[mname][0]
    raw["runtimes"] = [{"name": "main", "workers": workers, "placement": _placement(draw, m, workers)}]
    raw["regions"] = {"r0": {"bytes": 1e9, "policy": "bind", "node": draw(st.integers(0, m.n_nodes - 1))},
                      "r1": {"bytes": 1e9, "policy": "interleave"}}
    if draw(st.booleans()):
        raw["remote_penalty"] = draw(st.sampled_from([1.0, 3.0]))
    raw["sources"] = [dict(s, task=dict(s["task"], steps=_memify(s["task"]["steps"]))) for s in raw["sources"]]
    if pools:
        # pinned pool threads on a random node (a few: jobs queue, threads preempt workers there)
        raw["pools"] = {"p": {"threads": draw(st.integers(1, 3)), "node": draw(st.integers(0, m.n_nodes - 1))}}
        raw["sources"] = [dict(s, task=dict(s["task"], steps=_poolify(s["task"]["steps"]))) for s in raw["sources"]]
    nrt = draw(st.integers(1, max_runtimes))
    if nrt > 1:
        ws = draw(st.lists(st.integers(1, 3), min_size=nrt, max_size=nrt))
        raw = dict(spread(raw, nrt, ws, draw(st.integers(0, 2**31))).raw)
        raw["runtimes"] = [dict(r, placement=_placement(draw, m, r["workers"])) for r in raw["runtimes"]]
    return parse_spec(raw)


@given(machine_specs(), st.sampled_from(VERSIONS))
def test_random_specs_on_a_machine_give_the_same_trace_and_numa_facts(s, v):
    assert unsupported(s, get_profile(v)) is None
    assert_same_machine(s, v)


@given(machine_specs(max_runtimes=3), st.sampled_from(VERSIONS))
def test_random_specs_over_several_runtimes_on_a_machine_give_the_same_trace(s, v):
    """Each runtime with its own placement (masks shared where equal), spawns and joins across
    runtimes: the NUMA counters per runtime and the timeline of every runtime's threads."""
    assert unsupported(s, get_profile(v)) is None
    a, b = assert_same_machine(s, v)
    assert a.runtimes.keys() == b.runtimes.keys()
    for name in a.runtimes:
        assert a.runtimes[name] == b.runtimes[name]


@given(machine_specs(max_runtimes=2, pools=True), st.sampled_from(VERSIONS))
def test_random_specs_with_offload_pools_give_the_same_trace_and_pool_facts(s, v):
    """Offloads (fixed or drawn, with or without a memory read, awaited at once or kept) to a
    pinned pool on a random machine: the same trace, runtime records and NUMA facts, the pool's
    counters (jobs, busy time, queue wait, jobs by node) among them."""
    assert unsupported(s, get_profile(v)) is None
    a, b = assert_same_machine(s, v)
    assert a.runtimes == b.runtimes


MEM_CHILD = {"name": "child", "steps": [{"mem": {"region": "r", "bytes": 65536, "pattern": "random"}},
                                         {"spin_us": 3}]}


def _machine_spec(placement, workers, sources, duration_s=0.03, **kw):
    d = {"name": "numa", "duration_s": duration_s, "sample_interval_ms": 5, "machine": {"preset": "graviton4-2node"},
         "runtimes": [{"name": "main", "workers": workers, "placement": placement}],
         "regions": {"r": {"bytes": 1e9, "policy": "bind", "node": 0}}, "sources": sources}
    d.update(kw)
    return parse_spec(d)


MACHINE_CASES = {
    # tests/test_numa_engine.py's stealing case: children stolen across nodes pay the remote price
    "pinned-steal": _machine_spec({"kind": "pinned", "cpus": [0, 96]}, 2,
                                  [{"kind": "root", "task": {"name": "root", "steps": [{"spawn": MEM_CHILD,
                                                                                          "count": 64}]}}]),
    # more workers than CPUs, migrating fast: waiting threads, balancing, migrations of waiting ones
    "crowded-float": _machine_spec({"kind": "float", "cpus": [0, 1, 96], "migrate_hz": 3000}, 4,
                                   [{"kind": "external", "interval_us": 40, "arrival": "poisson", "task": {
                                       "name": "req", "steps": [{"spawn": MEM_CHILD, "count": 3, "join": True},
                                                                {"mem": {"region": "r", "bytes": 1e6,
                                                                         "pattern": "stream"}},
                                                                {"sleep_us": 100}]}}],
                                   regions={"r": {"bytes": 1e9, "policy": "interleave"}}),
    # confined to one node's CPUs, spinning tasks that yield: the memory load changes the tables
    "node-loaded": _machine_spec({"kind": "node", "node": 1, "cpus": [96, 97, 98], "migrate_hz": 2000}, 3,
                                 [{"kind": "root", "task": {"name": "root", "steps": [{"spawn": {
                                     "name": "loop", "steps": [{"loop_until_end": [
                                         {"mem": {"region": "r", "bytes": 4e6, "pattern": "stream"}},
                                         {"yield": 1}]}]}, "count": 3}]}}], duration_s=0.02),
}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("case", sorted(MACHINE_CASES))
def test_machine_cases_give_the_same_trace_and_numa_facts(case, v):
    a, _ = assert_same_machine(MACHINE_CASES[case], v)
    facts = a.numa["runtimes"]["main"]
    # each case reaches the rules it is there for (else it would test nothing new)
    if case == "pinned-steal":
        assert facts["remote_steals"] > 0 and a.numa["mem_bytes"]["remote"][0] > 0
    elif case == "crowded-float":
        assert a.numa["os_migrations"] > 0 and a.numa["balance_moves"] > 0
    else:
        assert facts["polls_by_node"][0] == 0 and facts["thread_migrations"] == 0


POOL_CHILD = {"name": "child", "steps": [
    {"offload": {"pool": "p", "us": 30, "mem": {"region": "r", "bytes": 8192}}}, {"spin_us": 5}]}
POOL_CASES = {
    # tests/test_numa_engine.py's pool cases: replies as remote wakes from the pool's node, a fan-out
    # awaited together and one kept for later, pools sharing CPUs (more threads than CPUs)
    "remote-reply": _machine_spec({"kind": "float", "migrate_hz": 500}, 4,
                                  [{"kind": "root", "task": {"name": "root", "steps": [
                                      {"spawn": POOL_CHILD, "count": 50}]}}], duration_s=0.02,
                                  regions={"r": {"bytes": 1e9, "policy": "bind", "node": 1}},
                                  pools={"p": {"threads": 3, "node": 1}}),
    "fan-out-kept": _machine_spec({"kind": "float"}, 2, [{"kind": "root", "task": {"name": "root", "steps": [
        {"offload": {"pool": "p", "us": 200}, "count": 4},
        {"offload": {"pool": "p", "us": 300}, "count": 2, "as": "late"},
        {"spin_us": 5}, {"join_all": "late"}]}}], duration_s=0.02, pools={"p": {"threads": 4, "node": 0}}),
    "shared-cpus": _machine_spec({"kind": "float"}, 4, [{"kind": "external", "interval_us": 5, "task": {
        "name": "child", "steps": [{"offload": {"pool": "p", "us": 30}}, {"offload": {"pool": "q", "us": 30}}]}}],
        duration_s=0.005, pools={"p": {"threads": 100, "node": 1}, "q": {"threads": 3, "node": 1}}),
}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_pool_cases_give_the_same_trace_and_pool_facts(case, v, monkeypatch):
    from numasim.host.pools import PoolThread
    stalls = []  # pool threads that waited for their CPU back after a preemption (SimPy side)
    orig = PoolThread.resume
    monkeypatch.setattr(PoolThread, "resume", lambda th, lat: (stalls.append(th.stall_ev is not None), orig(th, lat)))
    a, _ = assert_same_machine(POOL_CASES[case], v)
    pools = a.numa["pools"]
    assert all(p["jobs"] > 0 for p in pools.values())
    if case == "remote-reply":
        assert pools["p"]["jobs_by_node"] == [0, 50] and a.numa["runtimes"]["main"]["remote_wakes"] > 0
    elif case == "shared-cpus":
        assert any(stalls)


def test_pool_threads_preempted_by_workers_give_the_same_trace(tmp_path, monkeypatch):
    """A small machine whose every CPU the workers float over: the pool's threads share CPUs with
    them, preempt them and are preempted by their wake-ups."""
    from numasim.host.pools import PoolThread
    preempted = []
    orig = PoolThread.preempt
    monkeypatch.setattr(PoolThread, "preempt", lambda th, now: (preempted.append(now), orig(th, now)))
    path = tmp_path / "m.txt"
    path.write_text(SPARSE_NUMACTL)
    s = _machine_spec({"kind": "float", "migrate_hz": 2000}, 8, [{"kind": "external", "interval_us": 10,
                      "arrival": "poisson", "task": POOL_CHILD}], duration_s=0.01, machine={"numactl": str(path)},
                      pools={"p": {"threads": 4, "node": 0}})
    for v in VERSIONS:
        preempted.clear()
        assert_same_machine(s, v)
        assert preempted


SPARSE_NUMACTL = """available: 2 nodes (0-1)
node 0 cpus: 0 2 4 6
node 0 size: 1000 MB
node 0 free: 900 MB
node 1 cpus: 1 3 5 9
node 1 size: 1000 MB
node 1 free: 900 MB
node distances:
node   0   1
  0:  10  21
  1:  21  10
"""


def test_a_machine_with_interleaved_and_missing_cpu_numbers_gives_the_same_trace(tmp_path):
    """CPU numbers alternate between the nodes and 7 and 8 do not exist: rows by CPU number."""
    path = tmp_path / "m.txt"
    path.write_text(SPARSE_NUMACTL)
    s = _machine_spec({"kind": "float", "migrate_hz": 2000}, 5,
                      [{"kind": "external", "interval_us": 30, "arrival": "poisson", "task": {
                          "name": "req", "steps": [{"spawn": MEM_CHILD, "count": 3, "join": True},
                                                   {"sleep_us": 50}]}}],
                      duration_s=0.03, machine={"numactl": str(path)})
    a, _ = assert_same_machine(s, "1.49")
    assert a.numa["os_migrations"] > 0 and all(a.numa["runtimes"]["main"]["polls_by_node"])


def test_a_floating_and_a_pinned_runtime_on_one_machine_give_the_same_trace():
    """tests/test_numa_engine.py's two runtimes: one floating and migrating, one pinned."""
    def spinning(name, placement):
        loop = {"name": f"{name}-loop", "steps": [{"loop_until_end": [{"spin_us": 200}, {"yield": 1}]}]}
        return ({"name": name, "workers": 2, "placement": placement},
                {"kind": "root", "runtime": name, "task": {"name": f"{name}-root",
                                                            "steps": [{"spawn": loop, "count": 2}]}})
    f_rt, f_src = spinning("f", {"kind": "float", "migrate_hz": 2000})
    p_rt, p_src = spinning("p", {"kind": "pinned", "cpus": [0, 96]})
    s = parse_spec({"name": "two", "duration_s": 0.05, "sample_interval_ms": 5,
                    "machine": {"preset": "graviton4-2node"}, "runtimes": [f_rt, p_rt], "sources": [f_src, p_src]})
    a, b = assert_same_machine(s, "1.49")
    assert a.numa["runtimes"]["f"]["thread_migrations"] > 0 and a.numa["runtimes"]["p"]["thread_migrations"] == 0
    assert a.runtimes["p"] == b.runtimes["p"]


def test_the_public_machine_examples_give_the_same_trace_and_numa_facts():
    """examples/specs/numactl-machine.json (a machine read from numactl output)."""
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "specs", "numactl-machine.json")
    spec = load_spec(path)
    assert_same_machine(parse_spec(dict(spec.raw, duration_s=0.05), path), "1.49")


# ---- observers: the compiled engine's event log replayed to them
class EventLog:
    """Every event with every fact a replay offers (docs/engine.md, "Observers")."""
    replayable = True

    def __init__(self):
        self.events = []

    def _w(self, w):
        return (w.index, w.cpu, w.rt.name, w.rt.env.now, tuple(x.stats.steal_count for x in w.rt.workers))

    def _t(self, t):
        return (t.id, t.name, t.created)

    def poll_start(self, w, t):
        self.events.append(("poll_start", self._w(w), self._t(t)))

    def poll_end(self, w, t):
        self.events.append(("poll_end", self._w(w), self._t(t)))

    def complete(self, w, t):
        self.events.append(("complete", self._w(w), self._t(t)))

    def park(self, w):
        self.events.append(("park", self._w(w)))

    def steal(self, thief, victim, tasks):
        self.events.append(("steal", self._w(thief), self._w(victim), [self._t(t) for t in tasks]))


def assert_same_observed(spec, v):
    """Both engines show the observers the same events, in the same order, with the same facts;
    the Hawk observer's records and app metrics come out the same."""
    from numasim.hawk.appmetrics import HawkObserver, app_metrics
    p = get_profile(v)
    la, lb, ha, hb = EventLog(), EventLog(), HawkObserver(), HawkObserver()
    a = simulate_simpy(spec, p, observers=[la, ha])
    b = simulate(spec, p, observers=[lb, hb], engine="fast")
    assert text(a) == text(b)
    assert la.events and len(la.events) == len(lb.events)
    i = next((i for i, (x, y) in enumerate(zip(la.events, lb.events)) if x != y), None)
    assert i is None, f"event {i} differs:\n{la.events[i]}\n{lb.events[i]}"
    assert ha.records() == hb.records() and ha.handler_nodes == hb.handler_nodes
    assert app_metrics(ha, a.intervals) == app_metrics(hb, b.intervals)
    return la


@given(st.one_of(covered_specs, machine_specs(), st.deferred(lambda: multi_specs), machine_specs(max_runtimes=3),
                 machine_specs(max_runtimes=2, pools=True)),
       st.sampled_from(VERSIONS))
def test_observers_see_the_same_events_on_both_engines(s, v):
    """Flat host or machine, one runtime or several (the reference numbers tasks per runtime)."""
    assert_same_observed(s, v)


@pytest.mark.parametrize("case", ["kept", "crowded-float"])
def test_observers_see_the_same_events_on_public_and_machine_cases(case, fidelity_specs):
    log = assert_same_observed(parse_spec(KEPT) if case == "kept" else MACHINE_CASES[case], "1.49")
    assert any(e[0] == "steal" for e in log.events)
    burst = load_spec(fidelity_specs[0])
    # more events than the log holds: replayed in batches between kernel calls
    log = assert_same_observed(parse_spec(dict(burst.raw, duration_s=0.2)), "1.24")
    from numasim.engine.replay import Replay
    assert len(log.events) > Replay.CAP


def test_a_rerun_delivers_each_event_once(monkeypatch):
    """A log too small for one kernel event makes the run start over with a bigger one: the
    observers still see each event exactly once."""
    from numasim.engine.replay import Replay
    monkeypatch.setattr(Replay, "CAP", 4)
    assert_same_observed(MACHINE_CASES["crowded-float"], "1.49")


def test_the_hawk_observer_takes_its_facts_whole_from_the_kernel(monkeypatch):
    """The kernel keeps HawkObserver's per-task facts itself (engine/fast/observe.py facts_*):
    with a name filter, and a facts log so small that it is drained at every few rows (and the
    run starts over when one event overflows it), the records, the handler polls and the
    runtimes seen are those that poll_start and complete make on SimPy. A custom node_of is
    replayed event by event instead."""
    from numasim.engine.replay import Replay
    from numasim.hawk.appmetrics import HawkObserver
    monkeypatch.setattr(Replay, "FA_CAP", 4)
    s = MACHINE_CASES["crowded-float"]
    p = get_profile("1.49")
    names = s.task_names()
    keep = set(names[1::2])
    ha, hb = HawkObserver(keep=keep.__contains__), HawkObserver(keep=keep.__contains__)
    assert Replay(s, [hb], names, 4).facts is hb
    simulate_simpy(s, p, observers=[ha])
    simulate(s, p, observers=[hb], engine="fast")
    assert ha.records() and {r.name for r in ha.records()} == keep
    assert ha.records() == hb.records() and ha.handler_nodes == hb.handler_nodes
    assert [rt.name for rt in ha.runtimes] == [rt.name for rt in hb.runtimes]
    hc = HawkObserver(node_of=lambda w: w.cpu % 2)
    assert Replay(s, [hc], names, 4).facts is None


def test_an_observer_that_reads_live_state_is_refused_by_name():
    from helpers import Recorder
    from numasim.hawk.appmetrics import HawkObserver
    s = _spec([{"spin_us": 5}])
    p = get_profile("1.49")
    with pytest.raises(EngineUnsupported, match="Recorder"):
        simulate(s, p, observers=[HawkObserver(), Recorder()], engine="fast")
    assert which(s, p, observers=[Recorder()], engine="auto") == "simpy"
    assert which(s, p, observers=[HawkObserver(), EventLog()], engine="auto") == "fast"


def test_another_seed_and_host_give_the_same_trace(fidelity_specs):
    from numasim.host.costs import Host
    spec = load_spec(fidelity_specs[0])
    spec = parse_spec(dict(spec.raw, duration_s=0.3))
    host = Host(cpus=3, stack_wake_prob=0.9, halt_poll_ns=50_000)
    p = get_profile("1.49")
    assert text(simulate_simpy(spec, p, host, seed=77)) == text(simulate_fast(spec, p, host, seed=77))


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_stacked_wakes_that_wait_for_the_waker_give_the_same_trace(fidelity_specs, v):
    """Every stacked wake-up waits behind its waker (stack_wait_prob 1) and the balancer runs
    often, so waiting wake-ups also complete on the other vCPU (Cpus._move) and timers fire on
    threads whose wake-up still waits."""
    from numasim.host.costs import Host
    host = Host(stack_wake_prob=1.0, stack_wait_prob=1.0, halt_poll_ns=20_000, balance_ns=150_000)
    p = get_profile(v)
    for path in fidelity_specs[:4]:
        spec = parse_spec(dict(load_spec(path).raw, duration_s=0.2), path)
        a, b = simulate_simpy(spec, p, host), simulate_fast(spec, p, host)
        assert_same_result(a, b, f"{spec.name} {v}")
        assert a.system.cpus.balance_moves > 0 or a.system.cpus.stacked_wakes == 0


# ---- several runtimes on the flat host
def spread(raw, nrt, workers, seed):
    """`raw` over `nrt` runtimes: each source feeds, and each spawn goes into, a runtime picked
    by a seeded draw (a spawn may also stay on its spawner's runtime)."""
    import random
    rnd = random.Random(seed)
    names = [f"r{i}" for i in range(nrt)]

    def walk(x):
        if isinstance(x, dict):
            out = {k: walk(v) for k, v in x.items()}
            if "spawn" in out:
                r = rnd.choice(names + [None])
                if r is not None:
                    out["runtime"] = r
            return out
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x
    out = walk({k: v for k, v in raw.items() if k != "runtime"})
    out["runtimes"] = [{"name": n, "workers": w} for n, w in zip(names, workers)]
    for src in out["sources"]:
        src["runtime"] = rnd.choice(names)
    return parse_spec(out)


multi_specs = st.builds(spread, st.builds(lambda s: s.raw, covered_specs), st.integers(2, 3),
                        st.lists(st.integers(1, 3), min_size=3, max_size=3), st.integers(0, 2**31))


@given(multi_specs, st.sampled_from(VERSIONS))
def test_random_specs_on_several_runtimes_give_the_same_trace(s, v):
    """Sources feeding any runtime, spawns into another runtime (a remote schedule through
    System.cross), joins waking across runtimes, the inject lock's cost, every runtime's records."""
    assert unsupported(s, get_profile(v)) is None
    assert_same(s, v)


@pytest.mark.parametrize("v", ("1.24", "1.49"))
def test_layout_pairs_give_the_same_trace_on_both_engines(fidelity_layout_specs, v):
    """fidelity/layouts: every one-runtime/split pair, 0.3 s of each (the full second in the
    thorough profile)."""
    import os
    full = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
    for path in fidelity_layout_specs:
        spec = load_spec(path)
        if not full:
            spec = parse_spec(dict(spec.raw, duration_s=0.3), path)
        assert_same(spec, v)


LN = {"dist": "lognormal", "mean_us": 20, "cv": 1.0}
EXP = {"dist": "exponential", "mean_us": 30}
UNI = {"dist": "uniform", "low_us": 0, "high_us": 4}
DRAWS = {"name": "draws", "runtime": {"workers": 3}, "duration_s": 0.05, "sample_interval_ms": 10, "seed": 5,
         "sources": [
             # one distribution, many draws per task
             {"kind": "external", "interval_us": 900, "arrival": "poisson", "task": {"name": "iid", "steps": [
                 {"repeat": 40, "steps": [{"spin_us": UNI}]},
                 {"spawn": {"name": "kid", "steps": [{"sleep_us": EXP}, {"spin_us": LN}]}, "count": 3},
                 {"spawn_blocking_us": LN}]}},
             # mixed distributions, with spawn trees three deep (keys down the tree)
             {"kind": "external", "interval_us": 1500, "arrival": "fixed", "task": {"name": "seq", "steps": [
                 {"repeat": 3, "steps": [{"spin_us": LN}, {"io_us": EXP}, {"spin_us": 2}]},
                 {"spawn": {"name": "mid", "steps": [
                     {"spin_us": UNI},
                     {"spawn": {"name": "leaf", "steps": [{"spin_us": LN}, {"yield": 1}, {"spin_us": EXP}]},
                      "count": 2, "as": "l"},
                     {"sleep_us": LN}, {"join_all": "l"}]}, "count": 2}]}},
             # mixed distributions in a loop that ends with the run
             {"kind": "root", "task": {"name": "loop", "steps": [{"loop_until_end": [
                 {"spin_us": EXP}, {"sleep_us": UNI}, {"spin_us": LN}, {"yield": 1}]}]}}]}


@pytest.mark.parametrize("v", VERSIONS)
def test_durations_drawn_inside_tasks_give_the_same_trace(v):
    a, _ = assert_same(parse_spec(DRAWS), v)
    assert {"iid", "kid", "seq", "mid", "leaf", "loop"} <= set(a.task_latencies)


@given(st.lists(st.tuples(st.sampled_from(["lognormal", "exponential", "uniform"]), st.floats(0, 1e7),
                          st.floats(0, 3), st.floats(0, 1e6)), min_size=1, max_size=4),
       st.integers(0, 2**64 - 1), st.integers(-2**63, 2**63 - 1), st.integers(1, 300))
def test_the_compiled_task_stream_is_numpys(kinds, seed, key, n):
    """engine/fast/pcg.py (SeedSequence, PCG64, numpy's ziggurats) against the reference's
    TaskDraws: the same values, in order, for a mix of distributions."""
    import numpy as np
    from numasim.engine.fast.pcg import dist_params, sample, seed_state
    from numasim.spec import Dist
    from numasim.workload.program import TaskDraws
    dists = [Dist(k, m, cv=cv, low_ns=m, high_ns=m + w) for k, m, cv, w in kinds]
    ref = TaskDraws(seed, key)
    state = np.zeros(5, np.int64)
    seed_state(state, 1, np.uint64(seed), np.uint64(key & 0xFFFFFFFFFFFFFFFF))
    for i in range(n):
        d = dists[i % len(dists)]
        assert sample(state, 1, *dist_params(d)) == ref.sample(d), (i, d)


@given(st.builds(lambda s: s.raw, covered_specs), st.integers(0, 2**31), st.integers(1, 60))
def test_compiled_arrivals_are_the_sources_own(raw, seed, ms):
    """engine/fast/arrivals.py (bulk standard exponentials, scaled per source) against the
    sources' event loop drawing one exponential at a time."""
    from numasim.engine.run import _arrivals
    from numasim.simulate import rng_streams
    s = parse_spec(dict(raw, duration_s=ms / 1000))
    end = 200_000 + s.duration_ns
    assert _arrivals(s, rng_streams(seed), 200_000, end) == _arrivals(s, rng_streams(seed), 200_000, end,
                                                                     compiled=False)


@given(st.integers(-2**63, 2**63 - 1), st.integers(0, 2**31))
def test_the_compiled_child_key_is_pythons_tuple_hash(parent, index):
    from numasim.engine.fast.program import child_key as compiled
    from numasim.workload.program import child_key
    assert compiled(parent, index) == child_key(parent, index)


# ---- the property tests' invariants, on the compiled engine
@given(st.one_of(covered_specs, multi_specs), st.sampled_from(VERSIONS))
def test_fast_engine_keeps_the_scheduler_invariants(s, v):
    res = simulate_fast(s, get_profile(v))
    if len(res.system.runtimes) > 1:
        for rt in res.system.runtimes.values():
            assert rt.num_alive_tasks == 0
            assert rt.max_searching_seen <= max(1, (rt.num_workers + 1) // 2)
        dropped = sum(t["dropped_count"] for r in res.intervals for t in r["tasks"].values())
        assert dropped == sum(rt.spawned_tasks_count for rt in res.system.runtimes.values())
        assert text(res) == text(simulate_fast(s, get_profile(v)))
        return
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
# an input the compiled engine does not cover: repeats nested deeper than a task row has counters
_DEEP = [{"spin_us": 1}]
for _ in range(9):
    _DEEP = [{"repeat": 2, "steps": _DEEP}]
UNCOVERED = {"name": "t", "runtime": {"workers": 2}, "duration_s": 0.01, "sample_interval_ms": 5,
           "sources": [{"kind": "root", "task": {"name": "r", "steps": _DEEP}}]}
NOT_COVERED = "repeat nested deeper"


def _spec(steps, **extra):
    d = {"name": "t", "runtime": {"workers": 2}, "duration_s": 0.01, "sample_interval_ms": 5,
         "sources": [{"kind": "root", "task": {"name": "r", "steps": steps}}]}
    d.update(extra)
    return parse_spec(d)


def test_fast_refuses_what_it_does_not_cover_naming_the_feature():
    s = parse_spec(UNCOVERED)
    with pytest.raises(EngineUnsupported, match=f"not covered by the compiled engine yet: .*({NOT_COVERED})"):
        simulate(s, get_profile("1.49"), engine="fast")
    assert isinstance(EngineUnsupported("x", "y"), UserError)  # one line and exit 2 on the CLI


def test_auto_runs_fast_where_covered_and_simpy_elsewhere():
    p = get_profile("1.49")
    assert which(_spec([{"spin_us": 5}]), p, engine="auto") == "fast"
    assert which(_spec([{"spin_us": {"dist": "lognormal", "mean_us": 5, "cv": 0.5}}]), p, engine="auto") == "fast"
    assert which(parse_spec(UNCOVERED), p, engine="auto") == "simpy"
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
    path.write_text(json.dumps(UNCOVERED))
    assert main(["predict", str(path), "--engine", "fast", "-q", "-o", str(tmp_path / "x")]) == 2


# ---- several parties joined by mpc_round (host/network.py; engine/fast/network.py)
def assert_same_parties(spec, v, seed=None):
    """Every party's trace and facts (NUMA facts too) and the network: every endpoint's counts in
    the order the endpoints were made, the rounds that waited, the messages still in flight."""
    p = get_profile(v)
    a = simulate_simpy(spec, p, seed=seed)
    b = simulate_fast(spec, p, seed=seed)
    assert len(a.parties) == len(b.parties) == len(spec.parties)
    assert b.parties[0] is b
    for i, (ra, rb) in enumerate(zip(a.parties, b.parties)):
        assert_same_result(ra, rb, f"{spec.name} {v} party {i}")
        assert ra.numa == rb.numa
    ca, cb = a.network.counts(), b.network.counts()
    assert list(ca.items()) == list(cb.items())
    assert [e.waited for e in a.network.endpoints.values()] == [e.waited for e in b.network.endpoints.values()]
    assert [e.last_at for e in a.network.endpoints.values()] == [e.last_at for e in b.network.endpoints.values()]
    assert a.network.in_flight == b.network.in_flight
    return a, b


def _mpcify(raw, parties):
    """`raw` with its io waits as mpc_round steps (the same latency, fixed or drawn), run by
    `parties` parties."""
    def leaf(s):
        return [{"mpc_round": {"us": s["io_us"]}}] if "io_us" in s else [s]
    out = dict(raw, parties=parties)
    out["sources"] = [dict(src, task=dict(src["task"], steps=_rewrite(src["task"]["steps"], leaf)))
                      for src in raw["sources"]]
    return out


def _with_round(raw):
    """`raw` with one round more at the start of its first source's task, so that every example
    has one."""
    src = raw["sources"][0]
    return dict(raw, sources=[dict(src, task=dict(src["task"], steps=[{"io_us": 30}] + src["task"]["steps"]))]
                + raw["sources"][1:])


party_lists = st.one_of(
    st.integers(2, 4),
    st.lists(st.sampled_from([0.5, 1.0, 1.3, 2.0]), min_size=2, max_size=4).flatmap(
        lambda scales: st.permutations(range(len(scales))).map(
            lambda streams: [{"stream": s, "spin_scale": x} for s, x in zip(streams, scales)])))


@given(st.one_of(covered_specs, st.deferred(lambda: multi_specs), machine_specs(max_runtimes=2, pools=True)),
       party_lists, st.sampled_from(VERSIONS))
def test_random_specs_with_parties_give_the_same_traces_and_network(s, parties, v):
    """Random specs whose io waits are ring rounds, run by 2-4 parties (streams relabelled, some
    parties' spins scaled): rounds in repeats and in spawned tasks (several sessions of a def,
    joined or not), sources at random runtimes, a machine with placements, pools and memory."""
    spec = parse_spec(_mpcify(_with_round(s.raw), parties))
    assert unsupported(spec, get_profile(v)) is None
    assert_same_parties(spec, v)


def _ring(rounds, parties=3, spin_us=20.0, hop_us=50.0, tasks=1, workers=1, **extra):
    session = {"name": "session", "steps": [{"repeat": rounds, "steps": [{"mpc_round": {"us": hop_us}},
                                                                          {"spin_us": spin_us}]}]}
    root = {"name": "root", "steps": [{"spawn": session, "count": tasks, "join": True}]}
    d = {"name": "ring", "runtime": {"workers": workers}, "duration_s": 0.002, "sample_interval_ms": 1,
         "parties": parties, "sources": [{"kind": "root", "task": root}]}
    d.update(extra)
    return d


LOGNORMAL = {"dist": "lognormal", "mean_us": 40, "cv": 1.0}
PARTY_CASES = {
    "ring": _ring(6),
    "drawn, early messages": _ring(30, tasks=8, workers=2, spin_us=LOGNORMAL,
                                   hop_us={"dist": "lognormal", "mean_us": 50, "cv": 0.5}),
    "a slow party": _ring(6, parties=[{"stream": 0}, {"stream": 1, "spin_scale": 2.0}, {"stream": 2}]),
    "relabelled streams, scaled draws": _ring(12, tasks=4, workers=3, spin_us=LOGNORMAL, parties=[
        {"stream": 2, "spin_scale": 0.7}, {"stream": 0}, {"stream": 1, "spin_scale": 1.5}]),
    # sessions arriving at each party by its own Poisson draws: some sessions run at one party
    # only, their messages are never used and their rounds wait until the drain gives up
    "external sessions": {"name": "ext", "runtime": {"workers": 2}, "duration_s": 0.01, "sample_interval_ms": 2,
                          "parties": 3, "sources": [{"kind": "external", "interval_us": 700, "arrival": "poisson",
                                                     "task": {"name": "req", "steps": [
                                                         {"spin_us": 5},
                                                         {"repeat": 3, "steps": [{"mpc_round": {"us": 40}},
                                                                                 {"spin_us": LOGNORMAL}]}]}}]},
    # two runtimes on a NUMA machine, one per node: sessions spawned into the other runtime,
    # kept and joined later, their rounds beside pool offloads and memory reads
    "machine, two runtimes": {
        "name": "numa-parties", "duration_s": 0.004, "sample_interval_ms": 1, "parties": 3,
        "machine": {"preset": "graviton4-2node"},
        "runtimes": [{"name": "a", "workers": 2, "placement": {"kind": "node", "node": 0, "cpus": [0, 1, 2]}},
                     {"name": "b", "workers": 2, "placement": {"kind": "float", "cpus": [96, 97, 98],
                                                               "migrate_hz": 5000}}],
        "regions": {"r": {"bytes": 1e9, "policy": "interleave"}},
        "pools": {"p": {"threads": 2, "node": 1}},
        "sources": [{"kind": "root", "runtime": "a", "task": {"name": "root", "steps": [
            {"spawn": {"name": "s", "steps": [
                {"repeat": 4, "steps": [{"mpc_round": {"us": {"dist": "exponential", "mean_us": 30}}},
                                        {"mem": {"region": "r", "bytes": 200000, "pattern": "random"}},
                                        {"offload": {"pool": "p", "us": 20}, "count": 2},
                                        {"spin_us": LOGNORMAL}]}]},
             "runtime": "b", "count": 3, "as": "sessions"},
            {"repeat": 3, "steps": [{"mpc_round": {"us": 25}}, {"spin_us": 10}]},
            {"join_all": "sessions"}]}}]},
}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("case", sorted(PARTY_CASES))
def test_party_cases_give_the_same_traces_and_network(case, v):
    a, _ = assert_same_parties(parse_spec(PARTY_CASES[case]), v)
    assert sum(c[0] for c in a.network.counts().values()) > 0


def test_a_rerun_with_more_room_for_endpoints_and_messages_gives_the_same_bytes(monkeypatch):
    """Endpoint and outbox tables too small for the run: it starts over with them doubled, and
    the result is the same."""
    import numasim.engine.run as run_mod
    seen = []
    real = run_mod._Party.__init__

    def record(self, *args, **kw):
        seen.append(tuple(args[8][:2]))  # the endpoint and outbox capacities of this attempt
        real(self, *args, **kw)
    monkeypatch.setattr(run_mod._Party, "__init__", record)
    monkeypatch.setattr(run_mod, "NET_CAPS", (2, 1))
    assert_same_parties(parse_spec(PARTY_CASES["drawn, early messages"]), "1.49")
    assert seen[0] == (2, 1) and seen[-1][0] >= 8  # 8 sessions a party


def test_the_three_party_hawk_scheme_gives_the_same_results_on_both_engines():
    """numasim.hawk.parties.run_scheme on its small scenario: job latencies, polls and steals
    per job, and the messages reconciled, the same on both engines (the fast one by default)."""
    from numasim.hawk.parties import run_scheme, small_scenario
    a = run_scheme(small_scenario(), "dual", 1, parties=3, engine="simpy")
    b = run_scheme(small_scenario(), "dual", 1, parties=3)
    assert a == b
    assert a["messages"]["reconciled"] and a["messages"]["sent"] > 0


def test_observers_watch_the_first_party_on_both_engines():
    """Observers of a multi-party run see ring position 0's events, on either engine: the same
    events with the same facts, the Hawk observer's records."""
    log = assert_same_observed(parse_spec(PARTY_CASES["machine, two runtimes"]), "1.49")
    assert {e[1][2] for e in log.events} == {"a", "b"}
