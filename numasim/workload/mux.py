"""ampc-common's connection multiplexers: the long-lived tasks that carry a party's MPC messages.

iris-mpc spawns one `multiplexer::run` task per (peer, connection) on the main runtime
(docs/hawk-source.md section 6). A session's `send` is an unbounded channel push that wakes its
connection's multiplexer, into the sending worker's LIFO slot; the multiplexer serialises, encrypts
and writes it on a tokio worker. The peer's message for the session reaches the receiving
connection's socket, which a worker sees when it polls the I/O driver; that worker runs the
receiving multiplexer, which reads and decrypts it and wakes the session, into its own LIFO slot.
So a hop is four polls on the parties' runtimes, and these are the two on this party's.

A session sends to the next party and receives from the previous one, so each connection used
has a sending and a receiving multiplexer task (two of the connection's peers). With one party
simulated (the one-party scheme of numasim.hawk.parties), the previous party's message arrives the
step's wait after this party's write. With several (`parties`), the write arrives at the next
party's receiving multiplexer of the same connection, for the task of the same spawn-tree key
(numasim.host.network counts it), the step's wait after it was written. A connection's messages
arrive in the order written (one TCP stream): a draw that would overtake the previous message
arrives just after it instead.

A multiplexer handles every message queued when it is polled, one coop budget unit each (a
channel `recv` and a socket read that is Ready each spend one), and yields with the rest when
the budget runs out. Its CPU elapses before the writes leave and before the sessions are woken.
The tasks are created when their connection is first used (prod spawns them at start-up, where
their first poll parks them on the channel and the socket) and never finish: a run's end does not
wait for them.
"""
from collections import deque

from ..spec import MULTIPLEXER, TaskDef
from ..tokio.driver import Readiness
from .program import OP_MUX

SEND, RECV = 0, 1


def mux_task(spec) -> TaskDef:
    """The multiplexers' task definition: no steps of its own, the spec's working set."""
    return TaskDef(MULTIPLEXER, (), spec.multiplexer_working_set_bytes)


_KEY_BASE = -(1 << 40)  # spawn-tree keys below every source's: a multiplexer draws nothing


class Connection:
    """One connection index: its two multiplexer tasks and what each has to handle."""
    __slots__ = ("index", "tasks", "queues", "batch", "last_at")

    def __init__(self, index: int):
        self.index = index
        self.tasks = [None, None]  # the sending multiplexer (to the next party), the receiving one
        self.queues = (deque(), deque())  # SEND: (session, wait, send ns, recv ns); RECV: (session, recv ns)
        self.batch = ([], [])  # what the multiplexer's running poll has taken
        self.last_at = 0  # when the latest message written on this connection arrives


def connection(rt, task, hop) -> Connection:
    """The connection `task` sends `hop` through, its multiplexers made in `rt` on first use."""
    return _connection(rt, hop.first + hop.stride * (task.slot % hop.slots))


def _connection(rt, i: int) -> Connection:
    conns = rt.system.connections
    c = conns.get(i)
    if c is None:
        c = conns[i] = Connection(i)
        for side in (SEND, RECV):
            t = rt.new_task(mux_task(rt.spec), _KEY_BASE - 2 * i - side)
            t.coro = None
            t.op = (OP_MUX, c, side)  # its only await point, for ever
            c.tasks[side] = t
    return c


def send(rt, worker, task, op):
    """The session's `send`: push onto the connection's channel and wake its multiplexer."""
    c = connection(rt, task, op[1])
    c.queues[SEND].append((task, op[2], op[3], op[4]))
    rt.wake_from(c.tasks[SEND], worker)


def take(c: Connection, side: int) -> int:
    """The multiplexer takes the next queued message; returns the CPU it costs."""
    item = c.queues[side].popleft()
    c.batch[side].append(item)
    return item[2] if side == SEND else item[1]


def deliver(rt, worker, c: Connection, side: int):
    """The end of a multiplexer's poll, its CPU spent: the writes leave, or the sessions wake."""
    batch = c.batch[side]
    if not batch:
        return
    now = rt.env.now
    net = rt.network
    if side == SEND:
        if net is None:
            dst, dc = c.tasks[RECV].rt, c
        else:
            # the same connection's receiving end at the next party, in its runtime of this name
            dst = net.systems[(rt.party + 1) % net.n].runtimes[rt.name]
            dc = _connection(dst, c.index)
        for session, wait_ns, _send_ns, recv_ns in batch:
            at = max(now + max(0, wait_ns), c.last_at)
            c.last_at = at
            if net is None:
                dst.add_io(at, Readiness(_arrive, (dc, session, recv_ns)))
            else:
                net.sent(rt.party, session.key)
                dst.add_io(at, Readiness(_arrive, (dc, session.key, recv_ns)))
    else:
        for session, _recv_ns in batch:
            if net is None:
                session.hop_in += 1
                rt.wake_from(session, worker)
            else:
                net.arrived(rt.party, session, worker)  # here `session` is the sender's key
    batch.clear()


def _arrive(arg, worker):
    """A driver dispatched the socket's readiness: the receiving multiplexer has a message (for
    a session task, or with parties for the spawn-tree key of one)."""
    c, session, recv_ns = arg
    c.queues[RECV].append((session, recv_ns))
    worker.rt.wake_from(c.tasks[RECV], worker)


def live_multiplexers(runtimes) -> int:
    """Multiplexer tasks alive in `runtimes` (they never finish)."""
    seen = {id(rt.system): rt.system for rt in runtimes}
    return sum(2 * len(s.connections) for s in seen.values())

