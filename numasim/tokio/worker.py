"""The worker (`scheduler/multi_thread/worker.rs`): the run loop, picking the next task, stealing,
running a task with its LIFO chain, and the harness around one poll (tokio-scheduler.md §2–§4, §7).

Each worker is a SimPy process running `Context::run`. Simulated time only advances for CPU work
(polls and the host's scheduler costs) and for blocking parks; everything else happens at an
instant, in the order tokio's code does it. Version differences are read from the `Profile`.
The worker's other mechanisms live in their own files and are mixed in: the local queue
(`queue.py`), parking (`park.py`), the coop budget (`task.py`); its CPU time and preemption are
the OS's (`host/thread.py`), and what a poll runs is the workload's (`rt.poll_future`, from
`workload/interpret.py`).
"""
from collections import deque

from ..host.thread import Thread
from .park import Parker
from .queue import LOCAL_QUEUE_CAPACITY, LocalQueue
from .stats import WorkerStats
from .task import BUDGET, IDLE, RUNNING, SCHEDULED, Coop


class Worker(LocalQueue, Parker, Coop, Thread):
    __slots__ = ("index", "tick", "lifo", "lifo_enabled", "queue", "is_searching", "in_park",
                 "rand", "gqi", "stats", "defer", "notified", "park_ev", "park_gen",
                 "wake_pending", "polling", "budget", "has_core", "park_start", "woke_at", "last_ran")

    def __init__(self, rt, index, rand, gqi):
        Thread.__init__(self, rt)
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
        self.park_ev = None
        self.park_gen = 0
        self.wake_pending = False
        self.polling = None
        self.budget = BUDGET
        self.has_core = True
        self.park_start = 0
        self.woke_at = 0  # when it last came back from a blocking park
        self.last_ran = 0  # how long it ran between its last two blocking parks

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
            t = v.steal_into(self)
            if t is not None:
                return t
        if rt.inject:
            return rt.inject.popleft()
        return None

    def transition_from_searching(self):
        self.is_searching = False
        if self.rt.idle.transition_worker_from_searching():
            self.rt.notify_parked()

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
            # the last searcher's notify (worker.rs transition_from_searching) is a futex wake
            # made before the task's poll begins: its cost delays the poll, it is not in it
            pre_ns += rt.take_debt()
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
        """The harness around one poll of `task` (`task/harness.rs`): the task is running, the
        TaskMonitor sees the poll start and end, the future runs (`poll_future`), the CPU time it
        used passes, and then the task completes, is re-queued (woken while running) or idles."""
        rt = self.rt
        env = rt.env
        if self.stalled or self.owed:
            yield from self.wait_cpu()  # preempted before the poll began: it starts later
        task.state = RUNNING
        self.polling = task
        if rt.observer is not None:
            rt.observer.poll_start(self, task)
        start = env.now + pre_ns
        mon = task.monitor
        mon.poll_start(task, start)
        cost = pre_ns + rt.host.poll_ns
        numa = rt.numa
        if numa is not None:
            cost += numa.poll_start(self, task)
        done, cost = yield from rt.poll_future(self, task, cost)
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
