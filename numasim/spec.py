"""The workload language: parse and validate a spec into frozen dataclasses.

The language is the one of `../shared/fidelity/README.md` (sources `external` and `root`; steps
`spin_us`, `yield`, `sleep_us`, `spawn`/`count`/`join`, `repeat`, `loop_until_end`), extended with:

* `{"io_us": D}`: wait on an I/O resource that becomes ready after D; the readiness is delivered
  by whichever worker next polls the I/O driver, as in tokio;
* `{"mpc_round": {"us": D}}`: one ring round of an MPC protocol between parties (needs top-level
  `parties`): the task sends this round's message to the task of the same place in the spawn tree
  on the next party, delivered after the one-way latency D through that party's I/O driver, and
  waits for the same round's message from the previous party (one kept early is used at once);
* `{"mpc_hop": {"us": D, "send_us": A, "recv_us": B, "conn": [first, stride, slots]}}`: one MPC
  message through a connection's long-lived multiplexer tasks (numasim.workload.mux): the sending
  one writes it (A of CPU), the previous party's message reaches the receiving one D after the
  write, which reads it (B) and wakes the task; with `parties`, the write goes to the next party;
* `{"spawn_blocking_us": D, "join": true}`: `tokio::task::spawn_blocking` of D of blocking work;
* `{"spawn": T, "count": N, "as": "name"}` keeps the JoinHandles under a name and
  `{"join_all": "name"}` awaits all of them later (a join over different task definitions);
* any duration may be a distribution instead of a number:
  `{"dist": "lognormal", "mean_us": 20, "cv": 0.5}`, `{"dist": "exponential", "mean_us": 20}`,
  `{"dist": "uniform", "low_us": 10, "high_us": 30}` or `{"dist": "fixed", "mean_us": 20}`.

top-level `parties`: `3` (or a list of per-party objects `{"stream": i, "spin_scale": s}`) runs
the spec's machine, runtimes, pools, regions and sources once per party in one simulation, joined
only by `mpc_round` messages (party p sends to (p + 1) mod n); each party draws its costs from its
own stream (`stream`, default its position), and `spin_scale` multiplies its tasks' `spin_us`;

top-level `multiplexer`: `{"working_set_bytes": N}`, what a connection's multiplexer task
re-fetches after a move to another CPU (default 16384, as any task);

and, for a NUMA machine (docs/machine-workload-api.md): top-level `machine`, `remote_penalty`,
`runtimes` (placements `float`, `pinned`, `node`; `cpus` or `{"first_per_node": n}`), `regions`
and `pools`; steps `{"mem": ...}` and `{"offload": ...}`; `"runtime"` on `spawn` steps and on
sources; `"working_set_bytes"` on a task.

Every error names the file and the field path (`sources[0].task.steps[2].sleep_us`) and says
what was expected.

Why one file of ~750 lines: the language is one grammar; each step, source, runtime, region and
pool parser reports errors through the same context (file, field path), and the frozen
dataclasses sit beside the parser that fills them.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .errors import SpecError

US = 1000  # ns per µs: the model keeps integer nanoseconds, specs speak µs


@dataclass(frozen=True)
class Dist:
    """A duration distribution, in ns. `kind` is fixed, lognormal, exponential or uniform."""

    kind: str
    mean_ns: float
    cv: float = 0.0
    low_ns: float = 0.0
    high_ns: float = 0.0

    @property
    def is_fixed(self) -> bool:
        return self.kind == "fixed"

    def sample(self, rng) -> int:
        """One draw in integer ns from a numpy Generator."""
        if self.kind == "fixed":
            return int(round(self.mean_ns))
        if self.kind == "exponential":
            return int(round(rng.exponential(self.mean_ns)))
        if self.kind == "uniform":
            return int(round(rng.uniform(self.low_ns, self.high_ns)))
        if self.mean_ns <= 0:
            return 0
        return int(round(rng.lognormal(*self.lognormal_params())))

    def lognormal_params(self):
        """(mu, sigma) of the lognormal with the given mean and coefficient of variation (the
        compiled engine's draws read them here too)."""
        s2 = math.log1p(self.cv * self.cv)
        return math.log(self.mean_ns) - s2 / 2, math.sqrt(s2)


def fixed(us: float) -> Dist:
    return Dist("fixed", us * US)


@dataclass(frozen=True)
class Spin:
    dur: Dist


@dataclass(frozen=True)
class Yield:
    pass


@dataclass(frozen=True)
class Sleep:
    dur: Dist


@dataclass(frozen=True)
class IoWait:
    dur: Dist


@dataclass(frozen=True)
class MpcRound:
    """Send this round's message to the next party's task of the same spawn-tree key (one-way
    latency `dur`), then await the same round's message from the previous party."""

    dur: Dist


@dataclass(frozen=True)
class MpcHop:
    """One MPC message through the session's connection (ampc-common's multiplexer): the task
    sends it down the connection's channel, which wakes the sending multiplexer task; that task
    writes it (`send` of CPU); the previous party's message for this session reaches the
    receiving multiplexer's socket `dur` after the write, through the I/O driver; that task reads
    it (`recv` of CPU) and wakes the session, which awaits it. The connection is
    `first + stride * (slot % slots)`, `slot` being the task's place among the tasks of its name
    in spawn order (iris-mpc deals sessions to tasks by position, and session i uses connection
    i % connections)."""

    dur: Dist
    send: Dist
    recv: Dist
    first: int
    stride: int
    slots: int


@dataclass(frozen=True)
class PartySpec:
    """One party (machine) of a multi-party run: the random stream its draws come from (a
    relabelled run gives a machine its stream wherever it sits in the ring) and a factor on its
    tasks' spin_us (a slower or busier machine)."""

    stream: int
    spin_scale: float = 1.0


@dataclass(frozen=True)
class SpawnBlocking:
    dur: Dist
    join: bool = True


@dataclass(frozen=True)
class Spawn:
    task: "TaskDef"
    count: int = 1
    join: bool = True
    runtime: Optional[str] = None  # None: the spawning task's own runtime
    name: Optional[str] = None  # "as": keep the JoinHandles under this name for a later join


@dataclass(frozen=True)
class Join:
    """Await every JoinHandle kept under `name` by earlier spawns of this task, in spawn order
    (a join_all over task definitions that differ)."""

    name: str


@dataclass(frozen=True)
class Mem:
    """Read `nbytes` (a Dist in bytes, kept in its `*_ns` fields) of a region inside the poll."""

    region: str
    nbytes: Dist
    pattern: str  # "random" (dependent reads) or "stream" (bandwidth bound)


@dataclass(frozen=True)
class Offload:
    """Hand a job to a pinned pool and await its oneshot reply."""

    pool: str
    dur: Dist
    mem: Optional[Mem] = None
    count: int = 1  # jobs sent one after another, each awaited through its own oneshot
    name: Optional[str] = None  # "as": keep the oneshots for a later join_all instead of awaiting now


@dataclass(frozen=True)
class Repeat:
    n: int
    steps: tuple


@dataclass(frozen=True)
class LoopUntilEnd:
    steps: tuple


Step = Union[Spin, Yield, Sleep, IoWait, MpcRound, SpawnBlocking, Spawn, Repeat, LoopUntilEnd, Mem, Offload]

# What a task re-reads on its first poll on another CPU, unless the task says otherwise.
DEFAULT_WORKING_SET_BYTES = 16_384


@dataclass(frozen=True)
class TaskDef:
    name: str
    steps: tuple
    working_set_bytes: int = DEFAULT_WORKING_SET_BYTES


@dataclass(frozen=True)
class External:
    interval: Dist  # the mean gap; `arrival` decides fixed or exponential gaps
    arrival: str
    task: TaskDef
    runtime: Optional[str] = None  # None: the first runtime


@dataclass(frozen=True)
class Root:
    task: TaskDef
    runtime: Optional[str] = None


@dataclass(frozen=True)
class Placement:
    """Where a runtime's workers run. kind: "float" (anywhere in `cpus`, moved by the OS at
    `migrate_hz`), "pinned" (worker i on cpus[i]) or "node" (float inside one node's `cpus`).
    `cpus` is resolved against the machine (never empty)."""

    kind: str
    cpus: tuple
    node: Optional[int] = None
    migrate_hz: float = 100.0


@dataclass(frozen=True)
class RuntimeSpec:
    name: str
    workers: int
    placement: Optional[Placement] = None  # None: no machine, the host's flat CPUs
    global_queue_interval: Optional[int] = None
    event_interval: int = 61


@dataclass(frozen=True)
class RegionSpec:
    """A memory region; `frac` is its page fraction per node index (from the policy)."""

    name: str
    nbytes: int
    policy: str
    frac: tuple


@dataclass(frozen=True)
class PoolSpec:
    """A pinned std::thread pool fed by a channel: thread i pinned to cpus[i]."""

    name: str
    threads: int
    node: int
    cpus: tuple


@dataclass(frozen=True)
class Spec:
    name: str
    workers: int
    duration_ns: int
    sample_interval_ns: int
    seed: int
    sources: tuple
    global_queue_interval: Optional[int] = None  # None: the version's default (fixed 61 or self-tuned)
    event_interval: int = 61
    slow_poll_threshold_ns: int = 50 * US
    long_delay_threshold_ns: int = 50 * US
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    # NUMA extension; with none of these the spec runs exactly as before
    runtimes: tuple = ()  # RuntimeSpec, the first is the one the tokio-probe/1 records describe
    machine: Any = field(default=None, compare=False, repr=False)  # a numasim.machine.Machine
    remote_penalty: Optional[float] = None  # None: the machine's own remote figures
    regions: tuple = ()  # RegionSpec
    pools: tuple = ()  # PoolSpec
    # parties: () one party, as before; else one PartySpec per ring position (mpc_round steps)
    parties: tuple = ()
    # top-level `multiplexer`: what a connection's multiplexer task re-fetches after a move
    multiplexer_working_set_bytes: int = DEFAULT_WORKING_SET_BYTES

    def task_names(self) -> list:
        """Every task name, in first-seen order; the connections' `multiplexer` tasks last, when
        a task sends `mpc_hop` messages."""
        out: list = []
        hops = []

        def walk_task(t: TaskDef):
            if t.name not in out:
                out.append(t.name)
            walk(t.steps)

        def walk(steps):
            for s in steps:
                if isinstance(s, Spawn):
                    walk_task(s.task)
                elif isinstance(s, (Repeat, LoopUntilEnd)):
                    walk(s.steps)
                elif isinstance(s, MpcHop):
                    hops.append(s)

        for src in self.sources:
            walk_task(src.task)
        if hops and MULTIPLEXER not in out:
            out.append(MULTIPLEXER)
        return out


class _Ctx:
    def __init__(self, file: str):
        self.file = file
        # names a step may refer to, known once the top-level keys are parsed
        self.runtimes: tuple = ()
        self.regions: tuple = ()
        self.pools: tuple = ()
        self.parties = 0

    def fail(self, path: str, what: str):
        raise SpecError(f"{self.file}: {path}" if path else self.file, what)


def _num(ctx, v, path, *, lo=0.0, integer=False, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        ctx.fail(path, f"expected a number, got {json.dumps(v)[:40]}")
    if integer and (not float(v).is_integer()):
        ctx.fail(path, f"expected an integer, got {v}")
    if v < lo or (positive and v <= 0):
        if integer and (positive or lo == 1):
            what = "a positive integer"
        elif lo == 0:
            what = f"a {'positive' if positive else 'non-negative'} {'integer' if integer else 'number'}"
        else:
            what = f"{'an integer' if integer else 'a number'} >= {lo:g}"
        ctx.fail(path, f"expected {what}, got {v}")
    return int(v) if integer else float(v)


def _dist(ctx, v, path, *, positive=False, suffix="_us", scale=US) -> Dist:
    """A duration in µs: a number, or a distribution object. With suffix "" and scale 1, a
    quantity in bytes (`mean`, `low`, `high`)."""
    mean_k, low_k, high_k = f"mean{suffix}", f"low{suffix}", f"high{suffix}"
    if isinstance(v, dict):
        kind = v.get("dist")
        known = ("fixed", "lognormal", "exponential", "uniform")
        if kind not in known:
            ctx.fail(f"{path}.dist", f"expected one of {', '.join(known)}, got {json.dumps(kind)}")
        allowed = {"dist", mean_k, "cv", low_k, high_k}
        extra = sorted(set(v) - allowed)
        if extra:
            ctx.fail(f"{path}.{extra[0]}", "unknown field in a distribution")
        if kind == "uniform":
            lo = _num(ctx, v.get(low_k), f"{path}.{low_k}")
            hi = _num(ctx, v.get(high_k), f"{path}.{high_k}")
            if hi < lo:
                ctx.fail(f"{path}.{high_k}", f"expected {high_k} >= {low_k} ({lo}), got {hi}")
            return Dist("uniform", (lo + hi) / 2 * scale, low_ns=lo * scale, high_ns=hi * scale)
        if mean_k not in v:
            ctx.fail(f"{path}.{mean_k}", f"missing: a distribution needs {mean_k}")
        mean = _num(ctx, v[mean_k], f"{path}.{mean_k}", positive=positive)
        cv = 0.0
        if kind == "lognormal":
            if "cv" not in v:
                ctx.fail(f"{path}.cv", "missing: a lognormal needs cv")
            cv = _num(ctx, v["cv"], f"{path}.cv")
        return Dist(kind, mean * scale, cv=cv)
    return Dist("fixed", _num(ctx, v, path, positive=positive) * scale)


_STEP_KEYS = ("spin_us", "yield", "sleep_us", "io_us", "mpc_round", "mpc_hop", "spawn_blocking_us", "spawn", "repeat", "loop_until_end",
              "mem", "offload", "join_all")


def _steps(ctx, v, path) -> tuple:
    if not isinstance(v, list):
        ctx.fail(path, "expected a list of steps")
    return tuple(_step(ctx, s, f"{path}[{i}]") for i, s in enumerate(v))


def _only(ctx, s, path, allowed):
    extra = sorted(set(s) - set(allowed))
    if extra:
        ctx.fail(f"{path}.{extra[0]}", f"unknown field here (allowed: {', '.join(allowed)})")


def _bool(ctx, v, path):
    if not isinstance(v, bool):
        ctx.fail(path, f"expected true or false, got {json.dumps(v)}")
    return v


def _step(ctx, s, path):
    if not isinstance(s, dict):
        ctx.fail(path, "expected a step object")
    kinds = [k for k in _STEP_KEYS if k in s]
    if len(kinds) != 1:
        ctx.fail(path, f"expected exactly one of {', '.join(_STEP_KEYS)}" + (f", got {', '.join(kinds)}" if kinds else ""))
    k = kinds[0]
    if k == "spin_us":
        _only(ctx, s, path, ["spin_us"])
        return Spin(_dist(ctx, s[k], f"{path}.spin_us"))
    if k == "yield":
        _only(ctx, s, path, ["yield"])
        _num(ctx, s[k], f"{path}.yield")
        return Yield()
    if k == "sleep_us":
        _only(ctx, s, path, ["sleep_us"])
        return Sleep(_dist(ctx, s[k], f"{path}.sleep_us"))
    if k == "io_us":
        _only(ctx, s, path, ["io_us"])
        return IoWait(_dist(ctx, s[k], f"{path}.io_us"))
    if k == "mpc_round":
        _only(ctx, s, path, ["mpc_round"])
        o = s[k]
        p = f"{path}.mpc_round"
        if not isinstance(o, dict):
            ctx.fail(p, 'expected an object like {"us": 50} (the one-way latency to the next party)')
        _only(ctx, o, p, ["us"])
        if "us" not in o:
            ctx.fail(f"{p}.us", "missing: the one-way latency to the next party, in µs")
        if not ctx.parties:
            ctx.fail(p, 'needs parties to exchange messages with: add top-level "parties": 3')
        return MpcRound(_dist(ctx, o["us"], f"{p}.us"))
    if k == "mpc_hop":
        return _mpc_hop(ctx, s, path)
    if k == "spawn_blocking_us":
        _only(ctx, s, path, ["spawn_blocking_us", "join"])
        return SpawnBlocking(_dist(ctx, s[k], f"{path}.spawn_blocking_us"), _bool(ctx, s.get("join", True), f"{path}.join"))
    if k == "spawn":
        _only(ctx, s, path, ["spawn", "count", "join", "runtime", "as"])
        count = _num(ctx, s.get("count", 1), f"{path}.count", integer=True, lo=1)
        runtime = _runtime_ref(ctx, s, path)
        join = _bool(ctx, s.get("join", "as" not in s), f"{path}.join")
        name = s.get("as")
        if name is not None:
            if not isinstance(name, str) or not name:
                ctx.fail(f"{path}.as", "expected a non-empty name for the kept JoinHandles")
            if join:
                ctx.fail(f"{path}.join", "a spawn that keeps its handles (\"as\") is joined later by a join_all step")
        return Spawn(_task(ctx, s[k], f"{path}.spawn"), count, join, runtime, name)
    if k == "join_all":
        _only(ctx, s, path, ["join_all"])
        if not isinstance(s[k], str) or not s[k]:
            ctx.fail(f"{path}.join_all", "expected the name given as \"as\" by earlier spawns")
        return Join(s[k])
    if k == "mem":
        _only(ctx, s, path, ["mem"])
        return _mem(ctx, s[k], f"{path}.mem")
    if k == "offload":
        _only(ctx, s, path, ["offload", "count", "as"])
        o = s[k]
        p = f"{path}.offload"
        if not isinstance(o, dict):
            ctx.fail(p, 'expected an object like {"pool": "name", "us": 100}')
        _only(ctx, o, p, ["pool", "us", "mem"])
        pool = o.get("pool")
        if pool not in ctx.pools:
            ctx.fail(f"{p}.pool", f"unknown pool {json.dumps(pool)}" +
                     (f" (pools: {', '.join(ctx.pools)})" if ctx.pools else "; declare it under top-level pools"))
        if "us" not in o:
            ctx.fail(f"{p}.us", "missing: how long the pool thread works, in µs")
        mem = _mem(ctx, o["mem"], f"{p}.mem") if "mem" in o else None
        count = _num(ctx, s.get("count", 1), f"{path}.count", integer=True, lo=1)
        name = s.get("as")
        if name is not None and (not isinstance(name, str) or not name):
            ctx.fail(f"{path}.as", "expected a non-empty name for the kept replies")
        return Offload(pool, _dist(ctx, o["us"], f"{p}.us"), mem, count, name)
    if k == "repeat":
        _only(ctx, s, path, ["repeat", "steps"])
        n = _num(ctx, s[k], f"{path}.repeat", integer=True)
        if "steps" not in s:
            ctx.fail(f"{path}.steps", "missing: repeat needs steps")
        return Repeat(n, _steps(ctx, s["steps"], f"{path}.steps"))
    _only(ctx, s, path, ["loop_until_end"])
    body = _steps(ctx, s[k], f"{path}.loop_until_end")
    if not _takes_time(body):
        # a loop whose body never awaits nor spins would never let simulated time advance
        ctx.fail(f"{path}.loop_until_end", "the loop body must spin, sleep, yield, wait or spawn")
    return LoopUntilEnd(body)


def _runtime_ref(ctx, obj, path):
    """The optional "runtime" a spawn or source names; it must be declared in runtimes."""
    if "runtime" not in obj:
        return None
    r = obj["runtime"]
    if r not in ctx.runtimes:
        ctx.fail(f"{path}.runtime", f"unknown runtime {json.dumps(r)} (runtimes: {', '.join(ctx.runtimes)})")
    return r


def _mem(ctx, m, path) -> Mem:
    if not isinstance(m, dict):
        ctx.fail(path, 'expected an object like {"region": "name", "bytes": 4096, "pattern": "random"}')
    _only(ctx, m, path, ["region", "bytes", "pattern"])
    region = m.get("region")
    if region not in ctx.regions:
        ctx.fail(f"{path}.region", f"unknown region {json.dumps(region)}" +
                 (f" (regions: {', '.join(ctx.regions)})" if ctx.regions else "; declare it under top-level regions"))
    if "bytes" not in m:
        ctx.fail(f"{path}.bytes", "missing: how many bytes the step reads")
    pattern = m.get("pattern", "random")
    if pattern not in ("random", "stream"):
        ctx.fail(f"{path}.pattern", f'expected "random" or "stream", got {json.dumps(pattern)}')
    return Mem(region, _dist(ctx, m["bytes"], f"{path}.bytes", suffix="", scale=1), pattern)


def _takes_time(steps) -> bool:
    for s in steps:
        if isinstance(s, (Yield, Sleep, IoWait, MpcRound, SpawnBlocking, Spawn, Offload, Join)):
            return True
        if isinstance(s, Spin) and s.dur.mean_ns > 0:
            return True
        if isinstance(s, Mem) and s.nbytes.mean_ns > 0:
            return True
        if isinstance(s, Repeat) and s.n > 0 and _takes_time(s.steps):
            return True
        if isinstance(s, LoopUntilEnd):
            return True
    return False


def _task(ctx, v, path) -> TaskDef:
    if not isinstance(v, dict):
        ctx.fail(path, "expected a task object {\"name\", \"steps\"}")
    _only(ctx, v, path, ["name", "steps", "working_set_bytes"])
    name = v.get("name", "task")
    if not isinstance(name, str) or not name:
        ctx.fail(f"{path}.name", "expected a non-empty string")
    if "steps" not in v:
        ctx.fail(f"{path}.steps", "missing: a task needs steps")
    ws = _num(ctx, v.get("working_set_bytes", DEFAULT_WORKING_SET_BYTES), f"{path}.working_set_bytes", integer=True)
    steps = _steps(ctx, v["steps"], f"{path}.steps")
    _check_joins(ctx, steps, f"{path}.steps", set())
    return TaskDef(name, steps, ws)


def _check_joins(ctx, steps, path, kept) -> set:
    """A join must name handles kept by a spawn earlier in the same task (a nested task keeps
    its own names)."""
    for i, s in enumerate(steps):
        if isinstance(s, (Spawn, Offload)) and s.name is not None:
            kept.add(s.name)
        elif isinstance(s, Join) and s.name not in kept:
            ctx.fail(f"{path}[{i}].join_all", f"no earlier spawn keeps handles as {s.name!r}")
        elif isinstance(s, Repeat):
            _check_joins(ctx, s.steps, f"{path}[{i}].steps", kept)
        elif isinstance(s, LoopUntilEnd):
            _check_joins(ctx, s.steps, f"{path}[{i}].loop_until_end", kept)
    return kept


def _source(ctx, v, path):
    if not isinstance(v, dict):
        ctx.fail(path, "expected a source object")
    kind = v.get("kind")
    if kind == "root":
        _only(ctx, v, path, ["kind", "task", "runtime"])
        runtime = _runtime_ref(ctx, v, path)
        return Root(_task(ctx, v.get("task"), f"{path}.task"), runtime)
    if kind == "external":
        _only(ctx, v, path, ["kind", "interval_us", "arrival", "task", "runtime"])
        runtime = _runtime_ref(ctx, v, path)
        if "interval_us" not in v:
            ctx.fail(f"{path}.interval_us", "missing: an external source needs interval_us")
        arrival = v.get("arrival", "fixed")
        if arrival not in ("fixed", "poisson"):
            ctx.fail(f"{path}.arrival", f"expected \"fixed\" or \"poisson\", got {json.dumps(arrival)}")
        interval = _dist(ctx, v["interval_us"], f"{path}.interval_us", positive=True)
        return External(interval, arrival, _task(ctx, v.get("task"), f"{path}.task"), runtime)
    ctx.fail(f"{path}.kind", f"expected \"external\" or \"root\", got {json.dumps(kind)}")


def _runtime_knobs(ctx, rt, path, allowed):
    extra = sorted(set(rt) - set(allowed))
    if extra:
        ctx.fail(f"{path}.{extra[0]}", f"unknown field (allowed: {', '.join(allowed)})")
    workers = _num(ctx, rt.get("workers", 2), f"{path}.workers", integer=True, lo=1)
    if workers > 1024:
        ctx.fail(f"{path}.workers", f"expected at most 1024 workers, got {workers}")
    gqi = rt.get("global_queue_interval")
    if gqi is not None:
        gqi = _num(ctx, gqi, f"{path}.global_queue_interval", integer=True, lo=1)
    evi = _num(ctx, rt.get("event_interval", 61), f"{path}.event_interval", integer=True, lo=1)
    return workers, gqi, evi


def _machine(ctx, v):
    """The machine a spec names: a preset, a `numactl --hardware` file or a sysfs tree (paths
    relative to the spec file)."""
    from .errors import UserError
    from .machine import preset, read_numactl, read_sysfs

    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in ("preset", "numactl", "sysfs"):
        ctx.fail("machine", 'expected one of {"preset": name}, {"numactl": path}, {"sysfs": dir}')
    (k, arg), = v.items()
    if not isinstance(arg, str) or not arg:
        ctx.fail(f"machine.{k}", "expected a non-empty string")
    try:
        if k == "preset":
            return preset(arg)
        base = os.path.dirname(ctx.file) if ctx.file and not ctx.file.startswith("<") else ""
        path = os.path.join(base, arg)
        return read_numactl(path) if k == "numactl" else read_sysfs(path)
    except UserError as e:
        ctx.fail(f"machine.{k}", e.what if k == "preset" else f"{e.where}: {e.what}")


def _cpu_list(ctx, m, v, path, node=None) -> tuple:
    """`cpus` as a list of CPU numbers or {"first_per_node": n}; checked against the machine."""
    from .machine.placement import first_cpus_per_node

    if isinstance(v, dict):
        _only(ctx, v, path, ["first_per_node"])
        n = _num(ctx, v.get("first_per_node"), f"{path}.first_per_node", integer=True, lo=1)
        short = min(len(cs) for cs in m.node_cpus)
        if n > short:
            ctx.fail(f"{path}.first_per_node", f"expected at most {short} (CPUs of the smallest node), got {n}")
        cpus = first_cpus_per_node(m, n)
        return tuple(c for c in cpus if m.node_of_cpu(c) == node) if node is not None else cpus
    if not isinstance(v, list) or not v:
        ctx.fail(path, 'expected a non-empty list of CPU numbers or {"first_per_node": n}')
    have = set(m.cpus)
    for i, c in enumerate(v):
        c = _num(ctx, c, f"{path}[{i}]", integer=True)
        if c not in have:
            ctx.fail(f"{path}[{i}]", f"CPU {c} is not on machine {m.name} (CPUs 0-{max(have)})")
        if node is not None and m.node_of_cpu(c) != node:
            ctx.fail(f"{path}[{i}]", f"CPU {c} is not on node {node}")
    if len(set(v)) != len(v):
        ctx.fail(path, "expected distinct CPUs")
    return tuple(int(c) for c in v)


def _node(ctx, m, v, path) -> int:
    n = _num(ctx, v, path, integer=True)
    if n >= m.n_nodes:
        ctx.fail(path, f"expected a node index below {m.n_nodes} (machine {m.name}), got {n}")
    return n


def _placement(ctx, m, v, path, workers) -> Placement:
    if not isinstance(v, dict):
        ctx.fail(path, 'expected an object like {"kind": "float", "cpus": [0, 1]}')
    kind = v.get("kind")
    if kind not in ("float", "pinned", "node"):
        ctx.fail(f"{path}.kind", f'expected "float", "pinned" or "node", got {json.dumps(kind)}')
    _only(ctx, v, path, ["kind", "cpus", "migrate_hz"] + (["node"] if kind == "node" else []))
    hz = _num(ctx, v.get("migrate_hz", 100.0), f"{path}.migrate_hz")
    if kind == "node":
        if "node" not in v:
            ctx.fail(f"{path}.node", "missing: which node the runtime is confined to")
        node = _node(ctx, m, v["node"], f"{path}.node")
        cpus = _cpu_list(ctx, m, v["cpus"], f"{path}.cpus", node) if "cpus" in v else tuple(m.node_cpus[node])
        return Placement("node", cpus, node, hz)
    cpus = _cpu_list(ctx, m, v["cpus"], f"{path}.cpus") if "cpus" in v else m.cpus
    if kind == "pinned":
        if len(cpus) < workers:
            ctx.fail(f"{path}.cpus", f"{workers} pinned workers need at least {workers} CPUs, got {len(cpus)}")
        return Placement("pinned", cpus[:workers], None, 0.0)
    return Placement("float", cpus, None, hz)


def _regions(ctx, m, v) -> tuple:
    from .machine.placement import MemPolicy, Region, place_region

    if not isinstance(v, dict):
        ctx.fail("regions", 'expected an object {name: {"bytes": B, "policy": "bind", "node": 0}}')
    out = []
    for name, r in v.items():
        path = f"regions.{name}"
        if not isinstance(r, dict):
            ctx.fail(path, 'expected an object like {"bytes": 1e9, "policy": "interleave"}')
        policy = r.get("policy", "first_touch")
        if policy not in ("first_touch", "bind", "interleave"):
            ctx.fail(f"{path}.policy", f'expected "first_touch", "bind" or "interleave", got {json.dumps(policy)}')
        _only(ctx, r, path, ["bytes", "policy", "nodes" if policy == "interleave" else "node"])
        if "bytes" not in r:
            ctx.fail(f"{path}.bytes", "missing: the region's size in bytes")
        nbytes = int(_num(ctx, r["bytes"], f"{path}.bytes", positive=True))
        if policy == "interleave":
            nodes = r.get("nodes", list(range(m.n_nodes)))
            if not isinstance(nodes, list) or not nodes:
                ctx.fail(f"{path}.nodes", "expected a non-empty list of node indices")
            nodes = tuple(_node(ctx, m, x, f"{path}.nodes[{i}]") for i, x in enumerate(nodes))
            pl = place_region(m, Region(name, nbytes), MemPolicy("interleave", nodes))
        else:
            if "node" not in r:
                ctx.fail(f"{path}.node", f"missing: {policy} needs the node " +
                         ("the allocating thread runs on" if policy == "first_touch" else "to bind to"))
            node = _node(ctx, m, r["node"], f"{path}.node")
            if policy == "bind":
                pl = place_region(m, Region(name, nbytes), MemPolicy("bind", (node,)))
            else:
                pl = place_region(m, Region(name, nbytes), MemPolicy("first_touch"), m.node_cpus[node][0])
        out.append(RegionSpec(name, nbytes, policy, tuple(pl.frac)))
    return tuple(out)


def _pools(ctx, m, v, runtimes) -> tuple:
    if not isinstance(v, dict):
        ctx.fail("pools", 'expected an object {name: {"threads": 64, "node": 0}}')
    used = {c for r in runtimes for c in r.placement.cpus}
    out = []
    for name, p in v.items():
        path = f"pools.{name}"
        if not isinstance(p, dict):
            ctx.fail(path, 'expected an object like {"threads": 64, "node": 0}')
        _only(ctx, p, path, ["threads", "node"])
        threads = _num(ctx, p.get("threads", 1), f"{path}.threads", integer=True, lo=1)
        if threads > 4096:
            ctx.fail(f"{path}.threads", f"expected at most 4096 threads, got {threads}")
        if "node" not in p:
            ctx.fail(f"{path}.node", "missing: the node whose CPUs the threads are pinned to")
        node = _node(ctx, m, p["node"], f"{path}.node")
        # one thread per CPU of the node: CPUs no tokio worker may use and no earlier pool holds
        # first; more threads than CPUs share them round robin
        taken = {c for p in out for c in p.cpus}
        order = sorted(m.node_cpus[node], key=lambda c: (c in used, c in taken, c))
        out.append(PoolSpec(name, threads, node, tuple(order[i % len(order)] for i in range(threads))))
    return tuple(out)


def parse_spec(obj: Any, file: str = "<spec>") -> Spec:
    """Validate a decoded JSON spec and return a `Spec`; raise `SpecError` naming the field."""
    ctx = _Ctx(file)
    if not isinstance(obj, dict):
        ctx.fail("", "expected a JSON object at the top level")
    allowed = ["name", "runtime", "duration_s", "sample_interval_ms", "seed", "sources",
               "slow_poll_threshold_us", "long_delay_threshold_us", "description",
               "machine", "remote_penalty", "runtimes", "regions", "pools", "parties", "multiplexer"]
    extra = sorted(set(obj) - set(allowed))
    if extra:
        ctx.fail(extra[0], f"unknown top-level field (allowed: {', '.join(allowed)})")
    name = obj.get("name", "spec")
    if not isinstance(name, str):
        ctx.fail("name", "expected a string")
    m = _machine(ctx, obj["machine"]) if "machine" in obj else None
    for k in ("regions", "pools", "remote_penalty"):
        if k in obj and m is None:
            ctx.fail(k, 'needs a machine: add "machine": {"preset": ...}')
    penalty = None
    if "remote_penalty" in obj:
        penalty = _num(ctx, obj["remote_penalty"], "remote_penalty")
        if penalty < 1.0:
            ctx.fail("remote_penalty", f"expected a number >= 1.0 (1.0: remote costs what local does), got {penalty}")
    if "runtimes" in obj:
        if "runtime" in obj:
            ctx.fail("runtimes", "give either runtime (one runtime) or runtimes, not both")
        rts = obj["runtimes"]
        if not isinstance(rts, list) or not rts:
            ctx.fail("runtimes", 'expected a non-empty list like [{"name": "main", "workers": 4}]')
        runtimes = []
        for i, r in enumerate(rts):
            path = f"runtimes[{i}]"
            if not isinstance(r, dict):
                ctx.fail(path, 'expected an object like {"name": "main", "workers": 4}')
            workers, gqi, evi = _runtime_knobs(ctx, r, path, ["name", "workers", "placement", "global_queue_interval",
                                                              "event_interval"])
            rname = r.get("name", "main" if i == 0 else f"rt{i}")
            if not isinstance(rname, str) or not rname:
                ctx.fail(f"{path}.name", "expected a non-empty string")
            if any(x.name == rname for x in runtimes):
                ctx.fail(f"{path}.name", f"runtime {json.dumps(rname)} is declared twice")
            if "placement" in r:
                if m is None:
                    ctx.fail(f"{path}.placement", 'needs a machine: add "machine": {"preset": ...}')
                pl = _placement(ctx, m, r["placement"], f"{path}.placement", workers)
            else:
                pl = Placement("float", m.cpus) if m is not None else None
            runtimes.append(RuntimeSpec(rname, workers, pl, gqi, evi))
    else:
        rt = obj.get("runtime", {})
        if not isinstance(rt, dict):
            ctx.fail("runtime", "expected an object like {\"workers\": 2}")
        workers, gqi, evi = _runtime_knobs(ctx, rt, "runtime", ["workers", "global_queue_interval", "event_interval"])
        runtimes = [RuntimeSpec("main", workers, Placement("float", m.cpus) if m is not None else None, gqi, evi)]
    ctx.runtimes = tuple(r.name for r in runtimes)
    regions = _regions(ctx, m, obj["regions"]) if "regions" in obj else ()
    pools = _pools(ctx, m, obj["pools"], runtimes) if "pools" in obj else ()
    ctx.regions = tuple(r.name for r in regions)
    ctx.pools = tuple(p.name for p in pools)
    if "duration_s" not in obj:
        ctx.fail("duration_s", "missing: how long the sources submit, in seconds")
    dur = _num(ctx, obj["duration_s"], "duration_s", positive=True)
    sample = _num(ctx, obj.get("sample_interval_ms", 100), "sample_interval_ms", positive=True)
    seed = _num(ctx, obj.get("seed", 1), "seed", integer=True)
    parties = _parties(ctx, obj["parties"]) if "parties" in obj else ()
    ctx.parties = len(parties)
    mux_ws = DEFAULT_WORKING_SET_BYTES
    if "multiplexer" in obj:
        mo = obj["multiplexer"]
        if not isinstance(mo, dict):
            ctx.fail("multiplexer", 'expected an object like {"working_set_bytes": 16384}')
        _only(ctx, mo, "multiplexer", ["working_set_bytes"])
        mux_ws = _num(ctx, mo.get("working_set_bytes", mux_ws), "multiplexer.working_set_bytes", integer=True, lo=0)
    srcs = obj.get("sources")
    if not isinstance(srcs, list) or not srcs:
        ctx.fail("sources", "expected a non-empty list of sources")
    first = runtimes[0]
    return Spec(
        name=name,
        workers=first.workers,
        duration_ns=int(round(dur * 1e9)),
        sample_interval_ns=int(round(sample * 1e6)),
        seed=seed,
        sources=tuple(_source(ctx, s, f"sources[{i}]") for i, s in enumerate(srcs)),
        global_queue_interval=first.global_queue_interval,
        event_interval=first.event_interval,
        slow_poll_threshold_ns=int(_num(ctx, obj.get("slow_poll_threshold_us", 50), "slow_poll_threshold_us") * US),
        long_delay_threshold_ns=int(_num(ctx, obj.get("long_delay_threshold_us", 50), "long_delay_threshold_us") * US),
        raw=obj,
        runtimes=tuple(runtimes),
        machine=m,
        remote_penalty=penalty,
        regions=regions,
        pools=pools,
        parties=parties,
        multiplexer_working_set_bytes=mux_ws,
    )


MAX_PARTIES = 16


MAX_CONNECTIONS = 1 << 16
MULTIPLEXER = "multiplexer"  # the task name of a connection's multiplexer (ampc-common's multiplexer::run)


def _mpc_hop(ctx, s, path):
    """`{"mpc_hop": {"us": D, "send_us": A, "recv_us": B, "conn": [first, stride, slots]}}`."""
    _only(ctx, s, path, ["mpc_hop"])
    o = s["mpc_hop"]
    p = f"{path}.mpc_hop"
    if not isinstance(o, dict):
        ctx.fail(p, 'expected an object like {"us": 50, "send_us": 3, "recv_us": 3, "conn": [0, 1, 1]}')
    _only(ctx, o, p, ["us", "send_us", "recv_us", "conn"])
    if "us" not in o:
        ctx.fail(f"{p}.us", "missing: the wait from the write to the previous party's message, in µs")
    conn = o.get("conn", [0, 1, 1])
    if not (isinstance(conn, list) and len(conn) == 3):
        ctx.fail(f"{p}.conn", "expected [first, stride, slots]: connection first + stride * (slot % slots)")
    first = _num(ctx, conn[0], f"{p}.conn[0]", integer=True, lo=0)
    stride = _num(ctx, conn[1], f"{p}.conn[1]", integer=True, lo=0)
    slots = _num(ctx, conn[2], f"{p}.conn[2]", integer=True, lo=1)
    if first + stride * (slots - 1) >= MAX_CONNECTIONS:
        ctx.fail(f"{p}.conn", f"connection index past {MAX_CONNECTIONS - 1}")
    zero = {"dist": "fixed", "mean_us": 0}
    return MpcHop(_dist(ctx, o["us"], f"{p}.us"), _dist(ctx, o.get("send_us", zero), f"{p}.send_us"),
                  _dist(ctx, o.get("recv_us", zero), f"{p}.recv_us"), first, stride, slots)


def _parties(ctx, v) -> tuple:
    """`parties`: a count n (party i draws from stream i), or one object per party."""
    if isinstance(v, list):
        if not 2 <= len(v) <= MAX_PARTIES:
            ctx.fail("parties", f"expected 2 to {MAX_PARTIES} parties, got {len(v)}")
        out = []
        for i, p in enumerate(v):
            path = f"parties[{i}]"
            if not isinstance(p, dict):
                ctx.fail(path, 'expected an object like {"stream": 0, "spin_scale": 1.0}')
            _only(ctx, p, path, ["stream", "spin_scale"])
            stream = _num(ctx, p.get("stream", i), f"{path}.stream", integer=True)
            scale = _num(ctx, p.get("spin_scale", 1.0), f"{path}.spin_scale", positive=True)
            if any(q.stream == stream for q in out):
                ctx.fail(f"{path}.stream", f"stream {stream} is used by an earlier party (each machine draws its own)")
            out.append(PartySpec(stream, scale))
        return tuple(out)
    n = _num(ctx, v, "parties", integer=True)
    if not 2 <= n <= MAX_PARTIES:
        ctx.fail("parties", f"expected 2 to {MAX_PARTIES} parties (or a list of party objects), got {n}")
    return tuple(PartySpec(i) for i in range(n))


def load_spec(path: str) -> Spec:
    """Read and validate a JSON spec file (bytes first: see numasim.inputs)."""
    from .inputs import read_json
    return parse_spec(read_json(path, SpecError, "a workload spec (JSON)"), path)


def read_toml(path: str) -> dict:
    """A TOML file (scenarios, sweeps) as a dict; unreadable, undecodable or malformed: a SpecError."""
    from .inputs import read_toml as _read
    return _read(path, SpecError, "a TOML file")
