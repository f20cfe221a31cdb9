"""TaskMonitor per task name, as tokio-metrics keeps it and as the probe instruments each task.

Idle runs from the end of a poll to the first wake after it; the scheduling delay from that wake
to the next poll; slow polls and long delays are those at or above the thresholds (50 µs).
Completed tasks' latencies (instrumentation to the end of the last poll) are kept per interval.

The engine keeps one TaskMonitor per name in each runtime (so that a test or the NUMA report can
tell which runtime ran what); `TaskSampler` folds them into what the probe's one monitor per name
sees, whichever runtime runs the task.
"""

TASK_FIELDS = (
    "instrumented_count", "dropped_count", "first_poll_count", "total_first_poll_delay",
    "total_idled_count", "total_idle_duration", "total_scheduled_count", "total_scheduled_duration",
    "total_poll_count", "total_fast_poll_count", "total_fast_poll_duration", "total_slow_poll_count",
    "total_slow_poll_duration", "total_short_delay_count", "total_long_delay_count",
    "total_short_delay_duration", "total_long_delay_duration",
)
# indices into the counter list, kept as constants because they are bumped on every poll
(I_INSTR, I_DROP, I_FIRST, I_FIRST_DELAY, I_IDLED, I_IDLE_DUR, I_SCHED, I_SCHED_DUR, I_POLL,
 I_FAST, I_FAST_DUR, I_SLOW, I_SLOW_DUR, I_SHORT, I_LONG, I_SHORT_DUR, I_LONG_DUR) = range(17)


class TaskMonitor:
    __slots__ = ("name", "c", "latencies", "max_idle", "slow_ns", "long_ns", "numa")

    def __init__(self, name: str, slow_ns: int, long_ns: int):
        self.name = name
        self.c = [0] * len(TASK_FIELDS)
        self.latencies = []
        self.max_idle = 0  # the interval-local max_idle_duration (tokio-metrics 0.4.5+)
        self.slow_ns = slow_ns
        self.long_ns = long_ns
        self.numa = None  # on a NUMA machine: the engine's per-name NUMA counters (host/numa.py)

    def instrumented(self):
        """`TaskMonitor::instrument`: one more task of this name."""
        self.c[I_INSTR] += 1

    def poll_start(self, task, now: int):
        c = self.c
        if not task.polled_once:
            task.polled_once = True
            c[I_FIRST] += 1
            c[I_FIRST_DELAY] += now - task.created
        else:
            woke = task.woke_at
            if woke:
                task.woke_at = 0
                idle = woke - task.last_poll_end
                if idle < 0:
                    idle = 0
                c[I_IDLED] += 1
                c[I_IDLE_DUR] += idle
                if idle > self.max_idle:
                    self.max_idle = idle
                delay = now - woke
                if delay < 0:
                    delay = 0
                c[I_SCHED] += 1
                c[I_SCHED_DUR] += delay
                if delay >= self.long_ns:
                    c[I_LONG] += 1
                    c[I_LONG_DUR] += delay
                else:
                    c[I_SHORT] += 1
                    c[I_SHORT_DUR] += delay
        task.woke_at = 0

    def poll_end(self, task, start: int, end: int, done: bool):
        c = self.c
        dur = end - start
        task.last_poll_end = end
        c[I_POLL] += 1
        if dur >= self.slow_ns:
            c[I_SLOW] += 1
            c[I_SLOW_DUR] += dur
        else:
            c[I_FAST] += 1
            c[I_FAST_DUR] += dur
        if done:
            self.latencies.append(end - task.created)
            c[I_DROP] += 1

    def snapshot(self) -> tuple:
        return tuple(self.c)


def percentile(sorted_vals, q: float) -> int:
    """The probe's nearest-rank percentile: index round((n-1)·q)."""
    if not sorted_vals:
        return 0
    # Rust's f64::round rounds halves away from zero
    return sorted_vals[int((len(sorted_vals) - 1) * q + 0.5)]


def completed_stats(lat: list) -> dict:
    lat = sorted(lat)
    n = len(lat)
    return {"count": n, "p50": percentile(lat, 0.5), "p90": percentile(lat, 0.9),
            "p99": percentile(lat, 0.99), "max": lat[-1] if lat else 0,
            "mean": sum(lat) // n if n else 0}


class TaskSampler:
    """The `tasks` member of interval records: per task name, the deltas since the previous sample
    summed over every runtime's monitor of that name (tokio-metrics' TaskMonitor is per name, not
    per runtime), with the latencies of every task of that name that completed."""

    def __init__(self, runtimes):
        self.runtimes = list(runtimes)
        self.prev = {}
        self.all_latencies = {}  # every completed task's latency, by name, over the whole run

    def sample(self) -> dict:
        merged = {}
        for rt in self.runtimes:
            for name, mon in rt.monitors.items():
                m = merged.get(name)
                if m is None:
                    m = merged[name] = [list(mon.snapshot()), mon.max_idle, list(mon.latencies)]
                else:
                    m[0] = [a + b for a, b in zip(m[0], mon.snapshot())]
                    m[1] = max(m[1], mon.max_idle)
                    m[2].extend(mon.latencies)
                mon.max_idle = 0
                mon.latencies = []
        tasks = {}
        zero = (0,) * len(TASK_FIELDS)
        for name, (snap, max_idle, lat) in merged.items():
            prev = self.prev.get(name, zero)
            o = {f: snap[i] - prev[i] for i, f in enumerate(TASK_FIELDS)}
            o["max_idle_duration"] = max_idle
            o["completed"] = completed_stats(lat)
            if lat:
                self.all_latencies.setdefault(name, []).extend(lat)
            tasks[name] = o
            self.prev[name] = tuple(snap)
        return tasks
