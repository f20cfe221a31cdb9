"""SimPy's event queue as an array heap (simpy/core.py `Environment.schedule` and `step`).

Events are ordered by (time, priority, eid) exactly as SimPy orders them; eid is the running count
of everything scheduled, so ties at one instant break in the order events were created. Every
event SimPy schedules is mirrored, even one whose callback turns out to do nothing (a stale
timeout wake, a process's own termination): `ahead` (host/thread.py) looks at the earliest
pending time, and a different queue would change when CPU time is spent in place.
"""
from .jit import kernel

from .heap import remove_root, sift_up

from .state import (E_A, E_B, E_ID, E_K, E_P, E_T, H_ECAP, H_EV, H_R, NE, NORMAL, R_EID, R_EV_LEN,
                    R_NOW, R_OVERFLOW)


@kernel
def schedule(M, F, delay, prio, kind, a, b):
    """env.schedule: one more event at now + delay."""
    EV = M[H_EV]
    R = M[H_R]
    n = M[R + (R_EV_LEN)]
    if n >= M[H_ECAP]:
        M[R + (R_OVERFLOW)] = 3
        return
    M[EV + (n) * NE + (E_T)] = M[R + (R_NOW)] + delay
    M[EV + (n) * NE + (E_P)] = prio
    M[EV + (n) * NE + (E_ID)] = M[R + (R_EID)]
    M[R + (R_EID)] += 1
    M[EV + (n) * NE + (E_K)] = kind
    M[EV + (n) * NE + (E_A)] = a
    M[EV + (n) * NE + (E_B)] = b
    M[R + (R_EV_LEN)] = n + 1
    sift_up(M, EV, NE, 3, n)  # (E_T, E_P, E_ID) lead each row


@kernel
def timeout(M, F, delay, kind, a, b):
    """env.timeout(delay) with what processing it does."""
    schedule(M, F, delay, NORMAL, kind, a, b)


@kernel
def call_at(M, F, when, kind, a, b):
    """Runtime.call_at / System.call_at: a timeout at max(0, when - now) running a callback."""
    d = when - M[M[H_R] + (R_NOW)]
    if d < 0:
        d = 0
    schedule(M, F, d, NORMAL, kind, a, b)


@kernel
def peek_time(M, F):
    return M[M[H_EV] + (0) * NE + (E_T)]


@kernel
def pop(M, F):
    """Remove the earliest event into row NE-1 scratch: returns its (time, kind, a, b)."""
    EV = M[H_EV]
    R = M[H_R]
    t = M[EV + (0) * NE + (E_T)]
    k = M[EV + (0) * NE + (E_K)]
    a = M[EV + (0) * NE + (E_A)]
    b = M[EV + (0) * NE + (E_B)]
    n = M[R + (R_EV_LEN)] - 1
    M[R + (R_EV_LEN)] = n
    remove_root(M, EV, NE, 3, n)
    return t, k, a, b
