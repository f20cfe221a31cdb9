"""Pinned std::thread pools fed by a channel (iris-mpc's per-node iris workers).

A task hands a job to the pool (a channel send) and awaits a oneshot reply: it is Pending until
the job is done. Jobs are taken FIFO by whichever pool thread is free, idle threads taking turns
(round robin). A thread is pinned to one CPU and occupies it while it works, preempting a worker
that floated onto it. It runs the job's CPU time plus the memory cost of the job's reads from its
own node, then sends the reply: a wake from outside the runtime, i.e. a remote schedule of the
task's runtime. Its wake and unpark costs are paid on the pool thread's own clock.
"""
from collections import deque

from .numa import RuntimeNuma
from .thread import succeed


class PoolThread:
    __slots__ = ("pool", "index", "cpu", "stalled", "stall_ev", "blocked", "ev", "mask", "name", "rt",
                 "last_node", "wakes_out")

    def __init__(self, pool, index, cpu):
        self.pool = pool
        self.index = index
        self.cpu = cpu
        self.stalled = False
        self.stall_ev = None
        self.blocked = True
        self.ev = None
        self.mask = None  # pinned: the balancer never moves it
        self.name = f"{pool.name}/{index}"
        self.rt = pool  # for wake accounting (numa_stats)
        self.last_node = -1
        self.wakes_out = 0  # Cpus.release reads it of any thread that blocks

    def preempt(self, now):
        # a pool thread preempted mid-job finishes the job late by the time without its CPU
        # only through the gate it passes between jobs (jobs are short next to that)
        self.stalled = True

    def resume(self, latency):
        self.stalled = False
        ev = self.stall_ev
        if ev is not None and not ev.triggered:
            self.stall_ev = None
            self.pool.sys.call_at(self.pool.sys.env.now + latency, succeed, ev)


class Pool:
    def __init__(self, sys, ps):
        self.sys = sys
        self.name = ps.name
        self.node = ps.node
        self.threads = [PoolThread(self, i, c) for i, c in enumerate(ps.cpus)]
        self.queue = deque()  # the channel: (handle, dur_ns, (region, nbytes, pattern) or None)
        self.idle = deque()  # parked threads, first parked first woken
        self.jobs = 0
        self.busy_ns = 0
        self.queue_wait_ns = 0
        self.polls_by_node = [0] * (sys.numa.n if sys.numa is not None else 1)
        self.numa_stats = RuntimeNuma(len(self.polls_by_node))

    def start(self):
        for th in self.threads:
            self.sys.env.process(self._run(th))

    def submit(self, rt, handle, dur_ns, mem):
        """A channel send from the thread running now (charged to `rt.debt`)."""
        self.queue.append((handle, dur_ns, mem, self.sys.env.now))
        if self.idle:
            th = self.idle.popleft()
            sys = self.sys
            now = sys.env.now
            rt.debt += sys.host.unpark_ns
            numa = sys.numa
            if numa is not None:
                rt.debt += numa.wake_ns(rt.current, th)
            lat = sys.cpus.wake_latency(sys.cpus.cpus[th.cpu], now)
            sys.call_at(now + lat, succeed, th.ev)

    def _run(self, th):
        sys = self.sys
        env = sys.env
        cpus = sys.cpus
        numa = sys.numa
        node = cpus.node_of[th.cpu]
        q = self.queue
        while True:
            if th.stalled:
                # preempted on its CPU: wait for it, then look at the channel again
                th.stall_ev = ev = env.event()
                yield ev
                continue
            if not q:
                th.blocked = True
                cpus.release(th)
                th.ev = env.event()
                self.idle.append(th)
                yield th.ev
                th.blocked = False
                cpus.acquire(th, th.cpu)
                continue  # look again: a busy thread may have taken the job meanwhile
            handle, dur, mem, queued = q.popleft()
            self.queue_wait_ns += env.now - queued
            cost = dur
            if mem is not None and numa is not None:
                cost += numa.mem_ns(th.cpu, *mem)
            self.polls_by_node[node] += 1
            if cost:
                yield env.timeout(cost)
            self.jobs += 1
            self.busy_ns += cost
            # the oneshot reply: a wake from outside the runtime, from this thread's node
            if numa is not None:
                numa.outside_node = node
            rt = handle.rt.complete_outside(handle)
            if numa is not None:
                numa.outside_node = None
            if rt is not None:
                d = rt.take_debt()
                if d:
                    self.busy_ns += d
                    yield env.timeout(d)

    def stats(self) -> dict:
        return {"node": self.node, "threads": len(self.threads), "cpus": [t.cpu for t in self.threads],
                "jobs": self.jobs, "busy_ns": self.busy_ns, "queue_wait_ns": self.queue_wait_ns,
                "jobs_by_node": list(self.polls_by_node), "queue_depth": len(self.queue)}
