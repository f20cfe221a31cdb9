"""The observer hooks of tokio/worker.py, handle.py and queue.py (`rt.observer.poll_start(...)`),
compiled: each event is a row of a log that engine/replay.py hands to the Python observers, in
order, between kernel calls. Only facts that do not change afterwards go in a row (the time, the
worker and its CPU then, the task's id, name and creation time, a steal's tasks), which is what
a replay can give (docs/engine.md, "Observers")."""
from numba import njit

from .state import (H_LQ, H_OBS, H_OBSCAP, H_R, H_T, H_W, H_X, LOCAL_QUEUE_CAPACITY, NT, NW,
                    OB_COLS, OB_STEAL, OB_TASK, R_NOW, R_OVERFLOW, T_CREATED, T_ID, T_MON, W_CPU,
                    W_Q_HEAD, W_Q_LEN, X_OBS, X_OBS_N)

OBS_OVERFLOW = 11  # (8: the OS draw window, 9: a task draw window)


@njit(cache=True)
def observing(M):
    return M[M[H_X] + X_OBS] != 0


@njit(cache=True)
def _row(M, kind, w, a, b, c):
    X = M[H_X]
    n = M[X + X_OBS_N]
    if n >= M[H_OBSCAP]:
        M[M[H_R] + (R_OVERFLOW)] = OBS_OVERFLOW
        return
    r = M[H_OBS] + n * OB_COLS
    M[r] = kind
    M[r + 1] = M[M[H_R] + (R_NOW)]
    M[r + 2] = w
    M[r + 3] = M[M[H_W] + (w) * NW + (W_CPU)] if w >= 0 else -1
    M[r + 4] = a
    M[r + 5] = b
    M[r + 6] = c
    M[X + X_OBS_N] = n + 1


@njit(cache=True)
def task_event(M, kind, w, t):
    """poll_start, poll_end, complete of task t on worker w."""
    T = M[H_T]
    _row(M, kind, w, M[T + (t) * NT + (T_ID)], M[T + (t) * NT + (T_MON)], M[T + (t) * NT + (T_CREATED)])


@njit(cache=True)
def worker_event(M, kind, w):
    """park."""
    _row(M, kind, w, 0, 0, 0)


@njit(cache=True)
def steal_event(M, thief, victim, t, m):
    """A steal of m tasks: the m - 1 that went into the thief's queue (its last m - 1), then t,
    the one it runs now (queue.py's `list(q)[len(q) - (m - 1):] + [t]`)."""
    _row(M, OB_STEAL, thief, victim, M[M[H_W] + (victim) * NW + (W_CPU)], m)
    n = M[M[H_W] + (thief) * NW + (W_Q_LEN)]
    h = M[M[H_W] + (thief) * NW + (W_Q_HEAD)]
    for i in range(n - (m - 1), n):
        task_event(M, OB_TASK, -1, M[M[H_LQ] + (thief) * LOCAL_QUEUE_CAPACITY + ((h + i) & (LOCAL_QUEUE_CAPACITY - 1))])
    task_event(M, OB_TASK, -1, t)
