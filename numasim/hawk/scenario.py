"""A Hawk scenario: every size and cost of iris-mpc's Hawk job as one frozen, validated object.

    sc = load_scenario("hawk.toml")           # or parse_scenario(dict, "where"), default_scenario()
    sc = sc.replace(**{"job.batch_size": 32})  # dotted overrides, re-validated
    sc.to_dict()                               # back to the TOML shape (JSON-able, hashable)

Defaults are prod's (hawk-source.md sections 1-2: M = 320, ef 480 at layer 0, ef_constr = 480,
batch 8, 20 M irises per eye, 3 base rotations, 11 MinRotation rotations, request parallelism 96,
32 tokio CPUs per node on an x8g.48xlarge). Figures marked "estimate" in docs/hawk.md are read off
the code or guessed, not measured: change them here, not in the generator.

Errors are `SpecError("file: section.field", what was expected)`, one line in the CLI.
"""
from __future__ import annotations

import copy
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import SpecError

LAYOUTS = ("today", "pinned", "dual", "single-node")
STORE_POLICIES = ("first_touch", "interleave", "node0")


@dataclass(frozen=True)
class Job:
    """The Hawk job (iris-mpc-hawk.md B.1, B.2)."""
    batch_size: int = 8                 # MAX_BATCH_SIZE (prod)
    batches: int = 3                    # jobs run one after another (one batch at a time)
    db_size: int = 20_000_000           # MAX_DB_SIZE (prod), irises per eye
    m: int = 320                        # M (prod)
    ef_search: int = 480                # EF_SEARCH is 320, but EF_SEARCH_LAYERS_OVERRIDE [480, 32] sets
                                        # layer 0's ef to 480 for every rotation (hawk-source.md section 2)
    ef_constr: int = 480                # EF_CONSTR (prod), the centre rotation's search_to_insert
    base_rotations: int = 3             # CENTER_AND_10_MASK: {-10, 0, +10}
    min_dist_rotations: int = 11        # HAWK_MIN_DIST_ROTATIONS (oblivious min over ±5)
    request_parallelism: int = 96       # HAWK_REQUEST_PARALLELISM (prod): sessions = 24 x this
    min_layer_search_batch: int = 8000  # MIN_LAYER_SEARCH_BATCH_SIZE (prod)
    mirror: float = 1.0                 # share of requests that also run the Mirror search (prod: all)
    eye_work: tuple = (1.0, 1.0)        # relative search work of (left, right) stores
    insert_fraction: float = 1.0        # share of requests inserted (serial, session[0])
    insert_cpu_us: float = 300.0        # graph.apply_new per insert, on the task (estimate, 100-2000)
    compaction_neighbourhoods: int = 20  # oversized neighbourhoods compacted per side per job (estimate, 5-40)
    is_match_candidates: int = 4        # one-sided candidates checked on the other eye per request (estimate)
    job_cpu_us: float = 300.0           # decide, anon stats, identity updates: CPU in the job task (estimate)
    query_prep_us: float = 500.0        # cache_queries on the handler task, per iris and pool: preprocess +
                                        # 2 x 31 rotations, ~2.4 MB written (hawk-source.md s.2; estimate 200-2000)


@dataclass(frozen=True)
class Mpc:
    """The MPC chain: one-way hop latency, and what the source leaves to the data (search
    iterations, quicksort levels). Messages per building block are the source's constants
    (numasim/hawk/hops.py); docs/hawk.md's estimates table gives every range."""
    hop_us: float = 50.0                # one-way network latency of a hop, intra-AZ (qperf; hawk-source.md s.7)
    hop_cv: float = 0.3                 # its coefficient of variation (lognormal; estimate)
    layer0_iterations: int = 4          # layer_search_batched_v2 iterations at layer 0 (search_depth): the
                                        # batched search on the HNSW grid, extrapolated to prod (docs/hawk.md,
                                        # "HNSW search length at prod size"; 3-5); 0: evaluations / 8000
    layer1_iterations: int = 4          # at layer 1 (ef 32; estimate 2-6)
    sort_levels_layer0: float = 12.5    # quicksort levels per insert_batch_and_trim, layer-0 iteration (10-16)
    sort_levels_layer0_init: float = 17.0  # layer-0 start (14-24)
    sort_levels_layer1: float = 9.5     # layer-1 iteration (7-12)
    sort_levels_layer1_init: float = 12.0  # layer-1 start (9-17)
    cpu_ns_per_item_round: float = 40.0  # share arithmetic per batch item per message (estimate)
    bytes_per_item_round: float = 96.0  # session-state bytes per item per message (u32 shares x rotations)
    link_bytes_per_hop: int = 1_600     # Rice-coded neighbour list read per graph hop (estimate; raw 2M x 4 B)
    wire_us_per_message: float = 6.5    # tokio CPU per message besides arithmetic: sender multiplexer 3 +
                                        # receiver multiplexer 3 + session 0.5 (estimates, 2-22)
    wire_ns_per_byte: float = 1.5       # TLS 0.25 + kernel copies 0.3 + (de)serialise 0.2, each way (0.8-3.6)
    bytes_per_id: float = 600.0         # bytes sent per party per evaluated id in a distance batch (derived)
    session_gbps: float = 2.5           # wire bandwidth of one session's messages: a TCP flow's 5 Gbps cap
                                        # (AWS, outside a placement group) over the 2 sessions per active
                                        # connection (hawk-source.md s.6-7); 0.52 if the 50 Gbps NIC were
                                        # fair-shared by all 48 active flows x 2; 0: no transfer time
    session_working_set_bytes: int = 0  # what a search task's first poll on another CPU re-fetches from the
                                        # old one (the engine's refill); 0: the session bytes of the mean
                                        # message (derived, 128 KB at prod; estimate 64-704 KB)
    multiplexer_tasks: bool = True      # true: each message goes through its connection's long-lived
                                        # multiplexer tasks (mpc_hop: a sending and a receiving poll around
                                        # the hop, carrying the wire CPU), as iris-mpc runs it; false: that
                                        # CPU in the session's poll (an option, ~1/3 cheaper to run)
    multiplexer_working_set_bytes: int = 16_384  # what a multiplexer task's first poll on another CPU re-fetches
                                        # (its TLS state and the tail of its 8 KiB read / 32 KiB write
                                        # buffers; estimate 8-64 KB)


@dataclass(frozen=True)
class Pool:
    """Per-eye iris worker pools (B.4), pinned to the eye's node."""
    threads_per_eye: int = 0            # 0: the node's CPUs minus the tokio CPUs (64 on prod)
    chunk: int = 128                    # ROT_AWARE_BATCH_CHUNK_SIZE
    dot_ns_per_candidate: float = 2500.0  # compute of 11 rotations x 19,200 u16 MACs (estimate)
    bytes_per_candidate: int = 38_400   # one iris share per eye (code + mask)


@dataclass(frozen=True)
class Runtime:
    cores_per_node: int = 32            # SEPARATE_TOKIO_CORES_PER_NODE (prod)
    migrate_hz: float = 50.0            # how often the OS moves a floating worker (layout "today")
    tokio: str = "1.49"                 # iris-mpc pins tokio =1.49


@dataclass(frozen=True)
class Memory:
    stores: str = "first_touch"         # first_touch: pool threads touch their eye's store (HAWK_NUMA);
                                        # interleave; node0: both stores on node 0 (loaded there)
    tokio_state: str = "auto"           # graph + sessions: auto = first touch by the runtime that owns
                                        # them (spread over both nodes for one runtime); or as `stores`
    remote_penalty: float | None = None  # None: the machine's figures; 1.0: remote costs what local does


@dataclass(frozen=True)
class Scale:
    """How the simulation groups steps so a run stays fast (docs/hawk.md, "Scaling")."""
    round_groups: int = 0               # 0: every message its own wait and wake (iris-mpc's way); k >= 1
                                        # groups each chain into k waits of summed hops, a faster run
                                        # whose effect on each figure docs/hawk.md states
    offload_fanout: int = 0             # 0: every 128-id chunk its own pool job and oneshot reply (iris-mpc's
                                        # way: 63 per 8000 ids); f >= 1 sends each distance batch as f jobs
    max_distance_batches: int = 0       # 0: no cap; else cap per search (work per batch scaled up)


@dataclass(frozen=True)
class Scenario:
    name: str = "hawk-prod"
    description: str = ""
    machine: str = "graviton4-2node"
    layouts: tuple = LAYOUTS
    seeds: int = 5
    sample_interval_ms: float = 0.0     # 0: chosen from the expected job length (>= 8 samples per run)
    job: Job = field(default_factory=Job)
    mpc: Mpc = field(default_factory=Mpc)
    pool: Pool = field(default_factory=Pool)
    runtime: Runtime = field(default_factory=Runtime)
    memory: Memory = field(default_factory=Memory)
    scale: Scale = field(default_factory=Scale)

    # ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["layouts"] = list(self.layouts)
        d["job"]["eye_work"] = list(self.job.eye_work)
        if d["memory"]["remote_penalty"] is None:
            del d["memory"]["remote_penalty"]
        return d

    def replace(self, **dotted) -> "Scenario":
        """A copy with `section.field` (or top-level) values replaced, validated again."""
        d = self.to_dict()
        for path, v in dotted.items():
            cur = d
            parts = path.split(".")
            for p in parts[:-1]:
                if p not in cur or not isinstance(cur[p], dict):
                    raise SpecError(f"override {path}", f"no section {p!r}")
                cur = cur[p]
            cur[parts[-1]] = v
        return parse_scenario(d, f"{self.name} (overridden)")

    @property
    def sessions(self) -> int:
        """N_SESSIONS_PER_REQUEST (24) x request_parallelism."""
        return 2 * 2 * 2 * self.job.base_rotations * self.job.request_parallelism


_SECTIONS = {"job": Job, "mpc": Mpc, "pool": Pool, "runtime": Runtime, "memory": Memory, "scale": Scale}
_TOP = ("name", "description", "machine", "layouts", "seeds", "sample_interval_ms")


def _fail(where, path, what):
    raise SpecError(f"{where}: {path}" if path else where, what)


def _check_value(where, path, default, v):
    """Coerce v to the type of the default; integers must be integral."""
    if isinstance(default, bool):
        if not isinstance(v, bool):
            _fail(where, path, f"expected true or false, got {v!r}")
        return v
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer():
            _fail(where, path, f"expected an integer, got {v!r}")
        if v < 0:
            _fail(where, path, f"expected a non-negative integer, got {v}")
        return int(v)
    if isinstance(default, float) or default is None:
        if v is None and default is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            _fail(where, path, f"expected a number, got {v!r}")
        if v < 0:
            _fail(where, path, f"expected a non-negative number, got {v}")
        return float(v)
    if isinstance(default, str):
        if not isinstance(v, str):
            _fail(where, path, f"expected a string, got {v!r}")
        return v
    if isinstance(default, tuple):
        if not isinstance(v, (list, tuple)):
            _fail(where, path, f"expected a list, got {v!r}")
        return tuple(v)
    return v  # pragma: no cover


def parse_scenario(obj: Any, where: str = "<scenario>") -> Scenario:
    """Validate a decoded TOML/JSON scenario; unknown keys and bad values name their path."""
    if not isinstance(obj, dict):
        _fail(where, "", "expected a table at the top level")
    extra = sorted(set(obj) - set(_TOP) - set(_SECTIONS))
    if extra:
        _fail(where, extra[0], f"unknown key (allowed: {', '.join(_TOP + tuple(_SECTIONS))})")
    base = Scenario()
    top = {}
    for k in _TOP:
        if k in obj:
            top[k] = _check_value(where, k, getattr(base, k), obj[k])
    secs = {}
    for sec, cls in _SECTIONS.items():
        t = obj.get(sec, {})
        if not isinstance(t, dict):
            _fail(where, sec, "expected a table")
        d0 = cls()
        names = [f.name for f in fields(cls)]
        bad = sorted(set(t) - set(names))
        if bad:
            _fail(where, f"{sec}.{bad[0]}", f"unknown field (allowed: {', '.join(names)})")
        vals = {k: _check_value(where, f"{sec}.{k}", getattr(d0, k), v) for k, v in t.items()}
        secs[sec] = replace(d0, **vals)
    sc = replace(base, **top, **secs)
    _validate(sc, where)
    return sc


def _validate(sc: Scenario, where: str) -> None:
    j, p = sc.job, sc.pool
    for name in sc.layouts:
        if name not in LAYOUTS:
            _fail(where, "layouts", f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})")
    if not sc.layouts:
        _fail(where, "layouts", "expected at least one layout")
    if len(set(sc.layouts)) != len(sc.layouts):
        _fail(where, "layouts", "a layout is listed twice")
    if sc.seeds < 1:
        _fail(where, "seeds", "expected at least 1 seed")
    for k in ("batch_size", "batches", "base_rotations", "min_dist_rotations", "request_parallelism",
              "min_layer_search_batch"):
        if getattr(j, k) < 1:
            _fail(where, f"job.{k}", "expected at least 1")
    if j.db_size < 2 or j.m < 2 or j.ef_search < 1 or j.ef_constr < 1:
        _fail(where, "job", "need db_size >= 2, m >= 2, ef_search >= 1, ef_constr >= 1")
    if not 0.0 <= j.mirror <= 1.0:
        _fail(where, "job.mirror", f"expected a share between 0 and 1, got {j.mirror}")
    if j.query_prep_us < 0:
        _fail(where, "job.query_prep_us", "expected a CPU time in µs >= 0")
    if not 0.0 <= j.insert_fraction <= 1.0:
        _fail(where, "job.insert_fraction", f"expected a share between 0 and 1, got {j.insert_fraction}")
    if len(j.eye_work) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 for x in j.eye_work) \
            or sum(j.eye_work) <= 0:
        _fail(where, "job.eye_work", "expected two non-negative numbers [left, right], not both 0")
    if p.chunk < 1:
        _fail(where, "pool.chunk", "expected at least 1")
    if sc.mpc.multiplexer_working_set_bytes < 0:
        _fail(where, "mpc.multiplexer_working_set_bytes", "expected bytes >= 0")
    if sc.mpc.session_working_set_bytes < 0:
        _fail(where, "mpc.session_working_set_bytes", "expected bytes >= 0 (0: one batch of lifted shares)")
    if sc.mpc.session_gbps < 0:
        _fail(where, "mpc.session_gbps", "expected a bandwidth in Gbps >= 0 (0: no transfer time)")
    if sc.mpc.hop_us <= 0:
        _fail(where, "mpc.hop_us", "expected a positive one-way hop latency (µs)")
    if sc.runtime.cores_per_node < 1:
        _fail(where, "runtime.cores_per_node", "expected at least 1")
    if sc.memory.stores not in STORE_POLICIES:
        _fail(where, "memory.stores", f"expected one of {', '.join(STORE_POLICIES)}")
    if sc.memory.tokio_state not in ("auto",) + STORE_POLICIES:
        _fail(where, "memory.tokio_state", f"expected auto or one of {', '.join(STORE_POLICIES)}")
    if sc.scale.round_groups < 0 or sc.scale.offload_fanout < 0:
        _fail(where, "scale", "round_groups must be 0 (every message its own wait) or more, and offload_fanout 0 (every chunk its own job) or more")
    try:
        from ..machine.presets import preset
        m = preset(sc.machine)
    except (KeyError, ValueError) as e:
        _fail(where, "machine", f"unknown machine preset {sc.machine!r} ({e})")
    except Exception as e:  # a UserError from the preset table
        _fail(where, "machine", str(e))
    if sc.runtime.cores_per_node >= min(len(c) for c in m.node_cpus):
        _fail(where, "runtime.cores_per_node", "must leave CPUs on each node for the iris worker pool")


def default_scenario() -> Scenario:
    """The packaged default: Hawk on graviton4-2node with prod's sizes (numasim/data/hawk-default.toml)."""
    return load_scenario(default_path())


def default_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "hawk-default.toml")


def load_scenario(path: str) -> Scenario:
    from ..spec import read_toml
    obj = read_toml(path)
    if not obj:
        # an empty file would silently run the whole prod default: say so instead
        raise SpecError(path, "empty scenario; give the keys to change (numasim/data/hawk-default.toml lists "
                              "them all), or use `numasim run` for the default")
    if "name" not in obj:
        obj = dict(obj, name=os.path.splitext(os.path.basename(path))[0])
    return parse_scenario(obj, path)


def from_dict(d: dict) -> Scenario:
    """Round trip of `Scenario.to_dict()` (for payloads shipped to sweep workers)."""
    return parse_scenario(copy.deepcopy(d), "<scenario>")
