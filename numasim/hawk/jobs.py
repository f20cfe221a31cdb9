"""iris-mpc's Hawk job as a workload spec: `generate(scenario, layout) -> spec dict`.

The spec is in the engine's language (docs/machine-workload-api.md): a machine, runtimes with
placements, memory regions, per-eye pinned pools, and task programs made of `io_us` (MPC hop
waits), `spin_us` + `mem` (tokio CPU and memory), `offload` (dot products on the iris pools,
answered through a oneshot: a remote wake) and `spawn` (optionally into another runtime).

What one job (one batch, iris-mpc-hawk.md B.1) does, as tasks:

    request_handler (root)          one batch at a time: repeat `batches`: spawn hawk_job, join
      hawk_job                      cache_into (query reallocation on each eye's pool),
                                    intra-batch tasks, search tasks of both orientations,
                                    is_match on the other eye, job CPU, serial insertion
        search.{o}.{s}              one per (eye, request, base rotation): an HNSW search of
                                    store s (o = normal | mirror; mirror crosses the eyes), a chain
                                    of distance batches: graph reads, dot products fanned out to
                                    pool s (offloads awaited together), then MPC chains (hop
                                    waits + share arithmetic + the network stack's CPU)
        intra.{o}.{s}               intra-batch matching (each request against earlier ones)
        is_match.{o}.{s}            one per (request, base rotation): its one-sided candidates
                                    checked on the other eye's store
        insert.{s}                  HNSW insertion into store s (serial, session 0)

Layouts (`LAYOUTS`): `today` (one runtime floating over the first N CPUs of each node, prod),
`pinned` (one runtime, worker i pinned to CPU i of the same mask), `dual` (one pinned runtime per
node; store s is served by node s's runtime; work on the other eye is spawned into the other
runtime: a remote schedule), `single-node` (runtime, both pools and all memory on node 0).

MPC chains: the messages of each step are the source's constants (numasim/hawk/hops.py); a chain
of m messages waits m x HOPS_PER_MESSAGE one-way hops of `mpc.hop_us`.
Scaling (docs/hawk.md): a chain's hops become `scale.round_groups` waits of their summed latency
(lognormal, cv / sqrt(hops)); a distance batch's dot-product chunks (128 ids each) go out as
`scale.offload_fanout` offloads; HNSW node openings are grouped into distance batches of at least
`min_layer_search_batch` ids, as layer_search_batched_v2 does.

Why one file of ~500 lines: every number of the job (sizes, rounds, costs) feeds `job_steps`
through `plan`, and reading them in one place is how the estimates get checked against
iris-mpc-hawk.md.
"""
from __future__ import annotations

import json
import math
import os
from functools import lru_cache

import numpy as np

from ..errors import SpecError
from . import hops as H
from .scenario import LAYOUTS, Scenario

EYES = ("left", "right")
ORIENTS = ("normal", "mirror")
PREROTATED_QUERY_BYTES = 1_190_000   # 31 rotations of code + mask (B.2: ~793 KB + ~397 KB)
SESSION_STATE_BYTES = 1 << 20         # per MPC session: network buffers, PRF, share vectors (estimate)
GRAPH_BYTES_PER_LINK = 2.5            # Rice-coded delta ids (#2112), bytes per link (estimate)
SEARCH_SETUP_US = 20.0                # a search task's first poll: locks, session, beam set-up
REALLOC_NS_PER_BYTE = 0.1             # numa_realloc: the copy of a prerotated query on the pool thread
OFFLOAD_OVERHEAD_US = 2.0             # a pool job's channel hand-off and reply
REALLOCS_PER_IRIS = 63                # cache_queries: 1 + 62 numa_realloc jobs per iris (iris_worker.rs:827)
INTRA_REQUEST_ORDER = (0, 7, 1, 6, 2, 5, 3, 4)  # range_forward_backward (scheduler.rs:207-211)
BYTES_PER_COMPARED_ITEM = 16.3       # a filter / sort level per item, per party (hawk-source.md section 3)
MSG_PER_COMPARE = H.MSG_FILTER
SESSION_US_PER_MESSAGE = 0.5          # of mpc.wire_us_per_message, the session task's own share (estimate)
SIZING_BYTES_PER_US = 5_000            # a worker's memory stream, for sizing a run only (5 GB/s)
DURATION_MARGIN = 2.0                 # duration_s = this x the expected length of the jobs


# --------------------------------------------------------------------------------------------
# HNSW work per search, from the measured Numba profile scaled to the scenario

@lru_cache(maxsize=1)
def _base_profile():
    from ..kernels.hnsw import SearchProfile
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "hnsw_profile.json")
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return SearchProfile(d["n"], d["m"], d["ef"], np.asarray(d["hops"], dtype=np.int64),
                         np.asarray(d["ndc"], dtype=np.int64))


@lru_cache(maxsize=64)
def search_work(db_size: int, m: int, ef: int) -> tuple[float, float, float]:
    """(mean distance evaluations, mean hops, cv of evaluations) of one search."""
    p = _base_profile().scaled(db_size, m, ef)
    ndc = p.ndc.astype(float)
    return float(ndc.mean()), float(p.hops.mean()), float(ndc.std() / ndc.mean())


# --------------------------------------------------------------------------------------------
# the pieces of a task program

def transfer_us(sc: Scenario, wire_bytes: float) -> float:
    """Time on the wire of `wire_bytes` of one session's messages at `mpc.session_gbps`
    (1 Gbps = 125 bytes per µs); 0 when the scenario leaves bandwidth out."""
    gbps = sc.mpc.session_gbps
    return wire_bytes / (125.0 * gbps) if gbps > 0 else 0.0


def _hop_wait(sc: Scenario, n_hops: float, wire_bytes: float = 0.0) -> dict:
    """The wait of `n_hops` one-way hops in a row that carry `wire_bytes`: the summed latency
    plus the transfer time, lognormal with the latency's spread (cv / sqrt(n) of the latency part;
    the transfer time of a known size does not vary)."""
    lat = sc.mpc.hop_us * n_hops
    mean = lat + transfer_us(sc, wire_bytes)
    cv = sc.mpc.hop_cv / math.sqrt(max(n_hops, 1.0)) * lat / mean
    if cv <= 0:
        return {"dist": "fixed", "mean_us": round(mean, 3)}
    return {"dist": "lognormal", "mean_us": round(mean, 3), "cv": round(cv, 6)}


def chain(sc: Scenario, parts, session_region: str, conn=(0, 1, 1)) -> list:
    """MPC messages back to back on one session: `parts` is [(messages, items, wire_bytes)].
    The chain's critical-path hops (messages x HOPS_PER_MESSAGE) are grouped into round_groups
    waits, each followed by one poll carrying those messages' tokio CPU: share arithmetic per
    item, the multiplexers' fixed cost per message, and TLS + copies per byte on the wire.
    With `mpc.multiplexer_tasks` (the default) each wait is an `mpc_hop` through connection
    `conn` ([first, stride, slots]: see numasim.workload.mux), whose multiplexer tasks carry the
    wire CPU, half on the sending side and half on the receiving one; the session's poll keeps
    its arithmetic and its own share per message. Without, all of it is in the session's poll."""
    msgs = sum(m for m, _, _ in parts)
    if msgs <= 0:
        return []
    mpc = sc.mpc
    k = int(msgs) if sc.scale.round_groups == 0 else max(1, min(sc.scale.round_groups, int(msgs)))
    item_msgs = sum(m * n for m, n, _ in parts)
    wire = sum(b for _, _, b in parts)
    cpu_us = (item_msgs * mpc.cpu_ns_per_item_round + wire * mpc.wire_ns_per_byte) / 1000.0 \
        + msgs * mpc.wire_us_per_message
    nbytes = item_msgs * mpc.bytes_per_item_round
    wait = _hop_wait(sc, H.hops(msgs) / k, wire / k)
    if mpc.multiplexer_tasks:
        wire_us = (wire * mpc.wire_ns_per_byte / 1000.0
                   + msgs * max(mpc.wire_us_per_message - SESSION_US_PER_MESSAGE, 0.0)) / k
        cpu_us -= wire_us * k
        body = [{"mpc_hop": {"us": wait, "send_us": round(wire_us / 2, 3), "recv_us": round(wire_us / 2, 3),
                             "conn": list(conn)}}]
    else:
        body = [{"io_us": wait}]
    if cpu_us > 0:
        body.append({"spin_us": round(cpu_us / k, 3)})
    if nbytes / k >= 1:
        body.append({"mem": {"region": session_region, "bytes": round(nbytes / k), "pattern": "stream"}})
    return [{"repeat": k, "steps": body}] if k > 1 else body


def rounds(sc: Scenario, n_messages: int, items: float, session_region: str, conn=(0, 1, 1)) -> list:
    """A chain of `n_messages` comparison-sized messages over `items` (see `chain`)."""
    return chain(sc, [(n_messages, items, n_messages * items * BYTES_PER_COMPARED_ITEM / MSG_PER_COMPARE)],
                 session_region, conn)


def hop_wait_us(st: dict) -> float:
    """The mean MPC wait of a step (`io_us` or `mpc_hop`), 0 for any other step."""
    if "io_us" in st:
        return _mean_us(st["io_us"])
    if "mpc_hop" in st:
        return _mean_us(st["mpc_hop"]["us"])
    return 0.0


def pool_of(layout: str, eye: int) -> str:
    """The iris pool serving store `eye`: its own, or on single-node one pool for both eyes."""
    return "iris_node0" if layout == "single-node" else f"iris_{EYES[eye]}"


def dot_products(sc: Scenario, eye: int, items: float, cv: float, pool: str | None = None) -> list:
    """The dot products of one distance batch on pool `eye`: `fanout` jobs sent down the pool's
    channel, their oneshot replies awaited together (join_all), as the search task does."""
    chunks = max(1, math.ceil(items / sc.pool.chunk))
    f = chunks if sc.scale.offload_fanout == 0 else max(1, min(sc.scale.offload_fanout, chunks))
    ids = items / f
    us = ids * sc.pool.dot_ns_per_candidate / 1000.0 + OFFLOAD_OVERHEAD_US
    dur = {"dist": "lognormal", "mean_us": round(us, 3), "cv": round(cv, 4)} if cv > 0 else round(us, 3)
    return [{"offload": {"pool": pool or f"iris_{EYES[eye]}", "us": dur,
                         "mem": {"region": f"store_{EYES[eye]}", "bytes": round(ids * sc.pool.bytes_per_candidate),
                                 "pattern": "stream"}},
             "count": f}]


def distance_batch(sc: Scenario, eye: int, items: float, hops: float, cv: float, pool: str | None = None,
                   then=(), conn=(0, 1, 1)) -> list:
    """One batched distance evaluation of `items` candidates: open the nodes (graph reads), dot
    products on the pool, then the MinRotation distance batch's messages and those in `then`
    ([(messages, items)], e.g. the filter and insert_batch_and_trim that follow it) as one chain."""
    e = EYES[eye]
    steps = []
    gbytes = hops * sc.mpc.link_bytes_per_hop
    if gbytes >= 1:
        steps.append({"mem": {"region": f"graph_{e}", "bytes": round(gbytes), "pattern": "random"}})
    steps += dot_products(sc, eye, items, cv, pool)
    parts = [(H.MSG_DISTANCE_BATCH, items, items * sc.mpc.bytes_per_id)]
    parts += [(m, n, m * n * BYTES_PER_COMPARED_ITEM / MSG_PER_COMPARE) for m, n in then if m > 0]
    steps += chain(sc, parts, f"sessions_{e}", conn)
    return steps


def layer0_iterations(sc: Scenario, work: float = 1.0) -> int:
    """Iterations of layer 0's search: the scenario's, or the HNSW profile's evaluations at the
    layer-0 ef over the batch floor (each iteration opens nodes until >= that many new ids)."""
    j = sc.job
    if sc.mpc.layer0_iterations:
        n = sc.mpc.layer0_iterations
    else:
        ndc, _, _ = search_work(j.db_size, j.m, _search_ef(sc))
        n = max(1, round(ndc * work / j.min_layer_search_batch))
    if sc.scale.max_distance_batches and n > sc.scale.max_distance_batches:
        n = sc.scale.max_distance_batches
    return n


def _search_ef(sc: Scenario) -> int:
    """Layer 0's beam, the mean over a group's rotations (the centre runs search_to_insert)."""
    j = sc.job
    rot = j.base_rotations
    return round((j.ef_constr + (rot - 1) * j.ef_search) / rot) if rot > 1 else j.ef_constr


def search_counts(sc: Scenario, work: float = 1.0) -> dict:
    """Messages and critical-path hops of one search (numasim.hawk.hops.search_counts)."""
    m = sc.mpc
    return H.search_counts(sc.job.db_size, layer0_iterations(sc, work), m.layer1_iterations,
                           m.sort_levels_layer0, m.sort_levels_layer0_init,
                           m.sort_levels_layer1, m.sort_levels_layer1_init)


def search_steps(sc: Scenario, eye: int, ef: int, work: float, pool: str | None = None, conn=(0, 1, 1)) -> list:
    """One HNSW search of store `eye` as iris-mpc runs it (hawk-source.md section 2): search_init
    (entry-point scan + argmin), layer 1 (ef 32) and layer 0 (ef `ef`) with layer_search_batched_v2
    (a start, then iterations of distance batch + filter + insert_batch_and_trim), classify_edges.
    `work` scales layer 0's evaluations."""
    j, m = sc.job, sc.mpc
    ndc, ghops, cv = search_work(j.db_size, j.m, ef)
    ndc *= work
    ghops *= work
    i0 = layer0_iterations(sc, work)
    per = ndc / i0
    ep = H.entry_points(j.db_size)
    ef1 = 32
    ids1 = min(H.LAYER1_IDS_PER_ITERATION, j.db_size)
    start0 = min(round(2 * j.m * 0.9), j.db_size)   # M_max0: W's first node's neighbours
    steps = [{"spin_us": SEARCH_SETUP_US}]
    steps += distance_batch(sc, eye, ep, 0, 0.0, pool, conn=conn,
                            then=[(H.MSG_ARGMIN_LEVEL * H.argmin_levels(ep) + H.MSG_OPEN, ep)])
    steps += distance_batch(sc, eye, min(j.m, j.db_size), 1, 0.0, pool, conn=conn,
                            then=[(H.MSG_SORT_LEVEL * m.sort_levels_layer1_init, min(j.m, j.db_size))])
    if m.layer1_iterations:
        steps.append({"repeat": m.layer1_iterations, "steps": distance_batch(
            sc, eye, ids1, 1, 0.0, pool, conn=conn, then=[(H.MSG_FILTER, ids1), (H.MSG_SORT_LEVEL * m.sort_levels_layer1, ef1)])})
    steps += distance_batch(sc, eye, start0, 1, 0.0, pool, conn=conn,
                            then=[(H.MSG_SORT_LEVEL * m.sort_levels_layer0_init, start0)])
    steps.append({"repeat": i0, "steps": distance_batch(
        sc, eye, per, ghops / i0, cv, pool, conn=conn, then=[(H.MSG_FILTER, per), (H.MSG_SORT_LEVEL * m.sort_levels_layer0, ef / 2)])})
    steps += rounds(sc, H.classify_messages(), ef, f"sessions_{EYES[eye]}", conn)
    return steps


# --------------------------------------------------------------------------------------------
# the job

def store_of(orient: str, query_eye: int) -> int:
    """The store a search runs against: its own eye (normal) or the other (mirror)."""
    return query_eye if orient == "normal" else 1 - query_eye


def plan(sc: Scenario) -> dict:
    """Counts of the job: requests per orientation, search tasks and items per task."""
    j = sc.job
    n_mirror = int(round(j.batch_size * j.mirror))
    req = {"normal": j.batch_size, "mirror": n_mirror}
    groups = []
    for o in ORIENTS:
        for qe in (0, 1):
            s = store_of(o, qe)
            items = req[o] * j.base_rotations
            if items == 0 or j.eye_work[s] == 0:
                continue
            sessions = j.request_parallelism * j.base_rotations  # per (eye, orientation, purpose)
            tasks = min(sessions, items)
            per_task = math.ceil(items / tasks)
            groups.append({"orient": o, "query_eye": qe, "store": s, "requests": req[o], "items": items,
                           "tasks": tasks, "per_task": per_task})
    return {"requests": req, "groups": groups}


def _intra_rank(r: int) -> int:
    """Spawn position of request r among the intra-batch tasks (INTRA_REQUEST_ORDER; requests
    past the 8 of a full batch keep their order after them)."""
    return INTRA_REQUEST_ORDER.index(r) if r in INTRA_REQUEST_ORDER else r


def _runtime_of(layout: str, store: int):
    return f"node{store}" if layout == "dual" else None


def _spawn(task, count, join, layout, store, keep=None):
    """A spawn step; `keep` names the handles for a later join_all instead of joining now."""
    st = {"spawn": task, "count": count, "join": join} if keep is None else {"spawn": task, "count": count, "as": keep}
    rt = _runtime_of(layout, store)
    if rt is not None:
        st["runtime"] = rt
    return st


def session_working_set(sc: Scenario, eye: int, ef: int, work: float) -> int:
    """Bytes a search task's first poll on another CPU re-fetches from the old one (the engine's
    refill, charged once per move): the scenario's, or by default the session bytes the mean
    message of the search touches (counted ungrouped, so scale.round_groups does not change it).
    A poll handles one message, and what it needs warm is that message's shares, not the whole
    batch's (704 KB of lifted shares is the largest message's); the refill is linear in bytes,
    so the mean gives the right total over a search's moves."""
    if sc.mpc.session_working_set_bytes:
        return int(sc.mpc.session_working_set_bytes)
    steps = search_steps(sc.replace(**{"scale.round_groups": 0, "mpc.multiplexer_tasks": False}), eye, ef, work)
    acc = {"bytes": 0.0, "waits": 0}

    def walk(sts, mult):
        for st in sts:
            if "repeat" in st:
                walk(st["steps"], mult * st["repeat"])
            elif hop_wait_us(st) or "io_us" in st:
                acc["waits"] += mult
            elif "mem" in st and st["mem"]["region"].startswith("sessions_"):
                acc["bytes"] += mult * float(st["mem"]["bytes"])
    walk(steps, 1)
    return max(int(round(acc["bytes"] / max(acc["waits"], 1))), 1)


def _search_task(sc: Scenario, g: dict, layout: str = "today") -> dict:
    j = sc.job
    s = g["store"]
    work = j.eye_work[s]
    # centre rotation (search_to_insert, ef_constr) and side rotations (ef_search) may differ;
    # one task definition per group, so the beam is the mean over the group's items
    # the slot-k session of store s in every group uses connection 2k + s (hawk-source.md s.6)
    body = search_steps(sc, s, _search_ef(sc), work, pool_of(layout, s), conn=(s, 2, g["tasks"]))
    steps = body if g["per_task"] == 1 else [{"repeat": g["per_task"], "steps": body}]
    ws = session_working_set(sc, s, _search_ef(sc), work)
    return {"name": f"search.{g['orient']}.{EYES[s]}", "steps": steps, "working_set_bytes": ws}


def _mean_us(d) -> float:
    return float(d["mean_us"]) if isinstance(d, dict) else float(d)


def step_costs(steps) -> dict:
    """Mean costs of a step list (dict form), repeats multiplied out: `io` (hop waits), `cpu`
    (tokio spin), `pool_wall` (offloads, a fan-out's jobs in parallel) and `pool_cpu`."""
    out = {"io": 0.0, "cpu": 0.0, "pool_wall": 0.0, "pool_cpu": 0.0}
    for st in steps:
        if "repeat" in st:
            sub = step_costs(st["steps"])
            for k in out:
                out[k] += st["repeat"] * sub[k]
        elif "io_us" in st:
            out["io"] += _mean_us(st["io_us"])
        elif "mpc_hop" in st:
            h = st["mpc_hop"]
            out["io"] += _mean_us(h["us"])
            out["cpu"] += _mean_us(h["send_us"]) + _mean_us(h["recv_us"])
        elif "spin_us" in st:
            out["cpu"] += _mean_us(st["spin_us"])
        elif "mem" in st:
            out["cpu"] += st["mem"]["bytes"] / SIZING_BYTES_PER_US
        elif "offload" in st:
            us = _mean_us(st["offload"]["us"])
            out["pool_wall"] += us
            out["pool_cpu"] += us * st.get("count", 1)
    return out


def _expected_group_us(sc: Scenario, g: dict) -> float:
    """A rough critical path of one search task of the group (orders the spawns, sizes the run)."""
    c = step_costs(_search_task(sc, g)["steps"])
    return c["io"] + c["cpu"] + c["pool_wall"]


def job_steps(sc: Scenario, layout: str) -> list:
    j, mpc = sc.job, sc.mpc
    p = plan(sc)
    steps = [{"spin_us": 50.0}]
    # 1. cache_into: each pool's cache_queries builds the prerotated (and mirrored) queries of all
    #    16 irises inside its future, i.e. on this task, then sends 1 + 62 numa_realloc jobs per
    #    iris round robin to the pool and awaits them all (iris_worker.rs:775-848); both pools hold
    #    every iris ("mirror queries cross eyes")
    irises = j.batch_size * 2
    reallocs = irises * REALLOCS_PER_IRIS
    for e in (0, 1):
        nbytes = j.batch_size * 2 * PREROTATED_QUERY_BYTES
        if j.query_prep_us > 0:
            steps.append({"spin_us": round(irises * j.query_prep_us, 3)})
        steps.append({"offload": {"pool": pool_of(layout, e),
                                  "us": round(nbytes / reallocs * REALLOC_NS_PER_BYTE / 1000.0 + OFFLOAD_OVERHEAD_US, 3),
                                  "mem": {"region": f"queries_{EYES[e]}", "bytes": round(nbytes / reallocs),
                                          "pattern": "stream"}},
                      "count": reallocs})
    # 2. intra-batch tasks, spawned first and awaited with the search results (step 3): per
    #    orientation and eye one task per (request, base rotation) (intra_batch.rs:25-110); the task
    #    of request r compares it with the r earlier requests: r pairwise-distance jobs on the
    #    pool (one oneshot each), then one lift + MinRotation min and one threshold check; the
    #    tasks of request 0 return before any MPC
    for o in ORIENTS:
        n_req = p["requests"][o]
        if n_req < 1:
            continue
        for s in (0, 1):
            tasks = {}
            for r in sorted(range(n_req), key=_intra_rank):
                t = tasks[r] = {"name": f"intra.{o}.{EYES[s]}.r{r}", "steps": [{"spin_us": 10.0}]}
                if r > 0:
                    t["steps"].append({"offload": {
                        "pool": pool_of(layout, s),
                        "us": round(sc.pool.dot_ns_per_candidate / 1000.0 + OFFLOAD_OVERHEAD_US, 3),
                        "mem": {"region": f"queries_{EYES[s]}", "bytes": sc.pool.bytes_per_candidate,
                                "pattern": "stream"}}, "count": r})
                    # slot k = rotation x requests + the request's rank: connection 2k + s
                    t["steps"] += chain(sc, [(H.MSG_DISTANCE_BATCH, r, r * mpc.bytes_per_id),
                                             (H.MSG_THRESHOLD, r, r * BYTES_PER_COMPARED_ITEM)], f"sessions_{EYES[s]}",
                                        conn=(s + 2 * _intra_rank(r), 2 * n_req, j.base_rotations))
            # rotation-major, as parallelize spawns them (slot k: rotation k // 8, request order[k % 8])
            for _rot in range(j.base_rotations):
                steps += [_spawn(tasks[r], 1, False, layout, s, keep="intra") for r in tasks]
    # 3. the searches of both orientations, concurrently: every group is spawned, then all of
    #    them (and the intra-batch tasks) are awaited together, as try_join! and the awaited
    #    intra-batch result do (docs/hawk.md, "Joins")
    for g in p["groups"]:
        steps.append(_spawn(_search_task(sc, g, layout), g["tasks"], False, layout, g["store"], keep="search"))
    if p["groups"]:
        steps.append({"join_all": "search"})
    if any(st.get("as") == "intra" for st in steps):
        steps.append({"join_all": "intra"})
    # 4. is_match_batch (is_match_batch.rs:15-123): per orientation and side one task per
    #    (request, base rotation), each on its own session, comparing that rotation with the
    #    request's one-sided candidates (one distance batch and one threshold check), all awaited
    #    together; both orientations and eyes at once
    ism = [(o, s) for o in ORIENTS for s in (0, 1) if p["requests"][o] and j.is_match_candidates]
    for o, s in ism:
        items = j.is_match_candidates
        n = p["requests"][o] * j.base_rotations
        t = {"name": f"is_match.{o}.{EYES[s]}",
             "steps": distance_batch(sc, s, items, 0, 0.0, pool_of(layout, s), then=[(H.MSG_THRESHOLD, items)],
                                     conn=(s, 2, n))}
        steps.append(_spawn(t, n, False, layout, s, keep="is_match"))
    if ism:
        steps.append({"join_all": "is_match"})
    # 5. decide, anon stats, identity updates
    if j.job_cpu_us > 0:
        steps.append({"spin_us": j.job_cpu_us})
    # 6. insertion, each side in turn on sessions[0] under the write locks: local inserts (no
    #    MPC: store write + graph.apply_new on the task), then one compact_neighborhood_batch
    n_ins = int(round(p["requests"]["normal"] * j.insert_fraction))
    if n_ins:
        for s in (0, 1):
            body = [{"spin_us": j.insert_cpu_us},
                    {"mem": {"region": f"graph_{EYES[s]}", "bytes": int(2 * j.m * GRAPH_BYTES_PER_LINK * j.m / 8),
                             "pattern": "random"}}]
            t_steps = [{"repeat": n_ins, "steps": body}]
            ids = compaction_ids(sc)
            if ids:
                swap = H.compaction_messages() - H.MSG_DISTANCE_BATCH
                # the slot-0 session of eye s (prod: sessions[0]; under dual, each runtime's own)
                t_steps += distance_batch(sc, s, ids, 1, 0.0, pool_of(layout, s), then=[(swap, ids / 2)],
                                          conn=(s, 1, 1))
            t = {"name": f"insert.{EYES[s]}", "steps": t_steps}
            steps.append(_spawn(t, 1, True, layout, s))
    return steps


def compaction_ids(sc: Scenario) -> int:
    """Ids of one side's compaction: each oversized neighbourhood at M_limit0 + 1 members."""
    return sc.job.compaction_neighbourhoods * (round(2 * sc.job.m * 1.1) + 1)


def expected_job_us(sc: Scenario) -> float:
    """A rough estimate of one job's length (sizes the run and the sampling interval): the longest
    search task alone, or the searches' tokio CPU over the workers, or their pool CPU over the pool
    threads, whichever is longest; then is_match and insertion in turn."""
    from ..machine.presets import preset
    j, mpc = sc.job, sc.mpc
    p = plan(sc)
    m = preset(sc.machine)
    workers = 2 * sc.runtime.cores_per_node
    threads = 2 * (sc.pool.threads_per_eye or (len(m.node_cpus[0]) - sc.runtime.cores_per_node))
    crit, cpu, pool = 0.0, 0.0, 0.0
    for g in p["groups"]:
        c = step_costs(_search_task(sc, g)["steps"])
        crit = max(crit, c["io"] + c["cpu"] + c["pool_wall"])
        cpu += g["tasks"] * c["cpu"]
        pool += g["tasks"] * c["pool_cpu"]
    search = max(crit, cpu / workers, pool / threads)
    n_ins = int(round(p["requests"]["normal"] * j.insert_fraction))
    ins = 2 * (n_ins * j.insert_cpu_us + (H.hops(H.compaction_messages()) * mpc.hop_us if n_ins else 0.0))
    is_match = H.hops(H.MSG_DISTANCE_BATCH + H.MSG_THRESHOLD) * mpc.hop_us
    return search + ins + is_match + j.job_cpu_us + 200.0


# --------------------------------------------------------------------------------------------
# layouts: runtimes, pools and regions

def _nodes_needed(layout: str) -> int:
    return 1 if layout == "single-node" else 2


def layout_parts(sc: Scenario, layout: str) -> dict:
    """`runtimes`, `pools` and `regions` of a layout (the top-level keys of the spec)."""
    from ..machine.presets import preset
    if layout not in LAYOUTS:
        raise SpecError("layout", f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    m = preset(sc.machine)
    if m.n_nodes < _nodes_needed(layout) or (layout != "single-node" and m.n_nodes < 2):
        raise SpecError("machine", f"layout {layout} needs a machine with at least 2 nodes ({sc.machine} has {m.n_nodes})")
    n = sc.runtime.cores_per_node
    hz = sc.runtime.migrate_hz
    per_node = [sorted(cs)[:n] for cs in m.node_cpus]
    # eye e's pool and memory live on node e (select_core_ids: shard % nodes), node 0 for single-node
    eye_node = (0, 0) if layout == "single-node" else (0, 1)
    if layout == "today":
        runtimes = [{"name": "main", "workers": 2 * n,
                     "placement": {"kind": "float", "cpus": {"first_per_node": n}, "migrate_hz": hz}}]
    elif layout == "pinned":
        runtimes = [{"name": "main", "workers": 2 * n,
                     "placement": {"kind": "pinned", "cpus": per_node[0] + per_node[1]}}]
    elif layout == "dual":
        runtimes = [{"name": f"node{k}", "workers": n, "placement": {"kind": "pinned", "cpus": per_node[k]}}
                    for k in (0, 1)]
    else:  # single-node: numactl --cpunodebind=0 --membind=0 with the same reservation
        runtimes = [{"name": "main", "workers": n,
                     "placement": {"kind": "node", "node": 0, "cpus": per_node[0], "migrate_hz": hz}}]
    pools = {}
    if layout == "single-node":
        # With one visible node, iris-mpc gives both eyes' pools the same CPUs (node 0's minus the
        # tokio ones: 2 x 64 threads on 64 CPUs). Modelled as one pool of one thread per CPU
        # serving both eyes: the same CPU capacity, one FIFO instead of two queues (pools sharing
        # CPUs work in the engine since a24cd46; two pools would model the per-eye queues too).
        pools["iris_node0"] = {"threads": sc.pool.threads_per_eye or (len(m.node_cpus[0]) - n), "node": 0}
    else:
        for e in (0, 1):
            node = eye_node[e]
            threads = sc.pool.threads_per_eye or (len(m.node_cpus[node]) - n)
            pools[f"iris_{EYES[e]}"] = {"threads": threads, "node": node}

    def place(policy: str, e: int) -> dict:
        if layout == "single-node":
            return {"policy": "bind", "node": 0}
        if policy == "first_touch":
            return {"policy": "first_touch", "node": eye_node[e]}
        if policy == "node0":
            return {"policy": "first_touch", "node": 0}
        return {"policy": "interleave"}

    j = sc.job
    state_policy = sc.memory.tokio_state
    if state_policy == "auto":
        # first touch by the runtime that owns the state: one runtime over both nodes spreads it
        state_policy = "first_touch" if layout == "dual" else "interleave"
    regions = {}
    for e in (0, 1):
        E = EYES[e]
        regions[f"store_{E}"] = dict(bytes=float(j.db_size) * sc.pool.bytes_per_candidate, **place(sc.memory.stores, e))
        regions[f"queries_{E}"] = dict(bytes=float(j.batch_size * 2 * PREROTATED_QUERY_BYTES),
                                       **place("first_touch", e))
        regions[f"graph_{E}"] = dict(bytes=float(j.db_size) * 2 * j.m * GRAPH_BYTES_PER_LINK, **place(state_policy, e))
        regions[f"sessions_{E}"] = dict(bytes=float(sc.sessions // 2 * SESSION_STATE_BYTES), **place(state_policy, e))
    return {"runtimes": runtimes, "pools": pools, "regions": regions}


def sample_interval_ms(sc: Scenario) -> float:
    if sc.sample_interval_ms > 0:
        return sc.sample_interval_ms
    total_ms = sc.job.batches * expected_job_us(sc) / 1000.0
    # about 24 samples over the run, so the steal/latency correlation has >= 8 intervals
    return max(1.0, round(total_ms / 24.0, 1))


def generate(sc: Scenario, layout: str, seed: int = 1) -> dict:
    """The spec dict of scenario `sc` under `layout`."""
    parts = layout_parts(sc, layout)
    handler_rt = "node0" if layout == "dual" else None
    job = {"name": "hawk_job", "steps": job_steps(sc, layout)}
    handler = {"name": "request_handler", "steps": [{"repeat": sc.job.batches, "steps": [
        {"spawn": job, "count": 1, "join": True}]}]}
    src = {"kind": "root", "task": handler}
    if handler_rt:
        src["runtime"] = handler_rt
    total_s = sc.job.batches * expected_job_us(sc) / 1e6
    spec = {
        "name": f"{sc.name}/{layout}",
        "description": f"iris-mpc Hawk job, layout {layout} (numasim.hawk.jobs)",
        "machine": {"preset": sc.machine},
        **parts,
        # the source submits once at t=0 and the engine drains for at most 5 s after duration_s,
        # so duration_s is the expected length of the jobs with a margin; the idle tail after
        # the last job is cut off before any figure is computed (run_layout)
        "duration_s": round(max(DURATION_MARGIN * total_s, 0.001), 6),
        "sample_interval_ms": sample_interval_ms(sc),
        "seed": int(seed),
        "sources": [src],
    }
    if sc.memory.remote_penalty is not None:
        spec["remote_penalty"] = sc.memory.remote_penalty
    if sc.mpc.multiplexer_tasks:
        spec["multiplexer"] = {"working_set_bytes": int(sc.mpc.multiplexer_working_set_bytes)}
    return spec


def validate(spec: dict):
    """Parse the spec with the engine's parser (raises SpecError naming the field)."""
    from ..spec import parse_spec
    return parse_spec(spec, spec.get("name", "<hawk>"))


def job_hops(sc: Scenario) -> dict:
    """The job's MPC chain as the model carries it: messages and hops of one search (eye work 1),
    and the critical-path hops of one job (a search, the is_match check, both sides' compactions
    in turn), with the hop wait they add at the scenario's one-way latency."""
    c = search_counts(sc)
    n_ins = int(round(plan(sc)["requests"]["normal"] * sc.job.insert_fraction))
    crit = c["hops"] + H.hops(H.MSG_DISTANCE_BATCH + H.MSG_THRESHOLD) \
        + (2 * H.hops(H.compaction_messages()) if n_ins else 0.0)
    return {"messages_per_search": c["messages"], "hops_per_search": c["hops"], "per_phase": c,
            "critical_hops_per_job": crit, "critical_hop_wait_ms": crit * sc.mpc.hop_us / 1000.0}
