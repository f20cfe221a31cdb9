"""The I/O and time driver (`time/`, `io/`): a 1 ms timer wheel and pending I/O readiness.

Timer deadlines round up to the next millisecond tick (`deadline_to_tick`), and the driver's
park timeout is computed from whole ticks (`tick_to_duration(when - now_tick)`), so a timer
fires late by the fraction of a millisecond at which the driver parked. Expired timers and ready
I/O are dispatched by whichever worker polls the driver, onto that worker.
"""
import heapq

MS = 1_000_000


class Readiness:
    """I/O readiness that is not one task's own wait: a socket another machine wrote to (a
    party's message). The worker that dispatches it calls `fn(arg, worker)`, which may wake the
    task reading that socket from there, as a ready socket's waker does."""
    __slots__ = ("fn", "arg")

    def __init__(self, fn, arg):
        self.fn = fn
        self.arg = arg


class Driver:
    __slots__ = ("timers", "io_ready", "seq", "holder", "blocked_holder", "ready_count", "next_wake",
                 "wakeup_pending")

    def __init__(self):
        self.timers = []  # heap of (tick, seq, task)
        self.io_ready = []  # heap of (ready_at_ns, seq, task)
        self.seq = 0
        self.holder = None  # the worker inside park_internal with the driver TryLock
        self.blocked_holder = None  # that worker, while blocked in epoll_wait
        self.ready_count = 0  # io_driver_ready_count
        # the tick the parked driver will wake at (time driver `next_wake`); None: no timer
        self.next_wake = None
        # the driver's waker (eventfd) was written while nobody waited in epoll: the next
        # driver poll returns at once
        self.wakeup_pending = False

    @staticmethod
    def deadline_to_tick(deadline_ns: int) -> int:
        return -(-deadline_ns // MS)  # round up to the next ms

    def add_timer(self, deadline_ns: int, task) -> bool:
        """Register a timer. True if the driver must be unparked: `reregister` wakes the parked
        driver when the new deadline is earlier than the one it sleeps towards (or it sleeps
        with no timer at all), so that the new timer is not missed."""
        tick = self.deadline_to_tick(deadline_ns)
        self.seq += 1
        heapq.heappush(self.timers, (tick, self.seq, task))
        return self.next_wake is None or tick < self.next_wake

    def next_expiration(self):
        return self.timers[0][0] if self.timers else None

    def add_io(self, ready_at_ns: int, task):
        self.seq += 1
        heapq.heappush(self.io_ready, (ready_at_ns, self.seq, task))

    def park_timeout_ns(self, now_ns: int):
        """How long epoll waits: until the next timer tick in whole ms from the current tick.
        None means no timer (wait until unparked or I/O)."""
        if not self.timers:
            return None
        when = self.timers[0][0]
        now_tick = now_ns // MS
        return max(0, when - now_tick) * MS

    def next_io_ns(self):
        return self.io_ready[0][0] if self.io_ready else None

    def poll(self, now_ns: int) -> list:
        """Expired timers and ready I/O at `now_ns`, in the order they are dispatched."""
        out = []
        now_tick = now_ns // MS
        timers = self.timers
        while timers and timers[0][0] <= now_tick:
            out.append(heapq.heappop(timers)[2])
        io = self.io_ready
        n = 0
        # max_io_events_per_tick: one epoll_wait returns at most 1024 events
        while io and io[0][0] <= now_ns and n < 1024:
            out.append(heapq.heappop(io)[2])
            n += 1
        self.ready_count += n
        self.next_wake = self.next_expiration()
        return out
