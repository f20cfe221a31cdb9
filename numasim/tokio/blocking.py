"""The blocking pool (`blocking/pool.rs`): a FIFO of closures run by on-demand threads.

Threads are spawned while below the cap (max_blocking_threads + worker_threads, because the
workers themselves run on pool threads) and linger idle for `keep_alive` before exiting.
A finished closure wakes its JoinHandle's waiter from the blocking thread: a remote schedule.
"""
from collections import deque

KEEP_ALIVE_NS = 10_000_000_000


class BlockingPool:
    __slots__ = ("rt", "queue", "num_threads", "num_idle", "cap", "idle_events", "spawned_threads")

    def __init__(self, rt, workers: int, max_blocking_threads: int = 512):
        self.rt = rt
        self.queue = deque()
        self.num_threads = 0  # blocking threads besides the workers
        self.num_idle = 0
        self.cap = max_blocking_threads  # the workers' own threads are not counted here
        self.idle_events = []  # condvar waiters: simpy events of idle threads
        self.spawned_threads = 0

    def spawn_blocking(self, task, dur_ns: int):
        self.queue.append((task, dur_ns))
        if self.idle_events:
            self.num_idle -= 1
            ev = self.idle_events.pop()
            ev.succeed()
        elif self.num_threads < self.cap:
            self.num_threads += 1
            self.spawned_threads += 1
            self.rt.env.process(self._thread())

    def _thread(self):
        env = self.rt.env
        yield env.timeout(self.rt.host.thread_spawn_ns)
        while True:
            while self.queue:
                task, dur = self.queue.popleft()
                yield env.timeout(dur)
                self.rt.current = None
                self.rt.complete_outside(task)
                self.rt.debt = 0  # paid by this blocking thread, not a worker
            ev = env.event()
            self.idle_events.append(ev)
            self.num_idle += 1
            res = yield ev | env.timeout(KEEP_ALIVE_NS)
            if ev not in res:
                # keep-alive expired without work: the thread exits
                self.idle_events.remove(ev)
                self.num_idle -= 1
                self.num_threads -= 1
                return
