"""The Hawk job with its three parties simulated (issue 11), against the one-party scheme.

The default model simulates one party: each MPC message of a session is an `io_us` wait of the
one-way hop latency, then a poll with the message's CPU (jobs.chain). The other parties'
scheduling is not in the hop. Under symmetry (every party runs the same layout and load) the
chain of a ring protocol carries one party's wake-to-poll delay and CPU per hop, cycling through
the parties, so one party's own delay has the right mean; what it leaves out is the parties'
independence, rounds where a party is late on its own side, and the load coupling between them.

`three_party_spec` is the same job with every message a ring round between three parties
(`mpc_round`, numasim.host.network): each party runs the layout on its own machine, and a
session's round completes when the previous party's message has arrived through this party's
I/O driver. The latency drawn per message is the one-party wait's (HOPS_PER_MESSAGE hops), so the
two schemes differ only in who is in the hop. Both engines run it and give the same results.

    spec = three_party_spec(small_scenario(), "dual", seed=1)
    r = run_scheme(small_scenario(), "dual", 1, parties=3)   # job latencies, polls, counts
"""
from __future__ import annotations

import copy

from ..engine import simulate
from ..spec import parse_spec
from ..stats import percentile
from ..tokio.profile import get_profile
from .jobs import generate
from .scenario import Scenario, default_scenario

PARTIES = 3


def small_scenario() -> Scenario:
    """The default scenario shrunk so that a three-party SimPy run takes seconds: 2 requests per
    batch (24 search tasks per job against 96), 2 jobs, a 1 M store, one iteration per layer,
    4 tokio CPUs per node and 8 pool threads per eye (3 search tasks per tokio worker, twice
    prod's 96 over 64: a loaded runtime), every message its own wait and every chunk its own
    pool job, as the default."""
    return default_scenario().replace(**{
        "name": "hawk-three-parties-small",
        "job.batch_size": 2, "job.batches": 2, "job.db_size": 1_000_000,
        "job.request_parallelism": 8,
        "mpc.layer0_iterations": 1, "mpc.layer1_iterations": 1,
        "runtime.cores_per_node": 4, "pool.threads_per_eye": 8,
        "scale.round_groups": 0, "scale.offload_fanout": 0})


def _to_rounds(steps: list) -> list:
    out = []
    for st in steps:
        if "io_us" in st:
            out.append({"mpc_round": {"us": st["io_us"]}})
            continue
        st = dict(st)
        if "steps" in st:
            st["steps"] = _to_rounds(st["steps"])
        if "spawn" in st:
            st["spawn"] = dict(st["spawn"], steps=_to_rounds(st["spawn"]["steps"]))
        out.append(st)
    return out


def three_party_spec(sc: Scenario, layout: str, seed: int = 1, parties=PARTIES) -> dict:
    """The spec of `generate(sc, layout, seed)` run by `parties` parties (a count or the spec's
    list of party objects): every MPC message wait (an `io_us` step: the job has no other) becomes
    an `mpc_round` with the same latency distribution; an `mpc_hop` (mpc.multiplexer_tasks) stays
    as it is, its write now going to the next party's multiplexer."""
    if sc.scale.round_groups != 0:
        # a grouped wait stands for many messages, not one round
        raise ValueError("three_party_spec needs scale.round_groups = 0 (every message its own round)")
    spec = copy.deepcopy(generate(sc, layout, seed))
    for src in spec["sources"]:
        src["task"] = dict(src["task"], steps=_to_rounds(src["task"]["steps"]))
    spec["parties"] = parties
    spec["name"] = f"{spec['name']}/parties"
    return spec


def run_scheme(sc: Scenario, layout: str, seed: int, parties: int = 1, engine=None) -> dict:
    """One run: `parties` = 1 is today's one-party scheme, 3 the three-party run, on `engine`
    ("fast", "simpy"; None: the process default, numasim.engine's "auto", which is the compiled
    engine for both schemes; the results are the same bytes on either). Job latencies in ms per party (one list for the one-party scheme) and their p50 over
    every party's jobs; polls and steals per job (tokio-metrics totals over the runtimes, ring
    position 0); for three parties the messages reconciled over the endpoints and the share of
    rounds whose message was not there yet (the task waited: a wake)."""
    d = generate(sc, layout, seed) if parties == 1 else three_party_spec(sc, layout, seed, parties)
    spec = parse_spec(d, d["name"])
    res = simulate(spec, get_profile(sc.runtime.tokio), seed=seed, engine=engine)
    runs = res.parties or [res]
    jobs = [[ns / 1e6 for ns in r.task_latencies.get("hawk_job", [])] for r in runs]
    n_jobs = max(1, len(jobs[0]))
    recs = [rec["runtime"] for recs in res.runtimes.values() for rec in recs]
    out = {"layout": layout, "seed": seed, "parties": parties, "job_ms": jobs,
           "job_p50_ms": percentile([x for js in jobs for x in js], 50),
           "polls_per_job": sum(r.get("total_polls_count", 0) for r in recs) / n_jobs,
           "steals_per_job": sum(r.get("total_steal_count", 0) for r in recs) / n_jobs}
    if res.network is not None:
        out["messages"] = _reconcile(res.network, len(runs))
    return out


def _reconcile(net, n: int) -> dict:
    """Messages sent, arrived and used over every endpoint, and whether every party's sends match
    the next party's arrivals and uses for each session."""
    c = net.counts()
    sent = sum(v[0] for v in c.values())
    arrived = sum(v[1] for v in c.values())
    used = sum(v[2] for v in c.values())
    ok = all(v[0] == c.get(((p + 1) % n, key), (0, 0, 0))[1] == c.get(((p + 1) % n, key), (0, 0, 0))[2]
             for (p, key), v in c.items())
    waited = sum(e.waited for e in net.endpoints.values())
    return {"sent": sent, "arrived": arrived, "used": used, "in_flight": net.in_flight, "reconciled": ok,
            "waited_share": waited / used if used else None}
