"""workload/interpret.py, compiled: the await points of one poll that other threads can see
(`_await`) and the coop budget (`tokio/task.py Coop`). The loop of `poll_future` itself yields
(CPU time passes before a spawn or a Pending), so it is labels of worker.py's state machine."""
from .jit import kernel

from .mux import deliver as mux_deliver, queued as mux_queued, send as mux_send
from .blocking import spawn_blocking
from .driver import add_io, add_timer
from .events import call_at
from .handle import cross_in, cross_out, spawn, unpark_driver, wake
from .network import has_message, send, wait
from .park import defer_wake
from .pools import submit
from .program import _draw, child_key
from .state import H_X, OPK_HOP, OPK_MPC, OPK_MUX, OPK_OFFLOAD, O_A, O_B, O_K, PR_REMOTE_SCHED, X_NPARTIES
from .state import (COMPLETE, DEFS_RT_COL, EV_IO_READY, F_BUDGET_DEFERS, H_DEFS, H_OPS, H_PR, H_R,
                    H_RT, H_T, H_W, NDEFS, NO, NQ, NT, NW, OPK_BLOCKING, OPK_JOIN, OPK_SLEEP,
                    OPK_SPAWN, OPK_YIELD, O_C, O_D, PR_SPAWN, Q_BUDGET_FORCED, R_NOW, T_GHEAD,
                    T_GTAIL, T_HELD, T_JCUR, T_KEPT, T_KEY, T_NEXT_SIB, T_OPA, T_OPK, T_PC, T_RT,
                    T_SPAWNED, T_STATE, T_SUB, T_TFIRED, T_TSET, T_WAITER, T_YIELDED, W_BUDGET, W_RT)


@kernel
def consume_budget(M, F, w):
    M[M[H_W] + (w) * NW + (W_BUDGET)] -= 1
    if M[M[H_W] + (w) * NW + (W_BUDGET)] == 0:
        M[M[H_RT] + (M[M[H_W] + (w) * NW + (W_RT)]) * NQ + (Q_BUDGET_FORCED)] += 1


@kernel
def budget_exhausted(M, F, w, t):
    if M[M[H_PR] + (F_BUDGET_DEFERS)]:
        defer_wake(M, F, w, t)
    else:
        wake(M, F, t, w)


@kernel
def await_point(M, F, w, t, k):
    """_await: (Pending?, the CPU time it costs the poll)."""
    T = M[H_T]
    if k == OPK_SPAWN:
        M[T + (t) * NT + (T_SPAWNED)] += 1
        d = M[T + (t) * NT + (T_OPA)]
        key = child_key(M[T + (t) * NT + (T_KEY)], M[T + (t) * NT + (T_SPAWNED)])
        r = M[M[H_W] + (w) * NW + (W_RT)]
        dst = M[M[H_DEFS] + (d) * NDEFS + (DEFS_RT_COL)]
        if dst < 0 or dst == r:
            c = spawn(M, F, d, w, key, r)
        else:
            # tokio::spawn on another runtime's Handle: a remote schedule there, through
            # System.cross
            cross_in(M, r, dst)
            c = spawn(M, F, d, -1, key, dst)
            cross_out(M, r, dst)
        if c >= 0 and M[M[H_OPS] + (M[T + (t) * NT + (T_PC)]) * NO + (O_C)]:
            # joined later: this task holds the JoinHandle until its join passes it
            M[T + (c) * NT + (T_HELD)] = 1
            tail = M[T + (t) * NT + (T_GTAIL)]
            if tail >= 0:
                M[T + (tail) * NT + (T_NEXT_SIB)] = c
            else:
                M[T + (t) * NT + (T_GHEAD)] = c
            M[T + (t) * NT + (T_GTAIL)] = c
        elif c >= 0 and M[M[H_OPS] + (M[T + (t) * NT + (T_PC)]) * NO + (O_D)]:
            # kept under its "as" name for a later join_all
            M[T + (c) * NT + (T_HELD)] = 1
            k0 = T_KEPT + 2 * (M[M[H_OPS] + (M[T + (t) * NT + (T_PC)]) * NO + (O_D)] - 1)
            tail = M[T + (t) * NT + (k0 + 1)]
            if tail >= 0:
                M[T + (tail) * NT + (T_NEXT_SIB)] = c
            else:
                M[T + (t) * NT + (k0)] = c
            M[T + (t) * NT + (k0 + 1)] = c
        M[T + (t) * NT + (T_SUB)] += 1
        M[T + (t) * NT + (T_OPK)] = -1
        return False, M[M[H_PR] + (PR_SPAWN)]
    if k == OPK_OFFLOAD:
        # a channel send (push under the channel's lock, maybe unpark a pool thread): the job's
        # duration, then its memory read's size, drawn now as the generator draws them
        o = M[H_OPS] + (M[T + (t) * NT + (T_PC)]) * NO
        dur = M[o + O_A]
        if M[o + O_B]:
            dur = _draw(M, F, t, M[o + O_B])
        o2 = o + NO
        reg = M[o2 + O_D] - 1
        nb = 0
        if reg >= 0:
            nb = M[o2 + O_A]
            if M[o2 + O_B]:
                nb = _draw(M, F, t, M[o2 + O_B])
        h = submit(M, F, M[o + O_C], M[M[H_W] + (w) * NW + (W_RT)], dur, reg, nb, M[o2 + O_C])
        if h >= 0:
            ks = M[o2 + O_K]
            k0 = T_GHEAD if ks == 0 else T_KEPT + 2 * (ks - 1)
            tail = M[T + (t) * NT + (k0 + 1)]
            if tail >= 0:
                M[T + (tail) * NT + (T_NEXT_SIB)] = h
            else:
                M[T + (t) * NT + (k0)] = h
            M[T + (t) * NT + (k0 + 1)] = h
        M[T + (t) * NT + (T_SUB)] += 1
        M[T + (t) * NT + (T_OPK)] = -1
        return False, M[M[H_PR] + (PR_REMOTE_SCHED)]
    if k == OPK_MPC and not M[T + (t) * NT + (T_TSET)]:
        # send_next: an unbounded channel push to the connection, which never waits; then the
        # same op is looked at again for receive_prev
        M[T + (t) * NT + (T_TSET)] = 1
        send(M, F, w, t, M[T + (t) * NT + (T_OPA)])
        return False, 0
    if k == OPK_BLOCKING:
        h = spawn_blocking(M, F, M[M[H_W] + (w) * NW + (W_RT)], M[T + (t) * NT + (T_OPA)], M[M[H_OPS] + (M[T + (t) * NT + (T_PC)]) * NO + (O_C)])
        M[T + (t) * NT + (T_JCUR)] = h
        M[T + (t) * NT + (T_SUB)] = 1
        M[T + (t) * NT + (T_OPK)] = -1
        return False, M[M[H_PR] + (PR_SPAWN)]
    if k == OPK_HOP and not M[T + (t) * NT + (T_TSET)]:
        # the session's send (an unbounded channel push that wakes the connection's multiplexer);
        # then the same op is looked at again for the receive
        M[T + (t) * NT + (T_TSET)] = 1
        mux_send(M, F, w, t)
        return False, 0
    if k == OPK_MUX:
        # the multiplexer's CPU has passed: its writes leave or its sessions wake; then Pending
        # until the next message (or, out of budget with messages left, a yield)
        mux_deliver(M, F, w, t)
        if mux_queued(M, t):
            budget_exhausted(M, F, w, t)
        return True, 0
    if k == OPK_YIELD:
        M[T + (t) * NT + (T_YIELDED)] = 1
        defer_wake(M, F, w, t)
        return True, 0
    if M[M[H_W] + (w) * NW + (W_BUDGET)] == 0:
        # poll_proceed runs first in every budgeted await point, before a JoinHandle, a Sleep or
        # an I/O resource registers anything
        budget_exhausted(M, F, w, t)
        return True, 0
    if k == OPK_JOIN:
        h = M[T + (t) * NT + (T_OPA)]
        if M[T + (h) * NT + (T_STATE)] == COMPLETE:
            return False, 0
        M[T + (h) * NT + (T_WAITER)] = t
        return True, 0
    if k == OPK_HOP or k == OPK_MPC:
        # the receive, its message not here yet: the receiving multiplexer wakes it (one party,
        # through the task's own waker); with parties the network wakes the endpoint's waiter,
        # so a message that came while this poll's CPU time passed is looked at again here
        # (workload/interpret.py's _await)
        if k == OPK_MPC or M[M[H_X] + X_NPARTIES] > 1:
            if has_message(M, t):
                return False, 0
            wait(M, t)
        return True, 0
    if M[T + (t) * NT + (T_TSET)]:
        return True, 0
    M[T + (t) * NT + (T_TSET)] = 1
    M[T + (t) * NT + (T_TFIRED)] = 0
    if k == OPK_SLEEP:
        if add_timer(M, F, M[M[H_R] + (R_NOW)] + M[T + (t) * NT + (T_OPA)], t):
            unpark_driver(M, F, M[T + (t) * NT + (T_RT)])
    else:
        add_io_ready(M, F, M[M[H_R] + (R_NOW)] + M[T + (t) * NT + (T_OPA)], t)
    return True, 0


@kernel
def add_io_ready(M, F, ready_at, t):
    """Runtime.add_io: the driver's pending readiness, and the epoll event at `ready_at`."""
    add_io(M, F, ready_at, t)
    call_at(M, F, ready_at, EV_IO_READY, M[M[H_T] + (t) * NT + (T_RT)], 0)
