"""workload/mux.py, compiled: ampc-common's connection multiplexers, rule for rule beside it.

A connection is a row of S.CN by its index (`Connection`), made on first use with its two
multiplexer tasks. With one party a session has at most one message in flight (it waits for its
own to come round), so the message (its wait, send and receive CPU, its connection) lives on the
session's row, and the connection's queues and batches are linked lists through the sessions'
rows (T_HOP_NEXT): `queues[side]` is the list at CN_Q + 2 * side (head, tail), `batch[side]` the
one at CN_B + 2 * side. With parties they are lists of message rows (HM) on both sides. A
multiplexer's one await point is OPK_MUX for ever, its connection and side in T_OPA
(2 * index + side).

The message's arrival is an I/O readiness of the receiving multiplexer's runtime driver, pushed
into that driver's heap as IO_MUX + the session (the driver's `seq` orders ties, as the
reference's Readiness is ordered) with the epoll event's `call_at`; the worker that dispatches it
calls `arrive` (worker.py poll_driver), the reference's `_arrive`.

With parties (engine/fast/network.py), a write leaves for the next party's receiving multiplexer
of the same connection: counted at the write (`sent`), it goes into the outbox (`post`) with its
connection and receive CPU, and the loop's handoff right after the event calls `arrive_from` on
the next party's M, which makes that party's connection (in its runtime of the writer's runtime's
name) as the reference's deliver does, and pushes the readiness IO_HOPMSG with the message's HM
row (state.py). The receiving side's queue and batch are then lists of HM rows, and its handover
is the network's `arrive` for the row's key.
"""
from .jit import kernel

from .driver import add_hop_message, add_readiness
from .events import call_at
from .handle import new_task, wake_from
from .network import arrive as net_arrive, post, sent
from .state import (CN_B, CN_LAST, CN_MADE, CN_Q, CN_TASK, EV_IO_READY, HM_CONN, HM_KEY, HM_NEXT, HM_RECV, HM_SEND, HM_WAIT,
                    H_CN, H_HM, H_HMCAP, H_MUXDEF, H_OPS, H_R, H_T, H_W, H_X, IO_MUX, NCN, NHM, NO, NT, NW,
                    OPK_MUX, O_B, O_C, O_D, R_LIVE_MON, R_NOW, R_OVERFLOW, T_HOP_C, T_HOP_IN, T_HOP_NEXT,
                    T_HOP_R, T_HOP_S, T_HOP_W, T_KEY, T_OPA, T_OPK, T_PC, T_RT, T_SLOT, W_RT, X_HMFREE,
                    X_HMTOP, X_NPARTIES)

SEND, RECV = 0, 1
KEY_BASE = -(1 << 40)  # workload/mux.py _KEY_BASE: spawn-tree keys below every source's


@kernel
def _cn(M, i):
    return M[H_CN] + (i) * NCN


@kernel
def _parties(M):
    """rt.network is not None: a multi-party run (2 parties or more)."""
    return M[M[H_X] + X_NPARTIES] > 1


@kernel
def _hm(M, x):
    return M[H_HM] + (x) * NHM


@kernel
def connection(M, F, r, t):
    """connection(): the connection session t sends its message through, its multiplexers made
    in runtime r on first use."""
    T = M[H_T]
    o = M[H_OPS] + (M[T + (t) * NT + (T_PC)] - 1) * NO  # the hop's second row: its rule
    return _connection(M, F, r, M[o + O_B] + M[o + O_C] * (M[T + (t) * NT + (T_SLOT)] % M[o + O_D]))


@kernel
def _connection(M, F, r, i):
    """_connection: connection i, its multiplexers made in runtime r if it is new (rt.new_task:
    counted, instrumented, never scheduled); -1 if the task table is full."""
    T = M[H_T]
    c = _cn(M, i)
    if not M[c + CN_MADE]:
        M[c + CN_MADE] = 1
        for k in range(CN_Q, CN_LAST):
            M[c + k] = -1
        M[c + CN_LAST] = 0
        for side in (SEND, RECV):
            m = new_task(M, F, M[H_MUXDEF], KEY_BASE - 2 * i - side, r)
            if m < 0:
                return -1
            M[T + (m) * NT + (T_OPK)] = OPK_MUX  # its only await point, for ever
            M[T + (m) * NT + (T_OPA)] = 2 * i + side
            M[c + CN_TASK + side] = m
            # never finishes: the run's end does not wait for it (simulate.py _live)
            M[M[H_R] + (R_LIVE_MON)] -= 1
    return i


@kernel
def _hm_new(M):
    """A free HM row, or -1 with the overflow code that reruns the party with more rows."""
    X = M[H_X]
    x = M[X + X_HMFREE]
    if x >= 0:
        M[X + X_HMFREE] = M[_hm(M, x) + HM_NEXT]
        return x
    x = M[X + X_HMTOP]
    if x >= M[H_HMCAP]:
        M[M[H_R] + (R_OVERFLOW)] = 11
        return -1
    M[X + X_HMTOP] = x + 1
    return x


@kernel
def _hm_free(M, x):
    """HM row x back on the free list."""
    X = M[H_X]
    M[_hm(M, x) + HM_NEXT] = M[X + X_HMFREE]
    M[X + X_HMFREE] = x


@kernel
def _next(M, hm, x):
    """Where the link after x is: a session row's T_HOP_NEXT, or (hm) an HM row's HM_NEXT."""
    return _hm(M, x) + HM_NEXT if hm else M[H_T] + (x) * NT + (T_HOP_NEXT)


@kernel
def _push(M, c, at, t, hm=False):
    """Append session t (or, hm, HM row t) to the list (head, tail) at M[c + at]."""
    M[_next(M, hm, t)] = -1
    tail = M[c + at + 1]
    if tail >= 0:
        M[_next(M, hm, tail)] = t
    else:
        M[c + at] = t
    M[c + at + 1] = t


@kernel
def send(M, F, w, t):
    """The session's `send`: push onto the connection's channel and wake its multiplexer."""
    r = M[M[H_W] + (w) * NW + (W_RT)]
    i = connection(M, F, r, t)
    if i < 0:
        return
    c = _cn(M, i)
    T = M[H_T]
    M[T + (t) * NT + (T_HOP_C)] = i
    if not _parties(M):
        # the session waits for its own message to come round: one in flight, on its row
        _push(M, c, CN_Q + 2 * SEND, t)
    else:
        x = _hm_new(M)
        if x < 0:
            return
        h = _hm(M, x)
        M[h + HM_KEY] = M[T + (t) * NT + (T_KEY)]
        M[h + HM_WAIT] = M[T + (t) * NT + (T_HOP_W)]
        M[h + HM_SEND] = M[T + (t) * NT + (T_HOP_S)]
        M[h + HM_RECV] = M[T + (t) * NT + (T_HOP_R)]
        M[h + HM_CONN] = i
        _push(M, c, CN_Q + 2 * SEND, x, True)
    wake_from(M, F, r, M[c + CN_TASK + SEND], w)


@kernel
def queued(M, m):
    """c.queues[side] of multiplexer m is not empty."""
    a = M[M[H_T] + (m) * NT + (T_OPA)]
    return M[_cn(M, a >> 1) + CN_Q + 2 * (a & 1)] >= 0


@kernel
def take(M, F, m):
    """The multiplexer takes the next queued message into its batch; returns the CPU it costs."""
    T = M[H_T]
    a = M[T + (m) * NT + (T_OPA)]
    side = a & 1
    hm = _parties(M)
    c = _cn(M, a >> 1)
    q = CN_Q + 2 * side
    t = M[c + q]
    nxt = M[_next(M, hm, t)]
    M[c + q] = nxt
    if nxt < 0:
        M[c + q + 1] = -1
    _push(M, c, CN_B + 2 * side, t, hm)
    if hm:
        return M[_hm(M, t) + (HM_SEND if side == SEND else HM_RECV)]
    return M[T + (t) * NT + (T_HOP_S if side == SEND else T_HOP_R)]


@kernel
def deliver(M, F, w, m):
    """The end of a multiplexer's poll, its CPU spent: the writes leave, or the sessions wake."""
    T = M[H_T]
    a = M[T + (m) * NT + (T_OPA)]
    side = a & 1
    c = _cn(M, a >> 1)
    b = CN_B + 2 * side
    t = M[c + b]
    if t < 0:
        return
    M[c + b] = -1
    M[c + b + 1] = -1
    now = M[M[H_R] + (R_NOW)]
    r = M[M[H_W] + (w) * NW + (W_RT)]
    net = _parties(M)
    if side == SEND and not net:
        dst = M[T + (M[c + CN_TASK + RECV]) * NT + (T_RT)]
        while t >= 0:
            nxt = M[T + (t) * NT + (T_HOP_NEXT)]
            at = max(now + max(0, M[T + (t) * NT + (T_HOP_W)]), M[c + CN_LAST])  # one TCP stream
            M[c + CN_LAST] = at
            # Runtime.add_io: the driver's pending readiness, then the epoll event
            add_readiness(M, F, dst, at, IO_MUX + t)
            call_at(M, F, at, EV_IO_READY, dst, 0)
            t = nxt
    elif side == SEND:
        # to the same connection's receiving end at the next party, in its runtime of this name
        # (made there by the loop's handoff, right after this event); the row is free after it
        while t >= 0:
            h = _hm(M, t)
            nxt = M[h + HM_NEXT]
            at = max(now + max(0, M[h + HM_WAIT]), M[c + CN_LAST])  # one TCP stream
            M[c + CN_LAST] = at
            sent(M, F, M[h + HM_KEY])
            post(M, F, r, at, M[h + HM_KEY], a >> 1, M[h + HM_RECV])
            _hm_free(M, t)
            t = nxt
    elif not net:
        while t >= 0:
            nxt = M[T + (t) * NT + (T_HOP_NEXT)]
            M[T + (t) * NT + (T_HOP_IN)] += 1
            wake_from(M, F, r, t, w)
            t = nxt
    else:
        # HM rows: Network.arrived for the sender's key (which wakes the task waiting for it)
        while t >= 0:
            h = _hm(M, t)
            nxt = M[h + HM_NEXT]
            key = M[h + HM_KEY]
            _hm_free(M, t)
            net_arrive(M, F, key, w)
            t = nxt


@kernel
def arrive(M, F, t, w):
    """_arrive: worker w dispatched the socket's readiness: the receiving multiplexer has
    session t's message."""
    c = _cn(M, M[M[H_T] + (t) * NT + (T_HOP_C)])
    _push(M, c, CN_Q + 2 * RECV, t)
    wake_from(M, F, M[M[H_W] + (w) * NW + (W_RT)], M[c + CN_TASK + RECV], w)


@kernel
def arrive_from(M, F, r, at, key, i, recv):
    """The previous party's write on connection i for the task of `key`, handed to this party
    (M) by the loop right after the writer's event: connection i made here in runtime r if new
    (workload/mux.py deliver's `_connection(dst, c.index)`), the message an HM row, and
    Runtime.add_io's pending readiness (its epoll event the writer scheduled)."""
    if _connection(M, F, r, i) < 0:
        return
    x = _hm_new(M)
    if x < 0:
        return
    h = _hm(M, x)
    M[h + HM_KEY] = key
    M[h + HM_RECV] = recv
    M[h + HM_CONN] = i
    M[h + HM_NEXT] = -1
    add_hop_message(M, F, r, at, x)


@kernel
def arrive_hop(M, F, x, w):
    """_arrive with parties: worker w dispatched the socket's readiness of HM row x: the
    receiving multiplexer has the message."""
    c = _cn(M, M[_hm(M, x) + HM_CONN])
    _push(M, c, CN_Q + 2 * RECV, x, True)
    wake_from(M, F, M[M[H_W] + (w) * NW + (W_RT)], M[c + CN_TASK + RECV], w)
