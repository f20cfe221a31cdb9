"""tokio/driver.py, compiled: the 1 ms timer wheel as an array heap of (tick, seq, task).

Pending I/O readiness is a second heap of (ready_at_ns, seq, task, key) beside it, `key` the task
key of a party's message (task IO_MESSAGE: tokio/driver.py Readiness, host/network.py). Each
runtime has its own driver: both heaps of runtime r sit at r * capacity in S.TM and S.IO."""
from .jit import kernel

from .heap import remove_root, sift_up
from .state import (H_IO, H_R, H_RT, H_T, H_TM, H_TMCAP, IO_HOPMSG, IO_MESSAGE, NQ, NT, Q_IO_LEN, Q_NEXT_WAKE,
                    Q_TM_LEN, Q_TM_SEQ, R_OVERFLOW, T_RT)

MS = 1_000_000


@kernel
def _push(M, Q, H, LEN, width, key, task, extra):
    """Add (key, seq, task[, extra]) to the heap of `width`-column rows at H whose length is at
    Q + LEN (the timers and the pending I/O share one sequence, so equal keys keep insertion
    order); False when full."""
    M[Q + (Q_TM_SEQ)] += 1
    n = M[Q + (LEN)]
    if n >= M[H_TMCAP]:
        M[M[H_R] + (R_OVERFLOW)] = 4
        return False
    M[H + (n) * width + (0)] = key
    M[H + (n) * width + (1)] = M[Q + (Q_TM_SEQ)]
    M[H + (n) * width + (2)] = task
    if width > 3:
        M[H + (n) * width + (3)] = extra
    M[Q + (LEN)] = n + 1
    sift_up(M, H, width, 2, n)  # (key, sequence) lead each row
    return True


@kernel
def _pop(M, Q, H, LEN, width):
    """Remove the root of a non-empty heap (see _push); its task."""
    t = M[H + (0) * width + (2)]
    n = M[Q + (LEN)] - 1
    M[Q + (LEN)] = n
    remove_root(M, H, width, 2, n)
    return t


@kernel
def _tm(M, r):
    return M[H_TM] + (r) * M[H_TMCAP] * 3


@kernel
def _io(M, r):
    return M[H_IO] + (r) * M[H_TMCAP] * 4


@kernel
def deadline_to_tick(deadline):
    return -(-deadline // MS)


@kernel
def add_timer(M, F, deadline, task):
    """True if the parked driver must be unparked (the new deadline is earlier than its wake).
    The timer goes to the driver of the task's runtime."""
    r = M[M[H_T] + (task) * NT + (T_RT)]
    Q = M[H_RT] + (r) * NQ
    tick = deadline_to_tick(deadline)
    if not _push(M, Q, _tm(M, r), Q_TM_LEN, 3, tick, task, 0):
        return False
    nw = M[Q + (Q_NEXT_WAKE)]
    return nw < 0 or tick < nw


@kernel
def next_expiration(M, F, r):
    return M[_tm(M, r)] if M[M[H_RT] + (r) * NQ + (Q_TM_LEN)] > 0 else -1


@kernel
def park_timeout_ns(M, F, r, now):
    """-1: no timer."""
    if M[M[H_RT] + (r) * NQ + (Q_TM_LEN)] == 0:
        return -1
    d = M[_tm(M, r)] - now // MS
    return (d if d > 0 else 0) * MS


@kernel
def pop_expired(M, F, r, now):
    """The next expired timer's task, or -1 (Driver.poll's loop, one at a time)."""
    TM = _tm(M, r)
    Q = M[H_RT] + (r) * NQ
    if M[Q + (Q_TM_LEN)] == 0 or M[TM] > now // MS:
        return -1
    return _pop(M, Q, TM, Q_TM_LEN, 3)


@kernel
def add_io(M, F, ready_at, task):
    """Driver.add_io on the task's runtime (Runtime.add_io schedules the readiness event)."""
    r = M[M[H_T] + (task) * NT + (T_RT)]
    _push(M, M[H_RT] + (r) * NQ, _io(M, r), Q_IO_LEN, 4, ready_at, task, 0)


@kernel
def add_message(M, F, r, ready_at, key):
    """Driver.add_io of a Readiness on runtime r: a party's message for the task of `key`."""
    _push(M, M[H_RT] + (r) * NQ, _io(M, r), Q_IO_LEN, 4, ready_at, IO_MESSAGE, key)


@kernel
def add_hop_message(M, F, r, ready_at, row):
    """Driver.add_io of runtime r for the previous party's mpc_hop write, held in HM row `row`
    (engine/fast/mux.py arrive_from)."""
    _push(M, M[H_RT] + (r) * NQ, _io(M, r), Q_IO_LEN, 4, ready_at, IO_HOPMSG, row)


@kernel
def add_readiness(M, F, r, ready_at, entry):
    """Driver.add_io of runtime r for a readiness that is not a task's own wait (tokio/driver.py
    Readiness): `entry` is what the dispatching worker decodes (engine/fast/mux.py IO_MUX)."""
    _push(M, M[H_RT] + (r) * NQ, _io(M, r), Q_IO_LEN, 4, ready_at, entry, 0)


@kernel
def next_io_ns(M, F, r):
    """-1: no I/O pending."""
    return M[_io(M, r)] if M[M[H_RT] + (r) * NQ + (Q_IO_LEN)] > 0 else -1


@kernel
def pop_io_ready(M, F, r, now):
    """The next ready I/O's (task, key), task -1 for none (Driver.poll's second loop; the caller
    stops at 1024); task IO_MESSAGE is a party's message for the task of `key`."""
    IO = _io(M, r)
    Q = M[H_RT] + (r) * NQ
    if M[Q + (Q_IO_LEN)] == 0 or M[IO] > now:
        return -1, 0
    key = M[IO + 3]
    return _pop(M, Q, IO, Q_IO_LEN, 4), key
