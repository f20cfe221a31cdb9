"""The worker's own counters (`scheduler/multi_thread/stats.rs` with `runtime/metrics/batch.rs`):
the metrics batch, what an outside reader can see of it, and the poll-time EWMA that tunes the
global queue interval.

These are tokio's, not an observer's: the scheduler reads the EWMA (1.29+), and tokio itself
decides what `RuntimeMetrics` publishes and when.

A worker bumps private counters; `submit` copies them to the published values that
`RuntimeMetrics` reads. Between submits, a reader sees stale values. Busy time is kept per the
version's rule: processing intervals (1.29+) or "now minus the last return from park" added at
each park (1.24), which is why a 1.24 worker that never parks reports no busy time.
"""

WORKER_FIELDS = ("park_count", "noop_count", "steal_count", "steal_operations", "polls_count",
                 "busy_duration", "local_schedule_count", "overflow_count", "park_unpark_count")


class WorkerStats:
    __slots__ = WORKER_FIELDS + (
        "published", "published_mean_poll_time",
        "poll_count_at_last_park", "processing_start", "batch_start", "tasks_polled_in_batch",
        "ewma_ns", "last_resume", "busy_by_processing",
    )

    # the first EWMA value: the 200 µs target divided by the default interval of 61
    EWMA_INIT = 200_000 / 61

    def __init__(self, busy_by_processing: bool):
        for f in WORKER_FIELDS:
            setattr(self, f, 0)
        self.published = (0,) * len(WORKER_FIELDS)
        self.ewma_ns = self.EWMA_INIT
        self.published_mean_poll_time = 0
        self.poll_count_at_last_park = 0
        self.processing_start = 0
        self.batch_start = 0
        self.tasks_polled_in_batch = 0
        self.last_resume = 0
        self.busy_by_processing = busy_by_processing

    def submit(self):
        self.published = (self.park_count, self.noop_count, self.steal_count, self.steal_operations,
                          self.polls_count, self.busy_duration, self.local_schedule_count,
                          self.overflow_count, self.park_unpark_count)
        self.published_mean_poll_time = int(self.ewma_ns)

    # --- 1.29+: processing intervals and the EWMA of poll time -------------------------------
    def start_processing(self, now: int):
        self.processing_start = now
        self.batch_start = now
        self.tasks_polled_in_batch = 0

    def end_processing(self, now: int):
        k = self.tasks_polled_in_batch
        if k > 0:
            mean = (now - self.batch_start) / k
            a = 1.0 - 0.9 ** k
            self.ewma_ns = a * mean + (1.0 - a) * self.ewma_ns
        if self.busy_by_processing:
            self.busy_duration += now - self.processing_start

    def tuned_global_queue_interval(self, current: int) -> int:
        new = int(200_000 / self.ewma_ns) if self.ewma_ns > 0 else 127
        new = min(max(new, 2), 127)
        # the jitter filter: only a change of more than 2 takes effect
        return new if abs(new - current) > 2 else current

    # --- parks ---------------------------------------------------------------------------------
    def about_to_park(self, now: int):
        self.park_count += 1
        self.park_unpark_count += 1
        if self.polls_count == self.poll_count_at_last_park:
            self.noop_count += 1
        else:
            self.poll_count_at_last_park = self.polls_count
        if not self.busy_by_processing:
            self.busy_duration += now - self.last_resume

    def unparked(self, now: int):
        self.park_unpark_count += 1
        self.last_resume = now
