"""An OS thread's CPU time: spending it, being preempted, waiting for the CPU to come back.

tokio assumes each worker has a CPU; the OS decides when it does. A worker thread spends CPU time
in steps (a SimPy timeout each). Another thread may take its CPU meanwhile (`preempt`): the
thread then stalls at its next gate until the CPU model gives the CPU back (`resume`), and the
part of a step the preemption cut out is spent after that (`owed`). The CPU model (`cpus.py`)
decides who runs where; this class is the thread's side of it.
"""


def succeed(ev):
    """Trigger a SimPy event unless something else already did."""
    if not ev.triggered:
        ev.succeed()


class Thread:
    """The OS-thread part of a worker (mixed into `tokio.worker.Worker`); `rt` provides env,
    call_at and `current`, the thread running now."""

    __slots__ = ("rt", "cpu", "stalled", "stall_ev", "wake_cpu", "mask", "last_node", "cpu_until",
                 "preempted_at", "owed", "blocked", "woken_by", "woken_gen", "wakes_out")

    def __init__(self, rt):
        self.rt = rt
        self.blocked = False
        self.cpu = None
        self.stalled = False  # preempted: runnable but another thread holds this CPU
        self.stall_ev = None
        self.wake_cpu = None
        self.cpu_until = 0  # when the CPU time being spent now ends
        self.preempted_at = 0
        self.owed = 0  # CPU time a preemption cut out of a step already under way
        self.mask = None  # the allowed-CPU mask (cpus.Mask); None = pinned, or the flat host
        self.last_node = -1  # NUMA: the node of its previous poll
        # a fast wake-up from a running worker still under way (cpus.py): that waker, and the park
        self.woken_by = None
        self.woken_gen = 0
        self.wakes_out = 0  # threads whose woken_by is this one (Cpus._woke)

    def run_for(self, ns):
        """Spend `ns` of CPU time, first waiting for the CPU if another thread preempted us."""
        rt = self.rt
        if self.stalled or self.owed:
            yield from self.wait_cpu()
        if ns and not self.ahead(ns):
            self.cpu_until = rt.env._now + ns
            yield rt.env.timeout(ns)
        rt.current = self

    def ahead(self, ns) -> bool:
        """Advance the clock by `ns` in place when no other event falls inside that span.

        Yielding a timeout that is certain to be the next event only costs SimPy an event; when
        the queue's next event is strictly later, moving the clock here is the same run (events
        created later keep their relative order), and it is most of the engine's speed when
        one worker runs alone.
        """
        env = self.rt.env
        t = env._now + ns
        q = env._queue
        if q and q[0][0] <= t:
            return False
        env._now = t
        return True

    def preempt(self, now):
        """Another thread takes this one's CPU at `now`."""
        self.stalled = True
        self.preempted_at = now

    def wait_cpu(self):
        """Wait until this preempted thread has its CPU back, then spend what the preemption cut
        out of the CPU-time step it was in (the hot paths check `stalled` and `owed` themselves
        and only come here when one is set)."""
        if self.stalled:
            self.stall_ev = ev = self.rt.env.event()
            # preempted during a step that has since run out: the rest of it is still to do
            self.owed += max(0, self.cpu_until - self.preempted_at)
            yield ev
        owed, self.owed = self.owed, 0
        if owed > 0:
            self.cpu_until = 0
            yield self.rt.env.timeout(owed)
        self.rt.current = self

    def resume(self, latency):
        """This thread gets its CPU back after `latency`."""
        self.stalled = False
        if self.blocked:
            # a wake-up that waited for this CPU (cpus.py, stack_wait_prob) completes now
            self.rt.call_at(self.rt.env.now + latency, self._timeout_wake, self.park_gen)
            return
        ev = self.stall_ev
        if ev is not None and not ev.triggered:
            self.stall_ev = None
            self.rt.call_at(self.rt.env.now + latency, succeed, ev)
        else:
            # given back before it reached a gate: the step under way went without a CPU from
            # the preemption until now, and finishes that much later
            lost = min(self.cpu_until, self.rt.env.now + latency) - self.preempted_at
            if lost > 0:
                self.owed += lost
