"""simulate.py, compiled: the run itself. The processes SimPy starts (workers of every runtime,
sources, the sampler, the ender) are started in the same order, and events are processed until
the stop event, exactly as `env.run(until=stop)` does. Several parties (simulate_parties):
`setup_parties` and `run_parties` over one M per party, the parties' queues merged in SimPy's
order (state.py "parties")."""
from .jit import kernel

from ...host.numa import LOAD_REFRESH_NS

from .blocking import idle_done, idle_event, thread_step
from .cpus import balance, start
from .events import call_at, pop, schedule, timeout
from .handle import spawn
from .park import timeout_wake
from .program import child_key
from .queue import CAP  # noqa: F401 (the ring size the depth gauge below assumes)
from .state import (EV_BALANCE, EV_BT_COND, EV_BT_EV, EV_BT_KEEP, EV_BT_RESUME, EV_ENDER,
                    EV_IO_READY, EV_NOOP, EV_RESUME, EV_SAMPLER, EV_SRC, EV_SRC_INIT,
                    EV_STALL_SUCCEED, EV_STOP, EV_TWAKE, F_LIFO_STEALABLE, H_ARRT, H_LCAP, H_MON,
                    H_NMON, H_NRT, H_NWK, H_PR, H_R, H_RT, H_SCAP, H_SD, H_SM, H_SR, H_SRC, H_SW,
                    H_W, NORMAL, NQ, NSR, NSRC_COLS, NW, N_MON, N_STATS, N_SW, PR_END,
                    PR_IO_WAKE_LAT, PR_NCPU, PR_NSRC, PR_NW, PR_ORIGIN, PR_SAMPLE_NS, P_PARK,
                    Q_ALIVE, Q_BLOCKED_HOLDER, Q_BP_IDLE, Q_BP_THREADS, Q_BQ_LEN, Q_BUDGET_FORCED,
                    Q_CURRENT, Q_DEBT, Q_INJ_LEN, Q_READY, Q_REMOTE, R_DONE, R_ENDER_LIMIT,
                    R_ENDER_PHASE, R_EVENTS, R_EV_LEN, R_LAT_BASE, R_LIVE_MON, R_NLAT, R_NOW,
                    R_NSAMPLE, R_OVERFLOW, R_SAMPLER_NXT, R_SAMPLER_PHASE, R_STOPPED, R_U_I, R_U_N,
                    SR_ALIVE, SR_BIDLE, SR_BQ, SR_BT, SR_BUDGET, SR_INJ, SR_NLAT, SR_READY,
                    SR_REMOTE, SR_T, URGENT, U_MARGIN, W_CPU, W_LIFO, W_PARK_GEN, W_PUB_MEAN,
                    W_Q_LEN)
from .taskmon import I_MAX_IDLE
from .worker import step
from .cpus import migrate, next_cpu
from .numa import refresh
from .state import (EV_MIG_INIT, EV_MIGRATE, EV_REFRESH, EV_REFRESH_INIT, H_FMIG, H_FMIGHZ, H_MIGFL,
                    H_STC, H_X, MIG_CAP, MIG_COLS, X_MIG_I, X_MIG_N, X_MIG_PCG, X_NFLOAT, X_NREG, X_NUMA)
from .pcg import next_double, standard_exponential
from .state import H_FACAP, H_OBSCAP, X_FA_N, X_FACTS, X_OBS, X_OBS_N
from .pools import thread_step as pool_step
from .driver import add_message
from .mux import arrive_from
from .state import (EV_ALLOF, EV_NET_IO, H_EV, H_OB, NEVER, NOB, OB_AT, OB_CONN, OB_KEY, OB_NOW, OB_RECV, OB_RT,
                    R_EID, R_GSTEP, R_OTHER, X_NOB)

DRAIN_LIMIT_NS = 5_000_000_000
DRAIN_POLL_NS = 10_000_000
PAUSE = 100
PAUSE_U = 101  # the window of uniform draws runs low: the caller refills it
PAUSE_OBS = 104  # the observers' event log (or facts log) is half full: the caller replays and empties it


@kernel
def _snapshot(M, F, reset_idle):
    """What RuntimeMonitor reads at a sample (or at its creation: row 0)."""
    R = M[H_R]
    i = M[R + (R_NSAMPLE)]
    if i >= M[H_SCAP]:
        M[R + (R_OVERFLOW)] = 7
        return
    for r in range(M[H_NRT]):
        Q = M[H_RT] + (r) * NQ
        row = M[H_SR] + ((i) * M[H_NRT] + (r)) * NSR
        M[row + (SR_T)] = M[R + (R_NOW)]
        M[row + (SR_REMOTE)] = M[Q + (Q_REMOTE)]
        M[row + (SR_BUDGET)] = M[Q + (Q_BUDGET_FORCED)]
        M[row + (SR_READY)] = M[Q + (Q_READY)]
        M[row + (SR_ALIVE)] = M[Q + (Q_ALIVE)]
        M[row + (SR_INJ)] = M[Q + (Q_INJ_LEN)]
        M[row + (SR_NLAT)] = M[R + (R_LAT_BASE)] + M[R + (R_NLAT)]
        M[row + (SR_BQ)] = M[Q + (Q_BQ_LEN)]
        M[row + (SR_BT)] = M[Q + (Q_BP_THREADS)]
        M[row + (SR_BIDLE)] = M[Q + (Q_BP_IDLE)]
    for w in range(M[M[H_PR] + (PR_NW)]):
        for k in range(N_STATS):
            M[M[H_SW] + ((i) * M[H_NWK] + (w)) * N_SW + (k)] = M[M[H_W] + (w) * NW + (P_PARK + k)]
        M[M[H_SW] + ((i) * M[H_NWK] + (w)) * N_SW + (N_STATS)] = M[M[H_W] + (w) * NW + (W_PUB_MEAN)]
        M[M[H_SD] + (i) * M[H_NWK] + (w)] = M[M[H_W] + (w) * NW + (W_Q_LEN)] + (1 if M[M[H_PR] + (F_LIFO_STEALABLE)] and M[M[H_W] + (w) * NW + (W_LIFO)] >= 0 else 0)
    for m in range(M[H_NMON]):
        for k in range(N_MON):
            M[M[H_SM] + ((i) * M[H_NMON] + (m)) * N_MON + (k)] = M[M[H_MON] + (m) * N_MON + (k)]
        if reset_idle:
            M[M[H_MON] + (m) * N_MON + (I_MAX_IDLE)] = 0
    if M[M[H_X] + X_NUMA]:
        for w in range(M[H_NWK]):  # Numa.sample_threads: every worker, then every pool thread
            M[M[H_STC] + (i) * M[H_NWK] + (w)] = M[M[H_W] + (w) * NW + (W_CPU)]
    M[R + (R_NSAMPLE)] = i + 1


@kernel
def _source(M, F, si, k):
    """One arrival of source si (the k-th, at its precomputed time), then the next timeout."""
    R = M[H_R]
    S = M[H_SRC] + (si) * NSRC_COLS
    kind = M[S + (0)]
    off = M[S + (2)]
    cnt = M[S + (3)]
    if k >= cnt:
        schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)  # the process returns
        return
    r = M[S + (4)]
    Q = M[H_RT] + (r) * NQ
    M[Q + (Q_CURRENT)] = -1
    # the arrival's place in the spawn tree: (-1 - source, arrival), counted from 1 (a root: 0)
    spawn(M, F, M[S + (1)], -1, child_key(-1 - si, k + 1 if kind else 0), r)
    M[Q + (Q_DEBT)] = 0  # the spawner thread pays its own syscalls
    if kind == 0 or k + 1 >= cnt:
        schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)
        return
    timeout(M, F, M[M[H_ARRT] + (off + k + 1)] - M[R + (R_NOW)], EV_SRC, si, k + 1)


@kernel
def _sampler(M, F):
    R = M[H_R]
    ph = M[R + (R_SAMPLER_PHASE)]
    if ph == 0:
        M[R + (R_SAMPLER_PHASE)] = 1
        timeout(M, F, M[M[H_PR] + (PR_ORIGIN)] - M[R + (R_NOW)], EV_SAMPLER, 0, 0)
        return
    if ph == 1:
        _snapshot(M, F, False)
        M[R + (R_SAMPLER_PHASE)] = 2
        M[R + (R_SAMPLER_NXT)] = M[R + (R_NOW)]
    else:
        _snapshot(M, F, True)
        if M[R + (R_DONE)]:
            schedule(M, F, 0, NORMAL, EV_STOP, 0, 0)
            schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)
            return
    M[R + (R_SAMPLER_NXT)] += M[M[H_PR] + (PR_SAMPLE_NS)]
    timeout(M, F, M[R + (R_SAMPLER_NXT)] - M[R + (R_NOW)], EV_SAMPLER, 0, 0)


@kernel
def _ender(M, F, live):
    """simulate.py _drain: `live` the tasks alive over every runtime (of every party)."""
    R = M[H_R]
    ph = M[R + (R_ENDER_PHASE)]
    if ph == 0:
        M[R + (R_ENDER_PHASE)] = 1
        timeout(M, F, M[M[H_PR] + (PR_END)] - M[R + (R_NOW)], EV_ENDER, 0, 0)
        return
    if ph == 1:
        M[R + (R_ENDER_LIMIT)] = M[R + (R_NOW)] + DRAIN_LIMIT_NS
        M[R + (R_ENDER_PHASE)] = 2
    if ph <= 2:
        if M[R + (R_NOW)] < M[R + (R_ENDER_LIMIT)] and live > 0:
            timeout(M, F, DRAIN_POLL_NS, EV_ENDER, 0, 0)
            return
        M[R + (R_ENDER_PHASE)] = 3
        timeout(M, F, M[M[H_PR] + (PR_SAMPLE_NS)], EV_ENDER, 0, 0)
        return
    M[R + (R_DONE)] = 1
    schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)


@kernel
def _io_ready(M, F, r):
    """Runtime._io_ready of runtime r: an epoll event; the driver's holder, if blocked in
    epoll_wait, wakes."""
    h = M[M[H_RT] + (r) * NQ + (Q_BLOCKED_HOLDER)]
    if h >= 0:
        call_at(M, F, M[M[H_R] + (R_NOW)] + M[M[H_PR] + (PR_IO_WAKE_LAT)], EV_TWAKE, h,
                M[M[H_W] + (h) * NW + (W_PARK_GEN)])


@kernel
def _start(M, F):
    """simulate.py _start_party: build_system's placement and one system's processes, in
    SimPy's order."""
    PR = M[H_PR]
    nw = M[PR + (PR_NW)]
    numa = M[M[H_X] + X_NUMA]
    if not numa:  # on a machine engine/run.py placed them (placement.initial_cpus)
        for w in range(nw):
            M[M[H_W] + (w) * NW + (W_CPU)] = w % M[PR + (PR_NCPU)]
    start(M, F, nw)
    for w in range(nw):
        schedule(M, F, 0, URGENT, EV_RESUME, w, 0)
    for th in range(nw, M[H_NWK]):  # Pool.start, pool by pool
        schedule(M, F, 0, URGENT, EV_RESUME, th, 0)
    if numa:
        schedule(M, F, 0, URGENT, EV_MIG_INIT, 0, 0)
        schedule(M, F, 0, URGENT, EV_REFRESH_INIT, 0, 0)
    for si in range(M[PR + (PR_NSRC)]):
        schedule(M, F, 0, URGENT, EV_SRC_INIT, si, 0)
    schedule(M, F, 0, URGENT, EV_SAMPLER, 0, 0)


@kernel
def setup(M, F):
    """The processes started before env.run, in SimPy's order: the system's, then the drain."""
    _start(M, F)
    schedule(M, F, 0, URGENT, EV_ENDER, 0, 0)


@kernel
def dispatch(M, F, k, a, b):
    """One event of a system's own processes (the sampler, the drain and the stop are the
    loop's: run and run_parties)."""
    R = M[H_R]
    PR = M[H_PR]
    if k == EV_RESUME:
        if a < M[PR + (PR_NW)]:
            step(M, F, a)
        else:
            pool_step(M, F, a)
    elif k == EV_TWAKE:
        timeout_wake(M, F, a, b)
    elif k == EV_STALL_SUCCEED:
        schedule(M, F, 0, NORMAL, EV_RESUME, a, 0)
    elif k == EV_BALANCE:
        balance(M, F)
    elif k == EV_SRC_INIT:
        timeout(M, F, M[PR + (PR_ORIGIN)] - M[R + (R_NOW)], EV_SRC, a, 0)
    elif k == EV_SRC:
        _source(M, F, a, b)
    elif k == EV_IO_READY:
        _io_ready(M, F, a)
    elif k == EV_BT_RESUME:
        thread_step(M, F, a)
    elif k == EV_BT_EV:
        idle_event(M, F, a, b, True)
    elif k == EV_BT_KEEP:
        idle_event(M, F, a, b, False)
    elif k == EV_BT_COND:
        idle_done(M, F, a)
    elif EV_MIG_INIT <= k <= EV_REFRESH:
        _machine_event(M, F, k)


@kernel
def _paused(M, F):
    """After an event: the code of a capacity that ran out, or a pause the caller serves (a
    window of draws running low, an observers' log half full); 0 to go on."""
    R = M[H_R]
    if M[R + (R_OVERFLOW)]:
        return M[R + (R_OVERFLOW)]
    if M[R + (R_U_N)] - M[R + (R_U_I)] < U_MARGIN:
        return PAUSE_U
    X = M[H_X]
    if M[X + X_OBS] and M[X + X_OBS_N] > M[H_OBSCAP] // 2:
        return PAUSE_OBS
    if M[X + X_FACTS] and M[X + X_FA_N] > M[H_FACAP] // 2:
        return PAUSE_OBS
    return 0


@kernel
def run(M, F):
    """Run to the stop event: 0; PAUSE after a sample when the latency log is half full (the
    caller empties it and calls again); else the code of the capacity that ran out."""
    R = M[H_R]
    half = M[H_LCAP] // 2
    while M[R + (R_EV_LEN)] > 0:
        t, k, a, b = pop(M, F)
        M[R + (R_NOW)] = t
        M[R + (R_EVENTS)] += 1
        if k == EV_SAMPLER:
            _sampler(M, F)
            if M[R + (R_NLAT)] > half and not M[R + (R_OVERFLOW)]:
                return PAUSE
        elif k == EV_ENDER:
            _ender(M, F, M[R + (R_LIVE_MON)])
        elif k == EV_STOP:
            M[R + (R_STOPPED)] = 1
            return 0
        else:
            dispatch(M, F, k, a, b)
        code = _paused(M, F)
        if code:
            return code
    return 0


# ---------------------------------------------------------------- several parties
@kernel
def setup_parties(M2, F2):
    """simulate_parties: each party's system started in ring order, then the one drain (its
    events in party 0's queue); the eids run on over all of them."""
    n = M2.shape[0]
    eid = 0
    for x in range(n):
        M2[x, M2[x, H_R] + R_EID] = eid
        _start(M2[x], F2[x])
        eid = M2[x, M2[x, H_R] + R_EID]
    M0 = M2[0]
    M0[M0[H_R] + R_EID] = eid
    schedule(M0, F2[0], 0, URGENT, EV_ENDER, 0, 0)
    _sync(M2, M0[M0[H_R] + R_EID], M0[M0[H_R] + R_GSTEP])


@kernel
def _sync(M2, eid, gstep):
    for x in range(M2.shape[0]):
        R = M2[x, H_R]
        M2[x, R + R_EID] = eid
        M2[x, R + R_GSTEP] = gstep


@kernel
def _earliest(M2, skip):
    """The party whose event queue holds the earliest event, (time, priority, eid) as SimPy's
    one queue orders them; -1 if all are empty. `skip`: a party not to look at (-1: none)."""
    best = -1
    for x in range(M2.shape[0]):
        if x == skip or M2[x, M2[x, H_R] + R_EV_LEN] == 0:
            continue
        if best < 0:
            best = x
            continue
        a = M2[x, H_EV]
        b = M2[best, H_EV]
        for c in range(3):
            if M2[x, a + c] != M2[best, b + c]:
                if M2[x, a + c] < M2[best, b + c]:
                    best = x
                break
    return best


@kernel
def handoff(M, F, D, G):
    """The outbox of this event (party M, engine/fast/network.py) into the next party (D, G):
    Driver.add_io of each message in the order sent; an mpc_hop write's receiving connection is
    made there first if new, at the write's time, as workload/mux.py deliver makes it at the
    write (engine/fast/mux.py arrive_from)."""
    X = M[H_X]
    R = D[H_R]
    was = D[R + R_NOW]
    for i in range(M[X + X_NOB]):
        b = M[H_OB] + (i) * NOB
        if M[b + OB_CONN] < 0:
            add_message(D, G, M[b + OB_RT], M[b + OB_AT], M[b + OB_KEY])
        else:
            D[R + R_NOW] = M[b + OB_NOW]  # the write's moment: a connection made here is made then
            arrive_from(D, G, M[b + OB_RT], M[b + OB_AT], M[b + OB_KEY], M[b + OB_CONN], M[b + OB_RECV])
    D[R + R_NOW] = was
    M[X + X_NOB] = 0


@kernel
def run_parties(M2, F2):
    """simulate_parties' env.run(until=AllOf(samplers' stops)): the parties' events in one
    order; each event runs on its party's M (EV_NET_IO on the receiver's), the drain counts
    every party's live tasks and ends them all, and the run stops at the event that the last
    sampler's stop triggers. Returns as `run` does (a pause or overflow of any party)."""
    n = M2.shape[0]
    M0 = M2[0]
    eid = M0[M0[H_R] + R_EID]
    gstep = M0[M0[H_R] + R_GSTEP]
    half = M0[H_LCAP] // 2
    while True:
        p = _earliest(M2, -1)
        if p < 0:
            break
        t, k, a, b = pop(M2[p], F2[p])
        x = a if k == EV_NET_IO else p
        M = M2[x]
        F = F2[x]
        R = M[H_R]
        o = _earliest(M2, x)
        M[R + (R_OTHER)] = NEVER if o < 0 else M2[o, M2[o, H_EV]]
        M[R + (R_NOW)] = t
        M[R + (R_EVENTS)] += 1
        M[R + (R_EID)] = eid
        M[R + (R_GSTEP)] = gstep
        gstep += 1
        code = 0
        if k == EV_NET_IO:
            _io_ready(M, F, b)
        elif k == EV_SAMPLER:
            _sampler(M, F)
            if M[R + (R_NLAT)] > half and not M[R + (R_OVERFLOW)]:
                code = PAUSE
        elif k == EV_ENDER:
            live = 0
            for y in range(n):
                live += M2[y, M2[y, H_R] + R_LIVE_MON]
            _ender(M, F, live)
            if M[R + (R_DONE)]:
                for y in range(n):
                    M2[y, M2[y, H_R] + R_DONE] = 1
        elif k == EV_STOP:
            # AllOf's check: the last sampler's stop triggers the condition, one event more
            M[R + (R_STOPPED)] = 1
            stopped = 0
            for y in range(n):
                stopped += M2[y, M2[y, H_R] + R_STOPPED]
            if stopped == n:
                schedule(M, F, 0, NORMAL, EV_ALLOF, 0, 0)
        elif k == EV_ALLOF:
            _sync(M2, M[R + (R_EID)], gstep)
            return 0
        else:
            dispatch(M, F, k, a, b)
        eid = M[R + (R_EID)]
        X = M[H_X]
        if M[X + X_NOB]:
            y = (x + 1) % n
            handoff(M, F, M2[y], F2[y])
            if not code:
                code = _paused(M2[y], F2[y])
        if not code:
            code = _paused(M, F)
        if code:
            _sync(M2, eid, gstep)
            return code
    _sync(M2, eid, gstep)
    return 0


# ---------------------------------------------------------------- a NUMA machine's processes
@kernel
def _mig_delay(M, F, i):
    return int(F[M[H_FMIG] + i * MIG_COLS])


@kernel
def _mig_draws(M, F):
    """Slide the migrator's unused draws to the front of its window and draw the rest from the
    "numa" stream, in the order Cpus.migrator takes them: the delay (`max(1, int(exponential(1e9 /
    total)))`), the thread (`bisect_right` over the running sum of rates), u_node, u_cpu."""
    X = M[H_X]
    i, n = M[X + X_MIG_I], M[X + X_MIG_N]
    W = M[H_FMIG]
    left = n - i
    for k in range(left * MIG_COLS):
        F[W + k] = F[W + i * MIG_COLS + k]
    nfl = M[X + X_NFLOAT]
    HZ = M[H_FMIGHZ]
    total = F[HZ + nfl - 1]
    o = X + X_MIG_PCG
    for k in range(left, MIG_CAP):
        row = W + k * MIG_COLS
        F[row] = max(1, int(1e9 / total * standard_exponential(M, o)))
        x = next_double(M, o) * total
        j = 0  # bisect_right: the rates' running sums <= x
        while j < nfl and F[HZ + j] <= x:
            j += 1
        F[row + 1] = M[M[H_MIGFL] + min(j, nfl - 1)]
        F[row + 2] = next_double(M, o)
        F[row + 3] = next_double(M, o)
    M[X + X_MIG_I] = 0
    M[X + X_MIG_N] = MIG_CAP


@kernel
def _machine_event(M, F, k):
    """Cpus.migrator and Numa.refresher: each returns at once when it has nothing to do (no
    floating thread, no region). A migration's draws are taken ahead (_mig_draws), in the
    stream's order (its delay, the thread it moves, u_node, u_cpu)."""
    X = M[H_X]
    if (k == EV_MIG_INIT or k == EV_MIGRATE) and M[X + X_NFLOAT] and M[X + X_MIG_N] - M[X + X_MIG_I] < 2:
        _mig_draws(M, F)
    if k == EV_MIG_INIT:
        if M[X + X_NFLOAT] == 0:
            schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)
        else:
            timeout(M, F, _mig_delay(M, F, M[X + X_MIG_I]), EV_MIGRATE, 0, 0)
    elif k == EV_MIGRATE:
        i = M[X + X_MIG_I]
        row = M[H_FMIG] + i * MIG_COLS
        w = int(F[row + 1])
        migrate(M, F, w, next_cpu(M, F, w, F[row + 2], F[row + 3]))
        M[X + X_MIG_I] = i + 1
        timeout(M, F, _mig_delay(M, F, i + 1), EV_MIGRATE, 0, 0)
    elif k == EV_REFRESH_INIT:
        if M[X + X_NREG] == 0:
            schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)
        else:
            timeout(M, F, LOAD_REFRESH_NS, EV_REFRESH, 0, 0)
    elif k == EV_REFRESH:
        refresh(M, F)
        timeout(M, F, LOAD_REFRESH_NS, EV_REFRESH, 0, 0)
