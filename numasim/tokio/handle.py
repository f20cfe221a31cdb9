"""The runtime and its handle (`scheduler/multi_thread/handle.rs`, `worker.rs:impl Handle`):
spawning, waking, scheduling onto the local queue or the inject queue, notifying a parked worker.

A `Runtime` owns its workers, the inject queue, the idle state, the driver and the blocking pool.
The CPUs, the NUMA tables and the sibling runtimes are the system's (`host/system.py`): a thread
of another runtime acting here goes through `System.cross`.
"""
from collections import deque

from .blocking import BlockingPool
from .driver import Driver
from .fastrand import core_generators
from .idle import Idle
from .task import COMPLETE, IDLE, RUNNING, SCHEDULED, Task
from .worker import Worker


class Runtime:
    """One multi-thread runtime: its workers, inject queue, idle state, driver and blocking pool."""

    def __init__(self, env, spec, profile, host, rng_streams, rs, system, index, workload, instrument,
                 observer=None):
        """`rs` is this runtime's RuntimeSpec; `system` the CPUs, NUMA tables, pools and sibling
        runtimes it shares; `index` its position among the system's runtimes. `workload` gives
        the futures: `task_body(rt, taskdef, key)` makes a task's, `poll_future(worker, task,
        cost)` polls it (tokio does not know what a future does). `instrument(name)` makes the
        TaskMonitor every task of that name reports its polls to (tokio-metrics' `instrument`);
        `observer` gets the engine's events (poll start and end, park, complete)."""
        self.env = env
        self.spec = spec
        self.rs = rs
        self.name = rs.name
        self.system = system
        self.call_at = system.call_at  # call_at(when, fn, arg): fn(arg) at simulated time `when`
        self.numa = system.numa
        self.profile = profile
        self.host = host
        self.observer = observer
        self.instrument = instrument
        self.task_body = workload.task_body
        self.poll_future = workload.poll_future
        self.num_workers = rs.workers
        self.event_interval = rs.event_interval
        self.inject = deque()
        self.idle = Idle(rs.workers)
        self.driver = Driver()
        self.blocking = BlockingPool(self, rs.workers)
        self.shutdown = False
        self.remote_schedule_count = 0
        self.budget_forced_yield_count = 0
        self.spawned_tasks_count = 0
        self.num_alive_tasks = 0
        self.next_id = 0
        self.seed = rng_streams["seed"]  # each task's cost stream derives from it and its key
        self.end_ns = spec.duration_ns
        gqi = rs.global_queue_interval
        self.self_tuning = gqi is None and profile.fixed_global_queue_interval is None
        if gqi is None:
            gqi = profile.fixed_global_queue_interval or 61
        # each runtime's builder seed: two words of the run's fastrand stream per runtime
        seed = rng_streams["fastrand"]
        rands = core_generators(int(seed[2 * index]), int(seed[2 * index + 1]), rs.workers)
        self.workers = [Worker(self, i, rands[i], gqi) for i in range(rs.workers)]
        self.cpus = system.cpus  # placed by the system
        self.numa_stats = self.numa.runtime_stats() if self.numa is not None else None
        self.monitors = {}
        for name in spec.task_names():
            self.monitor(name)
        # host cost incurred by whoever runs right now (an unpark syscall), charged to its clock
        self.debt = 0
        # the thread running right now: a worker, or None for threads outside the runtime
        self.current = None
        # a multi-party run (mpc_round): this runtime's party (ring position), the network
        # between the parties, and the party's factor on spin_us; one party: None, 0, 1
        self.network = None
        self.party = 0
        self.spin_scale = 1.0

    def monitor(self, name):
        m = self.monitors.get(name)
        if m is None:
            m = self.monitors[name] = self.instrument(name)
            if self.numa is not None:
                m.numa = self.numa.task_stats()
        return m

    def start(self):
        for w in self.workers:
            self.env.process(w.run())

    # ------------------------------------------------------------------ tasks
    def new_task(self, taskdef, key=0):
        self.next_id += 1
        mon = self.monitor(taskdef.name)
        mon.instrumented()
        coro = self.task_body(self, taskdef, key)
        t = Task(self.next_id, taskdef.name, coro, mon, self.env.now)
        t.key = key
        t.slot = self.system.next_slot(taskdef.name)
        t.rt = self
        t.ws = taskdef.working_set_bytes
        self.spawned_tasks_count += 1
        self.num_alive_tasks += 1
        return t

    def spawn(self, taskdef, worker, key=0):
        """tokio::spawn from `worker` (None: from outside the runtime); `key` places the task in
        the spawn tree."""
        t = self.new_task(taskdef, key)
        t.state = SCHEDULED
        if worker is not None and worker.has_core:
            self.schedule_local(worker, t, False)
        else:
            self.push_remote_task(t)
        return t

    def spawn_into(self, name, taskdef, worker, key=0):
        """tokio::spawn on another runtime's Handle: from a thread of this runtime, a remote
        schedule (inject + notify) of that runtime."""
        dst = self.system.runtimes[name]
        if dst is self:
            return self.spawn(taskdef, worker, key)
        return self.system.cross(self, dst, dst.spawn, taskdef, None, key)

    def offload(self, pool, dur_ns, mem):
        """Send a job to a pinned pool; the handle completes when the pool thread replies."""
        self.next_id += 1
        h = Task(self.next_id, "<offload>", None, None, self.env.now)
        h.blocking = True
        h.rt = self
        h.state = RUNNING
        self.system.pools[pool].submit(self, h, dur_ns, mem)
        return h

    def spawn_blocking(self, parent, dur_ns):
        self.next_id += 1
        t = Task(self.next_id, "<blocking>", None, None, self.env.now)
        t.blocking = True
        t.state = RUNNING
        self.blocking.spawn_blocking(t, dur_ns)
        return t

    def complete_outside(self, handle):
        """A blocking closure or an offload job is done: its handle completes and, from a thread
        outside the runtime, wakes the task awaiting it (a remote schedule). Returns that task's
        runtime, or None if nothing awaits the handle yet."""
        handle.state = COMPLETE
        w = handle.waiter
        if w is None:
            return None
        handle.waiter = None
        rt = w.rt
        rt.current = None
        rt.wake(w, None)
        return rt

    def complete(self, task, worker):
        task.state = COMPLETE
        if self.observer is not None:
            self.observer.complete(worker, task)
        self.num_alive_tasks -= 1
        w = task.waiter
        if w is not None:
            task.waiter = None
            self.wake_from(w, worker)

    def wake_from(self, task, worker):
        """A waker call from this runtime's `worker`, for a task of any runtime: a task of
        another runtime is woken from there as by a foreign thread (System.cross)."""
        if task.rt is self:
            self.wake(task, worker)
        else:
            self.system.cross(self, task.rt, task.rt.wake, task, None)

    def wake(self, task, worker):
        """A waker call from `worker` (None: from a thread that holds no core)."""
        if task.woke_at == 0:
            task.woke_at = self.env.now or 1
        st = task.state
        if st == RUNNING:
            task.notified = True
            return
        if st != IDLE:
            return  # already queued or complete: schedules nothing
        task.state = SCHEDULED
        if worker is not None and worker.has_core:
            self.schedule_local(worker, task, False)
        else:
            self.push_remote_task(task)

    # ------------------------------------------------------------------ scheduling (§5)
    def schedule_local(self, w, task, is_yield):
        w.stats.local_schedule_count += 1
        if is_yield or not w.lifo_enabled:
            w.push_back_or_overflow(task)
            notify = True
        else:
            prev = w.lifo
            w.lifo = task
            if prev is not None:
                w.push_back_or_overflow(prev)
            # a stealable LIFO task is work a sibling can take: every local schedule notifies
            notify = prev is not None or self.profile.lifo_stealable
        if notify and not w.in_park:
            self.notify_parked()

    def push_remote_task(self, task):
        self.remote_schedule_count += 1
        self.inject.append(task)
        # the inject queue sits behind the runtime's `synced` mutex, unlike a worker's own queue:
        # the pushing thread pays for it (a worker of another runtime through System.cross; a
        # thread outside every runtime settles its own debt)
        self.debt += self.host.remote_schedule_ns
        self.notify_parked()

    def notify_parked(self):
        i = self.idle.worker_to_notify()
        if i is not None:
            self.workers[i].unpark()

    def notify_if_work_pending(self):
        # "work" is what a thief could take (`!remote.steal.is_empty()`, worker.rs:1394-1404 in
        # 1.51.0): the queue, plus the LIFO slot where it lives in the stealable queue
        # (queue.rs:417-421 in 1.51.0 counts it in `Steal::len`)
        lifo = self.profile.lifo_stealable
        for w in self.workers:
            if w.queue or (lifo and w.lifo is not None):
                self.notify_parked()
                return
        if self.inject:
            self.notify_parked()

    def take_debt(self) -> int:
        d = self.debt
        self.debt = 0
        return d

    def unpark_driver(self):
        """Wake the thread parked in the driver (the I/O driver's waker), or leave the eventfd
        readable so that the next driver poll returns at once."""
        drv = self.driver
        h = drv.blocked_holder
        if h is not None:
            h.unpark_from_driver()
        else:
            drv.wakeup_pending = True
            self.debt += self.host.eventfd_write_ns

    def add_io(self, ready_at, task):
        self.driver.add_io(ready_at, task)
        self.call_at(ready_at, self._io_ready, None)

    def _io_ready(self, _):
        # an epoll event: the driver's holder, if blocked in epoll_wait, wakes to dispatch it
        h = self.driver.blocked_holder
        if h is not None:
            self.call_at(self.env.now + self.host.io_wake_latency_ns, h._timeout_wake, h.park_gen)

    def close(self):
        """Shutdown: close the inject queue and unpark every worker."""
        self.shutdown = True
        for w in self.workers:
            w.unpark()
