"""The engine on a NUMA machine: memory costs by node, placements, several runtimes, pools."""
import pytest

from numasim.errors import SpecError
from numasim.machine import preset
from numasim.machine.memory import Pattern, cost_ns, refill_cost_ns, steal_cost_ns, wake_cost_ns
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.host.costs import Host
from numasim.host.numa import Numa
from numasim.tokio.profile import get_profile

M = "graviton4-2node"  # 2 nodes x 96 CPUs: CPUs 0-95 on node 0, 96-191 on node 1


def numa_spec(runtimes, sources, duration_s=0.02, **kw):
    d = {"name": "numa", "duration_s": duration_s, "sample_interval_ms": 5, "machine": {"preset": M},
         "runtimes": runtimes, "sources": sources}
    d.update(kw)
    return parse_spec(d)


def root(steps, runtime=None, name="root"):
    src = {"kind": "root", "task": {"name": name, "steps": steps}}
    if runtime:
        src["runtime"] = runtime
    return src


class PollLog:
    """Observer: (cpu, task name, poll duration) of every poll."""

    def __init__(self):
        self.polls = []
        self.start = {}

    def poll_start(self, w, t):
        self.start[id(w)] = (w.rt.env.now, w.cpu)

    def poll_end(self, w, t):
        t0, cpu = self.start.pop(id(w))
        self.polls.append((cpu, t.name, w.rt.env.now - t0))

    def park(self, w):
        pass

    def steal(self, thief, victim, tasks):
        pass

    def complete(self, w, t):
        pass


def run(s, observer=None, version="1.49"):
    return simulate(s, get_profile(version), Host(), observers=[observer] if observer is not None else ())


def remote_schedules(records):
    return sum(r["runtime"]["num_remote_schedules"] for r in records)


# ------------------------------------------------------------------ stealing and memory
def stolen_poll_ns(thief_cpu, penalty=None):
    """Mean poll time of memory-bound tasks that worker 1 (on `thief_cpu`) stole from worker 0 (on
    CPU 0), reading 64 KiB of a region bound to node 0 with dependent reads."""
    kw = {"remote_penalty": penalty} if penalty is not None else {}
    child = {"name": "child", "steps": [{"mem": {"region": "r", "bytes": 65536, "pattern": "random"}}]}
    s = numa_spec([{"name": "main", "workers": 2, "placement": {"kind": "pinned", "cpus": [0, thief_cpu]}}],
                  [root([{"spawn": child, "count": 64}])], regions={"r": {"bytes": 1e9, "policy": "bind", "node": 0}},
                  **kw)
    log = PollLog()
    res = run(s, log)
    stolen = [d for cpu, name, d in log.polls if name == "child" and cpu == thief_cpu]
    assert len(stolen) >= 10, "the second worker must have stolen children"
    assert res.numa["runtimes"]["main"]["steals"] > 0
    return sum(stolen) / len(stolen), res


def test_a_stolen_memory_bound_task_runs_slower_on_the_remote_node():
    """Stolen onto node 1, a task reading node-0 memory pays the remote latency (and the remote
    steal and refill); with remote_penalty = 1 it costs exactly what it costs on node 0."""
    local, _ = stolen_poll_ns(1)
    remote, res = stolen_poll_ns(96)
    assert res.numa["runtimes"]["main"]["remote_steals"] > 0
    assert res.numa["mem_bytes"]["remote"][0] > 0  # node 0's memory read from node 1
    assert remote > 1.3 * local  # graviton4: 184 vs 110 ns idle
    local1, _ = stolen_poll_ns(1, penalty=1.0)
    remote1, _ = stolen_poll_ns(96, penalty=1.0)
    assert remote1 <= local1 * 1.001
    assert local1 == pytest.approx(local, rel=0.01)


def test_memory_and_scheduling_tables_match_the_machine_model():
    """The hot-path tables give what the machine's functions give (idle load)."""
    m = preset(M)
    s = numa_spec([{"workers": 1}], [root([{"spin_us": 1}])],
                  regions={"a": {"bytes": 1e9, "policy": "bind", "node": 1},
                           "i": {"bytes": 1e9, "policy": "interleave"}})
    node_of = [m.node_of_cpu(c) for c in range(m.n_cpus)]
    numa = Numa(m, s, node_of)
    for cpu, node in ((0, 0), (96, 1)):
        for region, frac in (("a", (0.0, 1.0)), ("i", (0.5, 0.5))):
            for nbytes in (64, 4096, 1 << 20):
                for pat, p in ((0, Pattern.STREAM), (1, Pattern.RANDOM)):
                    want = cost_ns(m, node, frac, nbytes, p)
                    assert abs(numa.mem_ns(cpu, region, nbytes, pat) - want) <= max(2, want * 1e-6)
    for a in (0, 1):
        for b in (0, 1):
            assert numa.wake_tab[a][b] == wake_cost_ns(m, a, b)
            assert int(round(256 * numa.refill_line[a][b])) == refill_cost_ns(m, a, b, 16384)
            assert int(round(4 * numa.c2c[a][b])) == steal_cost_ns(m, a, b, 1)


# ------------------------------------------------------------------ placement
def spinning_runtime(name, placement, workers=2):
    loop = {"name": f"{name}-loop", "steps": [{"loop_until_end": [{"spin_us": 200}, {"yield": 1}]}]}
    return ({"name": name, "workers": workers, "placement": placement},
            root([{"spawn": loop, "count": workers}], runtime=name, name=f"{name}-root"))


def test_a_float_thread_changes_node_at_about_migrate_hz_and_a_pinned_one_never():
    hz = 200
    f_rt, f_src = spinning_runtime("f", {"kind": "float", "migrate_hz": hz})
    p_rt, p_src = spinning_runtime("p", {"kind": "pinned", "cpus": [0, 96]})
    s = numa_spec([f_rt, p_rt], [f_src, p_src], duration_s=0.4)
    res = run(s)
    dur = 0.4
    # a move lands uniformly on the other 191 CPUs of the mask, 96 of them on the other node
    want = hz * 96 / 191 * 2 * dur
    got = res.numa["runtimes"]["f"]["thread_migrations"]
    assert 0.6 * want < got < 1.4 * want
    assert res.numa["runtimes"]["p"]["thread_migrations"] == 0
    for sample in res.numa["timeline"]:
        assert sample["cpus"]["p/0"] == 0 and sample["cpus"]["p/1"] == 96
    assert len({sample["cpus"]["f/0"] for sample in res.numa["timeline"]}) > 3


def test_a_node_confined_runtime_never_polls_on_the_other_node():
    """Confined to node 1 and migrating fast, with a machine-wide runtime competing for CPUs."""
    n_rt, n_src = spinning_runtime("n", {"kind": "node", "node": 1, "cpus": [96, 97, 98, 99], "migrate_hz": 2000},
                                   workers=3)
    o_rt, o_src = spinning_runtime("o", {"kind": "float", "cpus": [0, 1, 96, 97, 98, 99], "migrate_hz": 2000},
                                   workers=4)
    s = numa_spec([n_rt, o_rt], [n_src, o_src], duration_s=0.05)
    res = run(s)
    assert res.numa["runtimes"]["n"]["polls_by_node"][0] == 0
    assert res.numa["runtimes"]["n"]["polls_by_node"][1] > 100
    assert res.numa["runtimes"]["o"]["polls_by_node"][0] > 0  # the other one does use node 0
    for sample in res.numa["timeline"]:
        assert all(sample["cpus"][f"n/{i}"] in (96, 97, 98, 99) for i in range(3))


# ------------------------------------------------------------------ several runtimes
@pytest.mark.parametrize("machine", [True, False])
def test_a_cross_runtime_spawn_is_a_remote_schedule_of_the_target(machine):
    n = 40
    child = {"name": "child", "steps": [{"spin_us": 20}]}
    d = {"name": "x", "duration_s": 0.02, "sample_interval_ms": 5,
         "runtimes": [{"name": "a", "workers": 2}, {"name": "b", "workers": 2}],
         "sources": [root([{"spawn": child, "count": n, "runtime": "b"}], runtime="a")]}
    if machine:
        d["machine"] = {"preset": M}
    res = run(parse_spec(d))
    a, b = res.system.runtimes["a"], res.system.runtimes["b"]
    assert remote_schedules(res.runtimes["b"]) == n == b.spawned_tasks_count
    assert a.spawned_tasks_count == 1
    assert b.monitors["child"].c[0] == n and a.monitors["child"].c[0] == 0
    assert len(res.task_latencies["child"]) == n and len(res.task_latencies["root"]) == 1
    # the root, joining tasks of b, was woken from b's threads: remote schedules of a
    assert remote_schedules(res.runtimes["a"]) >= 2
    assert res.runtimes["a"] and res.intervals == res.runtimes["a"]


@pytest.mark.parametrize("machine", [True, False])
def test_task_records_cover_every_runtime(machine):
    """A TaskMonitor is per name: the trace's `tasks` count a name's tasks whichever runtime runs
    them, in the first runtime's records and in every other runtime's alike."""
    na, nb = 7, 11
    child = {"name": "child", "steps": [{"spin_us": 20}]}
    d = {"name": "x", "duration_s": 0.02, "sample_interval_ms": 5,
         "runtimes": [{"name": "a", "workers": 1}, {"name": "b", "workers": 1}],
         "sources": [root([{"spawn": child, "count": na}, {"spawn": child, "count": nb, "runtime": "b"}],
                          runtime="a"),
                     root([{"spin_us": 30}], runtime="b", name="only_b")]}
    if machine:
        d["machine"] = {"preset": M}
    res = run(parse_spec(d))
    a, b = res.system.runtimes["a"], res.system.runtimes["b"]
    assert a.monitors["child"].c[0] == na and b.monitors["child"].c[0] == nb
    for records in (res.intervals, res.runtimes["b"]):
        tot = lambda name, f: sum(r["tasks"][name][f] for r in records)
        assert tot("child", "instrumented_count") == na + nb == tot("child", "dropped_count")
        assert sum(r["tasks"]["child"]["completed"]["count"] for r in records) == na + nb
        assert tot("only_b", "instrumented_count") == 1 and tot("only_b", "total_poll_count") == 1
        assert tot("child", "total_poll_count") == na + nb
    assert len(res.task_latencies["child"]) == na + nb and len(res.task_latencies["only_b"]) == 1
    # the records of both runtimes report the same task deltas; their runtime members differ
    assert [r["tasks"] for r in res.intervals] == [r["tasks"] for r in res.runtimes["b"]]
    assert remote_schedules(res.runtimes["b"]) >= nb


def test_an_offload_completes_with_a_remote_wake_and_pool_threads_stay_on_their_node():
    n = 50
    child = {"name": "child", "steps": [
        {"offload": {"pool": "p", "us": 30, "mem": {"region": "r", "bytes": 8192}}}, {"spin_us": 5}]}
    s = numa_spec([{"name": "main", "workers": 4, "placement": {"kind": "float", "migrate_hz": 500}}],
                  [root([{"spawn": child, "count": n}])],
                  regions={"r": {"bytes": 1e9, "policy": "bind", "node": 1}}, pools={"p": {"threads": 3, "node": 1}})
    res = run(s)
    pool = res.numa["pools"]["p"]
    assert pool["jobs"] == n and pool["jobs_by_node"] == [0, n]
    assert all(96 <= c < 192 for c in pool["cpus"])
    # one remote schedule for the root (from the source thread), one per offload reply
    assert res.runtime.remote_schedule_count == 1 + n
    assert len(res.task_latencies["child"]) == n
    assert min(res.task_latencies["child"]) >= 30_000
    for sample in res.numa["timeline"]:
        assert all(96 <= sample["cpus"][f"p/{i}"] < 192 for i in range(3))
    assert res.numa["mem_bytes"]["local"][1] == n * 8192  # the pool reads its own node's memory


def test_an_offload_fan_out_is_awaited_together_and_can_be_kept_for_later():
    """`count` jobs go down the channel one after another and are awaited as a join_all; with
    `as` the replies are kept and a later join_all awaits them."""
    steps = [{"offload": {"pool": "p", "us": 200}, "count": 4},
             {"offload": {"pool": "p", "us": 300}, "count": 2, "as": "late"},
             {"spin_us": 5}, {"join_all": "late"}]
    s = numa_spec([{"name": "main", "workers": 2}], [root(steps)], pools={"p": {"threads": 4, "node": 0}})
    res = run(s)
    assert res.numa["pools"]["p"]["jobs"] == 6
    # four parallel 200 µs jobs, then two 300 µs ones: the root ends after both rounds, not
    # after six jobs in a row
    lat = res.task_latencies["root"][0]
    assert 500_000 <= lat < 6 * 200_000
    # the root's spawn, then a wake (from the pool thread: remote) only for a reply the root is
    # waiting on; replies that land before it looks schedule nothing
    assert 3 <= res.runtime.remote_schedule_count <= 1 + 6


def test_a_plain_spec_has_one_runtime_and_no_numa_facts():
    s = parse_spec({"name": "p", "runtime": {"workers": 2}, "duration_s": 0.01, "sample_interval_ms": 5,
                    "sources": [root([{"spin_us": 10}])]})
    res = run(s)
    assert res.numa is None and list(res.runtimes) == ["main"] and res.runtimes["main"] is res.intervals
    assert res.task_latencies["root"]


# ------------------------------------------------------------------ spec errors
BASE = {"name": "e", "duration_s": 0.01, "machine": {"preset": M},
        "runtimes": [{"name": "a", "workers": 2, "placement": {"kind": "pinned", "cpus": [0, 1]}}],
        "regions": {"r": {"bytes": 1e6, "policy": "bind", "node": 0}},
        "pools": {"p": {"threads": 2, "node": 1}},
        "sources": [{"kind": "root", "task": {"name": "t", "steps": [{"spin_us": 1}]}}]}


def _set(d, path, value):
    import copy
    d = copy.deepcopy(d)
    o = d
    for k in path[:-1]:
        o = o[k]
    o[path[-1]] = value
    return d


@pytest.mark.parametrize("path,value,where,what", [
    (("machine",), {"preset": "nope"}, "machine.preset", "unknown preset"),
    (("machine",), {"cpus": 4}, "machine", "preset"),
    (("remote_penalty",), 0.5, "remote_penalty", ">= 1.0"),
    (("runtimes", 0, "placement", "kind"), "loose", "runtimes[0].placement.kind", "float"),
    (("runtimes", 0, "placement", "cpus"), [0, 999], "runtimes[0].placement.cpus[1]", "not on machine"),
    (("runtimes", 0, "placement", "cpus"), [0], "runtimes[0].placement.cpus", "2 pinned workers"),
    (("runtimes", 0, "placement"), {"kind": "node", "node": 1, "cpus": [0]}, "runtimes[0].placement.cpus[0]",
     "not on node 1"),
    (("runtimes", 0, "placement"), {"kind": "float", "cpus": {"first_per_node": 500}},
     "runtimes[0].placement.cpus.first_per_node", "at most 96"),
    (("regions", "r", "policy"), "spread", "regions.r.policy", "interleave"),
    (("regions", "r", "node"), 7, "regions.r.node", "below 2"),
    (("pools", "p", "node"), -1, "pools.p.node", "non-negative"),
    (("sources", 0, "runtime"), "zz", "sources[0].runtime", "unknown runtime"),
    (("sources", 0, "task", "steps"), [{"mem": {"region": "q", "bytes": 1}}], "sources[0].task.steps[0].mem.region",
     "unknown region"),
    (("sources", 0, "task", "steps"), [{"mem": {"region": "r", "bytes": {"dist": "fixed", "mean_us": 3}}}],
     "sources[0].task.steps[0].mem.bytes.mean_us", "unknown field"),
    (("sources", 0, "task", "steps"), [{"offload": {"pool": "p"}}], "sources[0].task.steps[0].offload.us", "missing"),
    (("sources", 0, "task", "steps"), [{"offload": {"pool": "x", "us": 1}}], "sources[0].task.steps[0].offload.pool",
     "unknown pool"),
    (("sources", 0, "task", "steps"), [{"spawn": {"steps": []}, "runtime": "b"}], "sources[0].task.steps[0].runtime",
     "unknown runtime"),
])
def test_numa_spec_errors_name_the_field(path, value, where, what):
    with pytest.raises(SpecError) as e:
        parse_spec(_set(BASE, path, value), "s.json")
    assert e.value.where == f"s.json: {where}"
    assert what in e.value.what
    assert "\n" not in str(e.value)


def test_pools_and_regions_need_a_machine():
    d = dict(BASE)
    del d["machine"]
    with pytest.raises(SpecError) as e:
        parse_spec(d, "s.json")
    assert e.value.where == "s.json: runtimes[0].placement" or e.value.where == "s.json: regions"


def test_pool_threads_sharing_cpus_finish_every_job():
    """Two pools on one node, one with more threads than the node has CPUs: threads stacked on a
    CPU take turns, and every job completes once."""
    child = {"name": "child", "steps": [{"offload": {"pool": "p", "us": 30}}, {"offload": {"pool": "q", "us": 30}}]}
    s = numa_spec([{"name": "main", "workers": 4}], [{"kind": "external", "interval_us": 5, "task": child}],
                  duration_s=0.005, pools={"p": {"threads": 100, "node": 1}, "q": {"threads": 3, "node": 1}})
    assert set(s.pools[1].cpus).isdisjoint(s.pools[0].cpus[:96]) is False  # p wrapped onto q's CPUs
    res = run(s)
    n = res.runtime.spawned_tasks_count
    assert res.numa["pools"]["p"]["jobs"] == res.numa["pools"]["q"]["jobs"] == n == len(res.task_latencies["child"])
