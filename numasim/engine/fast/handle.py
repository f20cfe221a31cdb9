"""tokio/handle.py, compiled: spawning, waking, scheduling onto the local or the inject queue,
notifying a parked worker, completing a task. `worker` -1 means a thread outside the runtime.

A task belongs to the runtime it was spawned into (T_RT), a worker to its own (W_RT); `wake`,
`push_remote_task` and `complete` act on the task's runtime. A thread of one runtime acting on
another goes through `cross_in`/`cross_out` (host/system.py System.cross): that runtime's
`current` is set to the caller and the costs it ran up move back onto the caller's runtime."""
from .jit import kernel

from .idle import worker_to_notify
from .park import unpark, wake_thread
from .queue import inj_append, push_back_or_overflow
from .state import (COMPLETE, DEFS_MON_COL, F_LIFO_STEALABLE, H_DEFS, H_FREE, H_MON, H_NNAMES, H_PR,
                    H_R, H_RT, H_T, H_W, IDLE, MAX_KEPT, NDEFS, NQ, NT, NW, N_MON, PR_EVENTFD,
                    PR_REMOTE_SCHED, Q_ALIVE, Q_BLOCKED_HOLDER, Q_CURRENT, Q_DEBT, Q_INJ_LEN, Q_NW,
                    Q_REMOTE, Q_SPAWNED, Q_W0, Q_WAKEUP_PENDING, RUNNING, R_FREE_TOP, R_LIVE_MON,
                    R_NOW, R_OVERFLOW, SCHEDULED, S_LOCAL_SCHED, T_CREATED, T_DEF, T_GHEAD, T_GTAIL,
                    T_HELD, T_JCUR, T_KEPT, T_KEY, T_MON, T_NEXT_SIB, T_NOTIFIED, T_OPK, T_PC, T_RT,
                    T_STATE, T_WAITER, T_WOKE, W_IN_PARK, W_LIFO, W_LIFO_EN, W_Q_LEN, W_RT)
from .taskmon import I_INSTR
from .state import H_NID, OB_COMPLETE, T_ID, T_LAST_CPU
from .state import H_SLOT, T_SLOT
from .observe import facts, facts_complete, observing, task_event


@kernel
def cross_in(M, src, dst):
    """System.cross, before the call: runtime dst's "thread running now" is src's."""
    M[M[H_RT] + (dst) * NQ + (Q_CURRENT)] = M[M[H_RT] + (src) * NQ + (Q_CURRENT)]


@kernel
def cross_out(M, src, dst):
    """System.cross, after the call: the host costs it incurred are the caller's."""
    d = M[H_RT] + (dst) * NQ + (Q_DEBT)
    if M[d]:
        M[M[H_RT] + (src) * NQ + (Q_DEBT)] += M[d]
        M[d] = 0


@kernel
def free_task(M, F, t):
    M[M[H_FREE] + (M[M[H_R] + (R_FREE_TOP)])] = t
    M[M[H_R] + (R_FREE_TOP)] += 1


@kernel
def alloc_task(M):
    """A fresh task slot from the free stack, every field cleared and every link unset; -1 (and
    the overflow flag, which makes the caller rerun with more room) when the slots are used up."""
    R = M[H_R]
    if M[R + (R_FREE_TOP)] == 0:
        M[R + (R_OVERFLOW)] = 1
        return -1
    M[R + (R_FREE_TOP)] -= 1
    t = M[M[H_FREE] + (M[R + (R_FREE_TOP)])]
    T = M[H_T]
    for k in range(NT):
        M[T + (t) * NT + (k)] = 0
    M[T + (t) * NT + (T_OPK)] = -1
    M[T + (t) * NT + (T_WAITER)] = -1
    M[T + (t) * NT + (T_GHEAD)] = -1
    M[T + (t) * NT + (T_GTAIL)] = -1
    M[T + (t) * NT + (T_JCUR)] = -1
    M[T + (t) * NT + (T_NEXT_SIB)] = -1
    return t


@kernel
def new_task(M, F, d, key, r):
    t = alloc_task(M)
    if t < 0:
        return -1
    R = M[H_R]
    Q = M[H_RT] + (r) * NQ
    T = M[H_T]
    for k in range(MAX_KEPT):
        M[T + (t) * NT + (T_KEPT + 2 * k)] = -1
        M[T + (t) * NT + (T_KEPT + 2 * k + 1)] = -1
    M[T + (t) * NT + (T_DEF)] = d
    M[T + (t) * NT + (T_PC)] = M[M[H_DEFS] + (d) * NDEFS + (0)]
    M[T + (t) * NT + (T_RT)] = r
    # the TaskMonitor of its name in its runtime
    nm = M[M[H_DEFS] + (d) * NDEFS + (DEFS_MON_COL)]
    m = r * M[H_NNAMES] + nm
    M[T + (t) * NT + (T_MON)] = m
    # its place among the tasks of its name, over every runtime (System.next_slot)
    M[T + (t) * NT + (T_SLOT)] = M[M[H_SLOT] + nm]
    M[M[H_SLOT] + nm] += 1
    M[T + (t) * NT + (T_CREATED)] = M[R + (R_NOW)]
    M[T + (t) * NT + (T_LAST_CPU)] = -1
    M[M[H_NID] + r] += 1
    M[T + (t) * NT + (T_ID)] = M[M[H_NID] + r]
    M[T + (t) * NT + (T_KEY)] = key
    M[M[H_MON] + (m) * N_MON + (I_INSTR)] += 1
    M[R + (R_LIVE_MON)] += 1
    M[Q + (Q_SPAWNED)] += 1
    M[Q + (Q_ALIVE)] += 1
    return t


@kernel
def new_handle(M, F, held, r):
    """A JoinHandle's task of a blocking closure: running until the closure returns; no
    TaskMonitor and no live-task count (Runtime.spawn_blocking's "<blocking>" task)."""
    t = alloc_task(M)
    if t < 0:
        return -1
    T = M[H_T]
    M[T + (t) * NT + (T_STATE)] = RUNNING
    M[T + (t) * NT + (T_HELD)] = held
    M[M[H_NID] + r] += 1  # Runtime.spawn_blocking's handle takes a task id of runtime r too
    M[T + (t) * NT + (T_ID)] = M[M[H_NID] + r]
    return t


@kernel
def complete_outside(M, F, h):
    """Runtime.complete_outside: the closure is done; from a thread outside the runtime, wake the
    task awaiting its handle."""
    T = M[H_T]
    M[T + (h) * NT + (T_STATE)] = COMPLETE
    j = M[T + (h) * NT + (T_WAITER)]
    if j >= 0:
        M[T + (h) * NT + (T_WAITER)] = -1
        M[M[H_RT] + (M[T + (j) * NT + (T_RT)]) * NQ + (Q_CURRENT)] = -1
        wake(M, F, j, -1)
    if not M[T + (h) * NT + (T_HELD)]:
        free_task(M, F, h)


@kernel
def notify_parked(M, F, r):
    i = worker_to_notify(M, F, r)
    if i >= 0:
        unpark(M, F, i)


@kernel
def push_remote_task(M, F, t):
    r = M[M[H_T] + (t) * NT + (T_RT)]
    Q = M[H_RT] + (r) * NQ
    M[Q + (Q_REMOTE)] += 1
    inj_append(M, F, r, t)
    # the inject queue sits behind the runtime's `synced` mutex: the pushing thread pays for it
    M[Q + (Q_DEBT)] += M[M[H_PR] + (PR_REMOTE_SCHED)]
    notify_parked(M, F, r)


@kernel
def schedule_local(M, F, w, t, is_yield):
    W = M[H_W]
    M[W + (w) * NW + (S_LOCAL_SCHED)] += 1
    if is_yield or not M[W + (w) * NW + (W_LIFO_EN)]:
        push_back_or_overflow(M, F, w, t)
        notify = True
    else:
        prev = M[W + (w) * NW + (W_LIFO)]
        M[W + (w) * NW + (W_LIFO)] = t
        if prev >= 0:
            push_back_or_overflow(M, F, w, prev)
        notify = prev >= 0 or M[M[H_PR] + (F_LIFO_STEALABLE)] != 0
    if notify and not M[W + (w) * NW + (W_IN_PARK)]:
        notify_parked(M, F, M[W + (w) * NW + (W_RT)])


@kernel
def spawn(M, F, d, worker, key, r):
    """tokio::spawn into runtime r from `worker` (one of r's; -1: from outside the runtime);
    `key` places the task in the spawn tree."""
    t = new_task(M, F, d, key, r)
    if t < 0:
        return t
    M[M[H_T] + (t) * NT + (T_STATE)] = SCHEDULED
    if worker >= 0:
        schedule_local(M, F, worker, t, False)
    else:
        push_remote_task(M, F, t)
    return t


@kernel
def wake(M, F, t, worker):
    T = M[H_T]
    if M[T + (t) * NT + (T_WOKE)] == 0:
        now = M[M[H_R] + (R_NOW)]
        M[T + (t) * NT + (T_WOKE)] = now if now != 0 else 1
    st = M[T + (t) * NT + (T_STATE)]
    if st == RUNNING:
        M[T + (t) * NT + (T_NOTIFIED)] = 1
        return
    if st != IDLE:
        return
    M[T + (t) * NT + (T_STATE)] = SCHEDULED
    if worker >= 0:
        schedule_local(M, F, worker, t, False)
    else:
        push_remote_task(M, F, t)


@kernel
def wake_from(M, F, r, t, worker):
    """Runtime.wake_from: a waker call from `worker` of runtime r, for a task of any runtime: a
    task of another runtime is woken from there as by a foreign thread (System.cross)."""
    tr = M[M[H_T] + (t) * NT + (T_RT)]
    if tr == r:
        wake(M, F, t, worker)
    else:
        cross_in(M, r, tr)
        wake(M, F, t, -1)
        cross_out(M, r, tr)


@kernel
def complete(M, F, t, worker):
    T = M[H_T]
    r = M[T + (t) * NT + (T_RT)]
    M[T + (t) * NT + (T_STATE)] = COMPLETE
    if observing(M):
        task_event(M, OB_COMPLETE, worker, t)
    if facts(M):
        facts_complete(M, worker, t)
    M[M[H_RT] + (r) * NQ + (Q_ALIVE)] -= 1
    j = M[T + (t) * NT + (T_WAITER)]
    if j >= 0:
        M[T + (t) * NT + (T_WAITER)] = -1
        wake_from(M, F, r, j, worker)
    # handles it kept and never joined are dropped with it
    for k in range(MAX_KEPT):
        h = M[T + (t) * NT + (T_KEPT + 2 * k)]
        while h >= 0:
            nxt = M[T + (h) * NT + (T_NEXT_SIB)]
            M[T + (h) * NT + (T_HELD)] = 0
            if M[T + (h) * NT + (T_STATE)] == COMPLETE:
                free_task(M, F, h)
            h = nxt
    if not M[T + (t) * NT + (T_HELD)]:
        free_task(M, F, t)  # nobody holds its JoinHandle: the slot is free again


@kernel
def notify_if_work_pending(M, F, r):
    # work a thief could take: the queue, and the LIFO slot where it lives in the queue (1.51)
    Q = M[H_RT] + (r) * NQ
    lifo = M[M[H_PR] + (F_LIFO_STEALABLE)]
    w0 = M[Q + (Q_W0)]
    for w in range(w0, w0 + M[Q + (Q_NW)]):
        if M[M[H_W] + (w) * NW + (W_Q_LEN)] > 0 or (lifo and M[M[H_W] + (w) * NW + (W_LIFO)] >= 0):
            notify_parked(M, F, r)
            return
    if M[Q + (Q_INJ_LEN)] > 0:
        notify_parked(M, F, r)


@kernel
def take_debt(M, F, r):
    Q = M[H_RT] + (r) * NQ
    d = M[Q + (Q_DEBT)]
    M[Q + (Q_DEBT)] = 0
    return d


@kernel
def unpark_driver(M, F, r):
    Q = M[H_RT] + (r) * NQ
    h = M[Q + (Q_BLOCKED_HOLDER)]
    if h >= 0:
        wake_thread(M, F, h)
    else:
        M[Q + (Q_WAKEUP_PENDING)] = 1
        M[Q + (Q_DEBT)] += M[M[H_PR] + (PR_EVENTFD)]
