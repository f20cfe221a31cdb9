"""The compiled engine's Python side: refuse what it does not cover, lay a spec out in arrays,
run the kernel (rerunning with bigger arrays if one ran out), and turn its samples into the same
SimResult the SimPy engine returns, through the reference's own RuntimeMonitor.
"""
import glob
import heapq
import os
import sys

import numpy as np
from types import SimpleNamespace

from ..errors import UserError
from ..host.costs import default_host
from ..host.network import Endpoint, Network
from ..metrics.runtime import RuntimeMonitor
from ..metrics.task import TaskSampler
from ..simulate import SimResult, _numa_facts, header, party_streams, rng_streams
from ..spec import External
from ..tokio.fastrand import core_generators
from .fast import CACHE_DIR, state as st
from .fast.arrivals import merge
from .fast.pcg import dist_params
from .fast.loop import PAUSE, PAUSE_OBS, PAUSE_U, run, run_parties, setup, setup_parties
from .fast.observe import OBS_OVERFLOW
from .replay import Replay, replayable
from .fast.program import Unsupported, compile_program


# a multi-party run's first room for endpoints (sessions) per party and for the messages one
# event sends, and for the mpc_hop messages a party holds between arrival and handover
# (doubled when outgrown)
NET_CAPS = (1024, 256)
HOP_CAP = 256


class EngineUnsupported(UserError):
    """The fast engine does not run this input yet (the message names the feature)."""


def unsupported(spec, profile, observers=()):
    """The first feature of this input the fast engine does not cover, or None."""
    o = replayable(observers)
    if o is not None:
        return (f"an observer that reads the engine's live state ({type(o).__name__}; an observer the "
                f"compiled engine can replay says so with `replayable = True`, docs/engine.md)")
    try:
        compile_program(spec, spec.task_names())
    except Unsupported as e:
        return str(e)
    return None


def check(spec, profile, observers=()):
    why = unsupported(spec, profile, observers)
    if why is not None:
        raise EngineUnsupported("--engine fast", f"not covered by the compiled engine yet: {why} (use --engine simpy)")


def _arrivals(spec, streams, origin, end_ns, compiled=True):
    """Each source's arrival times, drawn in the order the SimPy processes draw them (they share
    the "arrivals" stream): a small event loop of the sources alone keeps their relative order.
    With fixed mean intervals it runs compiled (engine/fast/arrivals.py)."""
    if compiled and all(not isinstance(s, External) or s.interval.is_fixed for s in spec.sources):
        return _arrivals_fixed_means(spec, streams["arrivals"], origin, end_ns)
    rng = streams["arrivals"]
    times = [[] for _ in spec.sources]
    q = []
    eid = 0
    for si in range(len(spec.sources)):
        heapq.heappush(q, (origin, eid, si))
        eid += 1
    while q:
        now, _, si = heapq.heappop(q)
        src = spec.sources[si]
        if not isinstance(src, External):
            times[si].append(now)
            continue
        if now >= end_ns:
            continue
        times[si].append(now)
        mean = src.interval.sample(rng) if not src.interval.is_fixed else int(src.interval.mean_ns)
        gap = int(round(rng.exponential(mean))) if src.arrival == "poisson" else mean
        nxt = now + max(gap, 1)
        if nxt < end_ns:
            heapq.heappush(q, (nxt, eid, si))
            eid += 1
    return times


def _arrivals_fixed_means(spec, rng, origin, end_ns):
    srcs = spec.sources
    ext = [isinstance(s, External) for s in srcs]
    kind = np.array([1 if e else 0 for e in ext], np.int64)
    mean = np.array([int(s.interval.mean_ns) if e else 0 for s, e in zip(srcs, ext)], np.int64)
    poisson = np.array([1 if e and s.arrival == "poisson" else 0 for s, e in zip(srcs, ext)], np.int64)
    span = max(0, end_ns - origin)
    # about as many draws as Poisson arrivals, and room for every arrival (both grown on demand)
    nz = min(int(sum(span // max(1, m) for m, p in zip(mean, poisson) if p) * 1.1) + 64, 1 << 22)
    nout = min(int(sum(span // max(1, m) + 2 for m, e in zip(mean, ext) if e) + len(srcs)), 1 << 22)
    z = rng.standard_exponential(nz)
    while True:
        out_src = np.zeros(nout, np.int64)
        out_t = np.zeros(nout, np.int64)
        k = merge(kind, mean, poisson, origin, end_ns, z, out_src, out_t)
        if k == -1:
            # the stream goes on where the bulk draw stopped: the same draws as one at a time
            z = np.concatenate([z, rng.standard_exponential(len(z))])
        elif k == -2:
            nout *= 2
        else:
            break
    out_src, out_t = out_src[:k], out_t[:k]
    return [out_t[out_src == si].tolist() for si in range(len(srcs))]


def _params(spec, profile, host, nsrc):
    p = np.zeros(st.NPR, np.int64)
    p[st.PR_POLL] = host.poll_ns
    p[st.PR_SPAWN] = host.spawn_ns
    p[st.PR_READY] = host.ready_ns
    p[st.PR_RUN_TASK] = host.run_task_ns
    p[st.PR_STEAL] = host.steal_ns
    p[st.PR_DRIVER_POLL] = host.driver_poll_ns
    p[st.PR_PARK] = host.park_ns
    p[st.PR_UNPARK_LAT] = host.unpark_latency_ns
    p[st.PR_IDLE_WAKE_LAT] = host.idle_wake_latency_ns
    p[st.PR_HALT_POLL] = host.halt_poll_ns
    p[st.PR_CTX] = host.ctx_switch_ns
    p[st.PR_BALANCE] = host.balance_ns
    p[st.PR_SHORT_RUN] = host.short_run_ns
    p[st.PR_UNPARK] = host.unpark_ns
    p[st.PR_EVENTFD] = host.eventfd_write_ns
    p[st.PR_SLACK] = host.timer_slack_ns
    p[st.PR_STARTUP] = host.startup_ns
    p[st.PR_NW] = sum(rs.workers for rs in spec.runtimes)
    p[st.PR_NCPU] = max(1, host.cpus)
    p[st.PR_NRT] = len(spec.runtimes)
    p[st.PR_REMOTE_SCHED] = host.remote_schedule_ns
    p[st.PR_END] = host.startup_ns + spec.duration_ns
    p[st.PR_ORIGIN] = host.startup_ns
    p[st.PR_SAMPLE_NS] = spec.sample_interval_ns
    p[st.PR_SLOW] = spec.slow_poll_threshold_ns
    p[st.PR_LONG] = spec.long_delay_threshold_ns
    p[st.PR_NSRC] = nsrc
    p[st.PR_IO_WAKE_LAT] = host.io_wake_latency_ns
    p[st.PR_THREAD_SPAWN] = host.thread_spawn_ns
    p[st.PR_SCHED_YIELD] = host.sched_yield_ns
    p[st.PR_WORKER_UNPARK_LAT] = host.worker_unpark_latency_ns
    p[st.F_PARK_SPIN] = profile.park_spin_yields
    p[st.F_LIFO_CAP] = profile.max_lifo_polls_per_tick or 0
    p[st.F_PER_RUN_TASK] = profile.poll_count_per_run_task
    p[st.F_BATCH_PULL] = profile.inject_batch_pull
    p[st.F_NEWEST_HALF] = profile.overflow_newest_half
    p[st.F_BUSY_BY_PROC] = profile.busy_by_processing
    p[st.F_START_AFTER_PARK] = profile.start_processing_after_park
    p[st.F_DEDUPE] = profile.defer_lifo_dedupe
    p[st.F_NEEDS_TWO] = profile.notify_others_needs_two
    p[st.F_FROM_PARKED_Q] = profile.from_parked_checks_queue
    p[st.F_SUBMIT_BEFORE_PARK] = profile.submit_before_park
    p[st.F_BUDGET_DEFERS] = profile.budget_exhaustion_defers
    p[st.F_LIFO_STEALABLE] = profile.lifo_stealable
    p[st.F_HAS_PARK_UNPARK] = profile.has_park_unpark_count
    return p


def _compiled_before(loop) -> bool:
    return bool(glob.glob(os.path.join(CACHE_DIR, "**", f"loop.{loop}-*.nbi"), recursive=True))


_warm = set()


def _kernel(parties=False):
    """The kernels of one system's run or of a multi-party run (each its own compile)."""
    loop = "run_parties" if parties else "run"
    if loop not in _warm and not _compiled_before(loop):
        print("numasim: compiling the fast engine (once per machine, about a minute)...", file=sys.stderr, flush=True)
    _warm.add(loop)
    return setup, run, setup_parties, run_parties


class _Party:
    """One system's layout (a party of a multi-party run, or the run's one system): its streams,
    arrays and views, machine block and latency log. With several parties each M and F becomes a
    row of one stacked array (`rebase`), the same layout for all."""

    def __init__(self, spec, profile, host, prog, names, ws, streams, caps, net_caps, replay, params, ncpu,
                 party=0, nparties=1, spin_scale=1.0, times=None, narr=0):
        """`times`: each source's arrivals (drawn here if None); `narr`: room for at least that
        many in the layout (the parties' counts differ, their layouts may not)."""
        rts = [rs.name for rs in spec.runtimes]
        nw = sum(rs.workers for rs in spec.runtimes)
        self.streams = streams
        if times is None:
            times = _arrivals(spec, streams, host.startup_ns, host.startup_ns + spec.duration_ns)
        src = np.zeros((len(spec.sources), st.NSRC_COLS), np.int64)
        arrt = []
        for si, s in enumerate(spec.sources):
            src[si] = (1 if isinstance(s, External) else 0, prog.roots[si], len(arrt), len(times[si]),
                       0 if s.runtime is None else rts.index(s.runtime))
            arrt.extend(times[si])
        params = params.copy()
        params[st.PR_SEED] = np.uint64(streams["seed"]).astype(np.int64)  # TaskDraws' seed, as its bits
        self.mach = _Machine(spec, nw, ncpu, len(rts) * len(names), ws, streams, caps[0])
        epcap, obcap, hmcap = net_caps
        net = dict(EP=(st.H_EP, np.zeros((epcap, st.NEP), np.int64)), EH=(st.H_EH, np.zeros(2 * epcap, np.int64)),
                   OB=(st.H_OB, np.zeros((obcap, st.NOB), np.int64)), HM=(st.H_HM, np.zeros((hmcap, st.NHM), np.int64)))
        self.M, self.F, views = st.allocate(nw + self.mach.npt, ncpu, len(rts), len(names), prog.ops, prog.defs, src,
                                            np.array(arrt + [0] * max(1, narr + 1 - len(arrt)), np.int64),
                                            params, (host.stack_wake_prob, host.stack_wait_prob,
                                                     host.stack_again_prob, host.stack_wait_short_prob),
                                            [dist_params(d) for d in prog.dists], caps,
                                            numa=dict(self.mach.tables, **replay.tables(), **net,
                                                      **_mux_tables(prog, names)))
        self.M[st.H_MUXDEF] = prog.mux
        self.M[st.H_EPCAP] = epcap
        self.M[st.H_OBCAP] = obcap
        self.M[st.H_HMCAP] = hmcap
        self.S = SimpleNamespace(**views)
        self.party, self.nparties, self.spin_scale = party, nparties, spin_scale
        self.lats = []

    def rebase(self, M, F):
        """Move the arrays into rows M, F of the stacked ones (and the views with them)."""
        M[:] = self.M
        F[:] = self.F
        for name, v in vars(self.S).items():
            base, row = (self.M, M) if np.may_share_memory(v, self.M) else (self.F, F)
            off = (v.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // v.itemsize
            setattr(self.S, name, row[off:off + v.size].reshape(v.shape))
        self.M, self.F = M, F

    def init(self, spec, profile, replay):
        S = self.S
        _init(S, self.F, spec, profile, self.streams)
        self.F[st.F_SCALE] = self.spin_scale
        S.X[st.X_PARTY] = self.party
        S.X[st.X_NPARTIES] = self.nparties
        S.X[st.X_HMFREE] = -1
        self.mach.init(S)
        if replay is not None:
            replay.init(self.M, S)
        self.rng = self.streams["os"]
        _refill(S, self.M, self.F, self.rng)

    def serve(self, code, replay):
        """A pause: the observers' log replayed, the latency log kept and emptied, a window of
        draws that runs low refilled."""
        S = self.S
        if replay is not None:
            replay.drain(S)
        if code == PAUSE:
            n = int(S.R[st.R_NLAT])
            self.lats.append(S.LAT[:n].copy())
            S.R[st.R_LAT_BASE] += n
            S.R[st.R_NLAT] = 0
        if S.R[st.R_U_N] - S.R[st.R_U_I] < st.U_MARGIN:
            _refill(S, self.M, self.F, self.rng)

    def result(self, spec, profile, host, seed, names, replay):
        S = self.S
        if replay is not None:
            replay.drain(S)
            replay.finish(S)
        self.lats.append(S.LAT[:int(S.R[st.R_NLAT])])
        res = _result(spec, profile, host, seed, S, np.concatenate(self.lats), names, host.startup_ns)
        res.numa = self.mach.facts(S, names, host.startup_ns)
        return res


def simulate_fast(spec, profile, host=None, seed=None, observers=()):
    """simulate.simulate, compiled: the same SimResult (with `parties` and `network` for a spec
    with parties, simulate_parties' result)."""
    host = host or default_host(profile.version)
    seed = spec.seed if seed is None else seed
    check(spec, profile, observers)
    names = spec.task_names()
    ws = []
    prog = compile_program(spec, names, ws)
    ncpu = max(1, host.cpus) if spec.machine is None else max(spec.machine.cpus) + 1
    params = _params(spec, profile, host, len(spec.sources))
    params[st.PR_NCPU] = ncpu
    n_samples = (spec.duration_ns + 5_000_000_000 + 10_000_000) // spec.sample_interval_ns + 4
    caps = [4096, 4096, 1024, 1024, 1 << 16, int(n_samples)]
    parties = spec.parties
    net_caps = list(NET_CAPS) + [HOP_CAP] if parties else [1, 1, 1]
    setup, run, setup_parties, run_parties = _kernel(bool(parties))
    replay = Replay(spec, observers, names, ncpu)
    nrt = len(spec.runtimes)
    while True:
        if parties:
            streams = [party_streams(seed, p.stream, nrt) for p in parties]
            origin = host.startup_ns
            times = [_arrivals(spec, s, origin, origin + spec.duration_ns) for s in streams]
            narr = max(sum(len(x) for x in ts) for ts in times)
            # observers watch ring position 0, as simulate_parties gives them
            ps = [_Party(spec, profile, host, prog, names, ws, streams[i], caps, net_caps, replay, params, ncpu, i,
                         len(parties), p.spin_scale, times[i], narr) for i, p in enumerate(parties)]
            M2 = np.zeros((len(ps), len(ps[0].M)), np.int64)
            F2 = np.zeros((len(ps), len(ps[0].F)))
            for i, p in enumerate(ps):
                p.rebase(M2[i], F2[i])
        else:
            ps = [_Party(spec, profile, host, prog, names, ws, rng_streams(seed, nrt), caps, net_caps, replay, params,
                         ncpu)]
        for i, p in enumerate(ps):
            p.init(spec, profile, replay if i == 0 else None)
        if parties:
            setup_parties(M2, F2)
            go = lambda: run_parties(M2, F2)  # noqa: E731
        else:
            M, F = ps[0].M, ps[0].F
            setup(M, F)
            go = lambda: run(M, F)  # noqa: E731
        code = go()
        while code in (PAUSE, PAUSE_U, PAUSE_OBS):
            for i, p in enumerate(ps):
                p.serve(code, replay if i == 0 else None)
            code = go()
        if code == 0:
            break
        # a capacity ran out: the same run again with it doubled (tasks, inject, events, defer,
        # latencies, samples; endpoints, outbox, hop messages; the observers' log)
        replay.rerun(int(code))
        idx = {1: 0, 4: 0, 2: 1, 3: 2, 6: 3, 5: 4, 7: 5}.get(int(code))
        if idx is not None:
            caps[idx] *= 2
        elif code in (9, 10, 11):
            net_caps[int(code) - 9] *= 2
        elif code != OBS_OVERFLOW:
            raise RuntimeError(f"the fast engine stopped with code {code}")
    results = [p.result(spec, profile, host, seed, names, replay if i == 0 else None) for i, p in enumerate(ps)]
    res = results[0]
    if parties:
        res.parties = results
        res.network = _network(ps)
    return res


def _mux_tables(prog, names):
    """The connections (engine/fast/mux.py) and the per-name task counts (System.slots)."""
    return dict(CN=(st.H_CN, np.zeros((max(1, prog.nconn), st.NCN), np.int64)),
                SLOT=(st.H_SLOT, np.zeros(len(names), np.int64)))


def _connections(S):
    """What a run leaves of its connections (workload/mux.py Connection): by index, the sessions
    (task rows) left in each side's queue and batch; with parties, the messages' HM rows (the
    reference's tuples)."""
    hm = S.X[st.X_NPARTIES] > 1

    def walk(head):
        out = []
        while head >= 0:
            out.append(int(head))
            head = S.HM[head, st.HM_NEXT] if hm else S.T[head, st.T_HOP_NEXT]
        return out

    out = {}
    for i in np.flatnonzero(S.CN[:, st.CN_MADE]).tolist():
        row = S.CN[i]
        out[i] = SimpleNamespace(index=i, tasks=[int(row[st.CN_TASK]), int(row[st.CN_TASK + 1])],
                                 queues=tuple(walk(row[st.CN_Q + 2 * k]) for k in (0, 1)),
                                 batch=tuple(walk(row[st.CN_B + 2 * k]) for k in (0, 1)))
    return out


def _network(ps):
    """host/network.py's Network of a multi-party run, from the parties' endpoint tables: the
    endpoints in the order they were made over all parties (stamped with the global step), the
    messages still in flight."""
    net = Network([None] * len(ps))
    rows = []
    for p, part in enumerate(ps):
        EP = part.S.EP[:int(part.S.X[st.X_NEP])].tolist()
        rows += [(e[st.EP_STAMP], p, i, e) for i, e in enumerate(EP)]
    rows.sort(key=lambda r: r[:3])
    for _, p, _, e in rows:
        ep = net.endpoints[(p, e[st.EP_KEY])] = Endpoint()
        ep.sent, ep.arrived, ep.used, ep.waited = e[st.EP_SENT], e[st.EP_ARRIVED], e[st.EP_USED], e[st.EP_WAITED]
        ep.last_at = e[st.EP_LAST_AT]
        net.in_flight += ep.sent - ep.arrived
    return net


def _refill(S, M, F, rng):
    """Slide the unused uniform draws to the front of the window and draw the rest from the OS
    stream: the kernel sees the stream's draws in order, however many it takes."""
    u0 = int(M[st.H_FU0])
    cap = int(M[st.H_UCAP])
    i, n = int(S.R[st.R_U_I]), int(S.R[st.R_U_N])
    left = F[u0 + i:u0 + n].copy()
    F[u0:u0 + len(left)] = left
    F[u0 + len(left):u0 + cap] = rng.random(cap - len(left))
    S.R[st.R_U_I] = 0
    S.R[st.R_U_N] = cap


def _init(S, F, spec, profile, streams):
    W = S.W
    W[:, st.W_LIFO] = -1
    W[:, st.W_WAKE_CPU] = -1
    W[:, st.W_WOKEN_BY] = -1
    W[:, st.W_POLLING] = -1
    W[:, st.W_LIFO_EN] = 1
    W[:, st.W_BUDGET] = st.BUDGET
    seed = streams["fastrand"]
    w0 = 0
    for r, rs in enumerate(spec.runtimes):
        nw = rs.workers
        gqi = rs.global_queue_interval
        Q = S.RT[r]
        Q[st.Q_NW] = nw
        Q[st.Q_W0] = w0
        Q[st.Q_EVI] = rs.event_interval
        Q[st.Q_SELF_TUNING] = int(gqi is None and profile.fixed_global_queue_interval is None)
        Q[st.Q_CURRENT] = -1
        Q[st.Q_HOLDER] = -1
        Q[st.Q_BLOCKED_HOLDER] = -1
        Q[st.Q_NEXT_WAKE] = -1
        Q[st.Q_NUM_UNPARKED] = nw
        W[w0:w0 + nw, st.W_RT] = r
        W[w0:w0 + nw, st.W_GQI] = gqi if gqi is not None else (profile.fixed_global_queue_interval or 61)
        # each runtime's builder seed: two words of the run's fastrand stream per runtime
        for i, g in enumerate(core_generators(int(seed[2 * r]), int(seed[2 * r + 1]), nw)):
            W[w0 + i, st.W_FR_ONE] = g.one
            W[w0 + i, st.W_FR_TWO] = g.two
        w0 += nw
    F[st.F_EWMA:st.F_EWMA + w0] = 200_000 / 61  # WorkerStats.EWMA_INIT
    S.C[:, st.C_OWNER] = -1
    S.C[:, st.C_IDLE_SINCE] = 0  # VcpuStacking.idle_since


class _Obj:
    pass


class FastRuntime:
    """What a run leaves of a runtime for inspection (the SimPy engine returns the live object)."""

    def __init__(self, spec, profile, S, r):
        Q = S.RT[r]
        rs = spec.runtimes[r]
        w0, nw = int(Q[st.Q_W0]), rs.workers
        self.name = rs.name
        self.profile = profile
        self.num_workers = nw
        self.spawned_tasks_count = int(Q[st.Q_SPAWNED])
        self.num_alive_tasks = int(Q[st.Q_ALIVE])
        self.remote_schedule_count = int(Q[st.Q_REMOTE])
        self.budget_forced_yield_count = int(Q[st.Q_BUDGET_FORCED])
        self.max_searching_seen = int(Q[st.Q_MAX_SEARCHING])
        self.polls_run = int(Q[st.Q_POLLS_RUN])
        self.events = int(S.R[st.R_EVENTS])
        self.worker_polls = [int(x) for x in S.W[w0:w0 + nw, st.S_POLLS]]
        self.task_polls = {}


def _shim(spec, profile, names, r):
    """An object shaped like the Runtime that RuntimeMonitor reads."""
    rs = spec.runtimes[r]
    rt = _Obj()
    rt.index = r
    rt.name = rs.name
    rt.profile = profile
    rt.env = _Obj()
    rt.driver = _Obj()
    rt.blocking = _Obj()
    rt.blocking.queue = ()
    rt.blocking.num_threads = 0
    rt.blocking.num_idle = 0
    rt.workers = []
    for _ in range(rs.workers):
        w = _Obj()
        w.stats = _Obj()
        w.lifo = None
        rt.workers.append(w)
    rt.monitors = {}
    for n in names:
        m = _Obj()
        m.latencies = []
        m.max_idle = 0
        rt.monitors[n] = m
    return rt


def _load(rt, L, i, names, lat_from, w0):
    """Set the shim to sample row i; latencies completed since row `lat_from`'s count. `L`: the
    sample tables as Python lists (`_lists`), and the latency log grouped by TaskMonitor row."""
    r = rt.index
    row = L.SR[i][r]
    rt.env.now = row[st.SR_T]
    rt.remote_schedule_count = row[st.SR_REMOTE]
    rt.budget_forced_yield_count = row[st.SR_BUDGET]
    rt.driver.ready_count = row[st.SR_READY]
    rt.num_alive_tasks = row[st.SR_ALIVE]
    rt.inject = range(row[st.SR_INJ])
    rt.blocking.queue = range(row[st.SR_BQ])
    rt.blocking.num_threads = row[st.SR_BT]
    rt.blocking.num_idle = row[st.SR_BIDLE]
    SW, SD = L.SW[i], L.SD[i]
    for w, wo in enumerate(rt.workers):
        pub = SW[w0 + w]
        wo.stats.published = tuple(pub[:st.N_STATS])
        wo.stats.published_mean_poll_time = pub[st.N_STATS]
        wo.queue = range(SD[w0 + w])
    hi = row[st.SR_NLAT]
    nn = len(names)
    SM = L.SM[i]
    for m, name in enumerate(names):
        mon = rt.monitors[name]
        g = r * nn + m  # this runtime's monitor of the name
        c = tuple(SM[g][:17])
        mon.snapshot = (lambda c=c: c)
        mon.max_idle = SM[g][17]
        mon.latencies = L.lat(g, lat_from, hi)
    return hi


class _Lists:
    """The sample tables as Python ints, converted once; the latencies of each TaskMonitor row
    in log order, with their places in the log, so that a sample's are a slice."""

    def __init__(self, S, LAT, n):
        self.SR, self.SW, self.SD, self.SM = (S.SR[:n].tolist(), S.SW[:n].tolist(), S.SD[:n].tolist(),
                                              S.SM[:n].tolist())
        order = np.argsort(LAT[:, 0], kind="stable")
        g = LAT[order, 0]
        self.pos = order  # places in the log, grouped by row, in log order within a row
        self.vals = LAT[order, 1].tolist()
        rows = np.unique(g)
        self.start = dict(zip(rows.tolist(), np.searchsorted(g, rows).tolist()))
        self.end = dict(zip(rows.tolist(), np.searchsorted(g, rows, side="right").tolist()))

    def lat(self, g, lo, hi):
        """Row g's latencies logged at places lo..hi-1."""
        a = self.start.get(g)
        if a is None:
            return []
        b = self.end[g]
        pos = self.pos
        i = a + int(np.searchsorted(pos[a:b], lo))
        j = a + int(np.searchsorted(pos[a:b], hi))
        return self.vals[i:j]


def _result(spec, profile, host, seed, S, LAT, names, origin):
    nrt = len(spec.runtimes)
    shims = [_shim(spec, profile, names, r) for r in range(nrt)]
    w0s = [int(S.RT[r, st.Q_W0]) for r in range(nrt)]
    n = int(S.R[st.R_NSAMPLE])
    L = _Lists(S, LAT, n)
    for rt, w0 in zip(shims, w0s):
        _load(rt, L, 0, names, 0, w0)
    mons = [RuntimeMonitor(rt, origin) for rt in shims]
    tasks = TaskSampler(shims)
    records = {rt.name: [] for rt in shims}
    lat_from = L.SR[0][0][st.SR_NLAT]
    for i in range(1, n):
        for rt, w0 in zip(shims, w0s):
            hi = _load(rt, L, i, names, lat_from, w0)
        lat_from = hi
        t = tasks.sample()
        for rt, mon in zip(shims, mons):
            records[rt.name].append(mon.sample(t))
    polls = int(S.W[:, st.S_POLLS].sum()) if not profile.poll_count_per_run_task else None
    lat = {}
    for name, xs in tasks.all_latencies.items():
        lat.setdefault(name, []).extend(xs)
    first = shims[0].name
    system = _Obj()
    system.runtimes = {rt.name: FastRuntime(spec, profile, S, r) for r, rt in enumerate(shims)}
    system.connections = _connections(S)
    for frt in system.runtimes.values():
        frt.system = system
    return SimResult(header(spec, profile, host, seed), records[first], system.runtimes[first], polls, records,
                     None, lat, system, {rt.name: mon.per_worker for rt, mon in zip(shims, mons)})


# ---------------------------------------------------------------- a NUMA machine
class _PoolFacts:
    """What a run leaves of a pool: host/pools.py Pool.stats over the kernel's counters."""

    def __init__(self, ps, row, n):
        self.ps, self.row, self.n = ps, row, n

    def stats(self) -> dict:
        ps, row = self.ps, self.row
        return {"node": ps.node, "threads": ps.threads, "cpus": list(ps.cpus), "jobs": int(row[st.PL_JOBS]),
                "busy_ns": int(row[st.PL_BUSY]), "queue_wait_ns": int(row[st.PL_QWAIT]),
                "jobs_by_node": [int(x) for x in row[st.PL_BY_NODE:st.PL_BY_NODE + self.n]],
                "queue_depth": int(row[st.PL_QLEN])}


class _Machine:
    """The NUMA block of the layout (state.py's last block): a machine's CPUs, masks and cost
    tables, built with the reference's own objects (`Cpus.mask`, `Numa`'s tables and fit batch,
    `initial_cpus`), the state of the migrator's stream, and `result.numa` through the
    reference's `_numa_facts`. On the flat host only the scalars it needs."""

    def __init__(self, spec, nw, ncpu, nmon, ws, streams, tcap=0):
        self.spec = spec
        self.nw = nw
        self.npt = sum(p.threads for p in spec.pools)
        m = self.m = spec.machine
        n = self.n = m.n_nodes if m is not None else 1
        X = np.zeros(st.NX, np.int64)
        X[st.X_NUMA] = int(m is not None)
        X[st.X_NNODES] = n
        X[st.X_IDLE_SEQ] = ncpu  # the CPU numbers are the masks' first order
        X[st.X_SHEAD] = X[st.X_STAIL] = -1
        X[st.X_NREG] = len(spec.regions)
        X[st.X_OUTSIDE] = -1
        X[st.X_NPL] = len(spec.pools)
        self.ncpu = ncpu
        self.numa = None
        self.floating = []
        self.cpu0 = self.mask_of = None
        nrt = len(spec.runtimes)
        t = dict(X=(st.H_X, X), RN=(st.H_RN, np.zeros((nrt, st.RN_POLLS + n), np.int64)),
                 TN=(st.H_TN, np.zeros((nmon, st.TN_POLLS + n), np.int64)))
        if m is None:
            self.tables = t
            return
        from ..host.cpus import Cpus, NodeAware
        from ..host.numa import Numa
        from ..machine.memory import _penalty, machine_arrays, steal_lines
        from ..machine.placement import initial_cpus
        self.node_of = [m.node_of_cpu(c) if c in m.cpus else -1 for c in range(ncpu)]
        # build_system's placement, runtime by runtime, with the reference's masks (one object
        # per distinct CPU set and rule, shared by the runtimes that have it)
        cp = Cpus(SimpleNamespace(), m, None, NodeAware)
        masks = []
        self.cpu0, self.mask_of, self.cum_hz = [], [], []
        w = 0
        for rs in spec.runtimes:
            pl = rs.placement
            if pl.kind == "pinned":
                self.cpu0 += list(pl.cpus[:rs.workers])
                self.mask_of += [-1] * rs.workers
                w += rs.workers
                continue
            kind = "unpinned" if pl.kind == "float" else "per_runtime"
            mk = cp.mask(pl.cpus, kind, pl.migrate_hz)
            i = next((j for j, x in enumerate(masks) if x is mk), None)
            if i is None:
                i = len(masks)
                masks.append(mk)
            self.cpu0 += list(initial_cpus(m, mk.aff, rs.workers))
            self.mask_of += [i] * rs.workers
            for _ in range(rs.workers):
                if pl.migrate_hz > 0:  # Cpus.add_floating and its running sum of rates
                    self.floating.append(w)
                    self.cum_hz.append((self.cum_hz[-1] if self.cum_hz else 0.0) + pl.migrate_hz)
                w += 1
        X[st.X_NFLOAT] = len(self.floating)
        # the pools' threads, pinned (no mask), after the workers
        npl = max(1, len(spec.pools))
        PL = np.zeros((npl, st.PL_BY_NODE + n), np.int64)
        t0 = nw
        for i, ps in enumerate(spec.pools):
            self.cpu0 += list(ps.cpus)
            self.mask_of += [-1] * ps.threads
            PL[i, st.PL_T0] = t0
            PL[i, st.PL_NT] = ps.threads
            PL[i, st.PL_NODE] = ps.node
            t0 += ps.threads
        t.update(PL=(st.H_PL, PL), PQ=(st.H_PQ, np.zeros((npl, max(1, tcap), st.NPQ), np.int64)),
                 PI=(st.H_PI, np.zeros(t0 + 1, np.int64)))
        nm = max(1, len(masks))
        MK = np.zeros((nm, st.NMK), np.int64)
        MKS = np.zeros((nm, n), np.int64)
        MKL = np.zeros((nm, n), np.int64)
        MORD = np.full((nm, n, n), -1, np.int64)
        MSET = np.zeros((nm, ncpu), np.int64)
        mcpu, mall = [], []
        for i, mk in enumerate(masks):
            MK[i, st.MK_STAY] = int(mk.aff.stay_on_node is not None)
            MK[i, st.MK_NCPU] = len(mk.aff.cpus)
            MK[i, st.MK_ALL] = len(mall)
            mall.extend(mk.aff.cpus)
            for node in range(n):
                cs = [c for c in mk.cpus if self.node_of[c] == node]
                MKS[i, node], MKL[i, node] = len(mcpu), len(cs)
                mcpu.extend(cs)
                MORD[i, node, :len(mk.order[node])] = mk.order[node]
            MSET[i, list(mk.cpus)] = 1
        numa = self.numa = Numa(m, spec, self.node_of)
        steal = np.array([[[int(round(steal_lines(k) * numa.c2c[a][b])) for b in range(n)] for a in range(n)]
                          for k in range(st.N_STEAL_COST)], np.int64)
        # Numa.poll_start's refill: the working set's whole lines at the pair's price
        refill = np.array([[[int(round(-(-w // 64) * numa.refill_line[a][b])) for b in range(n)] for a in range(n)]
                           for w in ws], np.int64).reshape(len(ws), n, n)
        t.update(MK=(st.H_MK, MK), MKS=(st.H_MKS, MKS), MKL=(st.H_MKL, MKL),
                 MCPU=(st.H_MCPU, np.array(mcpu + [0], np.int64)), MORD=(st.H_MORD, MORD),
                 MSET=(st.H_MSET, MSET), MALL=(st.H_MALL, np.array(mall + [0], np.int64)),
                 WAKE=(st.H_WAKE, np.array(numa.wake_tab, np.int64).reshape(n, n)),
                 STEALC=(st.H_STEALC, steal), REFILL=(st.H_REFILL, refill))
        nreg = len(spec.regions)
        t["F"] = dict(FREG=(st.H_FREG, numa.frac.reshape(nreg, n).astype(np.float64)),
                      FSTREAM=(st.H_FSTREAM, np.zeros((nreg, n, 2))), FLINE=(st.H_FLINE, np.zeros((n, n))),
                      FBYTES=(st.H_FBYTES, np.zeros((n, n))),
                      FMIG=(st.H_FMIG, np.zeros((st.MIG_CAP, st.MIG_COLS))),
                      FMIGHZ=(st.H_FMIGHZ, np.array(self.cum_hz + [0.0], np.float64)))
        t["MIGFL"] = (st.H_MIGFL, np.array(self.floating + [0], np.int64))
        # the "numa" stream (only the migrator draws from it), run by the kernel from here on
        s = streams["numa"].bit_generator.state["state"]
        X[st.X_MIG_PCG:st.X_MIG_PCG + 4] = np.array([s["state"] >> 64, s["state"] & (2**64 - 1), s["inc"] >> 64,
                                                     s["inc"] & (2**64 - 1)], np.uint64).view(np.int64)
        # Numa.refresher's round (engine/fast/numa.py refresh): the batch the tables are fitted
        # from and the machine's arrays, as cost_batch_ns hands them to the memory-cost kernel
        arr = machine_arrays(m)
        cpu, frac, nbytes, pattern = numa.batch()
        rows = len(cpu)
        mem, link = numa.load.arrays()
        X[st.X_NSOCK] = link.shape[0]
        X[st.X_MC_K] = arr.mem_x.shape[1]
        X[st.X_MC_K2] = arr.link_x.shape[0]
        X[st.X_MC_ROWS] = rows
        t["MC"] = (st.H_MC, np.concatenate([cpu, pattern, np.zeros(rows, np.int64), arr.socket, arr.dist.ravel()]))
        t["F"]["FMC"] = (st.H_FMC, np.concatenate([
            frac.ravel(), nbytes, np.ones(rows), arr.idle.ravel(), arr.mem_x.ravel(), arr.mem_y.ravel(), arr.link_x,
            arr.link_y, [arr.core_gbps, _penalty(numa.penalty)], mem, link.ravel(), mem, link.ravel(),
            np.zeros(n * n)]).astype(np.float64))
        self.tables = t

    def init(self, S):
        C = S.C
        C[:, st.C_IDLE_SEQ] = np.arange(self.ncpu)
        S.W[:, st.W_MASK] = -1  # no mask (Thread.mask None): pinned, or the flat host
        if self.m is None:
            return
        C[:, st.C_NODE] = self.node_of
        C[:, st.C_IDLE_SINCE] = -(1 << 62)  # NodeAware: never ran, halted long ago
        S.W[:, st.W_CPU] = self.cpu0
        S.W[:, st.W_MASK] = self.mask_of
        S.W[:, st.W_LAST_NODE] = -1
        w = self.nw
        for i, ps in enumerate(self.spec.pools):  # PoolThread: blocked until its first job
            S.W[w:w + ps.threads, st.W_RT] = i
            S.W[w:w + ps.threads, st.W_BLOCKED] = 1
            w += ps.threads
        self._tables(S)

    def _tables(self, S):
        numa = self.numa
        for i, name in enumerate(numa.regions):
            S.FSTREAM[i] = numa.stream[name]
        if numa.line:
            S.FLINE[:] = numa.line

    def facts(self, S, names, origin):
        """result.numa, by the reference's _numa_facts over what the run left."""
        if self.m is None:
            return None
        from ..host.numa import RuntimeNuma, TaskNuma
        n = self.n
        numa = self.numa
        numa.bytes = S.FBYTES.tolist()
        runtimes = {}
        thread_names = []
        for r, rs in enumerate(self.spec.runtimes):
            rn = RuntimeNuma(n)
            R = S.RN[r]
            rn.polls = [int(x) for x in R[st.RN_POLLS:]]
            for f, i in (("task_migrations", st.RN_TASK_MIG), ("thread_migrations", st.RN_THREAD_MIG),
                         ("steals", st.RN_STEALS), ("remote_steals", st.RN_REMOTE_STEALS),
                         ("remote_steal_ns", st.RN_REMOTE_STEAL_NS), ("refill_ns", st.RN_REFILL_NS),
                         ("remote_refill_ns", st.RN_REMOTE_REFILL_NS), ("wakes", st.RN_WAKES),
                         ("remote_wakes", st.RN_REMOTE_WAKES), ("remote_wake_ns", st.RN_REMOTE_WAKE_NS)):
                setattr(rn, f, int(R[i]))
            monitors = {}
            for mi, name in enumerate(names):  # TaskMonitor rows r * names + name
                row = S.TN[r * len(names) + mi]
                tn = TaskNuma(n)
                tn.polls = [int(x) for x in row[st.TN_POLLS:]]
                tn.migrations = int(row[st.TN_MIG])
                tn.remote_ns = int(row[st.TN_REMOTE_NS])
                monitors[name] = SimpleNamespace(numa=tn)
            runtimes[rs.name] = SimpleNamespace(numa_stats=rn, monitors=monitors)
            thread_names += [f"{rs.name}/{i}" for i in range(rs.workers)]  # System.threads
        pools = {}
        for i, ps in enumerate(self.spec.pools):
            thread_names += [f"{ps.name}/{k}" for k in range(ps.threads)]
            pools[ps.name] = _PoolFacts(ps, S.PL[i], n)
        for i in range(1, int(S.R[st.R_NSAMPLE])):
            numa.timeline.append((int(S.SR[i, 0, st.SR_T]) - origin,
                                  {tn: int(c) for tn, c in zip(thread_names, S.STC[i])}))
        sys = SimpleNamespace(numa=numa, pools=pools, runtimes=runtimes,
                              cpus=SimpleNamespace(migrations=int(S.X[st.X_MIGRATIONS]),
                                                   balance_moves=int(S.R[st.R_BALANCE_MOVES])))
        return _numa_facts(sys)
