"""tokio/park.py, compiled (the parts that touch no task): unparking a worker's thread, the
timeout/unpark wake of a blocked thread, deferring a waker, should_notify_others.

The parts that wake tasks (drain_defer, poll_driver, park_internal_nonblocking, the park
transitions) sit in worker.py, above handle.py, so that no module imports back up."""
from .jit import kernel

from .cpus import place
from .events import call_at, schedule
from .numa import wake_ns
from .state import (EV_RESUME, EV_TWAKE, F_DEDUPE, F_NEEDS_TWO, H_DCAP, H_DEF, H_PR, H_R, H_RT, H_W,
                    NORMAL, NQ, NW, PR_UNPARK, Q_CURRENT, Q_DEBT, R_NOW, R_OVERFLOW, W_BLOCKED,
                    W_DEFER_LEN, W_LIFO, W_NOTIFIED, W_PARK_GEN, W_PARK_TRIG, W_Q_LEN, W_RT,
                    W_SEARCHING, W_STALLED, W_WAKE_CPU, W_WAKE_PENDING)
from .state import H_X, X_NUMA


@kernel
def timeout_wake(M, F, w, gen):
    """Parker._timeout_wake: the park event succeeds unless the thread already woke."""
    W = M[H_W]
    if (M[W + (w) * NW + (W_BLOCKED)] and gen == M[W + (w) * NW + (W_PARK_GEN)] and not M[W + (w) * NW + (W_PARK_TRIG)]
            and not M[W + (w) * NW + (W_STALLED)]):
        M[W + (w) * NW + (W_PARK_TRIG)] = 1
        schedule(M, F, 0, NORMAL, EV_RESUME, w, 0)


@kernel
def wake_thread(M, F, w):
    W = M[H_W]
    if M[W + (w) * NW + (W_BLOCKED)] and not M[W + (w) * NW + (W_WAKE_PENDING)]:
        M[W + (w) * NW + (W_WAKE_PENDING)] = 1
        # the costs land on the woken thread's runtime, as does the question who wakes it
        Q = M[H_RT] + (M[W + (w) * NW + (W_RT)]) * NQ
        now = M[M[H_R] + (R_NOW)]
        M[Q + (Q_DEBT)] += M[M[H_PR] + (PR_UNPARK)]
        if M[M[H_X] + X_NUMA]:
            M[Q + (Q_DEBT)] += wake_ns(M, F, M[Q + (Q_CURRENT)], w)
        cpu, lat = place(M, F, w, M[Q + (Q_CURRENT)], now)
        M[W + (w) * NW + (W_WAKE_CPU)] = cpu
        if lat >= 0:
            call_at(M, F, now + lat, EV_TWAKE, w, M[W + (w) * NW + (W_PARK_GEN)])


@kernel
def unpark(M, F, w):
    M[M[H_W] + (w) * NW + (W_NOTIFIED)] = 1
    wake_thread(M, F, w)


@kernel
def defer_wake(M, F, w, t):
    n = M[M[H_W] + (w) * NW + (W_DEFER_LEN)]
    if M[M[H_PR] + (F_DEDUPE)] and n > 0 and M[M[H_DEF] + (w) * M[H_DCAP] + (n - 1)] == t:
        return
    if n >= M[H_DCAP]:
        M[M[H_R] + (R_OVERFLOW)] = 6
        return
    M[M[H_DEF] + (w) * M[H_DCAP] + (n)] = t
    M[M[H_W] + (w) * NW + (W_DEFER_LEN)] = n + 1


@kernel
def should_notify_others(M, F, w):
    W = M[H_W]
    if M[W + (w) * NW + (W_SEARCHING)]:
        return False
    if M[M[H_PR] + (F_NEEDS_TWO)]:
        return (1 if M[W + (w) * NW + (W_LIFO)] >= 0 else 0) + M[W + (w) * NW + (W_Q_LEN)] > 1
    return M[W + (w) * NW + (W_Q_LEN)] > 0
