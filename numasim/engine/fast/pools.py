"""host/pools.py, compiled: pinned std::thread pools fed by a channel (iris-mpc's per-node iris
workers). A pool thread is a row of S.W after the workers (state.py's pools block), a Thread of
the CPU model like them; its generator (`Pool._run`) is a state machine of three labels here.
The channel is a ring of jobs per pool, the idle threads a ring over the pool's threads (first
parked, first woken)."""
from .jit import kernel

from .cpus import _wake_latency, acquire, release
from .events import call_at, timeout
from .handle import complete_outside, new_handle
from .numa import mem_ns, node_of
from .state import (EV_RESUME, EV_STALL_SUCCEED, H_PI, H_PL, H_PQ, H_PR, H_R, H_RT, H_T, H_TCAP,
                    H_W, H_WAKE, H_X, NPQ, NQ, NT, NW, PL_BUSY, PL_BY_NODE, PL_IHEAD, PL_ILEN,
                    PL_JOBS, PL_NT, PL_QHEAD, PL_QLEN, PL_QWAIT, PL_T0, PQ_DUR, PQ_H, PQ_NB,
                    PQ_PAT, PQ_QUEUED, PQ_REG, PR_UNPARK, Q_CURRENT, Q_DEBT, R_NOW, R_OVERFLOW,
                    T_RT, T_WAITER, W_BLOCKED, W_COST, W_CPU, W_HAS_STALL_EV, W_PC, W_RT,
                    W_STALLED, W_TASK, X_NNODES, X_OUTSIDE)

P_TOP, P_WOKEN, P_JOB = range(3)


@kernel
def _pl(M, p):
    return M[H_PL] + p * (PL_BY_NODE + M[M[H_X] + X_NNODES])


@kernel
def submit(M, F, p, r, dur, reg, nb, pat):
    """Runtime.offload + Pool.submit: a channel send from runtime r's running thread (charged to
    its debt); the oneshot's handle (-1: no slot left)."""
    h = new_handle(M, F, 1, r)
    if h < 0:
        return h
    P = _pl(M, p)
    cap = M[H_TCAP]
    n = M[P + PL_QLEN]
    if n >= cap:
        M[M[H_R] + R_OVERFLOW] = 1
        return h
    now = M[M[H_R] + R_NOW]
    j = M[H_PQ] + (p * cap + (M[P + PL_QHEAD] + n) % cap) * NPQ
    M[j + PQ_H] = h
    M[j + PQ_DUR] = dur
    M[j + PQ_REG] = reg
    M[j + PQ_NB] = nb
    M[j + PQ_PAT] = pat
    M[j + PQ_QUEUED] = now
    M[P + PL_QLEN] = n + 1
    if M[P + PL_ILEN] > 0:
        t0 = M[P + PL_T0]
        nt = M[P + PL_NT]
        th = M[M[H_PI] + t0 + M[P + PL_IHEAD]]
        M[P + PL_IHEAD] = (M[P + PL_IHEAD] + 1) % nt
        M[P + PL_ILEN] -= 1
        Q = M[H_RT] + r * NQ
        M[Q + Q_DEBT] += M[M[H_PR] + PR_UNPARK]
        # Numa.wake_ns(rt.current, th): counted on the pool's own counters, which no fact reports
        cur = M[Q + Q_CURRENT]
        if cur >= 0:
            nn = M[M[H_X] + X_NNODES]
            a = node_of(M, M[M[H_W] + cur * NW + W_CPU])
            b = node_of(M, M[M[H_W] + th * NW + W_CPU])
            M[Q + Q_DEBT] += M[M[H_WAKE] + a * nn + b]
        c = M[M[H_W] + th * NW + W_CPU]
        call_at(M, F, now + _wake_latency(M, F, c, now), EV_STALL_SUCCEED, th, 0)
    return h


@kernel
def _job_done(M, F, th):
    """The job's CPU time has passed: the oneshot reply, a wake from outside the runtime from
    this thread's node; the wake's debt paid on this thread's clock (True: it waits for it)."""
    W = M[H_W] + th * NW
    P = _pl(M, M[W + W_RT])
    cost = M[W + W_COST]
    h = M[W + W_TASK]
    M[P + PL_JOBS] += 1
    M[P + PL_BUSY] += cost
    X = M[H_X]
    M[X + X_OUTSIDE] = node_of(M, M[W + W_CPU])
    j = M[M[H_T] + h * NT + T_WAITER]
    r = M[M[H_T] + j * NT + T_RT] if j >= 0 else -1
    complete_outside(M, F, h)
    M[X + X_OUTSIDE] = -1
    if r < 0:
        return False
    Q = M[H_RT] + r * NQ
    d = M[Q + Q_DEBT]
    M[Q + Q_DEBT] = 0
    if d:
        M[P + PL_BUSY] += d
        M[W + W_PC] = P_TOP
        timeout(M, F, d, EV_RESUME, th, 0)
        return True
    return False


@kernel
def thread_step(M, F, th):
    """Resume pool thread th's generator until its next yield."""
    W = M[H_W] + th * NW
    pc = M[W + W_PC]
    if pc == P_WOKEN:
        M[W + W_BLOCKED] = 0
        acquire(M, F, th, M[W + W_CPU])
    elif pc == P_JOB:
        if _job_done(M, F, th):
            return
    p = M[W + W_RT]
    P = _pl(M, p)
    while True:
        if M[W + W_STALLED]:
            # preempted on its CPU: wait for it, then look at the channel again
            M[W + W_HAS_STALL_EV] = 1
            M[W + W_PC] = P_TOP
            return
        n = M[P + PL_QLEN]
        if n == 0:
            M[W + W_BLOCKED] = 1
            release(M, F, th)
            nt = M[P + PL_NT]
            M[M[H_PI] + M[P + PL_T0] + (M[P + PL_IHEAD] + M[P + PL_ILEN]) % nt] = th
            M[P + PL_ILEN] += 1
            M[W + W_PC] = P_WOKEN
            return
        cap = M[H_TCAP]
        j = M[H_PQ] + (p * cap + M[P + PL_QHEAD]) * NPQ
        M[P + PL_QHEAD] = (M[P + PL_QHEAD] + 1) % cap
        M[P + PL_QLEN] = n - 1
        M[P + PL_QWAIT] += M[M[H_R] + R_NOW] - M[j + PQ_QUEUED]
        cost = M[j + PQ_DUR]
        c = M[W + W_CPU]
        if M[j + PQ_REG] >= 0:
            cost += mem_ns(M, F, c, M[j + PQ_REG], M[j + PQ_NB], M[j + PQ_PAT])
        M[P + PL_BY_NODE + node_of(M, c)] += 1
        M[W + W_TASK] = M[j + PQ_H]
        M[W + W_COST] = cost
        if cost:
            M[W + W_PC] = P_JOB
            timeout(M, F, cost, EV_RESUME, th, 0)
            return
        if _job_done(M, F, th):
            return
