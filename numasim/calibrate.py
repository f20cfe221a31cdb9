"""Calibration: fit the host model's free costs (and a spec's open values) to real traces.

    cases = load_cases(paths, spec_path=None, tokio=None)   # real traces grouped by spec
    fit = calibrate(cases, free=DEFAULT_FREE, max_evals=80)
    fit.profile()  -> {"host", "uncertainty", "errors", "tokio", "traces", "seconds", ...}

The fit is simulation-based. A candidate (a vector of free values) is scored by simulating every
case with the same seeds (common random numbers, so two candidates differ only by their
parameters, not by their luck) and comparing the run's figures with the real ones. The figures and
their floors are those of `shared/fidelity/figures.py`; a figure's error is
`|sim - real| / max(|real|, floor)`, capped at 1 so that a figure the model cannot reproduce at
all (a structural miss) does not drown the figures the parameters do move. A case's error is the
mean over its figures, and the objective is the mean over cases, so several traces (one layout
and another, one version and another) are fitted jointly.

The optimizer is scipy's bounded Nelder–Mead in log-parameter space: costs are positive, span
decades, and act multiplicatively, so a step of 0.3 means "about 35% more" for every parameter.

Open values in a spec: any number under a key ending in `_us`, or a `cv`, may be written as
`"?"` (free, started at 10 µs, or 0.5 for a cv), `"?START"` (free, started at START), or
`{"free": START, "min": LO, "max": HI, "name": NAME}` (min/max default to START/20 and START*20,
name to `SPEC:PATH`; two markers with the same name are one parameter, shared across specs).

Uncertainty: around the optimum each parameter is moved by a factor e^±0.15 alone, a parabola in
log space is fitted through the three objective values, and the width at which the objective
rises by the seed noise (the objective's change when the optimum is rerun with other seeds) gives
a relative standard error, `sqrt(2 * noise / curvature)`. A flat or concave direction is reported
as unidentified (`null`): the traces do not pin that parameter.

Why one file of ~500 lines: the free parameters, the cases, the objective and the fit loop are
one algorithm whose pieces share the cases' seeds and the spec paths; the CLI is in
commands/calibrate.py.
"""
from __future__ import annotations

import copy
import json
import math
import re
import statistics
import time
from dataclasses import dataclass, field, fields, replace

import numpy as np

from .errors import SpecError, TraceError, UserError
from .figures import error, figures
from .spec import parse_spec
from .host.costs import DEFAULT_HOST, Host

ERROR_CAP = 1.0

# The host costs fitted by default. Each moves figures the traces carry:
#   poll_ns                every task's mean poll (and busy ratio);
#   spawn_ns               the mean poll of spawning tasks (root, job, orientation);
#   run_task_ns            scheduler overhead between polls: busy ratio, polls/s when saturated;
#   unpark_latency_ns      scheduling delay of a task that wakes a briefly parked worker;
#   idle_wake_latency_ns   the same after a long park (the vCPU left halt-polling);
#   unpark_ns              the waker's mean poll (it pays the futex/eventfd syscall);
#   park_ns                busy ratio and parks/s of a worker that parks often;
#   timer_slack_ns         idle time and latency of tasks that sleep.
# Left fixed: steal_ns and driver_poll_ns (small next to the above, and confounded with
# run_task_ns), halt_poll_ns (a threshold: the objective is flat in it between park lengths),
# ready_ns, eventfd_write_ns, io_wake_latency_ns, remote_schedule_ns, thread_spawn_ns and
# startup_ns (no public trace exercises them enough to identify them).
DEFAULT_FREE = ("poll_ns", "spawn_ns", "run_task_ns", "unpark_latency_ns", "idle_wake_latency_ns",
                "unpark_ns", "park_ns", "timer_slack_ns")
HOST_RANGE = 10.0  # a host cost is searched within [start / 10, start * 10]
SIMPLEX_STEP = 0.4  # initial simplex: each vertex moves one parameter by e^0.4 ≈ 1.5x
CURV_STEP = 0.15
METHOD = "Powell"


# ---------------------------------------------------------------------------------- figures
def figure_errors(real: dict, sim: dict) -> dict:
    """Per-figure error of `sim` against `real`; a figure the simulation lacks counts as 1."""
    out = {}
    for k, v in real.items():
        got = sim.get(k)
        out[k] = 1.0 if got is None else error(v, got, k)
    return out


# ---------------------------------------------------------------------------------- free values
@dataclass
class Free:
    """One free parameter: a host cost (`host.NAME`) or an open spec value (shared by name)."""
    name: str
    start: float
    low: float
    high: float
    sites: list = field(default_factory=list)  # (case index, JSON path) for spec values
    integer_ns: bool = False  # a host cost: whole ns

    def __post_init__(self):
        if not (0 < self.low <= self.start <= self.high):
            raise UserError(self.name, f"expected 0 < min <= start <= max, got {self.low}, {self.start}, {self.high}")


_MARK = re.compile(r"^\?\s*([0-9.eE+-]*)$")


def _free_key(key) -> bool:
    return isinstance(key, str) and (key.endswith("_us") or key == "cv" or key == "remote_penalty")


# start and search range of a free value given only as "?"; a remote penalty below 1 would make
# remote memory cheaper than local
_FREE_DEFAULTS = {"cv": (0.5, None, None), "remote_penalty": (1.5, 1.0, 4.0)}


def find_free(raw, where: str) -> list:
    """Open values of a raw spec: [(path tuple, name or None, start, low, high)]."""
    out = []

    def walk(v, path, txt):
        if isinstance(v, dict):
            if "free" in v:
                parse(v, path, txt)
                return
            for k, x in v.items():
                walk(x, path + (k,), f"{txt}.{k}" if txt else k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, path + (i,), f"{txt}[{i}]")
        elif isinstance(v, str) and v.startswith("?"):
            parse(v, path, txt)

    def parse(v, path, txt):
        key = path[-1] if path else None
        if not _free_key(key):
            raise SpecError(f"{where}: {txt}", "only a duration (a key ending in _us), a cv or remote_penalty can be free")
        default, lo_default, hi_default = _FREE_DEFAULTS.get(key, (10.0, None, None))
        if isinstance(v, str):
            m = _MARK.match(v)
            if not m:
                raise SpecError(f"{where}: {txt}", f'expected "?" or "?START" for a free value, got {v!r}')
            try:
                start = float(m.group(1)) if m.group(1) else default
            except ValueError:
                raise SpecError(f"{where}: {txt}", f"not a number after '?': {v!r}") from None
            name, lo, hi = None, lo_default, hi_default
        else:
            extra = sorted(set(v) - {"free", "min", "max", "name"})
            if extra:
                raise SpecError(f"{where}: {txt}.{extra[0]}", "unknown field in a free value (allowed: free, min, max, name)")
            vals = {}
            for k in ("free", "min", "max"):
                x = v.get(k)
                if x is not None and (isinstance(x, bool) or not isinstance(x, (int, float)) or not x > 0):
                    raise SpecError(f"{where}: {txt}.{k}", f"expected a positive number, got {json.dumps(x)}")
                vals[k] = x
            start = vals["free"] if vals["free"] is not None else default
            lo = vals["min"] if vals["min"] is not None else lo_default
            hi = vals["max"] if vals["max"] is not None else hi_default
            name = v.get("name")
            if name is not None and (not isinstance(name, str) or not name):
                raise SpecError(f"{where}: {txt}.name", "expected a non-empty string")
        if name is None and key == "remote_penalty":
            name = "remote_penalty"  # one machine, one penalty: shared by every case that frees it
        if not start > 0:
            raise SpecError(f"{where}: {txt}", f"a free value must start above 0, got {start}")
        lo = start / 20 if lo is None else lo
        hi = start * 20 if hi is None else hi
        if not lo <= start <= hi:
            raise SpecError(f"{where}: {txt}", f"expected min <= start <= max, got {lo}, {start}, {hi}")
        out.append((path, txt, name, start, lo, hi))

    walk(raw, (), "")
    return out


def _set(raw, path, value):
    node = raw
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


# ---------------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One spec under one tokio version, with the real figures: the mean over its repetitions."""
    name: str
    tokio: str
    raw: dict  # the spec as given, free markers included
    where: str  # the file the spec came from, for errors
    paths: list
    real: dict
    duration_ns: int


def _version_key(v: str) -> str:
    """A header's tokio_version ("1.24.2") to a profile name ("1.24")."""
    from .tokio.profile import get_profile
    for cand in (".".join(str(v).split(".")[:2]), v):
        try:
            get_profile(cand)
            return cand
        except UserError:
            continue
    raise UserError("--tokio", f"no version profile for tokio {v!r}")


def load_cases(paths, spec_path=None, tokio=None) -> list:
    """Read real traces and group them by (spec name, tokio version); repetitions are averaged."""
    from .traces import Trace, read_trace
    if not paths:
        raise UserError("TRACE", "give at least one trace")
    given = None
    if spec_path is not None:
        from .inputs import read_json
        given = read_json(spec_path, SpecError, "a workload spec (JSON)")
    groups: dict = {}
    for p in paths:
        # a Trace already read (a Prometheus server's runtime), or a file to read
        tr = p if isinstance(p, Trace) else read_trace(p)
        p = tr.path if isinstance(p, Trace) else p
        head = tr.header or {}
        if given is not None:
            raw, where = given, spec_path
        else:
            raw, where = head.get("spec"), f"{p}:1"
            if not isinstance(raw, dict):
                raise TraceError(f"{p}:1", "the header carries no spec; give one with --spec")
        # validate now (free markers replaced by their starts) so a bad spec fails before any sim
        _parse(raw, where, {})
        ver = tokio or head.get("tokio_version")
        if not ver:
            raise TraceError(f"{p}:1", "the header carries no tokio_version; give one with --tokio")
        ver = _version_key(str(ver))
        if not tr.intervals:
            raise TraceError(p, "no interval records")
        name = raw.get("name", "spec")
        key = (name, ver)
        g = groups.setdefault(key, {"raw": raw, "where": where, "paths": [], "figs": []})
        if json.dumps(_strip(g["raw"]), sort_keys=True) != json.dumps(_strip(raw), sort_keys=True):
            raise TraceError(f"{p}:1", f"spec {name!r} differs from the one in {g['paths'][0]}")
        dur_ns = int(round(float(raw.get("duration_s", 0)) * 1e9))
        for i, r in enumerate(tr.intervals):
            if "t" not in r or "runtime" not in r:
                raise TraceError(f"{p}: interval {i + 1}", "an interval record needs t and runtime")
        figs = figures(tr.intervals, dur_ns)
        if not figs:
            raise TraceError(p, "no figures: the intervals cover no elapsed time")
        g["paths"].append(str(p))
        g["figs"].append(figs)
        g["dur"] = dur_ns
    cases = []
    for (name, ver), g in groups.items():
        keys = g["figs"][0].keys()
        real = {k: statistics.mean(f[k] for f in g["figs"] if k in f) for k in keys}
        cases.append(Case(name, ver, g["raw"], g["where"], g["paths"], real, g["dur"]))
    return cases


def _strip(raw):
    """A spec without its seed: repetitions of one spec may have run under different seeds."""
    return {k: v for k, v in raw.items() if k != "seed"}


def _parse(raw, where, values):
    """Parse a raw spec with its free markers replaced (by `values[path]`, or their start)."""
    marks = find_free(raw, where)
    if marks:
        raw = copy.deepcopy(raw)
        for path, _txt, _name, start, _lo, _hi in marks:
            _set(raw, path, values.get(path, start))
    return parse_spec(raw, where)


# ---------------------------------------------------------------------------------- the fit
@dataclass
class Fit:
    params: list  # [Free]
    values: dict  # name -> fitted value
    host: Host
    spec_values: dict  # case name -> {path text: value}
    objective: float
    start_objective: float
    errors: dict  # "case/figure" -> error (uncapped), at the optimum
    uncertainty: dict
    evals: int
    seconds: float
    interrupted: bool
    cases: list
    seeds: list
    fit_duration_s: float | None

    def profile(self) -> dict:
        errs = list(self.errors.values())
        tokio = sorted({c.tokio for c in self.cases})
        return {
            "host": self.host.to_dict(),
            "free": {p.name: self.values[p.name] for p in self.params},
            "spec_values": self.spec_values,
            "uncertainty": self.uncertainty,
            "errors": {k: round(v, 5) for k, v in self.errors.items()},
            "median_error": round(statistics.median(errs), 5) if errs else None,
            "within_25": round(sum(e <= 0.25 for e in errs) / len(errs), 4) if errs else None,
            "objective": round(self.objective, 6),
            "start_objective": round(self.start_objective, 6),
            "tokio": tokio[0] if len(tokio) == 1 else tokio,
            "traces": [p for c in self.cases for p in c.paths],
            "seeds": self.seeds,
            "fit_duration_s": self.fit_duration_s,
            "evaluations": self.evals,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 1),
        }


class _Stop(Exception):
    """The evaluation budget is spent: ends the optimizer early, keeping the best point."""


class Objective:
    """Candidate -> mean capped figure error over cases and seeds, with the best point kept."""

    def __init__(self, cases, params, host0, seeds, fit_duration_s, progress=None):
        from .tokio.profile import get_profile
        self.cases, self.params, self.host0, self.seeds = cases, params, host0, seeds
        self.fit_duration_s = fit_duration_s
        self.profiles = {c.tokio: get_profile(c.tokio) for c in cases}
        self.progress = progress
        self.evals = 0
        self.best = (math.inf, None)
        self.cache: dict = {}

    def values(self, x) -> dict:
        """Log-space vector -> {name: value}, clipped into bounds; host costs are whole ns."""
        out = {}
        for p, xi in zip(self.params, x):
            v = min(max(p.start * math.exp(float(xi)), p.low), p.high)
            out[p.name] = int(round(v)) if p.integer_ns else v
        return out

    def host(self, vals) -> Host:
        hv = {p.name[5:]: vals[p.name] for p in self.params if p.name.startswith("host.")}
        return replace(self.host0, **hv)

    def spec_for(self, ci, vals):
        c = self.cases[ci]
        sub = {}
        for p in self.params:
            for (cj, path) in p.sites:
                if cj == ci:
                    sub[path] = vals[p.name]
        raw = c.raw
        if self.fit_duration_s is not None and raw.get("duration_s", 0) > self.fit_duration_s:
            raw = dict(raw, duration_s=self.fit_duration_s)
        return _parse(raw, c.where, sub)

    def case_errors(self, vals, seeds=None) -> list:
        """[(case, {figure: error})] per seed, errors uncapped."""
        from .engine import simulate
        host = self.host(vals)
        out = []
        for ci, c in enumerate(self.cases):
            spec = self.spec_for(ci, vals)
            for s in seeds or self.seeds:
                res = simulate(spec, self.profiles[c.tokio], host, seed=(spec.seed if s is None else s))
                out.append((c, figure_errors(c.real, figures(res.intervals, spec.duration_ns))))
        return out

    def score(self, vals, seeds=None) -> float:
        per = self.case_errors(vals, seeds)
        return float(np.mean([np.mean([min(e, ERROR_CAP) for e in errs.values()]) for _c, errs in per]))

    def __call__(self, x):
        vals = self.values(x)
        key = tuple(sorted(vals.items()))
        if key in self.cache:
            return self.cache[key]
        if self.max_evals is not None and self.evals >= self.max_evals:
            raise _Stop
        j = self.score(vals)
        self.evals += 1
        self.cache[key] = j
        if j < self.best[0]:
            self.best = (j, vals)
        if self.progress is not None:
            self.progress(self.evals, j, self.best[0])
        return j

    max_evals = None


def host_params(names, host0: Host = DEFAULT_HOST) -> list:
    # only the costs in ns: a count (cpus) or a probability is not searched multiplicatively
    known = {f.name for f in fields(Host) if f.name.endswith("_ns")}
    out = []
    for n in names:
        if n not in known:
            raise UserError("--free", f"not a host cost in ns: {n!r} (known: {', '.join(sorted(known))})")
        v0 = getattr(host0, n)
        start = max(v0, 10)  # a cost of 0 cannot be searched multiplicatively; start at 10 ns
        out.append(Free(f"host.{n}", start, max(start / HOST_RANGE, 1.0), start * HOST_RANGE, integer_ns=True))
    return out


def spec_params(cases) -> list:
    """The open values of every case's spec, merged by name."""
    by_name: dict = {}
    for ci, c in enumerate(cases):
        for path, txt, name, start, lo, hi in find_free(c.raw, c.where):
            nm = f"spec.{name}" if name else f"spec.{c.name}:{txt}"
            p = by_name.get(nm)
            if p is None:
                p = by_name[nm] = Free(nm, start, lo, hi)
            p.sites.append((ci, path))
    return list(by_name.values())


def calibrate(cases, free=DEFAULT_FREE, host0: Host = DEFAULT_HOST, max_evals: int = 80, seeds=(None,),
              fit_duration_s=None, uncertainty: bool = True, progress=None) -> Fit:
    """Fit the free host costs and the specs' open values to the cases' real figures.

    `seeds`: the common random numbers; None means each spec's own seed. `fit_duration_s` caps
    the simulated submission period of long specs (figures are per-second rates and means, so a
    shorter steady-state run estimates them at a fraction of the cost). `progress(evals, j, best)`
    is called after every evaluation. Ctrl-C stops the search; the best point so far is returned
    with `interrupted=True`.
    """
    t0 = time.monotonic()
    params = host_params(free, host0) + spec_params(cases)
    if not params:
        raise UserError("--free", "nothing to fit: no host parameter is free and the specs have no open value")
    obj = Objective(cases, params, host0, list(seeds), fit_duration_s, progress)
    obj.max_evals = max_evals
    n = len(params)
    x0 = np.zeros(n)
    bounds = [(math.log(p.low / p.start), math.log(p.high / p.start)) for p in params]
    interrupted = False
    try:
        j0 = obj(x0)
        from scipy.optimize import minimize
        # Nelder–Mead restarted from the best point with a fresh, smaller simplex until the budget
        # is spent: a simplex on a piecewise-linear objective (capped absolute errors, integer ns,
        # discrete events) collapses onto a ridge, and a restart is the cheap way off it.
        step = SIMPLEX_STEP
        while obj.evals < max_evals and step > 0.01:
            xb = np.array([math.log(obj.best[1][p.name] / p.start) for p in params])
            simplex = [xb]
            for i in range(n):
                v = xb.copy()
                # step up, or down when the upper bound is too close
                v[i] += step if xb[i] + step <= bounds[i][1] else -step
                simplex.append(v)
            if METHOD == "Powell":
                minimize(obj, xb, method="Powell", bounds=bounds,
                         options={"direc": np.eye(n) * step, "maxfev": max_evals, "xtol": 0.01, "ftol": 1e-6})
            else:
                minimize(obj, xb, method="Nelder-Mead", bounds=bounds,
                         options={"initial_simplex": np.array(simplex), "maxfev": max_evals,
                                  "xatol": 0.005, "fatol": 1e-6})
            step /= 2
    except _Stop:
        pass
    except KeyboardInterrupt:
        interrupted = True
        j0 = obj.cache.get(tuple(sorted(obj.values(x0).items())), math.inf)
    best_j, best_vals = obj.best
    if best_vals is None:  # interrupted before the first evaluation finished
        best_vals = obj.values(x0)
        best_j = math.inf
    unc = {}
    if uncertainty and not interrupted:
        try:
            unc = _uncertainty(obj, best_vals, best_j)
        except KeyboardInterrupt:
            interrupted = True
    errors = {}
    try:
        if not interrupted or best_j < math.inf:
            for c, errs in obj.case_errors(best_vals, obj.seeds[:1]):
                for k, e in errs.items():
                    errors[f"{c.name}@{c.tokio}/{k}"] = e
    except KeyboardInterrupt:
        interrupted = True
    spec_values: dict = {}
    for p in params:
        for ci, path in p.sites:
            c = cases[ci]
            txt = next(t for pa, t, *_ in find_free(c.raw, c.where) if pa == path)
            spec_values.setdefault(c.name, {})[txt] = best_vals[p.name]
    return Fit(params, best_vals, obj.host(best_vals), spec_values, best_j, j0, errors, unc, obj.evals,
               time.monotonic() - t0, interrupted, cases, list(seeds), fit_duration_s)


def _uncertainty(obj: Objective, vals: dict, j: float) -> dict:
    """Relative standard error per parameter from the local curvature, scaled by the seed noise."""
    other = [(s if s is not None else 0) + 1000 for s in obj.seeds]
    noise = abs(obj.score(vals, other) - j)
    noise = max(noise, 1e-4)
    out = {"method": "curvature", "step": CURV_STEP, "noise": round(noise, 6), "relative": {}}
    for p in obj.params:
        base = math.log(vals[p.name] / p.start)
        js = []
        for d in (-CURV_STEP, CURV_STEP):
            x = [math.log(vals[q.name] / q.start) for q in obj.params]
            x[obj.params.index(p)] = base + d
            js.append(obj.score(obj.values(x)))
        curv = (js[0] + js[1] - 2 * j) / CURV_STEP ** 2
        # a parabola whose rise by `noise` marks one standard error in log space
        out["relative"][p.name] = round(math.sqrt(2 * noise / curv), 4) if curv > 0 else None
    return out
