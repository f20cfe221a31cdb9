"""The tokio-metrics field set, by version: names, Debug order, which are Durations, which are unstable.

Every reader maps what it finds onto tokio-metrics 0.5 names, with Durations as integer
nanoseconds, so that the rest of numasim sees one shape whatever the capture tool was. The orders
below are the struct declaration orders, which are also the derived Debug orders
(tokio-metrics.md A.1 and A.1b).
"""

# RuntimeMetrics, 0.5.1 declaration order. `poll_time_histogram` is left out of the int fields:
# it is a list of buckets, not a number, and the interval shape holds ints only.
RUNTIME_FIELDS_05 = (
    "workers_count", "live_tasks_count",
    "total_park_count", "max_park_count", "min_park_count",
    "total_busy_duration", "max_busy_duration", "min_busy_duration",
    "global_queue_depth", "elapsed",
    "mean_poll_duration", "mean_poll_duration_worker_min", "mean_poll_duration_worker_max",
    "total_noop_count", "max_noop_count", "min_noop_count",
    "total_steal_count", "max_steal_count", "min_steal_count",
    "total_steal_operations", "max_steal_operations", "min_steal_operations",
    "num_remote_schedules",
    "total_local_schedule_count", "max_local_schedule_count", "min_local_schedule_count",
    "total_overflow_count", "max_overflow_count", "min_overflow_count",
    "total_polls_count", "max_polls_count", "min_polls_count",
    "total_local_queue_depth", "max_local_queue_depth", "min_local_queue_depth",
    "blocking_queue_depth", "blocking_threads_count", "idle_blocking_threads_count",
    "budget_forced_yield_count", "io_driver_ready_count",
)

# RuntimeMetrics, 0.3.1 declaration order, with 0.3 names (injection_queue_depth). 0.3 has no
# live_tasks_count and no blocking-pool gauges.
RUNTIME_FIELDS_03 = (
    "workers_count",
    "total_park_count", "max_park_count", "min_park_count",
    "mean_poll_duration", "mean_poll_duration_worker_min", "mean_poll_duration_worker_max",
    "total_noop_count", "max_noop_count", "min_noop_count",
    "total_steal_count", "max_steal_count", "min_steal_count",
    "total_steal_operations", "max_steal_operations", "min_steal_operations",
    "num_remote_schedules",
    "total_local_schedule_count", "max_local_schedule_count", "min_local_schedule_count",
    "total_overflow_count", "max_overflow_count", "min_overflow_count",
    "total_polls_count", "max_polls_count", "min_polls_count",
    "total_busy_duration", "max_busy_duration", "min_busy_duration",
    "injection_queue_depth",
    "total_local_queue_depth", "max_local_queue_depth", "min_local_queue_depth",
    "elapsed", "budget_forced_yield_count", "io_driver_ready_count",
)

# Where each histogram field sits in the Debug output (after the field named here).
HISTOGRAM_AFTER = {"05": "mean_poll_duration_worker_max", "03": "mean_poll_duration_worker_max"}

# Stable without --cfg tokio_unstable (tokio-metrics >= 0.4.7); the rest need tokio_unstable.
RUNTIME_STABLE = frozenset(RUNTIME_FIELDS_05[:10])
RUNTIME_UNSTABLE = frozenset(RUNTIME_FIELDS_05[10:])

TASK_FIELDS_05 = (
    "instrumented_count", "dropped_count", "first_poll_count", "total_first_poll_delay",
    "total_idled_count", "total_idle_duration", "max_idle_duration",
    "total_scheduled_count", "total_scheduled_duration",
    "total_poll_count", "total_poll_duration",
    "total_fast_poll_count", "total_fast_poll_duration",
    "total_slow_poll_count", "total_slow_poll_duration",
    "total_short_delay_count", "total_short_delay_duration",
    "total_long_delay_count", "total_long_delay_duration",
)

# 0.3.1: no max_idle_duration (0.4.5), and the delay fields in count, count, duration, duration order.
TASK_FIELDS_03 = (
    "instrumented_count", "dropped_count", "first_poll_count", "total_first_poll_delay",
    "total_idled_count", "total_idle_duration",
    "total_scheduled_count", "total_scheduled_duration",
    "total_poll_count", "total_poll_duration",
    "total_fast_poll_count", "total_fast_poll_duration",
    "total_slow_poll_count", "total_slow_poll_duration",
    "total_short_delay_count", "total_long_delay_count",
    "total_short_delay_duration", "total_long_delay_duration",
)

# The probe's per-name latency statistics of tasks completed in the interval (ns, except count).
COMPLETED_FIELDS = ("count", "p50", "p90", "p99", "max", "mean")

# Pre-0.4 names and their 0.5 names (0.4.0, #66).
RENAMES = {"injection_queue_depth": "global_queue_depth", "poll_count_histogram": "poll_time_histogram"}
HISTOGRAM_FIELDS = frozenset({"poll_time_histogram", "poll_count_histogram"})

RUNTIME_SET = frozenset(RUNTIME_FIELDS_05)
TASK_SET = frozenset(TASK_FIELDS_05)

DURATION_FIELDS = frozenset({
    "total_busy_duration", "max_busy_duration", "min_busy_duration", "elapsed",
    "mean_poll_duration", "mean_poll_duration_worker_min", "mean_poll_duration_worker_max",
    "total_first_poll_delay", "total_idle_duration", "max_idle_duration",
    "total_scheduled_duration", "total_poll_duration", "total_fast_poll_duration",
    "total_slow_poll_duration", "total_short_delay_duration", "total_long_delay_duration",
})

# Derived values that exporters add (metrics-rs, user mirrors). Readers skip them: they are
# functions of the raw fields, which are what numasim keeps.
DERIVED = frozenset({
    "busy_ratio", "mean_polls_per_park",
    "mean_first_poll_delay", "mean_idle_duration", "mean_scheduled_duration",
    "mean_fast_poll_duration", "mean_slow_poll_duration", "mean_short_delay_duration",
    "mean_long_delay_duration", "slow_poll_ratio", "long_delay_ratio",
})

# u64 is the widest counter tokio-metrics has; anything outside it is not a tokio-metrics value.
U64_MAX = 2**64 - 1


def canonical(name: str) -> str:
    """The tokio-metrics 0.5 name of a field name of any version."""
    return RENAMES.get(name, name)


def is_runtime(name: str) -> bool:
    return canonical(name) in RUNTIME_SET


def is_task(name: str) -> bool:
    return name in TASK_SET
