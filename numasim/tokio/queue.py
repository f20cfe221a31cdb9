"""The worker's local run queue (`queue.rs`): a bounded FIFO plus the LIFO slot, overflow into
the inject queue, and stealing half of a sibling's queue.

The queue is a deque on the worker and the LIFO slot a field beside it; these are the worker's
methods that touch them (mixed into `worker.Worker`).
"""

LOCAL_QUEUE_CAPACITY = 256


class LocalQueue:
    __slots__ = ()

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

    def next_local_task(self):
        t = self.lifo
        if t is not None:
            self.lifo = None
            return t
        if self.queue:
            return self.queue.popleft()
        return None

    def steal_into(self, thief):
        """`Steal::steal_into`: move half of this worker's queue (rounded up) into `thief`'s and
        return the last task moved, for the thief to run; None if there is nothing to take."""
        rt = self.rt
        vq = self.queue
        ln = len(vq)
        m = ln - ln // 2
        if m > 0:
            st = thief.stats
            st.steal_count += m
            st.steal_operations += 1
            q = thief.queue
            for _ in range(m - 1):
                q.append(vq.popleft())
            t = vq.popleft()
            if rt.numa is not None:
                rt.numa.stolen(thief, self, t, m)
            if rt.observer is not None:
                rt.observer.steal(thief, self, list(q)[len(q) - (m - 1):] + [t])
            return t
        if self.lifo is not None and rt.profile.lifo_stealable:
            # 1.51.0–1.51.1, 1.52.0–1.52.1: the LIFO slot lives in the queue structure, so a
            # thief that finds the queue empty takes it
            t = self.lifo
            self.lifo = None
            st = thief.stats
            st.steal_count += 1
            st.steal_operations += 1
            if rt.numa is not None:
                rt.numa.stolen(thief, self, t, 1)
            if rt.observer is not None:
                rt.observer.steal(thief, self, [t])
            return t
        return None
