"""Estimates of work before it starts, and a refusal above a limit.

A run's cost is counted in simulated events, read off the spec without running it: task polls
(each source's task instances, duration / mean interval for an external source or one for a
root, times one instance's polls: one per await, `repeat` multiplying, `loop_until_end` running
until the end at the body's own pace), plus offload jobs, memory reads and the OS's thread
migrations on a NUMA machine. It is an order of magnitude, enough to refuse `duration_s: 1e9`
or 1e6 sweep points before anything runs, not a prediction (tests/test_budget.py bounds it
against the engine's own poll counts).

The CPU time shown beside the count uses the pace of the engine that will run the input: ~80k
events per CPU-second for a plain spec on the SimPy engine, ~15k on a NUMA machine (the Hawk
default: 2-node Graviton4-class, 64 tokio threads migrating, 128 pinned pool threads), ~1.7M on
the compiled engine where it covers the input, plus a fixed ~3 ms per run. Above `MAX_EVENTS` at
the SimPy engine's pace (the
same ~21 minutes of CPU at any pace: 1e8 events on the SimPy engine, ~2e9 on the compiled one) a
command refuses with one line unless `--yes`, or `--max-events N` sets another limit.
"""
from __future__ import annotations

import math
import sys

from .errors import UserError

PACE_PLAIN = 80_000        # events per CPU-second, README "Speed and size"
PACE_MACHINE = 15_000      # measured on the default Hawk scenario
PACE_FAST = 1_700_000      # the compiled engine on the public specs: 1.69-2.02 M polls per CPU-second
# the compiled engine on a machine: 130-300 k estimated events per CPU-second (numactl-machine.json at
# 0.2 and 1 s; the memory-load refresher's rounds, 1000 per simulated second, are not in the estimate)
PACE_FAST_MACHINE = 200_000
# the default Hawk scenario on the compiled engine, the whole run (the Hawk observer's facts and the
# records included): `numasim run`, 5 seeds x 4 layouts, 50 M estimated events in 45.7 CPU-s with the
# multiplexer tasks (1.1 M/s), 26.5 M in 30.8 CPU-s without (0.86 M/s)
PACE_FAST_HAWK = 1_000_000
RUN_CPU_S = 0.003          # a run's fixed cost beside its events (a 760-event spec: 3 ms on the compiled engine)
MAX_EVENTS = 1e8           # at PACE_PLAIN; the default limit is this much CPU time at any pace
LOOP_FLOOR_NS = 1_000      # an iteration of a loop costs at least about one poll's host time


class _Count:
    def __init__(self, horizon_ns: float, workers: int):
        self.horizon = horizon_ns
        self.workers = max(1, workers)

    def steps(self, steps) -> tuple[float, float]:
        """(events, simulated ns) of a step list, not counting the task's first poll."""
        from . import spec as S
        ev = 0.0
        t = 0.0
        for s in steps:
            if isinstance(s, S.Spin):
                t += s.dur.mean_ns
            elif isinstance(s, (S.Yield, S.Join, S.Mem)):
                ev += 1
            elif isinstance(s, (S.Sleep, S.IoWait, S.MpcRound)):
                ev += 1
                t += s.dur.mean_ns
            elif isinstance(s, S.MpcHop):
                ev += 3  # the session's wake and a poll of each multiplexer
                t += s.dur.mean_ns + s.send.mean_ns + s.recv.mean_ns
            elif isinstance(s, S.SpawnBlocking):
                ev += 2
                if s.join:
                    t += s.dur.mean_ns
            elif isinstance(s, S.Spawn):
                cp, ct = self.task(s.task)
                ev += s.count * cp
                if s.join:
                    ev += 1
                    # the children share the workers: a join waits for about count / workers of them
                    t += ct * max(1.0, s.count / self.workers)
            elif isinstance(s, S.Offload):
                ev += 2 * s.count  # the job on the pool and the reply's wake
                t += s.count * s.dur.mean_ns
            elif isinstance(s, S.Repeat):
                bp, bt = self.steps(s.steps)
                ev += s.n * bp
                t += s.n * bt
            elif isinstance(s, S.LoopUntilEnd):
                bp, bt = self.steps(s.steps)
                left = max(self.horizon - t, 0.0)
                ev += max(bp, 1.0) * left / max(bt, LOOP_FLOOR_NS)
                t = max(t, self.horizon)
        return ev, t

    def task(self, t) -> tuple[float, float]:
        """(events, simulated ns) of one instance of a task: its first poll, then its steps."""
        p, d = self.steps(t.steps)
        return 1.0 + p, d


def spec_events(spec) -> float:
    """Estimated simulated events of one run of a parsed `Spec`."""
    from .spec import External
    c = _Count(spec.duration_ns, spec.workers)
    total = 0.0
    for src in spec.sources:
        p, _ = c.task(src.task)
        n = spec.duration_ns / max(src.interval.mean_ns, 1.0) if isinstance(src, External) else 1.0
        total += n * p
    for rt in spec.runtimes:
        pl = rt.placement
        if pl is not None and pl.kind != "pinned":
            total += pl.migrate_hz * rt.workers * spec.duration_ns / 1e9
    total += spec.duration_ns / max(spec.sample_interval_ns, 1) * len(spec.runtimes or (1,))
    # every party runs the whole spec
    return total * max(1, len(spec.parties))


def pace(spec) -> float:
    """Events per CPU-second of the engine that will run `spec` (--engine's choice)."""
    from .engine import which
    from .tokio.profile import get_profile
    if which(spec, get_profile("1.49")) == "fast":
        return PACE_FAST_MACHINE if spec.machine is not None else PACE_FAST
    return PACE_MACHINE if spec.machine is not None else PACE_PLAIN


def hawk_pace() -> float:
    """Events per CPU-second of a Hawk scenario's runs on the engine --engine chose (every Hawk
    input is covered by the compiled engine, so `auto` is fast)."""
    from .engine import default
    return PACE_MACHINE if default() == "simpy" else PACE_FAST_HAWK


def scenario_events(sc, layout: str) -> float:
    """Estimated events of one run of a Hawk scenario under a layout (its generated spec)."""
    from .spec import parse_spec
    from .hawk import jobs as hawk
    return spec_events(parse_spec(hawk.generate(sc, layout, 1), f"<{sc.name}: {layout}>"))


def human(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def duration(cpu_s: float) -> str:
    if not math.isfinite(cpu_s):
        return "forever"
    if cpu_s < 90:
        return f"{cpu_s:.0f} s"
    if cpu_s < 5400:
        return f"{cpu_s / 60:.0f} min"
    if cpu_s < 2 * 86400:
        return f"{cpu_s / 3600:.1f} h"
    if cpu_s < 2 * 365 * 86400:
        return f"{cpu_s / 86400:.0f} days"
    return f"{cpu_s / (365 * 86400):.3g} years"


def add_arguments(p) -> None:
    p.add_argument("--yes", action="store_true",
                   help="run even if the estimate is above the limit (about 21 minutes of CPU)")
    p.add_argument("--max-events", type=float, default=None, metavar="N",
                   help=f"refuse above N estimated simulated events instead of about 21 minutes of CPU "
                        f"({human(MAX_EVENTS)} events on the SimPy engine, {human(MAX_EVENTS * PACE_FAST / PACE_PLAIN)} on the compiled one)")


def check(where: str, runs: int, events: float, args, processes: int = 1, pace_per_s: float = PACE_PLAIN,
          quiet: bool = False) -> None:
    """Say what is about to run (on stderr, for anything over ~10 CPU-seconds, unless quiet) and
    refuse it above the limit; `where` names the input (a file) in the refusal."""
    limit = getattr(args, "max_events", None)
    limit = MAX_EVENTS * max(pace_per_s, PACE_PLAIN) / PACE_PLAIN if limit is None else limit
    if not limit > 0:
        raise UserError("--max-events", f"expected a positive number, got {limit:g}")
    # a run's fixed cost counts as the events it could have run: a million tiny runs are not free
    work = events + runs * RUN_CPU_S * pace_per_s
    cpu_s = work / pace_per_s
    wall = f", ~{duration(cpu_s / min(processes, runs))} on {processes} processes" if processes > 1 and runs > 1 else ""
    text = (f"{human(runs)} run{'s' if runs != 1 else ''}, about {human(events)} simulated events "
            f"(~{duration(cpu_s)} of CPU{wall})")
    if work > limit and not getattr(args, "yes", False):
        raise UserError(where, f"{text}: above the limit of {human(limit)} events; "
                              "pass --yes to run it anyway, or --max-events N")
    if not quiet and cpu_s >= 10:
        print(f"numasim {getattr(args, 'command', '')}: {where}: {text}", file=sys.stderr, flush=True)
