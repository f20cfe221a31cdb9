"""Connection multiplexers (issue 11): `mpc_hop` sends a message through the connection's sending
multiplexer task and awaits the reply its receiving multiplexer hands over (numasim.workload.mux).

Each hop is then three polls on this party's runtime (session, sending and receiving
multiplexer), the wire CPU is the multiplexers', and the reply comes in through the I/O driver.
The behaviour is checked on both engines (tests/test_mux_engine_equivalence.py holds them to the
same bytes).
"""
import io

import pytest

from numasim.engine import simulate, which
from numasim.engine.run import unsupported
from numasim.errors import SpecError
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile

US = 1000
ENGINES = ("simpy", "fast")


def spec(tasks=1, workers=2, rounds=3, hop=50.0, send=3.0, recv=4.0, spin=20.0, conn=(0, 1, 1)):
    session = {"name": "session", "steps": [{"repeat": rounds, "steps": [
        {"mpc_hop": {"us": hop, "send_us": send, "recv_us": recv, "conn": list(conn)}}, {"spin_us": spin}]}]}
    root = {"name": "root", "steps": [{"spawn": session, "count": tasks, "join": True}]}
    return {"name": "hop", "runtime": {"workers": workers}, "duration_s": 0.001, "sample_interval_ms": 1,
            "sources": [{"kind": "root", "task": root}]}


def run(d, version="1.49", engine="simpy"):
    return simulate(parse_spec(d), get_profile(version), engine=engine)


def polls(res, name):
    """The TaskMonitor's polls of `name` over the run (its interval records' sum)."""
    return sum(r["tasks"][name]["total_poll_count"] for r in res.intervals)


def runtime_polls(res):
    return sum(r["runtime"]["total_polls_count"] for r in res.intervals)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("version", ["1.24", "1.49"])
@pytest.mark.parametrize("rounds", [1, 4])
def test_one_session_pays_the_wait_and_both_multiplexers_cpu_per_hop(version, rounds, engine):
    """One session alone: each hop is a poll of the sending multiplexer, the wait, a poll of the
    receiving one; the session's time is at least rounds x (send + wait + recv + spin) and its
    polls are one more than its hops."""
    res = run(spec(rounds=rounds), version, engine)
    (lat,) = res.task_latencies["session"]
    floor = rounds * (3 + 50 + 4 + 20) * US
    assert floor <= lat < floor + rounds * 25 * US
    assert polls(res, "multiplexer") == 2 * rounds
    assert polls(res, "session") == rounds + 1
    assert res.runtime.system.connections.keys() == {0}


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sending_multiplexer_runs_in_the_senders_lifo_slot(engine):
    """The session's send wakes its multiplexer into the worker's LIFO slot, so on 1.49 (poll
    count per run_task) the multiplexer's polls ride in the session's run_task: the runtime counts
    fewer polls than the TaskMonitors see."""
    res = run(spec(rounds=5, workers=1), engine=engine)
    per_task = sum(polls(res, n) for n in ("root", "session", "multiplexer"))
    assert runtime_polls(res) < per_task
    assert sum(r["runtime"]["total_steal_count"] for r in res.intervals) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_tasks_share_connections_by_slot_and_every_message_is_taken_once(engine):
    """Six sessions on connections [first 0, stride 2, slots 3]: slots 0..5 use connections 0, 2,
    4, 0, 2, 4; every session finishes all its hops and no message is left over."""
    res = run(spec(tasks=6, rounds=7, hop={"dist": "lognormal", "mean_us": 40, "cv": 0.8}, conn=(0, 2, 3)),
              engine=engine)
    assert sorted(res.runtime.system.connections) == [0, 2, 4]
    assert len(res.task_latencies["session"]) == 6
    assert polls(res, "session") == 6 * 8
    rt = res.runtime
    for c in rt.system.connections.values():
        assert not c.queues[0] and not c.queues[1] and not c.batch[0] and not c.batch[1]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_connection_handles_at_most_a_budget_of_messages_per_poll(engine):
    """200 sessions on one connection with one worker: the receiving multiplexer takes 128
    messages (one budget unit each) and yields with the rest, so the budget forces yields."""
    res = run(spec(tasks=200, rounds=1, workers=1, hop={"dist": "lognormal", "mean_us": 2000, "cv": 3}, spin=1.0),
              engine=engine)
    assert len(res.task_latencies["session"]) == 200
    assert res.runtime.budget_forced_yield_count > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_the_runs_end_does_not_wait_for_the_multiplexers(engine):
    """Multiplexers never finish (prod's live for the process), yet the run ends as soon as the
    sessions are done, not after the 5 s drain limit; they stay counted as alive tasks."""
    res = run(spec(rounds=2), engine=engine)
    assert res.runtime.num_alive_tasks == 2
    assert res.intervals[-1]["runtime"]["live_tasks_count"] == 2
    assert res.intervals[-1]["t"] < 100_000_000


@pytest.mark.parametrize("hop, field", [
    ({"send_us": 3}, "mpc_hop.us"),
    ({"us": 5, "conn": [0, 1]}, "mpc_hop.conn"),
    ({"us": 5, "conn": [0, 1, 0]}, "mpc_hop.conn[2]"),
    ({"us": 5, "wait": 1}, "mpc_hop.wait"),
])
def test_spec_errors_name_the_field(hop, field):
    d = spec()
    d["sources"][0]["task"]["steps"][0]["spawn"]["steps"][0]["steps"][0] = {"mpc_hop": hop}
    with pytest.raises(SpecError) as e:
        parse_spec(d)
    assert field in str(e.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_with_parties_each_write_reaches_the_next_partys_multiplexer(engine):
    """Three parties: party p's sending multiplexer writes to party p + 1's receiving one of the
    same connection, which hands the message to the task of the same key. Every message sent is
    received and used once, each party runs both multiplexers of each connection, and a session's
    hop now waits for the previous party's write, so it takes at least the one-party time."""
    d = spec(tasks=3, rounds=5, conn=(0, 2, 3))
    d["parties"] = 3
    # one poll per write holds while no multiplexer is woken twice before its poll; where wake-ups
    # stack on their waker's vCPU (the default host) some pairs coalesce into one poll (27-29 since
    # issue 12's measured stacking), which is tokio's rule too, so this count is taken with every
    # wake-up on the wakee's own vCPU
    from numasim.host.costs import default_host
    host = default_host("1.49").with_values({"stack_wake_prob": 0.0, "stack_again_prob": 0.0})
    res = simulate(parse_spec(d), get_profile("1.49"), host, engine=engine)
    c = res.network.counts()
    assert len(c) == 3 * 3 and all(v == (5, 5, 5) for v in c.values())
    assert res.network.in_flight == 0
    for r in res.parties:
        assert sorted(r.runtime.system.connections) == [0, 2, 4]
        assert polls(r, "multiplexer") == 2 * 3 * 5
    one = simulate(parse_spec(spec(tasks=3, rounds=5, conn=(0, 2, 3))), get_profile("1.49"), host, engine="simpy")
    assert min(min(r.task_latencies["session"]) for r in res.parties) >= min(one.task_latencies["session"])


def test_the_compiled_engine_runs_mpc_hop():
    s = parse_spec(spec())
    assert unsupported(s, get_profile("1.49")) is None
    assert which(s, get_profile("1.49"), engine="auto") == "fast"


def test_the_compiled_engine_runs_mpc_hop_with_parties_as_simpy_does():
    """A multiplexer's write to the next party, compiled: `auto` takes the fast engine, and its
    three parties' traces, facts and network are SimPy's (tests/test_mux_engine_equivalence.py
    holds random specs to it too)."""
    d = spec(tasks=2, rounds=2)
    d["parties"] = 3
    s = parse_spec(d)
    assert unsupported(s, get_profile("1.49")) is None
    assert which(s, get_profile("1.49"), engine="auto") == "fast"
    a, b = run(d), run(d, engine="fast")
    for ra, rb in zip(a.parties, b.parties):
        fa, fb = io.StringIO(), io.StringIO()
        ra.write(fa)
        rb.write(fb)
        assert fa.getvalue() == fb.getvalue()
        assert ra.task_latencies == rb.task_latencies
    assert list(a.network.counts().items()) == list(b.network.counts().items())
    assert sum(v[0] for v in b.network.counts().values()) == 3 * 2 * 2


@pytest.mark.parametrize("value, field", [
    ({"working_set_bytes": -1}, "multiplexer.working_set_bytes"),
    ({"ws": 1}, "multiplexer.ws"),
    (3, "multiplexer"),
])
def test_the_multiplexer_field_errors_name_it(value, field):
    d = spec()
    d["multiplexer"] = value
    with pytest.raises(SpecError) as e:
        parse_spec(d)
    assert field in str(e.value)
