"""host/network.py, compiled: the ring between the parties of a multi-party run (`mpc_round`).

Each party is a whole system with its own M (state.py "parties"); an endpoint (party, key) is a
row of its own party's EP table, found by task key through the EH index, and only that party's
code touches it: `send` at the sender, `arrive` when the receiver's driver dispatches the
message, `has_message`/`take`/`wait` at the task's own party. The one thing that crosses is the
message itself: `send` puts it in the sender's outbox and schedules its epoll event (EV_NET_IO,
for the receiver) at once, as Runtime.add_io does; the loop hands the outbox to the receiver's
driver right after the event (loop.py `handoff`), before any code of the receiver runs again.
An `mpc_hop` write (engine/fast/mux.py) crosses the same way (`post`), its outbox entry carrying
the connection and the receive CPU.
"""
from .jit import kernel

from .events import call_at
from .handle import wake_from
from .state import (EP_ARRIVED, EP_KEY, EP_LAST_AT, EP_SENT, EP_STAMP, EP_USED, EP_WAITED, EP_WAITER,
                    EV_NET_IO, H_EH, H_EP, H_EPCAP, H_OB, H_OBCAP, H_R, H_T, H_W, H_X, NEP, NOB, NT, NW,
                    OB_AT, OB_CONN, OB_KEY, OB_NOW, OB_RECV, OB_RT, R_GSTEP, R_NOW, R_OVERFLOW, T_KEY, W_RT, X_NEP, X_NOB,
                    X_NPARTIES, X_PARTY)


@kernel
def _find(M, key, make):
    """The row of this party's endpoint of `key`, made (in creation order) if `make`; -1: none
    (or the table is full: the overflow flag makes the caller rerun with more room)."""
    cap = M[H_EPCAP]
    mask = 2 * cap - 1  # the index has twice the rows' room, a power of two
    EH = M[H_EH]
    EP = M[H_EP]
    i = key & mask
    while True:
        e = M[EH + i] - 1
        if e < 0:
            break
        if M[EP + (e) * NEP + (EP_KEY)] == key:
            return e
        i = (i + 1) & mask
    if not make:
        return -1
    X = M[H_X]
    e = M[X + X_NEP]
    if e >= cap:
        M[M[H_R] + (R_OVERFLOW)] = 9
        return -1
    M[X + X_NEP] = e + 1
    M[EH + i] = e + 1
    o = EP + (e) * NEP
    for c in range(NEP):
        M[o + c] = 0
    M[o + EP_KEY] = key
    M[o + EP_WAITER] = -1
    M[o + EP_STAMP] = M[M[H_R] + (R_GSTEP)]
    return e


@kernel
def send(M, F, w, t, latency):
    """Network.send: the message of task t's current round, from worker w's runtime to the same
    runtime at the next party, arriving after `latency` but never before the previous one."""
    e = _find(M, M[M[H_T] + (t) * NT + (T_KEY)], True)
    if e < 0:
        return
    o = M[H_EP] + (e) * NEP
    M[o + EP_SENT] += 1
    at = M[M[H_R] + (R_NOW)] + max(0, latency)
    if at < M[o + EP_LAST_AT]:
        at = M[o + EP_LAST_AT]
    M[o + EP_LAST_AT] = at
    post(M, F, M[M[H_W] + (w) * NW + (W_RT)], at, M[o + EP_KEY], -1, 0)


@kernel
def sent(M, F, key):
    """Network.sent: a multiplexer of this party wrote the message of task `key` (mpc_hop)."""
    e = _find(M, key, True)
    if e >= 0:
        M[M[H_EP] + (e) * NEP + (EP_SENT)] += 1


@kernel
def post(M, F, r, at, key, conn, recv):
    """A message for runtime r of the next party, arriving at `at`: into the outbox, and its
    epoll event (Runtime.add_io's call_at) scheduled now. `conn` -1: an mpc_round message; else
    an mpc_hop write on that connection, `recv` its receive CPU."""
    X = M[H_X]
    n = M[X + X_NOB]
    if n >= M[H_OBCAP]:
        M[M[H_R] + (R_OVERFLOW)] = 10
        return
    b = M[H_OB] + (n) * NOB
    M[b + OB_AT] = at
    M[b + OB_KEY] = key
    M[b + OB_RT] = r
    M[b + OB_CONN] = conn
    M[b + OB_RECV] = recv
    M[b + OB_NOW] = M[M[H_R] + (R_NOW)]
    M[X + X_NOB] = n + 1
    q = (M[X + X_PARTY] + 1) % M[X + X_NPARTIES]
    call_at(M, F, at, EV_NET_IO, q, r)


@kernel
def arrive(M, F, key, w):
    """Network._arrive: worker w's driver dispatched a message for the task of `key`: keep it,
    and wake the task if it waits for it."""
    e = _find(M, key, True)
    if e < 0:
        return
    o = M[H_EP] + (e) * NEP
    M[o + EP_ARRIVED] += 1
    t = M[o + EP_WAITER]
    if t >= 0:
        M[o + EP_WAITER] = -1
        wake_from(M, F, M[M[H_W] + (w) * NW + (W_RT)], t, w)


@kernel
def has_message(M, t):
    e = _find(M, M[M[H_T] + (t) * NT + (T_KEY)], False)
    if e < 0:
        return False
    o = M[H_EP] + (e) * NEP
    return M[o + EP_ARRIVED] > M[o + EP_USED]


@kernel
def take(M, t):
    e = _find(M, M[M[H_T] + (t) * NT + (T_KEY)], False)
    M[M[H_EP] + (e) * NEP + (EP_USED)] += 1


@kernel
def wait(M, t):
    e = _find(M, M[M[H_T] + (t) * NT + (T_KEY)], True)
    if e < 0:
        return
    o = M[H_EP] + (e) * NEP
    if M[o + EP_WAITER] < 0:
        M[o + EP_WAITED] += 1
    M[o + EP_WAITER] = t
