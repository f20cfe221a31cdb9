"""The multi-thread scheduler: workers, local queues, the inject queue, stealing, parking.

Mirrors `scheduler/multi_thread/worker.rs` and `queue.rs` (tokio-scheduler.md §1–§11). Each worker
is a SimPy process running `Context::run`. Simulated time only advances for CPU work (polls and
the host's scheduler costs) and for blocking parks; everything else happens at an instant, in
the order tokio's code does it. Version differences are read from the `Profile`.
"""
from collections import deque

import simpy

from ..spec import RuntimeSpec
from ..workload.program import (TaskDraws, child_key, OP_BLOCKING, OP_IO, OP_JOIN, OP_MEM, OP_NOW, OP_OFFLOAD, OP_SLEEP, OP_SPAWN,
                                OP_SPAWN_RT, OP_SPIN, OP_YIELD, run_steps)
from ..metrics.batch import WorkerStats
from ..metrics.task import TaskMonitor
from .blocking import BlockingPool
from .cpus import Cpus
from .driver import Driver
from .fastrand import core_generators
from .idle import Idle
from .numa import RuntimeNuma, TaskNuma

LOCAL_QUEUE_CAPACITY = 256
BUDGET = 128

# task states (task/state.rs, reduced to what decides scheduling)
IDLE, SCHEDULED, RUNNING, COMPLETE = range(4)


class Task:
    __slots__ = ("id", "name", "coro", "state", "notified", "op", "send", "yielded", "timer_fired",
                 "timer_set", "waiter", "monitor", "created", "polled_once", "last_poll_end",
                 "woke_at", "blocking", "rt", "last_cpu", "numa_debt", "ws", "key", "spawned")

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
        self.blocking = False
        self.rt = None  # the runtime it was spawned into
        self.last_cpu = -1  # NUMA: the CPU of its previous poll
        self.numa_debt = 0  # NUMA: cost its next poll pays (the steal that moved it)
        self.ws = 0  # NUMA: working set bytes, re-read at a poll on another CPU


class Worker:
    __slots__ = ("rt", "index", "tick", "lifo", "lifo_enabled", "queue", "is_searching", "in_park",
                 "rand", "gqi", "stats", "defer", "notified", "blocked", "park_ev", "park_gen",
                 "wake_pending", "polling", "budget", "has_core", "park_start", "cpu", "stalled",
                 "stall_ev", "wake_cpu", "mask", "last_node", "cpu_until", "preempted_at", "owed")

    def __init__(self, rt, index, rand, gqi):
        self.rt = rt
        self.index = index
        self.tick = 0
        self.lifo = None
        self.lifo_enabled = True
        self.queue = deque()
        self.is_searching = False
        self.in_park = False  # core.park is None: inside park_internal, local schedules don't notify
        self.rand = rand
        self.gqi = gqi
        self.stats = WorkerStats(rt.profile.busy_by_processing)
        self.defer = []
        self.notified = False  # the parker's NOTIFIED state
        self.blocked = False
        self.park_ev = None
        self.park_gen = 0
        self.wake_pending = False
        self.polling = None
        self.budget = BUDGET
        self.has_core = True
        self.park_start = 0
        self.cpu = None
        self.stalled = False  # preempted: runnable but another thread holds this CPU
        self.stall_ev = None
        self.wake_cpu = None
        self.cpu_until = 0  # when the CPU time being spent now ends
        self.preempted_at = 0
        self.owed = 0  # CPU time a preemption cut out of a step already under way
        self.mask = None  # NumaCpus: the allowed-CPU mask; None = pinned (or the flat host)
        self.last_node = -1  # NUMA: the node of its previous poll

    # ------------------------------------------------------------------ queue (queue.rs)
    def push_back_or_overflow(self, task):
        q = self.queue
        if len(q) < LOCAL_QUEUE_CAPACITY:
            q.append(task)
            return
        # push_overflow: half the queue and the new task go to the inject queue as one batch;
        # which half depends on the version, the batch sends no notify of its own
        half = LOCAL_QUEUE_CAPACITY // 2
        rt = self.rt
        if rt.profile.overflow_newest_half:
            moved = [q.pop() for _ in range(half)]
            moved.reverse()
        else:
            moved = [q.popleft() for _ in range(half)]
        moved.append(task)
        rt.inject.extend(moved)
        self.stats.overflow_count += 1

    def has_tasks(self) -> bool:
        return self.lifo is not None or bool(self.queue)

    # ------------------------------------------------------------------ next_task (§3)
    def next_task(self):
        rt = self.rt
        inject = rt.inject
        if self.tick % self.gqi == 0:
            if rt.self_tuning:
                self.gqi = self.stats.tuned_global_queue_interval(self.gqi)
            if inject:
                return inject.popleft()
            return self.next_local_task()
        t = self.next_local_task()
        if t is not None or not inject:
            return t
        if not rt.profile.inject_batch_pull:
            return inject.popleft()
        q = self.queue
        n = len(inject) // rt.num_workers + 1
        n = min(n, LOCAL_QUEUE_CAPACITY - len(q), LOCAL_QUEUE_CAPACITY // 2)
        n = max(1, min(n, len(inject)))
        first = inject.popleft()
        for _ in range(n - 1):
            q.append(inject.popleft())
        return first

    def next_local_task(self):
        t = self.lifo
        if t is not None:
            self.lifo = None
            return t
        if self.queue:
            return self.queue.popleft()
        return None

    # ------------------------------------------------------------------ steal_work (§7)
    def steal_work(self):
        rt = self.rt
        if not self.is_searching:
            if not rt.idle.transition_worker_to_searching():
                return None
            self.is_searching = True
        n = rt.num_workers
        start = self.rand.fastrand_n(n)
        workers = rt.workers
        q = self.queue
        for i in range(n):
            v = workers[(start + i) % n]
            if v is self:
                continue
            if len(q) > LOCAL_QUEUE_CAPACITY // 2:
                break
            vq = v.queue
            ln = len(vq)
            m = ln - ln // 2
            if m > 0:
                st = self.stats
                st.steal_count += m
                st.steal_operations += 1
                for _ in range(m - 1):
                    q.append(vq.popleft())
                t = vq.popleft()
                if rt.numa is not None:
                    rt.numa.stolen(self, v, t, m)
                return t
            if v.lifo is not None and rt.profile.lifo_stealable:
                # 1.51.0–1.51.1, 1.52.0–1.52.1: the LIFO slot lives in the queue structure, so a
                # thief that finds the queue empty takes it
                t = v.lifo
                v.lifo = None
                st = self.stats
                st.steal_count += 1
                st.steal_operations += 1
                if rt.numa is not None:
                    rt.numa.stolen(self, v, t, 1)
                return t
        if rt.inject:
            return rt.inject.popleft()
        return None

    def transition_from_searching(self):
        self.is_searching = False
        if self.rt.idle.transition_worker_from_searching():
            self.rt.notify_parked()

    # ------------------------------------------------------------------ CPU time
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
        ev = self.stall_ev
        if ev is not None and not ev.triggered:
            self.stall_ev = None
            self.rt.call_at(self.rt.env.now + latency, _succeed, ev)
        else:
            # given back before it reached a gate: the step under way went without a CPU from
            # the preemption until now, and finishes that much later
            lost = min(self.cpu_until, self.rt.env.now + latency) - self.preempted_at
            if lost > 0:
                self.owed += lost

    # ------------------------------------------------------------------ the worker loop (§2)
    def run(self):
        rt = self.rt
        env = rt.env
        host = rt.host
        prof = rt.profile
        st = self.stats
        evi = rt.event_interval
        by_processing = prof.busy_by_processing
        yield from self.run_for(0)
        st.start_processing(env.now)
        st.last_resume = env.now
        while True:
            self.tick += 1
            if self.tick % evi == 0:
                if by_processing:
                    st.end_processing(env.now)
                yield from self.run_for(host.driver_poll_ns + rt.take_debt())
                self.park_internal_nonblocking()
                st.submit()  # Core::maintenance
                if by_processing:
                    st.start_processing(env.now)
                if rt.shutdown:
                    return
            t = self.next_task()
            if t is not None:
                yield from self.run_task(t, host.run_task_ns + rt.take_debt())
                continue
            if by_processing:
                st.end_processing(env.now)
            t = self.steal_work()
            if t is not None:
                if by_processing:
                    st.start_processing(env.now)
                yield from self.run_task(t, host.run_task_ns + host.steal_ns + rt.take_debt())
                continue
            yield from self.run_for(host.steal_ns + rt.take_debt())
            if self.defer:
                yield from self.run_for(host.driver_poll_ns)
                self.park_internal_nonblocking()
            else:
                yield from self.park()
            if rt.shutdown:
                return
            if by_processing and prof.start_processing_after_park:
                st.start_processing(env.now)

    # ------------------------------------------------------------------ run_task (§4)
    def run_task(self, task, pre_ns):
        rt = self.rt
        prof = rt.profile
        if self.is_searching:
            self.transition_from_searching()
        st = self.stats
        st.polls_count += 1
        st.tasks_polled_in_batch += 1
        self.budget = BUDGET
        yield from self.poll(task, pre_ns)
        cap = prof.max_lifo_polls_per_tick
        per_poll = not prof.poll_count_per_run_task
        lifo_polls = 0
        while True:
            t = self.lifo
            if t is None:
                self.lifo_enabled = True
                return
            if self.budget == 0:
                # the chain used the whole budget: the LIFO task goes to the back, no notify
                self.lifo = None
                self.push_back_or_overflow(t)
                return
            if cap is not None:
                lifo_polls += 1
                if lifo_polls >= cap:
                    # anything scheduled during this last LIFO poll goes to the queue instead
                    self.lifo_enabled = False
            self.lifo = None
            if per_poll:
                st.polls_count += 1
            yield from self.poll(t, 0)

    # ------------------------------------------------------------------ one poll of one task
    def poll(self, task, pre_ns):
        """Poll `task` once: run its program until an await point returns Pending or it ends.

        CPU time accumulates in `cost` and is elapsed (a SimPy timeout) just before anything
        another thread can observe: a spawn, and the registration of a waker at a Pending await
        point, so that a wake racing with the end of the poll sees the right instant.
        """
        rt = self.rt
        env = rt.env
        host = rt.host
        if self.stalled or self.owed:
            yield from self.wait_cpu()  # preempted before the poll began: it starts later
        task.state = RUNNING
        self.polling = task
        if rt.observer is not None:
            rt.observer.poll_start(self, task)
        start = env.now + pre_ns
        mon = task.monitor
        mon.poll_start(task, start)
        cost = pre_ns + host.poll_ns
        numa = rt.numa
        if numa is not None:
            cost += numa.poll_start(self, task)
        coro = task.coro
        done = False
        while True:
            op = task.op
            if op is None:
                try:
                    op = coro.send(task.send)
                except StopIteration:
                    done = True
                    break
                task.send = None
                task.op = op
            if rt.debt:
                cost += rt.debt
                rt.debt = 0
            k = op[0]
            if k == OP_SPIN:
                cost += op[1]
                task.op = None
                continue
            if k == OP_MEM:
                # memory work inside the poll, priced from the CPU this thread runs on now
                cost += numa.mem_ns(self.cpu, op[1], op[2], op[3])
                task.op = None
                continue
            if k == OP_NOW:
                task.send = env.now + cost
                task.op = None
                continue
            if k == OP_YIELD and task.yielded:
                # the second poll of yield_now completes; no budget is spent
                task.yielded = False
                task.op = None
                continue
            if k == OP_JOIN:
                if op[1].state == COMPLETE and self.budget:
                    self.consume_budget()
                    cost += host.ready_ns
                    task.op = None
                    continue
            elif k == OP_SLEEP or k == OP_IO:
                if task.timer_set and task.timer_fired and self.budget:
                    self.consume_budget()
                    cost += host.ready_ns
                    task.timer_set = task.timer_fired = False
                    task.op = None
                    continue
            # everything below interacts with other threads: let the CPU time pass first
            if cost:
                if self.stalled or self.owed:
                    yield from self.wait_cpu()
                if not self.ahead(cost):
                    self.cpu_until = env._now + cost
                    yield env.timeout(cost)
                    rt.current = self
                cost = 0
            if k == OP_SPAWN:
                task.spawned += 1
                task.send = rt.spawn(op[1], self, child_key(task.key, task.spawned))
                cost = host.spawn_ns
                task.op = None
            elif k == OP_BLOCKING:
                task.send = rt.spawn_blocking(task, op[1])
                cost = host.spawn_ns
                task.op = None
            elif k == OP_SPAWN_RT:
                task.spawned += 1
                task.send = rt.spawn_into(op[2], op[1], self, child_key(task.key, task.spawned))
                cost = host.spawn_ns
                task.op = None
            elif k == OP_OFFLOAD:
                # a channel send (push under the channel's lock, maybe unpark a pool thread)
                task.send = rt.offload(op[1], op[2], op[3])
                cost = host.remote_schedule_ns
                task.op = None
            elif k == OP_YIELD:
                # yield_now defers its waker to the next park or maintenance (1.23+)
                task.yielded = True
                self.defer_wake(task)
                break
            elif self.budget == 0 and (k == OP_JOIN or task.timer_set):
                # poll_proceed: out of budget, the task must yield even though it could go on
                self.budget_exhausted(task)
                break
            elif k == OP_JOIN:
                if op[1].state == COMPLETE:
                    continue  # it finished while this poll's CPU time passed: look again
                op[1].waiter = task
                break
            elif task.timer_set:
                break  # woken but the timer has not fired: still waiting
            else:
                task.timer_set = True
                task.timer_fired = False
                if k == OP_SLEEP:
                    if rt.driver.add_timer(env.now + op[1], task):
                        rt.unpark_driver()
                else:
                    rt.add_io(env.now + op[1], task)
                break
        cost += rt.debt
        rt.debt = 0
        if self.stalled or self.owed:
            yield from self.wait_cpu()
        if cost and not self.ahead(cost):
            self.cpu_until = env._now + cost
            yield env.timeout(cost)
            rt.current = self
            if self.stalled or self.owed:
                # preempted while the poll ran: it ends once the cut-off part has run
                yield from self.wait_cpu()
        end = env.now
        mon.poll_end(task, start, end, done)
        self.polling = None
        if rt.observer is not None:
            rt.observer.poll_end(self, task)
        if done:
            rt.complete(task, self)
        elif task.notified:
            # woken while running: the harness re-schedules it through the yield path
            task.notified = False
            task.state = SCHEDULED
            rt.schedule_local(self, task, True)
        else:
            task.state = IDLE

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

    def defer_wake(self, task):
        d = self.defer
        if self.rt.profile.defer_lifo_dedupe and d and d[-1] is task:
            return
        d.append(task)

    # ------------------------------------------------------------------ parking (§9)
    def drain_defer(self):
        d = self.defer
        if not d:
            return
        self.defer = []
        rt = self.rt
        if rt.profile.defer_lifo_dedupe:
            d.reverse()  # 1.29+ pops from the end
        for t in d:
            rt.wake(t, self)

    def should_notify_others(self) -> bool:
        if self.is_searching:
            return False
        n = (1 if self.lifo is not None else 0) + len(self.queue)
        if self.rt.profile.notify_others_needs_two:
            return n > 1
        return len(self.queue) > 0

    def poll_driver(self):
        """Dispatch expired timers and ready I/O onto this worker (it holds the driver)."""
        rt = self.rt
        for t in rt.driver.poll(rt.env.now):
            t.timer_fired = True
            rt.wake(t, self)

    def park_internal_nonblocking(self):
        """park_yield / maintenance: a zero-timeout driver poll if the driver is free, then the
        deferred wakes, then maybe wake a sibling."""
        rt = self.rt
        self.in_park = True
        drv = rt.driver
        if drv.holder is None:
            drv.holder = self
            drv.wakeup_pending = False  # epoll_wait(0) reads the eventfd too
            self.poll_driver()
            drv.holder = None
        self.drain_defer()
        self.in_park = False
        if self.should_notify_others():
            rt.notify_parked()

    def transition_to_parked(self) -> bool:
        if self.has_tasks():
            return False
        rt = self.rt
        last = rt.idle.transition_worker_to_parked(self.index, self.is_searching)
        self.is_searching = False
        if last:
            rt.notify_if_work_pending()
        return True

    def transition_from_parked(self) -> bool:
        rt = self.rt
        has = self.lifo is not None or (rt.profile.from_parked_checks_queue and bool(self.queue))
        if has:
            # woken by the driver with tasks here: not a searcher, unless a notifier chose it
            self.is_searching = not rt.idle.unpark_worker_by_id(self.index)
            return True
        if rt.idle.is_parked(self.index):
            return False
        self.is_searching = True
        return True

    def park(self):
        rt = self.rt
        env = rt.env
        st = self.stats
        prof = rt.profile
        if not self.transition_to_parked():
            return
        while not rt.shutdown:
            st.about_to_park(env.now)
            if prof.submit_before_park:
                st.submit()
            if rt.observer is not None:
                rt.observer.park(self)
            yield from self.run_for(rt.host.park_ns + rt.take_debt())
            yield from self.park_blocking()
            if prof.has_park_unpark_count:
                st.unparked(env.now)
            else:
                st.last_resume = env.now
            st.submit()  # Core::maintenance
            if self.transition_from_parked():
                return

    def park_blocking(self):
        """park_internal(None): consume a pending notification, or block on the driver (if its
        TryLock is free) or on the condvar until unparked."""
        rt = self.rt
        env = rt.env
        drv = rt.driver
        if self.stalled or self.owed:
            # preempted while getting into park: a thread needs its CPU back to block (else it
            # would block from a run queue and leave a stale owner behind on its CPU)
            yield from self.run_for(0)
        self.in_park = True
        if self.notified:
            self.notified = False
            on_driver = False
        elif drv.holder is None and drv.wakeup_pending:
            # the driver's eventfd was written while nobody waited: epoll returns at once
            drv.wakeup_pending = False
            on_driver = True
            drv.holder = self
            self.poll_driver()
            drv.holder = None
            on_driver = False
        else:
            self.park_gen += 1
            gen = self.park_gen
            self.park_ev = ev = env.event()
            self.blocked = True
            self.park_start = env.now
            self.wake_pending = False
            on_driver = drv.holder is None
            if on_driver:
                drv.holder = self
                drv.blocked_holder = self
                timeout = drv.park_timeout_ns(env.now)
                drv.next_wake = drv.next_expiration()
                nio = drv.next_io_ns()
                if timeout is not None:
                    # the thread's own timer: hrtimer slack, then the vCPU leaves halt
                    lat = rt.host.timer_slack_ns + self.wake_latency(env.now + timeout)
                    rt.call_at(env.now + timeout + lat, self._timeout_wake, gen)
                if nio is not None and nio <= env.now:
                    # readiness already pending: epoll_wait returns at once (later events are
                    # delivered by Runtime._io_ready)
                    rt.call_at(env.now, self._timeout_wake, gen)
            self.wake_cpu = None
            rt.cpus.release(self)
            yield ev
            self.blocked = False
            rt.cpus.acquire(self, self.wake_cpu if self.wake_cpu is not None else rt.cpus.own_cpu(self))
            rt.current = self
            self.notified = False
            if on_driver:
                drv.blocked_holder = None
                self.poll_driver()
                drv.holder = None
        self.drain_defer()
        self.in_park = False
        if self.should_notify_others():
            rt.notify_parked()

    def _timeout_wake(self, gen):
        if self.blocked and gen == self.park_gen and not self.park_ev.triggered:
            self.park_ev.succeed()

    def unpark_from_driver(self):
        """The driver's waker: wakes this thread out of epoll without setting NOTIFIED, so the
        worker finds nothing new, goes back to sleep and counts another park."""
        self._wake_thread()

    def _wake_thread(self):
        """Make a blocked thread runnable: the caller pays the syscall (and, on a machine, the
        cross-node lines), the OS picks its CPU, and it runs after that placement's latency."""
        if self.blocked and not self.wake_pending:
            self.wake_pending = True
            rt = self.rt
            now = rt.env.now
            rt.debt += rt.host.unpark_ns
            if rt.numa is not None:
                rt.debt += rt.numa.wake_ns(rt.current, self)
            self.wake_cpu, lat = rt.cpus.place(self, rt.current, now)
            rt.call_at(now + lat, self._timeout_wake, self.park_gen)

    def wake_latency(self, at: int) -> int:
        """How long a thread blocked since park_start takes to run once woken at `at`."""
        host = self.rt.host
        if at - self.park_start < host.halt_poll_ns:
            return host.unpark_latency_ns
        return host.idle_wake_latency_ns

    def unpark(self):
        """Set NOTIFIED; a blocked thread runs again after the host's wake-up latency, and the
        caller pays for the syscall that woke it."""
        self.notified = True
        self._wake_thread()


def _succeed(ev):
    if not ev.triggered:
        ev.succeed()


class Runtime:
    """One multi-thread runtime: its workers, inject queue, idle state, driver and blocking pool."""

    def __init__(self, env, spec, profile, host, rng_streams, observer=None, rs=None, system=None, index=0):
        """`rs` is this runtime's RuntimeSpec (default: the spec's one runtime); `system` the
        shared CPUs, NUMA tables, pools and sibling runtimes when there are several runtimes or a
        machine (None: this runtime alone on the host's flat CPUs); `index` its position."""
        if rs is None:
            rs = RuntimeSpec("main", spec.workers, None, spec.global_queue_interval, spec.event_interval)
        self.env = env
        self.spec = spec
        self.rs = rs
        self.name = rs.name
        self.system = system
        self.numa = system.numa if system is not None else None
        self.profile = profile
        self.host = host
        self.observer = observer
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
        self.os_rng = rng_streams["os"]
        if system is None:
            self.cpus = Cpus(self, host.cpus)
            self.cpus.start(self.workers)
        else:
            self.cpus = system.cpus  # placed by the system, with every other thread
        self.numa_stats = RuntimeNuma(self.numa.n) if self.numa is not None else None
        self.monitors = {}
        for name in spec.task_names():
            self.monitor(name)
        # host cost incurred by whoever runs right now (an unpark syscall), charged to its clock
        self.debt = 0
        # the thread running right now: a worker, or None for threads outside the runtime
        self.current = None

    def monitor(self, name):
        m = self.monitors.get(name)
        if m is None:
            m = self.monitors[name] = TaskMonitor(name, self.spec.slow_poll_threshold_ns,
                                                  self.spec.long_delay_threshold_ns)
            if self.numa is not None:
                m.numa = TaskNuma(self.numa.n)
        return m

    def start(self):
        for w in self.workers:
            self.env.process(w.run())

    def call_at(self, when, fn, arg):
        ev = self.env.timeout(max(0, when - self.env.now))
        ev.callbacks.append(lambda _e: fn(arg))

    # ------------------------------------------------------------------ tasks
    def new_task(self, taskdef, key=0):
        self.next_id += 1
        mon = self.monitor(taskdef.name)
        mon.c[0] += 1  # instrumented_count
        coro = run_steps(taskdef.steps, TaskDraws(self.seed, key), self.end_ns)
        t = Task(self.next_id, taskdef.name, coro, mon, self.env.now)
        t.key = key
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
        sys = self.system
        dst = sys.runtimes[name] if sys is not None else self
        if dst is self:
            return self.spawn(taskdef, worker, key)
        return sys.cross(self, dst, dst.spawn, taskdef, None, key)

    def offload(self, pool, dur_ns, mem):
        """Send a job to a pinned pool; the handle completes when the pool thread replies."""
        self.next_id += 1
        h = Task(self.next_id, "<offload>", None, None, self.env.now)
        h.blocking = True
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

    def complete_blocking(self, t):
        t.state = COMPLETE
        w = t.waiter
        if w is not None:
            t.waiter = None
            self.wake(w, None)  # from the blocking thread: a remote schedule

    def complete(self, task, worker):
        task.state = COMPLETE
        if self.observer is not None:
            self.observer.complete(worker, task)
        self.num_alive_tasks -= 1
        w = task.waiter
        if w is not None:
            task.waiter = None
            if w.rt is self or self.system is None:
                self.wake(w, worker)
            else:
                # the joiner lives in another runtime: from there, a wake by a foreign thread
                self.system.cross(self, w.rt, w.rt.wake, w, None)

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
        self.notify_parked()

    def notify_parked(self):
        i = self.idle.worker_to_notify()
        if i is not None:
            self.workers[i].unpark()

    def notify_if_work_pending(self):
        for w in self.workers:
            if w.queue:
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
