"""tokio/blocking.py, compiled: the blocking pool's FIFO of closures (a ring of (handle, ns)) and
its on-demand threads, each a small state machine (`BlockingPool._thread`) with its idle wait on
`ev | timeout(keep_alive)` mirrored event for event (the condition, the event, the timeout).
Each runtime has its own pool: runtime r's threads are rows r * BT_CAP .. of S.BT, its FIFO and
idle stack at r's place in S.BQ and S.IDL."""
from .jit import kernel

from .events import schedule, timeout
from .handle import complete_outside, new_handle
from .state import (BT_ALIVE, BT_CAP, BT_COND_TRIG, BT_EV_DONE, BT_EV_TRIG, BT_GEN, BT_PC, BT_TASK,
                    EV_BT_COND, EV_BT_EV, EV_BT_KEEP, EV_BT_RESUME, EV_NOOP, H_BQ, H_BT, H_IDL,
                    H_PR, H_R, H_RT, H_TCAP, NBT, NORMAL, NQ, PR_THREAD_SPAWN, Q_BP_IDLE,
                    Q_BP_THREADS, Q_BQ_HEAD, Q_BQ_LEN, Q_CURRENT, Q_DEBT, Q_NIDLE_EV, R_OVERFLOW,
                    URGENT)

KEEP_ALIVE_NS = 10_000_000_000
B_START, B_LOOP, B_JOB_DONE = range(3)


@kernel
def spawn_blocking(M, F, r, dur, held):
    """Runtime.spawn_blocking + BlockingPool.spawn_blocking on runtime r: the JoinHandle's slot
    (-1: none)."""
    h = new_handle(M, F, held, r)
    if h < 0:
        return h
    R = M[H_RT] + r * NQ
    cap = M[H_TCAP]
    BQ = M[H_BQ] + r * cap * 2
    n = M[R + Q_BQ_LEN]
    if n >= cap:
        M[M[H_R] + R_OVERFLOW] = 1
        return h
    i = (M[R + Q_BQ_HEAD] + n) % cap
    M[BQ + i * 2] = h
    M[BQ + i * 2 + 1] = dur
    M[R + Q_BQ_LEN] = n + 1
    BT = M[H_BT]
    if M[R + Q_NIDLE_EV] > 0:
        M[R + Q_BP_IDLE] -= 1
        M[R + Q_NIDLE_EV] -= 1
        th = M[M[H_IDL] + r * BT_CAP + M[R + Q_NIDLE_EV]]
        M[BT + th * NBT + BT_EV_TRIG] = 1
        schedule(M, F, 0, NORMAL, EV_BT_EV, th, M[BT + th * NBT + BT_GEN])
    elif M[R + Q_BP_THREADS] < BT_CAP:
        M[R + Q_BP_THREADS] += 1
        for th in range(r * BT_CAP, (r + 1) * BT_CAP):
            if not M[BT + th * NBT + BT_ALIVE]:
                M[BT + th * NBT + BT_ALIVE] = 1
                M[BT + th * NBT + BT_PC] = B_START
                schedule(M, F, 0, URGENT, EV_BT_RESUME, th, 0)
                break
    return h


@kernel
def thread_step(M, F, th):
    """Resume blocking thread th's generator until its next yield."""
    r = th // BT_CAP
    R = M[H_RT] + r * NQ
    BT = M[H_BT]
    row = BT + th * NBT
    pc = M[row + BT_PC]
    if pc == B_START:
        M[row + BT_PC] = B_LOOP
        timeout(M, F, M[M[H_PR] + PR_THREAD_SPAWN], EV_BT_RESUME, th, 0)
        return
    if pc == B_JOB_DONE:
        M[R + Q_CURRENT] = -1
        complete_outside(M, F, M[row + BT_TASK])
        M[R + Q_DEBT] = 0  # paid by this blocking thread, not a worker
    # while self.queue
    n = M[R + Q_BQ_LEN]
    if n > 0:
        BQ = M[H_BQ] + r * M[H_TCAP] * 2
        i = M[R + Q_BQ_HEAD]
        M[row + BT_TASK] = M[BQ + i * 2]
        dur = M[BQ + i * 2 + 1]
        M[R + Q_BQ_HEAD] = (i + 1) % M[H_TCAP]
        M[R + Q_BQ_LEN] = n - 1
        M[row + BT_PC] = B_JOB_DONE
        timeout(M, F, dur, EV_BT_RESUME, th, 0)
        return
    # idle: ev | timeout(keep_alive)
    M[row + BT_GEN] += 1
    M[row + BT_EV_TRIG] = 0
    M[row + BT_EV_DONE] = 0
    M[row + BT_COND_TRIG] = 0
    M[M[H_IDL] + r * BT_CAP + M[R + Q_NIDLE_EV]] = th
    M[R + Q_NIDLE_EV] += 1
    M[R + Q_BP_IDLE] += 1
    timeout(M, F, KEEP_ALIVE_NS, EV_BT_KEEP, th, M[row + BT_GEN])
    M[row + BT_PC] = B_LOOP


@kernel
def idle_event(M, F, th, gen, is_ev):
    """The idle wait's event (is_ev) or keep-alive timeout is processed: the condition's check."""
    row = M[H_BT] + th * NBT
    if gen != M[row + BT_GEN] or not M[row + BT_ALIVE]:
        return
    if is_ev:
        M[row + BT_EV_DONE] = 1
    if not M[row + BT_COND_TRIG]:
        M[row + BT_COND_TRIG] = 1
        schedule(M, F, 0, NORMAL, EV_BT_COND, th, gen)


@kernel
def idle_done(M, F, th):
    """The condition is processed: the thread takes work, or its keep-alive ran out and it exits."""
    row = M[H_BT] + th * NBT
    if M[row + BT_EV_DONE]:
        thread_step(M, F, th)
        return
    r = th // BT_CAP
    R = M[H_RT] + r * NQ
    IDL = M[H_IDL] + r * BT_CAP
    n = M[R + Q_NIDLE_EV]
    for i in range(n):
        if M[IDL + i] == th:
            for j in range(i, n - 1):
                M[IDL + j] = M[IDL + j + 1]
            M[R + Q_NIDLE_EV] = n - 1
            break
    M[R + Q_BP_IDLE] -= 1
    M[R + Q_BP_THREADS] -= 1
    M[row + BT_ALIVE] = 0
    schedule(M, F, 0, NORMAL, EV_NOOP, 0, 0)
