"""The observer hooks of tokio/worker.py, handle.py and queue.py (`rt.observer.poll_start(...)`),
compiled: each event is a row of a log that engine/replay.py hands to the Python observers, in
order, between kernel calls. Only facts that do not change afterwards go in a row (the time, the
worker and its CPU then, the task's id, name and creation time, a steal's tasks), which is what
a replay can give (docs/engine.md, "Observers")."""
from .jit import kernel

from .state import (FA_COLS, FA_HANDLER, FA_RECORD, FF_HANDLER, FF_KEEP, H_FA, H_FACAP, H_FFLAG,
                    H_FNODE, H_LQ, H_PR, H_NNAMES, H_NRT, H_OBS, H_OBSCAP, H_R, H_RT, H_T, H_W, H_X,
                    LOCAL_QUEUE_CAPACITY, NQ, NT, NW, OB_COLS, OB_STEAL, OB_TASK, PR_NCPU, Q_NW, Q_SEEN,
                    Q_W0, R_NOW, R_OVERFLOW, S_STEAL, T_CREATED, T_F_CHANGES, T_F_FIRST,
                    T_F_FNODE, T_F_LNODE, T_F_POLLS, T_F_SEQ, T_F_STEALS0, T_ID, T_MON, W_CPU,
                    W_Q_HEAD, W_Q_LEN, W_RT, X_FACTS, X_FA_N, X_FA_NSEEN, X_FA_SEQ, X_OBS,
                    X_OBS_N)

OBS_OVERFLOW = 11  # (8: the OS draw window, 9: a task draw window)


@kernel
def observing(M):
    return M[M[H_X] + X_OBS] != 0


@kernel
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


@kernel
def task_event(M, kind, w, t):
    """poll_start, poll_end, complete of task t on worker w."""
    T = M[H_T]
    _row(M, kind, w, M[T + (t) * NT + (T_ID)], M[T + (t) * NT + (T_MON)], M[T + (t) * NT + (T_CREATED)])


@kernel
def worker_event(M, kind, w):
    """park."""
    _row(M, kind, w, 0, 0, 0)


@kernel
def steal_event(M, thief, victim, t, m):
    """A steal of m tasks: the m - 1 that went into the thief's queue (its last m - 1), then t,
    the one it runs now (queue.py's `list(q)[len(q) - (m - 1):] + [t]`)."""
    _row(M, OB_STEAL, thief, victim, M[M[H_W] + (victim) * NW + (W_CPU)], m)
    n = M[M[H_W] + (thief) * NW + (W_Q_LEN)]
    h = M[M[H_W] + (thief) * NW + (W_Q_HEAD)]
    for i in range(n - (m - 1), n):
        task_event(M, OB_TASK, -1, M[M[H_LQ] + (thief) * LOCAL_QUEUE_CAPACITY + ((h + i) & (LOCAL_QUEUE_CAPACITY - 1))])
    task_event(M, OB_TASK, -1, t)


# ---- the per-task facts of hawk/appmetrics.py HawkObserver, kept here instead of logging every
# event for it: facts_poll_start is its poll_start, facts_complete its complete
@kernel
def facts(M):
    return M[M[H_X] + X_FACTS] != 0


@kernel
def _fa_row(M):
    """The next row of the facts log, or -1 (and the overflow that reruns with a bigger one)."""
    X = M[H_X]
    n = M[X + X_FA_N]
    if n >= M[H_FACAP]:
        M[M[H_R] + (R_OVERFLOW)] = OBS_OVERFLOW
        return -1
    M[X + X_FA_N] = n + 1
    return M[H_FA] + n * FA_COLS


@kernel
def _steals(M):
    """HawkObserver._steals: the live steal counts of every worker of the runtimes seen so far."""
    s = 0
    for r in range(M[H_NRT]):
        Q = M[H_RT] + (r) * NQ
        if M[Q + (Q_SEEN)]:
            W = M[H_W]
            for w in range(M[Q + (Q_W0)], M[Q + (Q_W0)] + M[Q + (Q_NW)]):
                s += M[W + (w) * NW + (S_STEAL)]
    return s


@kernel
def facts_poll_start(M, w, t):
    X = M[H_X]
    T = M[H_T]
    Q = M[H_RT] + (M[M[H_W] + (w) * NW + (W_RT)]) * NQ
    if M[Q + (Q_SEEN)] == 0:
        M[X + X_FA_NSEEN] += 1
        M[Q + (Q_SEEN)] = M[X + X_FA_NSEEN]
    name = M[T + (t) * NT + (T_MON)] % M[H_NNAMES]
    flags = M[M[H_FFLAG] + name]
    if not flags & FF_KEEP:
        return
    now = M[M[H_R] + (R_NOW)]
    cpu = M[M[H_W] + (w) * NW + (W_CPU)]
    # the table has the node of "no CPU" after the CPUs'
    node = M[M[H_FNODE] + (cpu if cpu >= 0 else M[M[H_PR] + (PR_NCPU)])]
    if M[T + (t) * NT + (T_F_POLLS)] == 0:
        M[T + (t) * NT + (T_F_FIRST)] = now
        M[T + (t) * NT + (T_F_FNODE)] = node
        M[T + (t) * NT + (T_F_STEALS0)] = _steals(M)
        M[T + (t) * NT + (T_F_SEQ)] = M[X + X_FA_SEQ]
        M[X + X_FA_SEQ] += 1
    elif node != M[T + (t) * NT + (T_F_LNODE)]:
        M[T + (t) * NT + (T_F_CHANGES)] += 1
    M[T + (t) * NT + (T_F_LNODE)] = node
    M[T + (t) * NT + (T_F_POLLS)] += 1
    if flags & FF_HANDLER:
        r = _fa_row(M)
        if r >= 0:
            M[r] = FA_HANDLER
            M[r + 1] = now
            M[r + 2] = node


@kernel
def facts_complete(M, w, t):
    """The record of a task polled for the observer, done now (a task never polled has none)."""
    T = M[H_T]
    if M[T + (t) * NT + (T_F_POLLS)] == 0:
        return
    r = _fa_row(M)
    if r < 0:
        return
    M[r] = FA_RECORD
    M[r + 1] = M[T + (t) * NT + (T_ID)]
    M[r + 2] = M[T + (t) * NT + (T_MON)]
    M[r + 3] = M[T + (t) * NT + (T_CREATED)]
    M[r + 4] = M[T + (t) * NT + (T_F_FIRST)]
    M[r + 5] = M[M[H_R] + (R_NOW)]
    M[r + 6] = M[T + (t) * NT + (T_F_POLLS)]
    M[r + 7] = M[T + (t) * NT + (T_F_FNODE)]
    M[r + 8] = M[T + (t) * NT + (T_F_LNODE)]
    M[r + 9] = M[T + (t) * NT + (T_F_CHANGES)]
    M[r + 10] = M[T + (t) * NT + (T_F_STEALS0)]
    M[r + 11] = _steals(M)
    M[r + 12] = M[T + (t) * NT + (T_F_SEQ)]
    M[T + (t) * NT + (T_F_POLLS)] = 0  # taken: the row is not a live record any more
