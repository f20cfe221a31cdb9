"""Idle-worker bookkeeping (`idle.rs`): num_unparked, num_searching and the sleepers stack.

Notification rules live here: a worker is woken only if nobody is searching and someone is
parked, and the woken worker counts as searching from the moment it is chosen, so a burst of
notifications wakes exactly one worker and the rest follow as a chain.
"""


class Idle:
    __slots__ = ("num_workers", "num_unparked", "num_searching", "sleepers", "max_searching_seen")

    def __init__(self, num_workers: int):
        self.num_workers = num_workers
        self.num_unparked = num_workers  # every worker starts unparked and not searching
        self.num_searching = 0
        self.sleepers = []  # a stack: the most recently parked worker is woken first
        self.max_searching_seen = 0

    def worker_to_notify(self):
        """The index of the worker to unpark, or None. Counts it as unparked and searching."""
        if self.num_searching != 0 or self.num_unparked >= self.num_workers or not self.sleepers:
            return None
        self.num_searching += 1
        self.num_unparked += 1
        if self.num_searching > self.max_searching_seen:
            self.max_searching_seen = self.num_searching
        return self.sleepers.pop()

    def transition_worker_to_searching(self) -> bool:
        # refuse when half the workers already search, so stealing cannot swamp the queues
        if 2 * self.num_searching >= self.num_workers:
            return False
        self.num_searching += 1
        if self.num_searching > self.max_searching_seen:
            self.max_searching_seen = self.num_searching
        return True

    def transition_worker_from_searching(self) -> bool:
        """True if this was the last searcher: it must then wake the next worker."""
        self.num_searching -= 1
        return self.num_searching == 0

    def transition_worker_to_parked(self, index: int, is_searching: bool) -> bool:
        """True if the worker was the last searcher."""
        self.num_unparked -= 1
        last = False
        if is_searching:
            self.num_searching -= 1
            last = self.num_searching == 0
        self.sleepers.append(index)
        return last

    def unpark_worker_by_id(self, index: int) -> bool:
        """Remove a worker woken by the driver from sleepers; False if a notifier already did."""
        s = self.sleepers
        for i, w in enumerate(s):
            if w == index:
                # swap_remove (1.49 idle.rs:135, 1.24 idle.rs:121): the most recent sleeper takes
                # the leaver's place, so with 3+ workers it is no longer the next one woken
                s[i] = s[-1]
                s.pop()
                self.num_unparked += 1
                return True
        return False

    def is_parked(self, index: int) -> bool:
        return index in self.sleepers
