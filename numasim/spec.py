"""The workload language: parse and validate a spec into frozen dataclasses.

The language is the one of `../shared/fidelity/README.md` (sources `external` and `root`; steps
`spin_us`, `yield`, `sleep_us`, `spawn`/`count`/`join`, `repeat`, `loop_until_end`), extended with:

* `{"io_us": D}`: wait on an I/O resource that becomes ready after D; the readiness is delivered
  by whichever worker next polls the I/O driver, as in tokio;
* `{"spawn_blocking_us": D, "join": true}`: `tokio::task::spawn_blocking` of D of blocking work;
* any duration may be a distribution instead of a number:
  `{"dist": "lognormal", "mean_us": 20, "cv": 0.5}`, `{"dist": "exponential", "mean_us": 20}`,
  `{"dist": "uniform", "low_us": 10, "high_us": 30}` or `{"dist": "fixed", "mean_us": 20}`.

Every error names the file and the field path (`sources[0].task.steps[2].sleep_us`) and says
what was expected.
"""
from __future__ import annotations

import json
import math
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
        # lognormal with the given mean and coefficient of variation
        s2 = math.log1p(self.cv * self.cv)
        mu = math.log(self.mean_ns) - s2 / 2 if self.mean_ns > 0 else 0.0
        return int(round(rng.lognormal(mu, math.sqrt(s2)))) if self.mean_ns > 0 else 0


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
class SpawnBlocking:
    dur: Dist
    join: bool = True


@dataclass(frozen=True)
class Spawn:
    task: "TaskDef"
    count: int = 1
    join: bool = True


@dataclass(frozen=True)
class Repeat:
    n: int
    steps: tuple


@dataclass(frozen=True)
class LoopUntilEnd:
    steps: tuple


Step = Union[Spin, Yield, Sleep, IoWait, SpawnBlocking, Spawn, Repeat, LoopUntilEnd]


@dataclass(frozen=True)
class TaskDef:
    name: str
    steps: tuple


@dataclass(frozen=True)
class External:
    interval: Dist  # the mean gap; `arrival` decides fixed or exponential gaps
    arrival: str
    task: TaskDef


@dataclass(frozen=True)
class Root:
    task: TaskDef


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

    def task_names(self) -> list:
        """Every task name, in first-seen order."""
        out: list = []

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

        for src in self.sources:
            walk_task(src.task)
        return out


class _Ctx:
    def __init__(self, file: str):
        self.file = file

    def fail(self, path: str, what: str):
        raise SpecError(f"{self.file}: {path}" if path else self.file, what)


def _num(ctx, v, path, *, lo=0.0, integer=False, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        ctx.fail(path, f"expected a number, got {json.dumps(v)[:40]}")
    if integer and (not float(v).is_integer()):
        ctx.fail(path, f"expected an integer, got {v}")
    if v < lo or (positive and v <= 0):
        ctx.fail(path, f"expected a {'positive' if positive else 'non-negative'} number, got {v}")
    return int(v) if integer else float(v)


def _dist(ctx, v, path, *, positive=False) -> Dist:
    """A duration in µs: a number, or a distribution object."""
    if isinstance(v, dict):
        kind = v.get("dist")
        known = ("fixed", "lognormal", "exponential", "uniform")
        if kind not in known:
            ctx.fail(f"{path}.dist", f"expected one of {', '.join(known)}, got {json.dumps(kind)}")
        allowed = {"dist", "mean_us", "cv", "low_us", "high_us"}
        extra = sorted(set(v) - allowed)
        if extra:
            ctx.fail(f"{path}.{extra[0]}", "unknown field in a distribution")
        if kind == "uniform":
            lo = _num(ctx, v.get("low_us"), f"{path}.low_us")
            hi = _num(ctx, v.get("high_us"), f"{path}.high_us")
            if hi < lo:
                ctx.fail(f"{path}.high_us", f"expected high_us >= low_us ({lo}), got {hi}")
            return Dist("uniform", (lo + hi) / 2 * US, low_ns=lo * US, high_ns=hi * US)
        if "mean_us" not in v:
            ctx.fail(f"{path}.mean_us", "missing: a distribution needs mean_us")
        mean = _num(ctx, v["mean_us"], f"{path}.mean_us", positive=positive)
        cv = 0.0
        if kind == "lognormal":
            if "cv" not in v:
                ctx.fail(f"{path}.cv", "missing: a lognormal needs cv")
            cv = _num(ctx, v["cv"], f"{path}.cv")
        return Dist(kind, mean * US, cv=cv)
    return Dist("fixed", _num(ctx, v, path, positive=positive) * US)


_STEP_KEYS = ("spin_us", "yield", "sleep_us", "io_us", "spawn_blocking_us", "spawn", "repeat", "loop_until_end")


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
    if k == "spawn_blocking_us":
        _only(ctx, s, path, ["spawn_blocking_us", "join"])
        return SpawnBlocking(_dist(ctx, s[k], f"{path}.spawn_blocking_us"), _bool(ctx, s.get("join", True), f"{path}.join"))
    if k == "spawn":
        _only(ctx, s, path, ["spawn", "count", "join"])
        count = _num(ctx, s.get("count", 1), f"{path}.count", integer=True, lo=1)
        return Spawn(_task(ctx, s[k], f"{path}.spawn"), count, _bool(ctx, s.get("join", True), f"{path}.join"))
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


def _takes_time(steps) -> bool:
    for s in steps:
        if isinstance(s, (Yield, Sleep, IoWait, SpawnBlocking, Spawn)):
            return True
        if isinstance(s, Spin) and s.dur.mean_ns > 0:
            return True
        if isinstance(s, Repeat) and s.n > 0 and _takes_time(s.steps):
            return True
        if isinstance(s, LoopUntilEnd):
            return True
    return False


def _task(ctx, v, path) -> TaskDef:
    if not isinstance(v, dict):
        ctx.fail(path, "expected a task object {\"name\", \"steps\"}")
    _only(ctx, v, path, ["name", "steps"])
    name = v.get("name", "task")
    if not isinstance(name, str) or not name:
        ctx.fail(f"{path}.name", "expected a non-empty string")
    if "steps" not in v:
        ctx.fail(f"{path}.steps", "missing: a task needs steps")
    return TaskDef(name, _steps(ctx, v["steps"], f"{path}.steps"))


def _source(ctx, v, path):
    if not isinstance(v, dict):
        ctx.fail(path, "expected a source object")
    kind = v.get("kind")
    if kind == "root":
        _only(ctx, v, path, ["kind", "task"])
        return Root(_task(ctx, v.get("task"), f"{path}.task"))
    if kind == "external":
        _only(ctx, v, path, ["kind", "interval_us", "arrival", "task"])
        if "interval_us" not in v:
            ctx.fail(f"{path}.interval_us", "missing: an external source needs interval_us")
        arrival = v.get("arrival", "fixed")
        if arrival not in ("fixed", "poisson"):
            ctx.fail(f"{path}.arrival", f"expected \"fixed\" or \"poisson\", got {json.dumps(arrival)}")
        interval = _dist(ctx, v["interval_us"], f"{path}.interval_us", positive=True)
        return External(interval, arrival, _task(ctx, v.get("task"), f"{path}.task"))
    ctx.fail(f"{path}.kind", f"expected \"external\" or \"root\", got {json.dumps(kind)}")


def parse_spec(obj: Any, file: str = "<spec>") -> Spec:
    """Validate a decoded JSON spec and return a `Spec`; raise `SpecError` naming the field."""
    ctx = _Ctx(file)
    if not isinstance(obj, dict):
        ctx.fail("", "expected a JSON object at the top level")
    allowed = ["name", "runtime", "duration_s", "sample_interval_ms", "seed", "sources",
               "slow_poll_threshold_us", "long_delay_threshold_us", "description"]
    extra = sorted(set(obj) - set(allowed))
    if extra:
        ctx.fail(extra[0], f"unknown top-level field (allowed: {', '.join(allowed)})")
    name = obj.get("name", "spec")
    if not isinstance(name, str):
        ctx.fail("name", "expected a string")
    rt = obj.get("runtime", {})
    if not isinstance(rt, dict):
        ctx.fail("runtime", "expected an object like {\"workers\": 2}")
    extra = sorted(set(rt) - {"workers", "global_queue_interval", "event_interval"})
    if extra:
        ctx.fail(f"runtime.{extra[0]}", "unknown field (allowed: workers, global_queue_interval, event_interval)")
    workers = _num(ctx, rt.get("workers", 2), "runtime.workers", integer=True, lo=1)
    if workers > 1024:
        ctx.fail("runtime.workers", f"expected at most 1024 workers, got {workers}")
    gqi = rt.get("global_queue_interval")
    if gqi is not None:
        gqi = _num(ctx, gqi, "runtime.global_queue_interval", integer=True, lo=1)
    evi = _num(ctx, rt.get("event_interval", 61), "runtime.event_interval", integer=True, lo=1)
    if "duration_s" not in obj:
        ctx.fail("duration_s", "missing: how long the sources submit, in seconds")
    dur = _num(ctx, obj["duration_s"], "duration_s", positive=True)
    sample = _num(ctx, obj.get("sample_interval_ms", 100), "sample_interval_ms", positive=True)
    seed = _num(ctx, obj.get("seed", 1), "seed", integer=True)
    srcs = obj.get("sources")
    if not isinstance(srcs, list) or not srcs:
        ctx.fail("sources", "expected a non-empty list of sources")
    return Spec(
        name=name,
        workers=workers,
        duration_ns=int(round(dur * 1e9)),
        sample_interval_ns=int(round(sample * 1e6)),
        seed=seed,
        sources=tuple(_source(ctx, s, f"sources[{i}]") for i, s in enumerate(srcs)),
        global_queue_interval=gqi,
        event_interval=evi,
        slow_poll_threshold_ns=int(_num(ctx, obj.get("slow_poll_threshold_us", 50), "slow_poll_threshold_us") * US),
        long_delay_threshold_ns=int(_num(ctx, obj.get("long_delay_threshold_us", 50), "long_delay_threshold_us") * US),
        raw=obj,
    )


def load_spec(path: str) -> Spec:
    """Read and validate a JSON spec file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SpecError(path, f"cannot read: {e.strerror}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"{path}:{e.lineno}", f"not valid JSON: {e.msg}") from None
    return parse_spec(obj, path)
