"""Parameter sweeps: a design over spec parameters, run point by point, resumable.

    sweep = load_sweep("study.toml")          # parse + validate (SpecError names file and field)
    jobs = sweep.iter_jobs()                   # one Job per (design point, seed), generated lazily
    run_sweep(sweep, "out/", workers=2)        # or dask="local" / dask="tcp://host:8786"

The TOML format is documented in docs/sweep.md. A design (grid, random or Latin hypercube) picks
values for *parameters*, each addressed by a path: `sources.0.interval_us` or `runtime.workers`
into the spec JSON, `host.unpark_latency_ns` into the host model, `tokio` for the version profile.

What a point computes is pluggable: `EVALUATORS[kind]` holds a `prepare` (base + assignment +
seed -> a picklable payload, validated in the parent so a bad value fails before any work) and an
`evaluate` (payload -> flat dict of figures, run in a worker). The first kind is `spec`; the
Hawk-job `scenario` kind plugs in beside it with `register_evaluator`.

Resuming: every finished (point, seed) is one JSON line appended to `results.jsonl` with a single
write, flush and fsync. A row is keyed by a hash of exactly what was computed (evaluator kind and
payload), so a rerun skips every key already on disk and a changed base spec recomputes. A line
torn by a kill is cut off on restart. `results.csv` is rebuilt from the JSON lines (atomically,
via a temporary file and rename) at the end and on interruption; the JSON lines stay the truth
because the set of figure columns is only known once rows exist.

Why one file of ~750 lines: the sweep file's parser, the design, the resumable runner and its
results table share the job keys that make resuming exact; the plots are plots.py's and the
scenario evaluator commands/compare.py's.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import SpecError, UserError
from .figures import figures

DESIGNS = ("grid", "random", "lhs")
RESULTS = "results.jsonl"
TABLE = "results.csv"


# ---------------------------------------------------------------------------------------------
# evaluators


@dataclass(frozen=True)
class Evaluator:
    """How one kind of sweep turns a point into figures.

    `prepare(base, assignment, seed, where) -> payload`: runs in the parent; must raise SpecError
    for a value that makes no sense, and return plain picklable data (it is hashed as JSON).
    `evaluate(payload) -> dict`: runs in a worker; returns a flat {name: number or str} dict and
    must be deterministic in its payload.
    `load_base(table, where, folder) -> base`: reads the kind's own TOML keys (spec, host, tokio, set).
    `estimate(payload) -> (events, events per CPU-second)`: optional, the cost of one run before
    it runs (numasim.budget), so that a sweep too large is refused up front.
    """
    load_base: Callable
    prepare: Callable
    evaluate: Callable
    estimate: Callable | None = None


EVALUATORS: dict[str, Evaluator] = {}
# kinds registered by importing a module: a fresh worker process (Dask spawns them) imports it on
# first use instead of relying on what the parent happened to import
PLUGINS = {"scenario": "numasim.commands.compare"}


def evaluator(kind: str) -> Evaluator:
    if kind not in EVALUATORS and kind in PLUGINS:
        import importlib
        importlib.import_module(PLUGINS[kind])
    return EVALUATORS[kind]


def register_evaluator(kind: str, evaluator: Evaluator) -> None:
    EVALUATORS[kind] = evaluator


def set_path(obj, path: str, value, where: str):
    """Set `a.0.b` inside nested dicts/lists. Intermediate steps must exist; the last key of a
    dict may be new (e.g. `runtime.global_queue_interval` absent from the base)."""
    parts = path.split(".")
    cur = obj
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, list):
            if not p.isdigit() or int(p) >= len(cur):
                raise SpecError(where, f"{'.'.join(parts[:i + 1])!r}: no list element {p} "
                                       f"(the list has {len(cur)})")
            if last:
                cur[int(p)] = value
            else:
                cur = cur[int(p)]
        elif isinstance(cur, dict):
            if last:
                cur[p] = value
            elif p not in cur:
                raise SpecError(where, f"{'.'.join(parts[:i + 1])!r} is not in the base spec")
            else:
                cur = cur[p]
        else:
            raise SpecError(where, f"{'.'.join(parts[:i])!r} is a {type(cur).__name__}, not an object or list")
    return obj


def _spec_load_base(t: dict, where: str, folder: str) -> dict:
    from .host.costs import Host
    from .tokio.profile import get_profile
    if "spec" not in t:
        raise SpecError(f"{where}: spec", "missing: a spec file (path relative to the sweep file) or an inline [spec] table")
    s = t["spec"]
    if isinstance(s, str):
        from .inputs import read_json
        path = os.path.join(folder, s)
        try:
            s = read_json(path, SpecError, "a workload spec (JSON)")
        except SpecError as e:
            raise SpecError(f"{where}: spec", f"{e.where}: {e.what}") from None
    if not isinstance(s, dict):
        raise SpecError(f"{where}: spec", "expected a file name or a table")
    host = t.get("host", {})
    if not isinstance(host, dict):
        raise SpecError(f"{where}: host", "expected a table of host parameters in ns")
    try:
        Host.from_dict(host, f"{where}: host")
    except UserError as e:
        raise SpecError(e.where, e.what) from None
    tokio = t.get("tokio", "1.49")
    try:
        get_profile(str(tokio))
    except UserError as e:
        raise SpecError(f"{where}: tokio", e.what) from None
    fixed = t.get("set", {})
    if not isinstance(fixed, dict):
        raise SpecError(f"{where}: set", "expected a table of path = value applied to every point")
    return {"spec": s, "host": host, "tokio": str(tokio), "set": _flatten(fixed)}


def _flatten(t: dict, prefix: str = "") -> dict:
    """TOML dotted keys arrive as nested tables (`sources.0.interval_us = 5` is
    {"sources": {"0": {...}}}): back to {"sources.0.interval_us": 5}."""
    out = {}
    for k, v in t.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _spec_prepare(base: dict, assignment: dict, seed: int, where: str) -> dict:
    from .spec import parse_spec
    from .host.costs import Host
    from .tokio.profile import get_profile
    spec = copy.deepcopy(base["spec"])
    host = dict(base["host"])
    tokio = base["tokio"]
    for path, v in list(base.get("set", {}).items()) + list(assignment.items()):
        if path == "tokio":
            tokio = str(v)
        elif path.startswith("host."):
            host[path[5:]] = v
        else:
            set_path(spec, path, v, f"{where}: param {path}")
    try:
        parse_spec(spec, f"{where}: spec with {_fmt_assignment(assignment)}")
        Host.from_dict(host, f"{where}: host")
    except UserError as e:
        raise SpecError(e.where, e.what) from None
    try:
        get_profile(tokio)
    except UserError as e:
        raise SpecError(f"{where}: tokio", e.what) from None
    return {"spec": spec, "host": host, "tokio": tokio, "seed": int(seed)}


def _spec_evaluate(payload: dict) -> dict:
    from .decide import decide_intervals
    from .engine import simulate
    from .spec import parse_spec
    from .host.costs import Host
    from .tokio.profile import get_profile
    spec = parse_spec(payload["spec"])
    res = simulate(spec, get_profile(payload["tokio"]), Host.from_dict(payload["host"]), seed=payload["seed"])
    out = figures(res.intervals, payload["spec"]["duration_s"] * 1e9)
    d = decide_intervals(res.intervals, header=res.header)
    out["steal_rate"] = d["inputs"]["steal_rate"]["value"]
    out["latency_steal_rho"] = d["inputs"]["latency_steal_correlation"]["value"]
    out["verdict_level"] = d["verdict"]["level"]
    # which inputs the level rests on: with too few intervals the correlation is not judged and
    # the level is the steal rate's alone (decide's verdict is then provisional)
    out["verdict_basis"] = "; ".join(d["verdict"]["basis"])
    return out


def _spec_estimate(payload: dict) -> tuple[float, float]:
    from .budget import pace, spec_events
    from .spec import parse_spec
    spec = parse_spec(payload["spec"])
    return spec_events(spec), pace(spec)


register_evaluator("spec", Evaluator(_spec_load_base, _spec_prepare, _spec_evaluate, _spec_estimate))


def _fmt_assignment(a: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in a.items())


# ---------------------------------------------------------------------------------------------
# the sweep file


@dataclass(frozen=True)
class Param:
    path: str
    values: tuple | None = None      # explicit values (grid), or categories (random, lhs)
    low: float | None = None
    high: float | None = None
    steps: int | None = None         # grid over [low, high]
    scale: str = "linear"            # or "log"
    integer: bool = False

    def grid(self) -> list:
        if self.values is not None:
            return list(self.values)
        if self.scale == "log":
            xs = np.geomspace(self.low, self.high, self.steps)
        else:
            xs = np.linspace(self.low, self.high, self.steps)
        return [self._cast(x) for x in xs]

    def at(self, u: float):
        """The value at quantile u in [0, 1) of the parameter's range (or its categories)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.scale == "log":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return self._cast(x)

    def _cast(self, x):
        return int(round(float(x))) if self.integer else float(x)


@dataclass(frozen=True)
class Job:
    key: str          # hash of (kind, payload): the identity of a row on disk
    point: int
    seed: int
    assignment: dict  # param path -> value
    kind: str
    payload: Any


@dataclass
class Sweep:
    path: str
    name: str
    kind: str
    base: Any
    design: str
    params: tuple
    seeds: tuple
    points: int | None = None     # random / lhs
    design_seed: int = 0
    plot: dict = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        """Design points, counted without generating them."""
        if self.design == "grid":
            return math.prod(len(p.values) if p.values is not None else p.steps for p in self.params)
        return self.points

    @property
    def n_runs(self) -> int:
        return self.n_points * len(self.seeds)

    def assignments(self) -> list:
        """The design points, in order: a list of {path: value}. Deterministic in design_seed."""
        return list(self.iter_assignments())

    def iter_assignments(self, chunk: int = 4096):
        """The design points one by one, generated as they are consumed: memory is the design's
        O(points x params) small integers (the Latin hypercube's strata), never its payloads."""
        if self.design == "grid":
            import itertools
            grids = [p.grid() for p in self.params]
            for combo in itertools.product(*grids):
                yield dict(zip((p.path for p in self.params), combo))
            return
        rng = np.random.default_rng(self.design_seed)
        n, d = self.points, len(self.params)
        # Latin hypercube: each parameter's range cut into n strata, one point per stratum,
        # strata paired at random across parameters. The permutations come first in the stream,
        # then the uniforms, drawn in chunks (the same numbers as one (n, d) draw).
        perms = np.stack([rng.permutation(n) for _ in range(d)], axis=1) if self.design == "lhs" else None
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            u = rng.random((k, d))
            if perms is not None:
                u = (perms[start:start + k] + u) / n
            for i in range(k):
                yield {p.path: p.at(float(u[i, j])) for j, p in enumerate(self.params)}

    def iter_jobs(self):
        """One Job per (design point, seed), prepared as consumed."""
        ev = evaluator(self.kind)
        for i, a in enumerate(self.iter_assignments()):
            for s in self.seeds:
                payload = ev.prepare(self.base, a, s, self.path)
                key = hashlib.sha256(json.dumps([self.kind, payload], sort_keys=True).encode()).hexdigest()[:20]
                yield Job(key, i, s, a, self.kind, payload)

    def jobs(self) -> list:
        return list(self.iter_jobs())

    def corners(self) -> list:
        """Assignments that try every value each parameter can take at its extremes (every grid
        value or category, low and high of a range), the others at their first value: prepared
        before a folder is made, so that a bad value fails before any work without generating
        the whole design."""
        first = {}
        trials = []
        for p in self.params:
            vals = p.grid() if self.design == "grid" else (
                list(p.values) if p.values is not None else [p.at(0.0), p.at(1.0 - 1e-12)])
            first[p.path] = vals[0]
            trials.append((p.path, vals))
        out = [dict(first)]
        for path, vals in trials:
            for v in vals[1:]:
                out.append(dict(first, **{path: v}))
        return out

    def validate(self) -> list:
        """The payloads of `corners()` (raises SpecError for a bad value)."""
        ev = evaluator(self.kind)
        return [ev.prepare(self.base, a, self.seeds[0], self.path) for a in self.corners()]

    def estimate(self) -> tuple[float | None, float]:
        """(simulated events of the whole design, events per CPU-second): the costliest corner
        times the number of runs, so a range swept over `duration_s` is not underestimated.
        None when the kind cannot say."""
        from .budget import PACE_PLAIN
        ev = evaluator(self.kind)
        if ev.estimate is None:
            return None, PACE_PLAIN
        per = [ev.estimate(p) for p in self.validate()]
        return max(e for e, _ in per) * self.n_runs, min(r for _, r in per)


def _fail(path, field_, what):
    raise SpecError(f"{path}: {field_}" if field_ else path, what)


def _number(path, where, v, *, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
        _fail(path, where, f"expected a {'positive ' if positive else ''}number, got {v!r}")
    return v


def _param(path, i, t) -> Param:
    w = f"param[{i}]"
    if not isinstance(t, dict):
        _fail(path, w, "expected a table ([[param]])")
    extra = sorted(set(t) - {"path", "values", "low", "high", "steps", "scale", "integer"})
    if extra:
        _fail(path, f"{w}.{extra[0]}", "unknown key (allowed: path, values, low, high, steps, scale, integer)")
    p = t.get("path")
    if not isinstance(p, str) or not p or any(not s for s in p.split(".")):
        _fail(path, f"{w}.path", f"expected a dotted path like \"sources.0.interval_us\", got {p!r}")
    scale = t.get("scale", "linear")
    if scale not in ("linear", "log"):
        _fail(path, f"{w}.scale", f"expected \"linear\" or \"log\", got {scale!r}")
    integer = t.get("integer", False)
    if not isinstance(integer, bool):
        _fail(path, f"{w}.integer", f"expected true or false, got {integer!r}")
    if "values" in t:
        vals = t["values"]
        if not isinstance(vals, list) or not vals:
            _fail(path, f"{w}.values", "expected a non-empty list")
        if any(k in t for k in ("low", "high", "steps")):
            _fail(path, f"{w}.values", "give either values or low/high, not both")
        return Param(p, values=tuple(vals))
    if "low" not in t or "high" not in t:
        _fail(path, w, f"{p}: give values = [...] or low and high")
    lo = _number(path, f"{w}.low", t["low"])
    hi = _number(path, f"{w}.high", t["high"])
    if hi < lo:
        _fail(path, f"{w}.high", f"{hi} is below low = {lo}")
    if scale == "log" and lo <= 0:
        _fail(path, f"{w}.low", "a log scale needs low > 0")
    steps = t.get("steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        _fail(path, f"{w}.steps", f"expected a positive integer, got {steps!r}")
    return Param(p, low=lo, high=hi, steps=steps, scale=scale, integer=integer)


def parse_sweep(t: dict, path: str = "<sweep>") -> Sweep:
    folder = os.path.dirname(os.path.abspath(path))
    kind = t.get("kind", "spec")
    if kind not in EVALUATORS and kind not in PLUGINS:
        _fail(path, "kind", f"unknown sweep kind {kind!r} (known: {', '.join(sorted(set(EVALUATORS) | set(PLUGINS)))})")
    known = {"name", "kind", "spec", "host", "tokio", "set", "seeds", "design", "param", "plot", "scenario"}
    extra = sorted(set(t) - known)
    if extra:
        _fail(path, extra[0], f"unknown key (allowed: {', '.join(sorted(known))})")
    name = t.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str):
        _fail(path, "name", "expected a string")
    base = evaluator(kind).load_base(t, path, folder)

    seeds = t.get("seeds", [1])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            _fail(path, "seeds", "expected a count >= 1 or a list of seeds")
        seeds = list(range(1, seeds + 1))
    if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        _fail(path, "seeds", f"expected a count or a list of non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        _fail(path, "seeds", "a seed is listed twice")

    d = t.get("design", {})
    if not isinstance(d, dict):
        _fail(path, "design", "expected a table: [design] method = \"grid\" | \"random\" | \"lhs\"")
    extra = sorted(set(d) - {"method", "points", "seed"})
    if extra:
        _fail(path, f"design.{extra[0]}", "unknown key (allowed: method, points, seed)")
    method = d.get("method", "grid")
    if method not in DESIGNS:
        _fail(path, "design.method", f"expected one of {', '.join(DESIGNS)}, got {method!r}")
    dseed = d.get("seed", 0)
    if isinstance(dseed, bool) or not isinstance(dseed, int) or dseed < 0:
        _fail(path, "design.seed", f"expected a non-negative integer, got {dseed!r}")
    points = d.get("points")
    if method == "grid":
        if points is not None:
            _fail(path, "design.points", "a grid has as many points as the product of its values; drop points")
    elif isinstance(points, bool) or not isinstance(points, int) or points < 1:
        _fail(path, "design.points", f"{method} needs points = N (a positive integer), got {points!r}")

    raw = t.get("param", [])
    if not isinstance(raw, list) or not raw:
        _fail(path, "param", "expected at least one [[param]] table")
    params = tuple(_param(path, i, p) for i, p in enumerate(raw))
    seen = set()
    for i, p in enumerate(params):
        if p.path in seen:
            _fail(path, f"param[{i}].path", f"{p.path} is swept twice")
        seen.add(p.path)
        if method == "grid" and p.values is None and p.steps is None:
            _fail(path, f"param[{i}].steps", "a grid over low..high needs steps = N (or give values)")
        if p.path == "tokio" and p.values is None:
            _fail(path, f"param[{i}].values", "tokio is swept over a list of versions, e.g. values = [\"1.24\", \"1.49\"]")
    plot = t.get("plot", {})
    if not isinstance(plot, dict):
        _fail(path, "plot", "expected a table: [plot] figure = \"...\"")
    sw = Sweep(path, name, kind, base, method, params, tuple(seeds), points, dseed, plot)
    return sw


def load_sweep(path: str) -> Sweep:
    from .spec import read_toml
    return parse_sweep(read_toml(path), path)


# ---------------------------------------------------------------------------------------------
# running


def run_job(kind: str, payload) -> dict:
    """Worker entry point (module level, so that it pickles by name)."""
    return evaluator(kind).evaluate(payload)


def row_of(job: Job, result: dict) -> dict:
    return {"key": job.key, "point": job.point, "seed": job.seed, "params": job.assignment, "figures": result}


def read_rows(path: str, repair: bool = True) -> dict:
    """Finished rows by key. A trailing line without its newline was torn by a kill: cut it off
    (so that the next append starts on a fresh line). A key seen twice keeps its first row."""
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path, "rb") as f:
        data = f.read()
    end = data.rfind(b"\n") + 1
    if end < len(data) and repair:
        with open(path, "r+b") as f:
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
    for n, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except (ValueError, RecursionError):
            r = None
        if not isinstance(r, dict) or not isinstance(r.get("key"), str) or not isinstance(r.get("figures"), dict):
            raise UserError(f"{path}:{n}", "not a results row; the file was edited by hand? move it away to start over")
        rows.setdefault(r["key"], r)
    return rows


class _Appender:
    def __init__(self, path):
        self.f = open(path, "ab")

    def add(self, row: dict):
        # one write of a whole line, then flush + fsync: a kill leaves either the whole row or a
        # torn tail that read_rows cuts off
        self.f.write((json.dumps(row, sort_keys=True) + "\n").encode())
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()


def _lock(out: str):
    import fcntl
    fh = open(os.path.join(out, ".lock"), "w")
    try:
        # a POSIX record lock, not flock: forked pool workers do not inherit it, so a worker
        # orphaned by a killed sweep cannot keep the folder locked
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UserError(out, "another sweep is writing to this folder") from None
    return fh


def _run_job_of(job: Job) -> dict:
    return run_job(job.kind, job.payload)


def _iter_local(todo, workers):
    """Yield (job, result) as they finish, on `workers` local processes (in-process for 1); the
    processes die with this one, and an interrupt stops them at once (numasim.procs)."""
    from .procs import imap_unordered
    yield from imap_unordered(_run_job_of, todo, workers)


def _iter_dask(todo, address, workers):
    from dask.distributed import Client, LocalCluster, as_completed
    cluster = None
    own = True
    if isinstance(address, Client):  # a caller's client (tests, notebooks): use it, leave it open
        client, own = address, False
    elif address == "local":
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=10)
        except (OSError, TimeoutError, ValueError) as e:
            raise UserError("--dask", f"cannot reach the Dask scheduler at {address}: {e}") from None
    futs = {}
    todo = iter(todo)
    # a bounded number of tasks on the scheduler at a time: the design is pulled as they finish
    window = max(4 * max(workers, 1), 16)

    def submit(j):
        # the task key is the row key: the same computation is the same task to the scheduler
        fu = client.submit(run_job, j.kind, j.payload, key=f"numasim-{j.key}")
        futs[fu] = j
        return fu

    try:
        import itertools
        ac = as_completed([submit(j) for j in itertools.islice(todo, window)])
        for fu in ac:
            j = futs.pop(fu)
            res = fu.result()
            for nxt in itertools.islice(todo, 1):
                ac.add(submit(nxt))
            yield j, res
    finally:
        if not own:
            for fu in futs:
                fu.cancel()
        else:
            client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(sweep: Sweep, out: str, workers: int = 1, dask: str | None = None, quiet: bool = False,
              plot: bool = True, executor: Callable | None = None) -> dict:
    """Run every job not yet on disk; return a summary.

    `dask` is None (local processes), "local" (a LocalCluster of `workers` processes), a scheduler
    address, or a `distributed.Client`. `executor(todo)` may replace the back-end altogether (it
    takes an iterator of jobs and must yield (job, result) pairs as they finish).

    Jobs are generated as the back-end pulls them, so memory does not grow with the design; the
    design's extreme values are validated first (`Sweep.validate`), before a folder is made."""
    from .progress import Progress
    sweep.validate()
    os.makedirs(out, exist_ok=True)
    lock = _lock(out)
    try:
        results = os.path.join(out, RESULTS)
        done = read_rows(results)
        with open(os.path.join(out, "sweep.json.part"), "w", encoding="utf-8") as f:
            json.dump({"name": sweep.name, "file": os.path.abspath(sweep.path), "kind": sweep.kind,
                       "design": sweep.design, "params": [p.path for p in sweep.params],
                       "seeds": list(sweep.seeds), "runs": sweep.n_runs}, f, indent=1)
        os.replace(os.path.join(out, "sweep.json.part"), os.path.join(out, "sweep.json"))
        app = _Appender(results)
        bar = Progress(sweep.n_runs, f"numasim sweep {sweep.name}", "run", quiet=quiet)
        count = {"keys": 0, "reused": 0, "complete": False}
        order = []  # (key, point, seed, assignment of a duplicate) of every job generated so far

        def todo():
            # two design points can resolve to the same computation (e.g. rounded integers in a
            # random design): it runs once and both rows share it
            seen = set()
            for j in sweep.iter_jobs():
                if j.key in seen:
                    order.append((j.key, j.point, j.seed, j.assignment))
                    bar.update(1)
                    continue
                order.append((j.key, j.point, j.seed, None))
                seen.add(j.key)
                count["keys"] += 1
                if j.key in done:
                    count["reused"] += 1
                    bar.update(1)
                    continue
                yield j
            count["complete"] = True

        ran = 0
        try:
            if executor is not None:
                it = executor(todo())
            elif dask:
                it = _iter_dask(todo(), dask, workers)
            else:
                it = _iter_local(todo(), workers)
            try:
                for job, res in it:
                    row = row_of(job, res)
                    app.add(row)
                    done[job.key] = row
                    ran += 1
                    bar.update(1)
            finally:
                if hasattr(it, "close"):
                    it.close()  # stop the back-end now if the loop body was interrupted
        finally:
            bar.close()
            app.close()
            # from the disk, the truth: an interrupt between a row's write and the line that
            # records it in memory must not leave it out of the table
            done = read_rows(results)
            write_table(sweep, order, done, os.path.join(out, TABLE), count["complete"])
        made = []
        if plot and len(sweep.params) == 2:
            from . import plots
            made = plots.sweep_plots(sweep, read_table(os.path.join(out, TABLE)), out)
        return {"runs": count["keys"], "ran": ran, "reused": count["reused"], "table": os.path.join(out, TABLE),
                "plots": made}
    finally:
        lock.close()


VERDICT_COLUMNS = ("verdict_level", "verdict_basis")


def table_rows(sweep: Sweep, order: list, done: dict, complete: bool = True) -> tuple[list, list]:
    """(columns, rows) of the current design, in design order; rows of other designs are left out.

    `order` is what the run generated: (key, point, seed, assignment or None) per job. When the
    run stopped before generating the whole design, finished rows it did not reach yet are kept
    if their point's assignment is the design's (checked on the assignments alone: generating
    the payloads again would cost as much as the design's validation, per point).

    Figure columns are sorted by name (verdict last), so a table rebuilt from resumed rows (read
    back from JSON written with sorted keys) has the same columns in the same order as a fresh
    one."""
    pcols = [p.path for p in sweep.params]
    seed_rank = {s: i for i, s in enumerate(sweep.seeds)}
    rows = []
    for key, point, seed, assignment in order:
        r = done.get(key)
        if r is not None:
            rows.append((point, seed, assignment if assignment is not None else r["params"], r["figures"]))
    if not complete:
        reached = {k for k, *_ in order}
        rest = [r for k, r in done.items() if k not in reached and r.get("seed") in seed_rank
                and isinstance(r.get("point"), int) and 0 <= r["point"] < sweep.n_points]
        if rest:
            want = {r["point"] for r in rest}
            last = max(want)
            design = {}
            for i, a in enumerate(sweep.iter_assignments()):
                if i > last:
                    break
                if i in want:
                    design[i] = a
            rows += [(r["point"], r["seed"], r["params"], r["figures"]) for r in rest
                     if design.get(r["point"]) == r["params"]]
            rows.sort(key=lambda x: (x[0], seed_rank[x[1]]))
    fset = set()
    for *_, figs in rows:
        fset.update(figs)
    fcols = sorted(fset, key=lambda k: (k in VERDICT_COLUMNS, k))
    cols = ["point", "seed"] + pcols + fcols
    out = []
    for point, seed, assignment, figs in rows:
        d = {"point": point, "seed": seed}
        d.update(assignment)
        d.update({k: ("" if v is None else v) for k, v in figs.items()})
        out.append(d)
    return cols, out


def write_table(sweep, order, done, path, complete: bool = True):
    cols, rows = table_rows(sweep, order, done, complete)
    tmp = path + ".part"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, cols, restval="")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def read_table(path: str) -> list:
    """The CSV back as dicts of floats where a cell is numeric."""
    def conv(v):
        if v == "":
            return None
        try:
            return float(v)
        except ValueError:
            return v
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(f)]
