"""host/cpus.py, compiled: threads on CPUs for the flat host (one node, `VcpuStacking`).

Covered: the flat host of a spec without `machine`. NodeAware placement, masks and OS migration
(machines) are not compiled yet; engine/run.py refuses those specs.
"""
from numba import njit

from .events import call_at
from .thread import uniform
from .state import (C_IDLE_SINCE, C_NWAIT, C_OWNER, EV_BALANCE, F_STACK, H_C, H_CW, H_NWK, H_PR,
                    H_R, H_W, NC, NW, PR_BALANCE, PR_CTX, PR_HALT_POLL, PR_IDLE_WAKE_LAT, PR_NCPU,
                    PR_UNPARK_LAT, R_BALANCE_MOVES, R_NOW, R_STACKED_WAKES, W_BLOCKED, W_CPU,
                    W_STALLED)
from .thread import preempt, resume


@njit(cache=True)
def _take(M, F, c, w):
    M[M[H_C] + (c) * NC + (C_OWNER)] = w
    M[M[H_W] + (w) * NW + (W_CPU)] = c


@njit(cache=True)
def _free(M, F, c):
    M[M[H_C] + (c) * NC + (C_OWNER)] = -1
    M[M[H_C] + (c) * NC + (C_IDLE_SINCE)] = M[M[H_R] + (R_NOW)]


@njit(cache=True)
def _wait(M, F, c, w, front):
    preempt(M, F, w, M[M[H_R] + (R_NOW)])
    n = M[M[H_C] + (c) * NC + (C_NWAIT)]
    if front:
        for i in range(n, 0, -1):
            M[M[H_CW] + (c) * M[H_NWK] + (i)] = M[M[H_CW] + (c) * M[H_NWK] + (i - 1)]
        M[M[H_CW] + (c) * M[H_NWK] + (0)] = w
    else:
        M[M[H_CW] + (c) * M[H_NWK] + (n)] = w
    M[M[H_C] + (c) * NC + (C_NWAIT)] = n + 1


@njit(cache=True)
def _pop_front(M, F, c):
    n = M[M[H_C] + (c) * NC + (C_NWAIT)]
    w = M[M[H_CW] + (c) * M[H_NWK] + (0)]
    for i in range(n - 1):
        M[M[H_CW] + (c) * M[H_NWK] + (i)] = M[M[H_CW] + (c) * M[H_NWK] + (i + 1)]
    M[M[H_C] + (c) * NC + (C_NWAIT)] = n - 1
    return w


@njit(cache=True)
def _move(M, F, c, w):
    _take(M, F, c, w)
    M[M[H_R] + (R_BALANCE_MOVES)] += 1
    resume(M, F, w, M[M[H_PR] + (PR_CTX)])


@njit(cache=True)
def _stacked(M, F):
    for c in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (c) * NC + (C_NWAIT)] > 0:
            return True
    return False


@njit(cache=True)
def start(M, F, nthreads):
    """Cpus.start on the flat host: thread i on CPU i mod n, waiting there if it is taken."""
    for w in range(nthreads):
        c = M[M[H_W] + (w) * NW + (W_CPU)]
        if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
            _take(M, F, c, w)
        else:
            _wait(M, F, c, w, False)


@njit(cache=True)
def acquire(M, F, w, c):
    o = M[M[H_C] + (c) * NC + (C_OWNER)]
    if o == -1:
        _take(M, F, c, w)
        return
    M[M[H_W] + (w) * NW + (W_CPU)] = c
    if o == w:
        return
    M[M[H_C] + (c) * NC + (C_OWNER)] = w
    if not (M[M[H_W] + (o) * NW + (W_BLOCKED)] or M[M[H_W] + (o) * NW + (W_STALLED)]):
        _wait(M, F, c, o, True)
        call_at(M, F, M[M[H_R] + (R_NOW)] + M[M[H_PR] + (PR_BALANCE)], EV_BALANCE, 0, 0)


@njit(cache=True)
def release(M, F, w):
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] != w:
        return
    if M[M[H_C] + (c) * NC + (C_NWAIT)] > 0:
        nxt = _pop_front(M, F, c)
        M[M[H_C] + (c) * NC + (C_OWNER)] = nxt
        resume(M, F, nxt, M[M[H_PR] + (PR_CTX)])
    else:
        _free(M, F, c)
        if _stacked(M, F):
            pull_to(M, F, c)


@njit(cache=True)
def polling(M, F, c, now):
    return M[M[H_C] + (c) * NC + (C_OWNER)] == -1 and now - M[M[H_C] + (c) * NC + (C_IDLE_SINCE)] < M[M[H_PR] + (PR_HALT_POLL)]


@njit(cache=True)
def place(M, F, wakee, waker, now):
    """VcpuStacking.place: (cpu, latency) of a parked thread unparked by `waker` (-1: none)."""
    prev = M[M[H_W] + (wakee) * NW + (W_CPU)]
    if polling(M, F, prev, now):
        return prev, M[M[H_PR] + (PR_UNPARK_LAT)]
    n = M[M[H_PR] + (PR_NCPU)]
    for c in range(n):
        if polling(M, F, c, now):
            return c, M[M[H_PR] + (PR_UNPARK_LAT)]
    if waker >= 0 and n > 1 and uniform(M, F) < F[F_STACK]:
        # every idle vCPU has halted: the wake-up lands on the waker's CPU and preempts it
        M[M[H_R] + (R_STACKED_WAKES)] += 1
        c = M[M[H_W] + (waker) * NW + (W_CPU)]
        if M[M[H_C] + (c) * NC + (C_OWNER)] == waker:
            _wait(M, F, c, waker, True)
            M[M[H_C] + (c) * NC + (C_OWNER)] = wakee
            call_at(M, F, now + M[M[H_PR] + (PR_BALANCE)], EV_BALANCE, 0, 0)
        return M[M[H_W] + (waker) * NW + (W_CPU)], M[M[H_PR] + (PR_CTX)]
    return own_cpu(M, F, wakee), M[M[H_PR] + (PR_IDLE_WAKE_LAT)]


@njit(cache=True)
def own_cpu(M, F, w):
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
        return c
    for i in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (i) * NC + (C_OWNER)] == -1:
            return i
    return c


@njit(cache=True)
def pull_to(M, F, c):
    for o in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (o) * NC + (C_NWAIT)] > 0:
            w = _pop_front(M, F, o)
            _move(M, F, c, w)
            return


@njit(cache=True)
def balance(M, F):
    for c in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
            pull_to(M, F, c)


@njit(cache=True)
def yield_cpu(M, F, w):
    """Cpus.yield_cpu: sched_yield from running thread w; a thread waiting for this CPU runs and
    w queues behind it (True: w must wait for its CPU); nobody waiting: False."""
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] != w or M[M[H_C] + (c) * NC + (C_NWAIT)] == 0:
        return False
    nxt = _pop_front(M, F, c)
    _wait(M, F, c, w, False)
    M[M[H_C] + (c) * NC + (C_OWNER)] = nxt
    resume(M, F, nxt, M[M[H_PR] + (PR_CTX)])
    call_at(M, F, M[M[H_R] + (R_NOW)] + M[M[H_PR] + (PR_BALANCE)], EV_BALANCE, 0, 0)
    return True
