"""The network between the parties of a multi-party run (`mpc_round` and `mpc_hop` steps).

Each party is a whole system (machine, runtimes, pools) in one SimPy environment; nothing is
shared but this. A session task is the same task at every party: the same program and the same
place in the spawn tree (its key), because all parties run the same control flow. An endpoint is
(party, key). A round: the task of party p sends its message to (p + 1) mod n, which arrives
after the drawn one-way latency as readiness on the I/O driver of the receiving task's runtime
(the runtime of the same name at that party: the layout is the same everywhere), and waits for
the same round's message from (p - 1) mod n. Messages are counted, not queued: a round needs one
more arrival than the rounds it has completed, so a message that comes early is kept and none
is lost or used twice. A session's messages to the next party arrive in the order sent (one TCP
stream): a draw that would overtake the previous message arrives just after it instead, so the
count never runs ahead of the round it stands for. A message arrives at the receiver's socket whether or not its task is
waiting yet; the task sees it once a worker of that runtime has polled the driver. An `mpc_hop`
message goes through the connections' multiplexer tasks at both ends (numasim.workload.mux),
which tell the network when it was written (`sent`) and handed over (`arrived`).
"""
from ..tokio.driver import Readiness


class Endpoint:
    """One task's end of the ring at one party."""
    __slots__ = ("sent", "arrived", "used", "waited", "waiter", "last_at")

    def __init__(self):
        self.waited = 0  # rounds whose message was not there yet: the task waited for it
        self.last_at = 0  # when this task's latest message to the next party arrives
        self.sent = 0  # messages this task sent to the next party
        self.arrived = 0  # messages from the previous party a driver has dispatched
        self.used = 0  # rounds completed (messages taken)
        self.waiter = None  # the task, while it waits for a message


class Network:
    def __init__(self, systems):
        """`systems`: one per ring position, each with its runtimes by name."""
        self.systems = list(systems)
        self.n = len(self.systems)
        self.endpoints = {}  # (party, key) -> Endpoint
        self.in_flight = 0  # sent, not yet dispatched by a driver

    def endpoint(self, party: int, key: int) -> Endpoint:
        ep = self.endpoints.get((party, key))
        if ep is None:
            ep = self.endpoints[(party, key)] = Endpoint()
        return ep

    def send(self, rt, task, latency_ns: int):
        """send_next: the message of the task's current round, from party rt.party."""
        ep = self.endpoint(rt.party, task.key)
        ep.sent += 1
        at = max(rt.env.now + max(0, latency_ns), ep.last_at)
        ep.last_at = at
        q = (rt.party + 1) % self.n
        dst = self.systems[q].runtimes[rt.name]
        self.in_flight += 1
        dst.add_io(at, Readiness(self._arrive, (q, task.key)))

    def sent(self, party: int, key: int):
        """A multiplexer of `party` wrote the message of task `key` to the next party (mpc_hop)."""
        self.endpoint(party, key).sent += 1
        self.in_flight += 1

    def arrived(self, party: int, key: int, worker):
        """`party`'s receiving multiplexer handed over task `key`'s message (mpc_hop)."""
        self._arrive((party, key), worker)

    def _arrive(self, where, worker):
        """A driver dispatched an arrival: keep it; wake the task if it waits for it."""
        self.in_flight -= 1
        ep = self.endpoint(*where)
        ep.arrived += 1
        t = ep.waiter
        if t is not None:
            ep.waiter = None
            worker.rt.wake_from(t, worker)

    def has_message(self, task) -> bool:
        ep = self.endpoints.get((task.rt.party, task.key))
        return ep is not None and ep.arrived > ep.used

    def take(self, task):
        self.endpoints[(task.rt.party, task.key)].used += 1

    def wait(self, task):
        ep = self.endpoint(task.rt.party, task.key)
        if ep.waiter is None:
            ep.waited += 1
        ep.waiter = task

    def counts(self) -> dict:
        """(party, key) -> (sent, arrived, used), to reconcile: what p sent, p + 1 received."""
        return {k: (e.sent, e.arrived, e.used) for k, e in self.endpoints.items()}
