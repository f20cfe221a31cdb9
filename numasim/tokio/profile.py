"""Version profiles: the differences between tokio releases, as data (tokio-scheduler.md §12).

The rules in `worker.py`, `queue.py`, `park.py` and `handle.py` read these flags; there is no per-version fork of the code.
"""
from dataclasses import dataclass, replace
from typing import Optional

from ..errors import UserError


@dataclass(frozen=True)
class Profile:
    version: str
    # global queue interval: a fixed value, or None for the self-tuning EWMA (1.29+)
    fixed_global_queue_interval: Optional[int]
    # LIFO chain: at most this many LIFO polls per run_task (None: unbounded within the budget, ≤1.28)
    max_lifo_polls_per_tick: Optional[int]
    # poll_count: +1 per run_task (1.29+) or +1 per poll, LIFO polls included (1.24)
    poll_count_per_run_task: bool
    # the inject queue: a batch pull into the local queue (1.29+) or one task at a time
    inject_batch_pull: bool
    # overflow: move the newest half (1.52+) or the oldest half (≤1.51)
    overflow_newest_half: bool
    # busy time: sum of processing intervals (1.29+) or "now - last unpark" at each park (1.24)
    busy_by_processing: bool
    # start_processing after a park (1.34+); 1.29–1.33 leaked park time into busy time
    start_processing_after_park: bool
    # deferred wakers drained newest first with dedupe (1.29+) or FIFO without dedupe
    defer_lifo_dedupe: bool
    # should_notify_others: more than one task (1.29+) or a non-empty queue (1.24)
    notify_others_needs_two: bool
    # transition_from_parked looks at LIFO and queue (1.29+) or only LIFO (1.24)
    from_parked_checks_queue: bool
    # submit the metrics batch just before a blocking park (1.39+)
    submit_before_park: bool
    # budget exhaustion defers the waker (1.44+) or wakes at once → back of the queue (≤1.43)
    budget_exhaustion_defers: bool
    # the LIFO slot is stealable (1.51.0–1.51.1, 1.52.0–1.52.1 only)
    lifo_stealable: bool
    # num_blocking_threads includes the workers (before 1.38)
    blocking_threads_include_workers: bool
    # before blocking, park checks NOTIFIED and sched_yields this many times (1.24: 3; gone by 1.29)
    park_spin_yields: int
    # park_unpark_count exists (1.39+)
    has_park_unpark_count: bool
    # tokio-metrics naming and field set for the probe trace: 0.5 names with steal operations,
    # mean poll time and budget_forced_yield_count, or the 1.24-era set without them
    metrics_modern: bool


PROFILES = {
    "1.24": Profile(
        version="1.24.2",
        fixed_global_queue_interval=61,
        max_lifo_polls_per_tick=None,
        poll_count_per_run_task=False,
        inject_batch_pull=False,
        overflow_newest_half=False,
        busy_by_processing=False,
        start_processing_after_park=False,
        defer_lifo_dedupe=False,
        notify_others_needs_two=False,
        from_parked_checks_queue=False,
        submit_before_park=False,
        budget_exhaustion_defers=False,
        lifo_stealable=False,
        blocking_threads_include_workers=True,
        park_spin_yields=3,
        has_park_unpark_count=False,
        metrics_modern=False,
    ),
    "1.49": Profile(
        version="1.49.0",
        fixed_global_queue_interval=None,
        max_lifo_polls_per_tick=3,
        poll_count_per_run_task=True,
        inject_batch_pull=True,
        overflow_newest_half=False,
        busy_by_processing=True,
        start_processing_after_park=True,
        defer_lifo_dedupe=True,
        notify_others_needs_two=True,
        from_parked_checks_queue=True,
        submit_before_park=True,
        budget_exhaustion_defers=True,
        lifo_stealable=False,
        blocking_threads_include_workers=False,
        park_spin_yields=0,
        has_park_unpark_count=True,
        metrics_modern=True,
    ),
}
# 1.51.0–1.51.1 and 1.52.0–1.52.1 made the LIFO slot stealable (reverted in 1.51.2 / 1.52.2)
PROFILES["1.51"] = replace(PROFILES["1.49"], version="1.51.0", lifo_stealable=True)
PROFILES["1.53"] = replace(PROFILES["1.49"], version="1.53.1", overflow_newest_half=True)
PROFILES["1.24.2"] = PROFILES["1.24"]
PROFILES["1.49.0"] = PROFILES["1.49"]


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UserError("--tokio", f"unknown tokio version {name!r}; known: {', '.join(sorted(PROFILES))}") from None
