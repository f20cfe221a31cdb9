"""A task and its state (`runtime/task/state.rs`), and the cooperative budget (`task/coop/`).

Task state is reduced to what decides scheduling: idle, scheduled (in a queue), running (being
polled; a wake then sets `notified` and the yield path re-queues it after the poll) and complete.
The coop budget gives each `run_task` 128 units; a Ready await point spends one, and a task that
finds it at zero must yield even though it could go on.
"""

BUDGET = 128

# task states (task/state.rs, reduced to what decides scheduling)
IDLE, SCHEDULED, RUNNING, COMPLETE = range(4)


class Task:
    __slots__ = ("id", "name", "coro", "state", "notified", "op", "send", "yielded", "timer_fired",
                 "timer_set", "waiter", "monitor", "created", "polled_once", "last_poll_end",
                 "woke_at", "blocking", "rt", "last_cpu", "numa_debt", "ws", "key", "spawned", "slot", "hop_in")

    def __init__(self, tid, name, coro, monitor, now):
        self.id = tid
        self.name = name
        self.coro = coro
        self.state = IDLE
        self.notified = False  # woken while running: re-queued by the yield path after the poll
        self.op = None  # the await point the task is parked on, re-examined at the next poll
        self.send = None
        self.yielded = False
        self.timer_fired = False
        self.timer_set = False
        self.waiter = None  # the task awaiting this one's JoinHandle
        self.monitor = monitor
        self.created = now
        self.polled_once = False
        self.last_poll_end = 0
        self.woke_at = 0
        self.key = 0  # its place in the spawn tree: keys its random stream
        self.spawned = 0
        self.slot = 0  # its place among the tasks of its name, in spawn order (mpc_hop's connection)
        self.hop_in = 0  # mpc_hop messages a multiplexer has handed it and it has not taken yet
        self.blocking = False
        self.rt = None  # the runtime it was spawned into
        self.last_cpu = -1  # NUMA: the CPU of its previous poll
        self.numa_debt = 0  # NUMA: cost its next poll pays (the steal that moved it)
        self.ws = 0  # NUMA: working set bytes, re-read at a poll on another CPU


class Coop:
    """The worker's side of the coop budget (mixed into `worker.Worker`, which holds `budget`)."""

    __slots__ = ()

    def consume_budget(self):
        self.budget -= 1
        if self.budget == 0:
            self.rt.budget_forced_yield_count += 1

    def budget_exhausted(self, task):
        """poll_proceed returned Pending: the task is made to yield."""
        if self.rt.profile.budget_exhaustion_defers:
            self.defer_wake(task)
        else:
            # wake_by_ref on a running task: NOTIFIED, then the yield path after the poll
            self.rt.wake(task, self)
