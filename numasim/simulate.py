"""Run a workload spec on the simulated runtime and collect a tokio-probe/1 trace.

This is the engine's one entry point: spec + version profile + host model + seed in, a plain
`SimResult` (header, interval records, the runtime for inspection) out. It drives the run the way
the probe does: sources submit until `duration_s`, then the run waits for every task to finish
(at most 5 s more) and takes one last sample.
"""
import json
from dataclasses import dataclass, field

import numpy as np
import simpy

from . import __version__
from .metrics.runtime import RuntimeMonitor
from .metrics.task import I_DROP, I_INSTR, TaskMonitor, TaskSampler
from .spec import External, Root, Spec
from .machine.placement import initial_cpus
from .host.costs import Host, default_host
from .host.network import Network
from .host.cpus import Cpus, NodeAware, VcpuStacking, flat_machine
from .host.numa import Numa
from .host.pools import Pool
from .host.system import System
from .tokio.handle import Runtime
from .tokio.profile import Profile
from .workload import interpret
from .workload.mux import live_multiplexers
from .workload.program import child_key

DRAIN_LIMIT_NS = 5_000_000_000
DRAIN_POLL_NS = 10_000_000


@dataclass
class SimResult:
    header: dict
    # the first runtime's tokio-probe/1 interval records; their `tasks` cover every runtime
    intervals: list
    runtime: Runtime  # the first runtime, for inspection
    # every poll the engine ran, LIFO polls included, where the profile's polls_count counts each
    # poll (1.24); None where it counts run_task calls (1.29+) and so is not that number
    polls: int
    # name -> that runtime's interval records (each with the same `tasks`, of every runtime)
    runtimes: dict = field(default_factory=dict)
    numa: dict = None  # NUMA facts (a spec with a machine), see docs/machine-workload-api.md
    task_latencies: dict = field(default_factory=dict)  # task name -> [ns] of every completed task
    system: System = None  # every runtime, the CPUs and pools, for inspection
    per_worker: dict = field(default_factory=dict)  # runtime name -> per-sample per-worker deltas
    # a multi-party run: every ring position's result (this one is position 0's) and the network
    parties: list = field(default_factory=list)
    network: object = None

    def lines(self):
        yield json.dumps(self.header)
        for r in self.intervals:
            yield json.dumps(r)

    def write(self, f):
        for line in self.lines():
            f.write(line)
            f.write("\n")


def rng_streams(seed: int, n_runtimes: int = 1, ss=None) -> dict:
    """Independent streams per component from one SeedSequence, so one seed fixes the run.
    (SeedSequence children and state words are prefix-stable: adding streams or runtimes leaves
    the first ones unchanged.) `ss`: that SeedSequence instead of the seed's (party_streams)."""
    ss = np.random.SeedSequence(seed) if ss is None else ss
    arrivals, costs, fr, os_, numa = ss.spawn(5)
    return {
        "seed": int(seed) & 0xFFFFFFFFFFFFFFFF,
        "arrivals": np.random.default_rng(arrivals),
        # the two u32 words of tokio's builder seed per runtime (tokio picks them at random; we
        # derive them)
        "fastrand": fr.generate_state(2 * n_runtimes, dtype=np.uint32),
        # the host's own choices (where the kernel places a woken thread)
        "os": np.random.default_rng(os_),
        # the OS's migrations of floating threads on a NUMA machine
        "numa": np.random.default_rng(numa),
    }


def _live(runtimes) -> int:
    """Tasks alive that the run's end waits for: all but the multiplexers, which never finish."""
    return sum(m.c[I_INSTR] - m.c[I_DROP] for rt in runtimes for m in rt.monitors.values()) \
        - live_multiplexers(runtimes)


class Observers:
    """Several observers in the engine's one observer slot: each gets every event, in the order
    given. Any event the engine emits (poll_start, poll_end, park, complete, ...) is forwarded
    by name, so the fan-out never lags behind the events the observers know."""

    def __init__(self, observers):
        self.observers = tuple(observers)

    def __getattr__(self, event):
        if event.startswith("_"):
            raise AttributeError(event)  # not an event (copy and pickle probe for these)
        handlers = [getattr(o, event) for o in self.observers]

        def fan_out(*args):
            for h in handlers:
                h(*args)
        setattr(self, event, fan_out)  # looked up once per event name
        return fan_out


def _observer(observers):
    """What the runtimes call: None (no observer costs nothing on the hot path), the one
    observer, or a fan-out."""
    observers = tuple(observers)
    if not observers:
        return None
    return observers[0] if len(observers) == 1 else Observers(observers)


def build_system(env, spec, profile, host, streams, observers=()):
    """The runtimes and the system they share (CPUs, NUMA tables, pools), placed and ready to
    start. `observers` subscribe to the engine's events (`Observers`)."""
    sys = System(env, host)
    m = spec.machine
    observer = _observer(observers)

    def instrument(name):
        return TaskMonitor(name, spec.slow_poll_threshold_ns, spec.long_delay_threshold_ns)

    if m is None:
        # the flat host: one node, vCPU stacking, the OS's choices from the "os" stream
        sys.cpus = Cpus(sys, flat_machine(host.cpus), streams["os"], VcpuStacking)
    else:
        sys.cpus = Cpus(sys, m, streams["numa"], NodeAware)
        sys.numa = Numa(m, spec, sys.cpus.node_of)
    for i, rs in enumerate(spec.runtimes):
        sys.runtimes[rs.name] = Runtime(env, spec, profile, host, streams, rs, sys, i, interpret, instrument, observer)
    threads = [w for rt in sys.runtimes.values() for w in rt.workers]
    if m is None:
        n = len(sys.cpus.cpus)
        for i, w in enumerate(threads):
            w.cpu = i % n  # round robin by position: several runtimes' workers share the CPUs
    else:
        cpus = sys.cpus
        for rt in sys.runtimes.values():
            pl = rt.rs.placement
            if pl.kind == "pinned":
                for w, c in zip(rt.workers, pl.cpus):
                    w.cpu = c
                continue
            kind = "unpinned" if pl.kind == "float" else "per_runtime"
            mask = cpus.mask(pl.cpus, kind, pl.migrate_hz)
            for w, c in zip(rt.workers, initial_cpus(m, mask.aff, len(rt.workers))):
                w.mask = mask
                w.cpu = c
                cpus.add_floating(w, pl.migrate_hz)
        for ps in spec.pools:
            sys.pools[ps.name] = Pool(sys, ps)
    sys.cpus.start(threads)
    return sys


def simulate(spec: Spec, profile: Profile, host: Host = None, seed=None, observers=()) -> SimResult:
    """Run `spec` on `profile`'s rules and `host`'s costs with one seed (the spec's by default);
    `observers` get the engine's events. A spec with `parties` runs one system per party
    (`simulate_parties`)."""
    host = host or default_host(profile.version)
    seed = spec.seed if seed is None else seed
    if spec.parties:
        return simulate_parties(spec, profile, host, seed, observers)
    streams = rng_streams(seed, max(1, len(spec.runtimes)))
    env = simpy.Environment()
    sys, sampler = _start_party(env, spec, profile, host, streams, observers)
    runtimes = list(sys.runtimes.values())
    env.process(_drain(env, runtimes, host.startup_ns + spec.duration_ns, [sampler]))
    env.run(until=sampler.stop)
    return _result(spec, profile, host, seed, sys, sampler)


def _start_party(env, spec, profile, host, streams, observers, party=None, spin_scale=1.0):
    """One system (CPUs, runtimes, pools, sources, sampler) built and started in `env`; with
    `party`, that ring position of a multi-party run (its runtimes are told so before any task
    is spawned)."""
    sys = build_system(env, spec, profile, host, streams, observers)
    runtimes = list(sys.runtimes.values())
    rt = runtimes[0]
    origin = host.startup_ns
    end_ns = origin + spec.duration_ns
    for r in runtimes:
        if party is not None:
            r.party = party
            r.spin_scale = spin_scale
        r.end_ns = end_ns
        r.start()
    for p in sys.pools.values():
        p.start()
    if sys.numa is not None:
        env.process(sys.cpus.migrator(env))
        env.process(sys.numa.refresher(env))
    sampler = TraceSampler(env, sys, origin, spec.sample_interval_ns)
    for si, src in enumerate(spec.sources):
        srt = sys.runtimes[src.runtime] if src.runtime is not None else rt
        if isinstance(src, External):
            env.process(_external(env, srt, src, si, streams["arrivals"], origin, end_ns))
        else:
            env.process(_root(env, srt, src, si, origin))
    env.process(sampler.run())
    return sys, sampler


def _result(spec, profile, host, seed, sys, sampler) -> SimResult:
    runtimes = list(sys.runtimes.values())
    rt = runtimes[0]
    polls = sum(w.stats.polls_count for r in runtimes for w in r.workers) if not profile.poll_count_per_run_task else None
    return SimResult(header(spec, profile, host, seed), sampler.records[rt.name], rt, polls, sampler.records, _numa_facts(sys),
                     sampler.latencies(), sys, {mon.rt.name: mon.per_worker for mon in sampler.monitors})


def party_streams(seed: int, stream: int, n_runtimes: int = 1) -> dict:
    """`rng_streams` of one machine of a multi-party run: every stream (task costs included)
    keyed by the run seed and the machine's `stream`, so the parties draw independently and a
    machine keeps its draws wherever it sits in the ring."""
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, 1 + int(stream)])
    out = rng_streams(0, n_runtimes, ss)
    out["seed"] = int(ss.generate_state(1, dtype=np.uint64)[0])
    return out


def simulate_parties(spec: Spec, profile: Profile, host: Host, seed: int, observers=()) -> SimResult:
    """The parties of `spec` in one SimPy environment: each runs the whole spec (machine,
    runtimes, pools, regions, sources) on its own system, and they meet only in `mpc_round`
    messages (numasim.host.network). The result is ring position 0's, with every position's
    result in `parties` and the network (its per-endpoint counts) in `network`; `observers`
    watch position 0."""
    env = simpy.Environment()
    n_rt = max(1, len(spec.runtimes))
    started = [_start_party(env, spec, profile, host, party_streams(seed, ps.stream, n_rt),
                            observers if i == 0 else (), party=i, spin_scale=ps.spin_scale)
               for i, ps in enumerate(spec.parties)]
    net = Network([sys for sys, _ in started])
    runtimes = []
    for sys, _ in started:
        for r in sys.runtimes.values():
            r.network = net
            runtimes.append(r)
    samplers = [sm for _, sm in started]
    env.process(_drain(env, runtimes, host.startup_ns + spec.duration_ns, samplers))
    env.run(until=simpy.AllOf(env, [sm.stop for sm in samplers]))
    results = [_result(spec, profile, host, seed, sys, sm) for sys, sm in started]
    out = results[0]
    out.parties = results
    out.network = net
    return out


def header(spec, profile, host, seed) -> dict:
    """The tokio-probe/1 header line of a run (both engines write it)."""
    return {
        "kind": "header", "format": "tokio-probe/1", "tokio_version": profile.version,
        "cpus": spec.workers, "spec": spec.raw,
        "simulator": {"name": "numasim", "version": __version__, "seed": seed, "host": host.to_dict()},
    }


def _external(env, rt, src: External, si: int, rng, origin: int, end_ns: int):
    """An external source: spawns into `rt` from a thread outside the runtime until the end."""
    arrival = 0
    yield env.timeout(origin - env.now)
    nxt = env.now
    while nxt < end_ns:
        if nxt > env.now:
            yield env.timeout(nxt - env.now)
        rt.current = None
        arrival += 1
        rt.spawn(src.task, None, child_key(-1 - si, arrival))
        rt.debt = 0  # the spawner thread pays its own syscalls
        mean = src.interval.sample(rng) if not src.interval.is_fixed else int(src.interval.mean_ns)
        gap = int(round(rng.exponential(mean))) if src.arrival == "poisson" else mean
        nxt += max(gap, 1)


def _root(env, rt, src: Root, si: int, origin: int):
    """A root source: one task spawned at the origin."""
    yield env.timeout(origin - env.now)
    rt.current = None
    rt.spawn(src.task, None, child_key(-1 - si, 0))
    rt.debt = 0


def _drain(env, runtimes, end_ns: int, samplers):
    """After the sources stop, wait for every task to finish (at most DRAIN_LIMIT_NS), then one
    more sample interval, as the probe does."""
    yield env.timeout(end_ns - env.now)
    limit = env.now + DRAIN_LIMIT_NS
    while env.now < limit and _live(runtimes) > 0:
        yield env.timeout(DRAIN_POLL_NS)
    yield env.timeout(samplers[0].interval)
    for sm in samplers:
        sm.done = True


class TraceSampler:
    """The trace sampler, an observer of the clock: from the origin, every sample interval, one
    `RuntimeMonitor` sample per runtime (tokio-metrics' `RuntimeMonitor::intervals`, with the
    per-worker series), each carrying the same task records (`TaskSampler`: a TaskMonitor is per
    task name, whichever runtime runs the task) and, on a machine, the CPU each thread runs on. It
    stops the run at the first sample after `done`."""

    def __init__(self, env, sys, origin: int, interval_ns: int):
        self.env = env
        self.sys = sys
        self.origin = origin
        self.interval = interval_ns
        self.monitors = []
        self.tasks = TaskSampler(sys.runtimes.values())
        self.records = {name: [] for name in sys.runtimes}
        self.done = False
        self.stop = env.event()

    def run(self):
        env = self.env
        sys = self.sys
        yield env.timeout(self.origin - env.now)
        self.monitors.extend(RuntimeMonitor(r, self.origin) for r in sys.runtimes.values())
        threads = sys.threads() if sys.numa is not None else None
        nxt = env.now
        while True:
            nxt += self.interval
            yield env.timeout(nxt - env.now)
            tasks = self.tasks.sample()
            for mon in self.monitors:
                self.records[mon.rt.name].append(mon.sample(tasks))
            if threads is not None:
                sys.numa.sample_threads(env.now - self.origin, threads)
            if self.done:
                self.stop.succeed()
                return

    def latencies(self) -> dict:
        """Task name -> every completed task's latency (ns), over all runtimes."""
        return self.tasks.all_latencies


def _numa_facts(sys):
    """result.numa: per runtime and per task name, polls by node, migrations, remote costs; the
    memory bytes read per (CPU node, memory node); pools; the thread -> CPU timeline."""
    numa = sys.numa
    if numa is None:
        return None
    out = {"machine": numa.machine.name, "nodes": numa.n, "remote_penalty": numa.penalty, "runtimes": {},
           "tasks": {}, "pools": {name: p.stats() for name, p in sys.pools.items()}, "mem_bytes": numa.mem_report(),
           "os_migrations": sys.cpus.migrations, "balance_moves": sys.cpus.balance_moves,
           "timeline": [{"t": t, "cpus": cpus} for t, cpus in numa.timeline]}
    for name, rt in sys.runtimes.items():
        out["runtimes"][name] = rt.numa_stats.to_dict()
        out["tasks"][name] = {tn: m.numa.to_dict() for tn, m in rt.monitors.items() if m.numa is not None}
    return out
