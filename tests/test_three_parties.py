"""Three parties (issue 11): `mpc_round` steps join several machines, each running the whole spec.

A round sends this round's message to the same task at the next party and completes once the
previous party's message has arrived through this party's I/O driver. Without `parties` nothing
changes. Both engines run parties (tests/test_engine_equivalence.py holds them to the same bytes).
"""
import json

import pytest

from numasim.engine import simulate
from numasim.errors import SpecError
from numasim.hawk.jobs import generate
from numasim.hawk.parties import three_party_spec
from numasim.hawk.scenario import parse_scenario
from numasim.spec import parse_spec
from numasim.stats import percentile
from numasim.tokio.profile import get_profile
from numasim.workload import mux

P = get_profile("1.49")


def ring(rounds, parties=3, spin_us=20.0, hop_us=50.0, tasks=1, workers=1):
    """`tasks` sessions, each `rounds` ring rounds of a hop then `spin_us` of CPU."""
    session = {"name": "session", "steps": [{"repeat": rounds, "steps": [{"mpc_round": {"us": hop_us}},
                                                                          {"spin_us": spin_us}]}]}
    root = {"name": "root", "steps": [{"spawn": session, "count": tasks, "join": True}]}
    return {"name": "ring", "runtime": {"workers": workers}, "duration_s": 0.001, "sample_interval_ms": 1,
            "parties": parties, "sources": [{"kind": "root", "task": root}]}


def run(d, engine="simpy"):
    return simulate(parse_spec(d), P, engine=engine)


def session_ns(res):
    return [r.task_latencies["session"][0] for r in res.parties]


@pytest.mark.parametrize("rounds", [1, 2, 3, 6])
def test_a_slowed_party_delays_the_rounds_that_wait_on_it_by_its_extra_cpu(rounds):
    """With fixed costs a round of party p completes at the previous party's send plus the hop,
    the wake and p's CPU, so after r rounds p's session has passed through parties p, p-1, ...,
    p-r+1 once each. Doubling party 1's CPU (20 µs more a round) delays each party's session by
    20 µs for every time its chain passes through party 1: never for party 0 after one or two
    rounds, once for parties 1 and 2 after two, and once a lap for every party after 3 and 6."""
    base = session_ns(run(ring(rounds)))
    assert len(set(base)) == 1  # symmetric parties, fixed costs: the same time everywhere
    slow = ring(rounds)
    slow["parties"] = [{"stream": 0}, {"stream": 1, "spin_scale": 2.0}, {"stream": 2}]
    got = session_ns(run(slow))
    extra = 20_000
    for p in range(3):
        through_1 = sum(1 for j in range(rounds) if (p - j) % 3 == 1)
        assert got[p] - base[p] == through_1 * extra, (p, got, base)


def test_a_round_waits_for_the_hop_from_the_previous_party():
    """The previous party's message takes the hop: a session of r rounds takes at least r hops,
    and one more microsecond of hop makes every party's session r microseconds longer."""
    a = session_ns(run(ring(4, hop_us=500.0)))
    b = session_ns(run(ring(4, hop_us=501.0)))
    assert min(a) >= 4 * 500_000
    assert [y - x for x, y in zip(a, b)] == [4_000] * 3


def test_early_messages_are_kept_and_every_message_is_used_once():
    """Many sessions on two workers with drawn hops and CPU: parties drift apart, so some
    messages arrive before their task waits for them. Each is kept and used by exactly one
    round: per session, what party p sent is what p + 1 received and used, all rounds complete."""
    d = ring(30, tasks=8, workers=2, spin_us={"dist": "lognormal", "mean_us": 40, "cv": 1.0},
             hop_us={"dist": "lognormal", "mean_us": 50, "cv": 0.5})
    res = run(d)
    net = res.network
    counts = net.counts()
    assert len(counts) == 3 * 8
    for (p, key), (sent, _, _) in counts.items():
        _, arrived, used = counts[((p + 1) % 3, key)]
        assert sent == arrived == used == 30
    assert net.in_flight == 0
    early = sum(e.used - e.waited for e in net.endpoints.values())
    assert early > 0  # some rounds found their message already there
    assert all(len(r.task_latencies["session"]) == 8 for r in res.parties)


def _hop_ring(rounds, parties, workers=2):
    """One session per party, `rounds` rounds of an mpc_hop of 20 µs then 20 µs of CPU; party 1's
    CPU is 10x (200 µs a round), so the others' messages reach it before it sends its own."""
    session = {"name": "session", "steps": [{"repeat": rounds, "steps": [{"mpc_hop": {"us": 20.0}},
                                                                          {"spin_us": 20.0}]}]}
    root = {"name": "root", "steps": [{"spawn": session, "count": 1, "join": True}]}
    d = {"name": "hop-ring", "runtime": {"workers": workers}, "duration_s": 0.001, "sample_interval_ms": 1,
         "multiplexer": {"working_set_bytes": 0}, "sources": [{"kind": "root", "task": root}]}
    if parties:
        d["parties"] = [{"stream": 0}, {"stream": 1, "spin_scale": 10.0}, {"stream": 2}]
    return d


def _sends_and_writes(monkeypatch, d, version):
    """Per party: the session's sends and its sending multiplexer's writes, in order (ns)."""
    sends, writes = {}, {}
    o_send, o_deliver = mux.send, mux.deliver

    def send(rt, worker, task, op):
        sends.setdefault(rt.party, []).append(rt.env.now)
        return o_send(rt, worker, task, op)

    def deliver(rt, worker, c, side):
        if side == mux.SEND:
            writes.setdefault(rt.party, []).extend([rt.env.now] * len(c.batch[side]))
        return o_deliver(rt, worker, c, side)

    monkeypatch.setattr(mux, "send", send)
    monkeypatch.setattr(mux, "deliver", deliver)
    simulate(parse_spec(d), get_profile(version), engine="simpy")
    return sends, writes


def _late_writes(sends, writes):
    """Messages written only after their session's next send: the session went on past its send
    (its receive was Ready) and its multiplexer waited for the session's poll to end."""
    return {p: sum(1 for r in range(len(s) - 1) if writes[p][r] >= s[r + 1]) for p, s in sends.items()}


def test_a_session_that_goes_on_past_its_send_holds_its_multiplexer_in_the_lifo_slot(monkeypatch):
    """The session's send wakes its connection's multiplexer into the sending worker's LIFO
    slot. With three parties a receive can be Ready at once (the previous party is ahead), so the
    session keeps its worker for the next round's CPU, and on tokio 1.49, where the LIFO slot
    cannot be stolen, the multiplexer (and the message) waits for the session's poll to end,
    although a second worker is idle. On 1.51 (LIFO slot stealable) that worker takes it. With
    one party a session's own message can never be back before it parks, so no write waits."""
    sends, writes = _sends_and_writes(monkeypatch, _hop_ring(8, parties=True), "1.49")
    assert all(len(writes[p]) == len(sends[p]) == 8 for p in range(3))
    late = _late_writes(sends, writes)
    assert late[1] > 0, late  # the slowed party finds its messages there and goes on
    # ... and holds its write back for at least one whole round of its CPU
    assert max(writes[1][r] - sends[1][r] for r in range(8)) >= 200_000
    sends, writes = _sends_and_writes(monkeypatch, _hop_ring(8, parties=True), "1.51")
    assert _late_writes(sends, writes) == {0: 0, 1: 0, 2: 0}
    sends, writes = _sends_and_writes(monkeypatch, _hop_ring(8, parties=False), "1.49")
    assert _late_writes(sends, writes) == {0: 0}


def _shared_hop_ring(tasks, workers):
    """`tasks` sessions per party sharing one connection, 40 rounds of a drawn hop (3 µs of
    multiplexer CPU each side) and drawn CPU."""
    session = {"name": "session", "steps": [{"repeat": 40, "steps": [
        {"mpc_hop": {"us": {"dist": "lognormal", "mean_us": 30, "cv": 0.8}, "send_us": 3.0, "recv_us": 3.0,
                     "conn": [0, 1, 1]}},
        {"spin_us": {"dist": "lognormal", "mean_us": 20, "cv": 1.0}}]}]}
    root = {"name": "root", "steps": [{"spawn": session, "count": tasks, "join": True}]}
    return {"name": "hop-ring", "runtime": {"workers": workers}, "duration_s": 0.001, "sample_interval_ms": 1,
            "multiplexer": {"working_set_bytes": 0}, "parties": 3, "sources": [{"kind": "root", "task": root}]}


@pytest.mark.parametrize("engine", ["simpy", "fast"])
@pytest.mark.parametrize("tasks, workers, seed", [(4, 3, 1), (8, 4, 5)])
def test_a_message_that_comes_while_the_receiving_poll_runs_is_not_lost(tasks, workers, seed, engine):
    """A receive looks for its message, then the poll's CPU time passes (here the futex wake of
    the parked worker that 1.51 notifies for the multiplexer just put in the LIFO slot), then it
    registers as the endpoint's waiter. A message handed over in between must still be seen, as the channel's recv looks
    again after registering its waker; these seeds, on 1.51, once lost it: that session waited
    for ever with its message there, the ring stopped and the job never ended. Every session
    finishes at every party and every message sent is received and used."""
    res = simulate(parse_spec(_shared_hop_ring(tasks, workers)), get_profile("1.51"), seed=seed, engine=engine)
    assert [len(r.task_latencies.get("session", [])) for r in res.parties] == [tasks] * 3
    c = res.network.counts()
    assert len(c) == 3 * tasks
    assert all(sent == c[((p + 1) % 3, key)][1] == c[((p + 1) % 3, key)][2] == 40
               for (p, key), (sent, _, _) in c.items())


def _mini():
    """A Hawk job small enough for the SimPy engine in a few seconds at three parties."""
    return parse_scenario({
        "name": "mini", "job": {"batch_size": 2, "batches": 2, "db_size": 20000, "m": 16, "ef_search": 32,
                                "ef_constr": 48, "min_layer_search_batch": 200, "request_parallelism": 2},
        "mpc": {"hop_us": 25.0, "layer0_iterations": 1, "layer1_iterations": 1, "sort_levels_layer0": 2.0,
                "sort_levels_layer0_init": 2.0, "sort_levels_layer1": 2.0, "sort_levels_layer1_init": 2.0},
        "pool": {"threads_per_eye": 2}, "runtime": {"cores_per_node": 2},
        "scale": {"round_groups": 0, "offload_fanout": 2}}, "mini").replace(**{"mpc.multiplexer_tasks": False})


def _waits(steps, times=1, step="io_us"):
    """`step` steps (io_us waits by default) a task program runs, repeats and spawn counts
    multiplied out."""
    n = 0
    for st in steps:
        if step in st:
            n += times
        elif "repeat" in st:
            n += _waits(st["steps"], times * st["repeat"], step)
        elif "spawn" in st:
            n += _waits(st["spawn"]["steps"], times * st.get("count", 1), step)
    return n


def test_hawk_three_parties_run_every_message_as_a_round():
    """The generated three-party job has no io_us left, and its runs send as many messages per
    party as the one-party job waits: every message is one round."""
    sc = _mini()
    one = generate(sc, "dual", 1)
    three = three_party_spec(sc, "dual", 1)
    assert "io_us" not in json.dumps(three) and three["parties"] == 3
    res = run(three)
    c = res.network.counts()
    per_party = [sum(v[0] for (p, _), v in c.items() if p == q) for q in range(3)]
    assert per_party == [_waits(one["sources"][0]["task"]["steps"])] * 3
    assert all(len(r.task_latencies["hawk_job"]) == 2 for r in res.parties)


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_hawk_three_parties_with_multiplexers_send_every_message_through_them(engine):
    """With mpc.multiplexer_tasks the three-party job keeps its mpc_hop steps: every party sends
    as many messages as the one-party job hops, and each is received and used once."""
    sc = _mini().replace(**{"mpc.multiplexer_tasks": True})
    one = generate(sc, "today", 1)
    hops = _waits(one["sources"][0]["task"]["steps"], step="mpc_hop")
    three = three_party_spec(sc, "today", 1)
    assert "io_us" not in json.dumps(three) and "mpc_round" not in json.dumps(three)
    res = run(three, engine)
    c = res.network.counts()
    assert [sum(v[0] for (p, _), v in c.items() if p == q) for q in range(3)] == [hops] * 3
    assert all(v[0] == c[((p + 1) % 3, key)][1] == c[((p + 1) % 3, key)][2] for (p, key), v in c.items())
    for r in res.parties:
        # every multiplexer poll takes at least one message, and at most the four sessions that
        # share a connection have one outstanding each (the TaskMonitor's polls, as a user reads
        # them from the intervals)
        polls = sum(iv["tasks"]["multiplexer"]["total_poll_count"] for iv in r.intervals
                    if "multiplexer" in iv["tasks"])
        assert hops / 2 <= polls <= 2 * hops


def test_rotating_the_parties_roles_changes_nothing():
    """Rotate which machine is party 0, 1, 2 (each machine keeps its draws): every machine's
    tasks take exactly the same time. Exact, not within noise: the ring positions are symmetric
    in the engine and a rotation keeps who sends to whom; only SimPy's tie order between two
    machines' events at the same nanosecond follows the positions, and it would need such a tie
    to touch both machines' state to matter."""
    sc = _mini()
    by_machine = []
    for order in ([0, 1, 2], [1, 2, 0], [2, 0, 1]):
        res = run(three_party_spec(sc, "today", 1, [{"stream": s} for s in order]))
        lat = {s: r.task_latencies for s, r in zip(order, res.parties)}
        by_machine.append(lat)
    assert by_machine[0] == by_machine[1] == by_machine[2]
    assert by_machine[0][0] != by_machine[0][1]  # the machines draw independently


def test_swapping_two_parties_changes_nothing_beyond_noise():
    """Swap which machines are parties 0 and 1: the ring now runs the other way round the
    machines (a reversal, not a relabelling), so each machine waits on a different neighbour and
    no run is the same to the nanosecond. Over seeds the job's p50 must still agree with the
    unswapped run's: paired by seed, the mean change within 1% and each within 2% (the seed-to-
    seed spread of this job is about 1%). A party whose position mattered (a first sender, an
    observer that only sees position 0, a network that favours one direction) fails it."""
    sc = _mini()
    changes = []
    for seed in (1, 2, 3):
        p50 = []
        for order in ([0, 1, 2], [1, 0, 2]):
            res = run(three_party_spec(sc, "today", seed, [{"stream": s} for s in order]))
            p50.append(percentile([x for r in res.parties for x in r.task_latencies["hawk_job"]], 50))
        changes.append(p50[1] / p50[0] - 1)
    assert any(c != 0 for c in changes)  # a reversal is not a relabelling: the runs differ
    assert abs(sum(changes) / len(changes)) < 0.01, changes
    assert max(abs(c) for c in changes) < 0.02, changes


def test_without_parties_the_reference_writes_the_compiled_engines_bytes():
    """A spec without parties runs as before: the SimPy reference (which now knows mpc_round)
    writes the same trace as the compiled engine, which this change does not touch."""
    d = generate(_mini(), "dual", 3)
    a, b = run(d, "simpy"), run(d, "fast")
    assert list(a.lines()) == list(b.lines())
    assert a.parties == [] and a.network is None


def test_predict_writes_the_same_multi_party_trace_on_both_engines(tmp_path):
    """`numasim predict` of a spec with parties: the compiled engine (now the default) writes
    the reference's trace."""
    from numasim.cli import main
    path = tmp_path / "ring.json"
    path.write_text(json.dumps(ring(4, tasks=3, workers=2)))
    outs = {}
    for engine in ("simpy", "fast", "auto"):
        out = tmp_path / f"{engine}.jsonl"
        assert main(["predict", str(path), "--engine", engine, "-q", "-o", str(out)]) == 0
        outs[engine] = out.read_bytes()
    assert outs["simpy"].count(b"\n") > 2 and outs["simpy"] == outs["fast"] == outs["auto"]


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("parties"), "sources[0].task.steps[0].spawn.steps[0].steps[0].mpc_round"),
    (lambda d: d.update(parties=1), "parties"),
    (lambda d: d.update(parties=[{"stream": 0}, {"stream": 0}]), "parties[1].stream"),
    (lambda d: d.update(parties=[{"stream": 0}, {"spin_scale": 0}]), "parties[1].spin_scale"),
    (lambda d: d["sources"][0]["task"]["steps"][0]["spawn"]["steps"][0]["steps"][0].update(mpc_round={"ms": 1}),
     "sources[0].task.steps[0].spawn.steps[0].steps[0].mpc_round.ms"),
])
def test_spec_errors_name_the_field(change, field):
    d = ring(2)
    change(d)
    with pytest.raises(SpecError) as e:
        parse_spec(d, "ring.json")
    assert f"ring.json: {field}" in str(e.value)
