"""Run a workload spec on the simulated runtime and collect a tokio-probe/1 trace.

This is the engine's one entry point: spec + version profile + host model + seed in, a plain
`SimResult` (header, interval records, the runtime for inspection) out. It drives the run the way
the probe does: sources submit until `duration_s`, then the run waits for every task to finish
(at most 5 s more) and takes one last sample.
"""
import json
from dataclasses import dataclass

import numpy as np
import simpy

from . import __version__
from .metrics.runtime import RuntimeMonitor
from .metrics.task import I_DROP, I_INSTR
from .spec import External, Root, Spec
from .tokio.host import Host, default_host
from .tokio.profile import Profile
from .tokio.worker import Runtime

DRAIN_LIMIT_NS = 5_000_000_000
DRAIN_POLL_NS = 10_000_000


@dataclass
class SimResult:
    header: dict
    intervals: list
    runtime: Runtime
    polls: int  # every poll the engine ran, LIFO polls included

    def lines(self):
        yield json.dumps(self.header)
        for r in self.intervals:
            yield json.dumps(r)

    def write(self, f):
        for line in self.lines():
            f.write(line)
            f.write("\n")


def rng_streams(seed: int) -> dict:
    """Independent streams per component from one SeedSequence, so one seed fixes the run."""
    ss = np.random.SeedSequence(seed)
    arrivals, costs, fr, os_ = ss.spawn(4)
    return {
        "arrivals": np.random.default_rng(arrivals),
        "costs": np.random.default_rng(costs),
        # the two u32 words of tokio's builder seed (tokio picks them at random; we derive them)
        "fastrand": fr.generate_state(2, dtype=np.uint32),
        # the host's own choices (where the kernel places a woken thread)
        "os": np.random.default_rng(os_),
    }


def _live(rt) -> int:
    return sum(m.c[I_INSTR] - m.c[I_DROP] for m in rt.monitors.values())


def simulate(spec: Spec, profile: Profile, host: Host = None, seed=None, observer=None) -> SimResult:
    host = host or default_host(profile.version)
    seed = spec.seed if seed is None else seed
    streams = rng_streams(seed)
    env = simpy.Environment()
    rt = Runtime(env, spec, profile, host, streams, observer)
    origin = host.startup_ns
    rt.end_ns = origin + spec.duration_ns
    rt.start()
    state = {"done": False}
    stop = env.event()
    records = []

    def external(src: External):
        rng = streams["arrivals"]
        yield env.timeout(origin - env.now)
        nxt = env.now
        while nxt < rt.end_ns:
            if nxt > env.now:
                yield env.timeout(nxt - env.now)
            rt.current = None
            rt.spawn(src.task, None)
            rt.debt = 0  # the spawner thread pays its own syscalls
            mean = src.interval.sample(rng) if not src.interval.is_fixed else int(src.interval.mean_ns)
            gap = int(round(rng.exponential(mean))) if src.arrival == "poisson" else mean
            nxt += max(gap, 1)

    def root(src: Root):
        yield env.timeout(origin - env.now)
        rt.current = None
        rt.spawn(src.task, None)
        rt.debt = 0

    def sampler():
        yield env.timeout(origin - env.now)
        mon = RuntimeMonitor(rt, origin)
        nxt = env.now
        while True:
            nxt += spec.sample_interval_ns
            yield env.timeout(nxt - env.now)
            records.append(mon.sample())
            if state["done"]:
                stop.succeed()
                return

    def ender():
        yield env.timeout(rt.end_ns - env.now)
        limit = env.now + DRAIN_LIMIT_NS
        while env.now < limit and _live(rt) > 0:
            yield env.timeout(DRAIN_POLL_NS)
        yield env.timeout(spec.sample_interval_ns)
        state["done"] = True

    for src in spec.sources:
        env.process(external(src) if isinstance(src, External) else root(src))
    env.process(sampler())
    env.process(ender())
    env.run(until=stop)
    header = {
        "kind": "header", "format": "tokio-probe/1", "tokio_version": profile.version,
        "cpus": spec.workers, "spec": spec.raw,
        "simulator": {"name": "numasim", "version": __version__, "seed": seed, "host": host.to_dict()},
    }
    polls = sum(w.stats.polls_count for w in rt.workers) if not profile.poll_count_per_run_task else None
    return SimResult(header, records, rt, polls)
