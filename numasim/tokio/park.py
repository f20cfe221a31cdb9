"""Parking (`park.rs`, `worker.rs:Context::park/park_yield/park_internal`, §9): the transitions
to and from parked, blocking on the driver or the condvar, unparking, deferred wakes.

A parking worker first tries the driver's TryLock: the one that gets it blocks in epoll_wait
(and dispatches timers and I/O when it wakes), the others block on a condvar. Unparking sets the
parker's NOTIFIED state and makes the blocked thread runnable; the CPU model decides where it
runs and after what latency. These are the worker's methods (mixed into `worker.Worker`).
"""
from .driver import Readiness


class Parker:
    __slots__ = ()

    # ------------------------------------------------------------------ deferred wakes
    def defer_wake(self, task):
        d = self.defer
        if self.rt.profile.defer_lifo_dedupe and d and d[-1] is task:
            return
        d.append(task)

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

    # ------------------------------------------------------------------ the driver
    def poll_driver(self):
        """Dispatch expired timers and ready I/O onto this worker (it holds the driver)."""
        rt = self.rt
        for t in rt.driver.poll(rt.env.now):
            if t.__class__ is Readiness:
                t.fn(t.arg, self)
                continue
            t.timer_fired = True
            rt.wake(t, self)

    def park_internal_nonblocking(self):
        """park_yield / maintenance: a zero-timeout driver poll if the driver is free, then the
        deferred wakes, then maybe wake a sibling."""
        self.in_park = True
        if self.rt.driver.holder is None:
            self.poll_driver_now()
        self.after_park()

    def poll_driver_now(self):
        """A zero-timeout turn of the driver under its TryLock (free: the caller checked)."""
        drv = self.rt.driver
        drv.holder = self
        drv.wakeup_pending = False  # epoll_wait(0) reads the eventfd too
        self.poll_driver()
        drv.holder = None

    def after_park(self):
        """The tail of park_internal: the deferred wakes, then wake a sibling if this worker
        has work to spare."""
        self.drain_defer()
        self.in_park = False
        if self.should_notify_others():
            self.rt.notify_parked()

    # ------------------------------------------------------------------ transitions
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

    # ------------------------------------------------------------------ park
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
            if self.stalled or self.owed:
                # park_internal's notify (1.49 worker.rs:858-859; 1.24 worker.rs:573-574) woke a
                # sibling onto this CPU, which preempted this thread on its way out of the wake-up
                # syscall: that is before unparked, maintenance and transition_from_parked
                # (1.49 worker.rs:780-787; 1.24 worker.rs:531-537), so this worker stays in the
                # sleepers, one the sibling may pick for its own notify, until it runs again
                yield from self.wait_cpu()
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
        for _ in range(rt.profile.park_spin_yields):
            # 1.24 park.rs:106-119 (Inner::park): up to three times, take a pending NOTIFIED and
            # return, else thread::yield_now(); only then block. The yield hands the CPU to a
            # thread waiting for it (a stacked sibling), which keeps this one runnable behind it
            # instead of parked: the pair shares one CPU until the other blocks or is balanced away.
            if self.notified:
                break
            if rt.cpus.yield_cpu(self):
                yield from self.wait_cpu()
            else:
                yield from self.run_for(rt.host.sched_yield_ns)
        if self.stalled or self.owed:
            # preempted during the spin's last yield: get the CPU back before blocking, as above
            # (blocking from the run queue left a blocked owner on a CPU that threads waited for)
            yield from self.run_for(0)
        if self.notified:
            self.notified = False
        elif drv.holder is None and drv.wakeup_pending:
            # the driver's eventfd was written while nobody waited: epoll returns at once
            self.poll_driver_now()
        else:
            self.park_gen += 1
            gen = self.park_gen
            self.park_ev = ev = env.event()
            self.blocked = True
            self.park_start = env.now
            self.last_ran = env.now - self.woke_at
            self.wake_pending = False
            on_driver = drv.holder is None
            if on_driver:
                drv.holder = self
                drv.blocked_holder = self
                timeout = drv.park_timeout_ns(env.now)
                drv.next_wake = drv.next_expiration()
                nio = drv.next_io_ns()
                if timeout is not None:
                    # the thread's own timer: hrtimer slack, then the vCPU leaves halt if it
                    # has been idle longer than halt-polling
                    lat = rt.host.timer_slack_ns + rt.host.wake_latency_ns(timeout)
                    rt.call_at(env.now + timeout + lat, self._timeout_wake, gen)
                if nio is not None and nio <= env.now:
                    # readiness already pending: epoll_wait returns at once (later events are
                    # delivered by Runtime._io_ready)
                    rt.call_at(env.now, self._timeout_wake, gen)
            self.wake_cpu = None
            rt.cpus.release(self)
            yield ev
            self.blocked = False
            self.woke_at = env.now
            rt.cpus.acquire(self, self.wake_cpu if self.wake_cpu is not None else rt.cpus.own_cpu(self))
            rt.current = self
            self.notified = False
            if on_driver:
                drv.blocked_holder = None
                self.poll_driver()
                drv.holder = None
        self.after_park()

    def _timeout_wake(self, gen):
        # a thread whose wake-up waits for its CPU (stalled while blocked) runs when it gets it
        if self.blocked and gen == self.park_gen and not self.park_ev.triggered and not self.stalled:
            self.park_ev.succeed()

    # ------------------------------------------------------------------ unpark
    def unpark(self):
        """Set NOTIFIED; a blocked thread runs again after the host's wake-up latency, and the
        caller pays for the syscall that woke it."""
        self.notified = True
        self._wake_thread()

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
            if lat is not None:
                rt.call_at(now + lat, self._timeout_wake, self.park_gen)
