"""tokio/queue.py, compiled: the 256-slot local queue as a ring buffer per worker, the LIFO slot,
overflow into the inject queue (a growable ring), and stealing half of a sibling's queue."""
from .jit import kernel

from .numa import stolen
from .observe import observing, steal_event
from .state import (F_LIFO_STEALABLE, F_NEWEST_HALF, H_ICAP, H_INJ, H_LQ, H_PR, H_R, H_RT, H_W,
                    LOCAL_QUEUE_CAPACITY, NQ, NW, Q_INJ_HEAD, Q_INJ_LEN, R_OVERFLOW, S_OVERFLOW,
                    S_STEAL, S_STEAL_OPS, W_LIFO, W_Q_HEAD, W_Q_LEN, W_RT)
from .state import H_X, X_NUMA

CAP = LOCAL_QUEUE_CAPACITY
MASK = LOCAL_QUEUE_CAPACITY - 1


# ---- the worker's ring (a deque of at most 256)
@kernel
def q_append(M, F, w, t):
    n = M[M[H_W] + (w) * NW + (W_Q_LEN)]
    M[M[H_LQ] + (w) * LOCAL_QUEUE_CAPACITY + ((M[M[H_W] + (w) * NW + (W_Q_HEAD)] + n) & MASK)] = t
    M[M[H_W] + (w) * NW + (W_Q_LEN)] = n + 1


@kernel
def q_popleft(M, F, w):
    h = M[M[H_W] + (w) * NW + (W_Q_HEAD)]
    t = M[M[H_LQ] + (w) * LOCAL_QUEUE_CAPACITY + (h)]
    M[M[H_W] + (w) * NW + (W_Q_HEAD)] = (h + 1) & MASK
    M[M[H_W] + (w) * NW + (W_Q_LEN)] -= 1
    return t


@kernel
def q_pop(M, F, w):
    n = M[M[H_W] + (w) * NW + (W_Q_LEN)] - 1
    M[M[H_W] + (w) * NW + (W_Q_LEN)] = n
    return M[M[H_LQ] + (w) * LOCAL_QUEUE_CAPACITY + ((M[M[H_W] + (w) * NW + (W_Q_HEAD)] + n) & MASK)]


# ---- the inject queue of runtime r (unbounded: a ring that asks for a rerun when full)
@kernel
def inj_append(M, F, r, t):
    Q = M[H_RT] + (r) * NQ
    cap = M[H_ICAP]
    n = M[Q + (Q_INJ_LEN)]
    if n >= cap:
        M[M[H_R] + (R_OVERFLOW)] = 2
        return
    M[M[H_INJ] + (r) * cap + ((M[Q + (Q_INJ_HEAD)] + n) % cap)] = t
    M[Q + (Q_INJ_LEN)] = n + 1


@kernel
def inj_popleft(M, F, r):
    Q = M[H_RT] + (r) * NQ
    h = M[Q + (Q_INJ_HEAD)]
    t = M[M[H_INJ] + (r) * M[H_ICAP] + (h)]
    M[Q + (Q_INJ_HEAD)] = (h + 1) % M[H_ICAP]
    M[Q + (Q_INJ_LEN)] -= 1
    return t


# ---- LocalQueue's methods
@kernel
def push_back_or_overflow(M, F, w, t):
    if M[M[H_W] + (w) * NW + (W_Q_LEN)] < CAP:
        q_append(M, F, w, t)
        return
    half = CAP // 2
    r = M[M[H_W] + (w) * NW + (W_RT)]
    if M[M[H_PR] + (F_NEWEST_HALF)]:
        # the newest half, oldest of them first
        n = M[M[H_W] + (w) * NW + (W_Q_LEN)]
        h = M[M[H_W] + (w) * NW + (W_Q_HEAD)]
        for i in range(n - half, n):
            inj_append(M, F, r, M[M[H_LQ] + (w) * LOCAL_QUEUE_CAPACITY + ((h + i) & MASK)])
        M[M[H_W] + (w) * NW + (W_Q_LEN)] = n - half
    else:
        for _ in range(half):
            inj_append(M, F, r, q_popleft(M, F, w))
    inj_append(M, F, r, t)
    M[M[H_W] + (w) * NW + (S_OVERFLOW)] += 1


@kernel
def has_tasks(M, F, w):
    return M[M[H_W] + (w) * NW + (W_LIFO)] >= 0 or M[M[H_W] + (w) * NW + (W_Q_LEN)] > 0


@kernel
def next_local_task(M, F, w):
    t = M[M[H_W] + (w) * NW + (W_LIFO)]
    if t >= 0:
        M[M[H_W] + (w) * NW + (W_LIFO)] = -1
        return t
    if M[M[H_W] + (w) * NW + (W_Q_LEN)] > 0:
        return q_popleft(M, F, w)
    return -1


@kernel
def steal_into(M, F, v, thief):
    ln = M[M[H_W] + (v) * NW + (W_Q_LEN)]
    m = ln - ln // 2
    if m > 0:
        M[M[H_W] + (thief) * NW + (S_STEAL)] += m
        M[M[H_W] + (thief) * NW + (S_STEAL_OPS)] += 1
        for _ in range(m - 1):
            q_append(M, F, thief, q_popleft(M, F, v))
        t = q_popleft(M, F, v)
        if M[M[H_X] + X_NUMA]:
            stolen(M, F, thief, v, t, m)
        if observing(M):
            steal_event(M, thief, v, t, m)
        return t
    if M[M[H_W] + (v) * NW + (W_LIFO)] >= 0 and M[M[H_PR] + (F_LIFO_STEALABLE)]:
        t = M[M[H_W] + (v) * NW + (W_LIFO)]
        M[M[H_W] + (v) * NW + (W_LIFO)] = -1
        M[M[H_W] + (thief) * NW + (S_STEAL)] += 1
        M[M[H_W] + (thief) * NW + (S_STEAL_OPS)] += 1
        if M[M[H_X] + X_NUMA]:
            stolen(M, F, thief, v, t, 1)
        if observing(M):
            steal_event(M, thief, v, t, 1)
        return t
    return -1
