"""tokio/idle.py, compiled: num_unparked, num_searching and the sleepers stack of runtime r (its
stack holds global worker numbers, at its first worker's place in S.SL)."""
from .jit import kernel

from .state import (H_RT, H_SL, NQ, Q_MAX_SEARCHING, Q_NSLEEP, Q_NUM_SEARCHING, Q_NUM_UNPARKED,
                    Q_NW, Q_W0)


@kernel
def worker_to_notify(M, F, r):
    R = M[H_RT] + (r) * NQ
    SL = M[H_SL] + M[R + (Q_W0)]
    if M[R + (Q_NUM_SEARCHING)] != 0 or M[R + (Q_NUM_UNPARKED)] >= M[R + (Q_NW)] or M[R + (Q_NSLEEP)] == 0:
        return -1
    M[R + (Q_NUM_SEARCHING)] += 1
    M[R + (Q_NUM_UNPARKED)] += 1
    if M[R + (Q_NUM_SEARCHING)] > M[R + (Q_MAX_SEARCHING)]:
        M[R + (Q_MAX_SEARCHING)] = M[R + (Q_NUM_SEARCHING)]
    M[R + (Q_NSLEEP)] -= 1
    return M[SL + (M[R + (Q_NSLEEP)])]


@kernel
def transition_worker_to_searching(M, F, r):
    R = M[H_RT] + (r) * NQ
    if 2 * M[R + (Q_NUM_SEARCHING)] >= M[R + (Q_NW)]:
        return False
    M[R + (Q_NUM_SEARCHING)] += 1
    if M[R + (Q_NUM_SEARCHING)] > M[R + (Q_MAX_SEARCHING)]:
        M[R + (Q_MAX_SEARCHING)] = M[R + (Q_NUM_SEARCHING)]
    return True


@kernel
def transition_worker_from_searching(M, F, r):
    M[M[H_RT] + (r) * NQ + (Q_NUM_SEARCHING)] -= 1
    return M[M[H_RT] + (r) * NQ + (Q_NUM_SEARCHING)] == 0


@kernel
def transition_worker_to_parked(M, F, r, index, is_searching):
    R = M[H_RT] + (r) * NQ
    SL = M[H_SL] + M[R + (Q_W0)]
    M[R + (Q_NUM_UNPARKED)] -= 1
    last = False
    if is_searching:
        M[R + (Q_NUM_SEARCHING)] -= 1
        last = M[R + (Q_NUM_SEARCHING)] == 0
    M[SL + (M[R + (Q_NSLEEP)])] = index
    M[R + (Q_NSLEEP)] += 1
    return last


@kernel
def unpark_worker_by_id(M, F, r, index):
    R = M[H_RT] + (r) * NQ
    SL = M[H_SL] + M[R + (Q_W0)]
    n = M[R + (Q_NSLEEP)]
    for i in range(n):
        if M[SL + (i)] == index:
            M[SL + (i)] = M[SL + (n - 1)]  # swap_remove, as tokio/idle.py
            M[R + (Q_NSLEEP)] = n - 1
            M[R + (Q_NUM_UNPARKED)] += 1
            return True
    return False


@kernel
def is_parked(M, F, r, index):
    SL = M[H_SL] + M[M[H_RT] + (r) * NQ + (Q_W0)]
    for i in range(M[M[H_RT] + (r) * NQ + (Q_NSLEEP)]):
        if M[SL + (i)] == index:
            return True
    return False
