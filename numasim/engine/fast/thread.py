"""host/thread.py, compiled: an OS thread's CPU time, preemption and getting the CPU back.

The generator parts (`run_for`, `wait_cpu`) are labels of the worker's state machine in
worker.py; what is here runs at an instant.
"""
from .jit import kernel

from .events import call_at
from .state import (EV_STALL_SUCCEED, EV_TWAKE, H_EV, H_FU0, H_R, H_W, NE, NW, R_EV_LEN, R_NOW, R_OTHER,
                    R_OVERFLOW, R_U_I, R_U_N, W_BLOCKED, W_CPU_UNTIL, W_HAS_STALL_EV, W_OWED, W_PARK_GEN,
                    W_PREEMPTED_AT, W_STALLED)


@kernel
def ahead(M, F, ns):
    """Thread.ahead: advance the clock in place when no pending event falls inside the span."""
    R = M[H_R]
    t = M[R + (R_NOW)] + ns
    if M[R + (R_EV_LEN)] > 0 and M[M[H_EV] + (0) * NE + (0)] <= t:
        return False
    if M[R + (R_OTHER)] <= t:  # the other parties' events (one SimPy queue for them all)
        return False
    M[R + (R_NOW)] = t
    return True


@kernel
def preempt(M, F, w, now):
    M[M[H_W] + (w) * NW + (W_STALLED)] = 1
    M[M[H_W] + (w) * NW + (W_PREEMPTED_AT)] = now


@kernel
def resume(M, F, w, latency):
    """Thread.resume: this thread gets its CPU back after `latency`."""
    W = M[H_W]
    M[W + (w) * NW + (W_STALLED)] = 0
    now = M[M[H_R] + (R_NOW)]
    if M[W + (w) * NW + (W_BLOCKED)]:
        # a wake-up that waited for this CPU (cpus.place, stack_wait_prob) completes now
        call_at(M, F, now + latency, EV_TWAKE, w, M[W + (w) * NW + (W_PARK_GEN)])
        return
    if M[W + (w) * NW + (W_HAS_STALL_EV)]:
        M[W + (w) * NW + (W_HAS_STALL_EV)] = 0
        call_at(M, F, now + latency, EV_STALL_SUCCEED, w, 0)
    else:
        lost = min(M[W + (w) * NW + (W_CPU_UNTIL)], now + latency) - M[W + (w) * NW + (W_PREEMPTED_AT)]
        if lost > 0:
            M[W + (w) * NW + (W_OWED)] += lost


@kernel
def uniform(M, F):
    """The OS stream's next uniform draw (numpy's Generator.random(), drawn ahead in Python)."""
    R = M[H_R]
    i = M[R + R_U_I]
    M[R + R_U_I] = i + 1
    if i >= M[R + R_U_N]:
        M[R + R_OVERFLOW] = 8
        return 0.0
    return F[M[H_FU0] + i]
