"""RuntimeMonitor: interval samples of the published counters, as tokio-metrics computes them.

`total_*` sums the per-worker deltas since the previous sample, `max_*`/`min_*` are the extreme
per-worker deltas, queue depths are gauges read at sampling time. The field set and names follow
the version: tokio 1.24 with the 0.3-era names (`injection_queue_depth`, no steal operations, no
mean poll time), or tokio-metrics 0.5 names for newer releases. TaskMonitor deltas per task name
ride along in `tasks` (task.TaskSampler, over every runtime), each with its `completed` latency
statistics.
"""

# (published index, tokio-metrics name) of the per-worker counters a RuntimeMetrics sample carries
_COMMON = [(0, "park_count"), (1, "noop_count"), (2, "steal_count"), (4, "polls_count"),
           (5, "busy_duration"), (6, "local_schedule_count"), (7, "overflow_count")]
_MODERN_EXTRA = [(3, "steal_operations")]


class RuntimeMonitor:
    """Keeps the previous snapshot, like one long-lived `RuntimeMonitor::intervals()` iterator."""

    def __init__(self, rt, origin_ns: int = 0):
        self.rt = rt
        self.origin = origin_ns
        self.modern = rt.profile.metrics_modern
        self.fields = _COMMON + (_MODERN_EXTRA if self.modern else [])
        self.prev = [w.stats.published for w in rt.workers]
        self.prev_remote = rt.remote_schedule_count
        self.prev_budget = rt.budget_forced_yield_count
        self.prev_ready = rt.driver.ready_count
        self.prev_t = rt.env.now
        # each worker's own deltas per sample (tokio publishes them per worker; RuntimeMetrics
        # folds them into total/max/min), for per-worker utilisation plots
        self.per_worker = []

    def sample(self, tasks: dict) -> dict:
        """One interval record; `tasks` is this sample's TaskSampler output."""
        rt = self.rt
        now = rt.env.now
        cur = [w.stats.published for w in rt.workers]
        n = len(cur)
        rec = {"workers_count": n}
        deltas = {}
        for idx, name in self.fields:
            d = [cur[w][idx] - self.prev[w][idx] for w in range(n)]
            deltas[name] = d
            rec[f"total_{name}"] = sum(d)
            rec[f"max_{name}"] = max(d)
            rec[f"min_{name}"] = min(d)
        self.per_worker.append({"t": now - self.origin, "elapsed": now - self.prev_t,
                                "busy_duration": deltas["busy_duration"], "polls_count": deltas["polls_count"],
                                "park_count": deltas["park_count"], "steal_count": deltas["steal_count"]})
        rec["num_remote_schedules"] = rt.remote_schedule_count - self.prev_remote
        if self.modern:
            rec["live_tasks_count"] = rt.num_alive_tasks
            rec["global_queue_depth"] = len(rt.inject)
            rec["budget_forced_yield_count"] = rt.budget_forced_yield_count - self.prev_budget
            # tokio-metrics' blend: each worker's EWMA weighted by its polls in the interval
            polls = deltas["polls_count"]
            num = den = 0.0
            lo, hi = None, 0
            for w in range(n):
                if polls[w] > 0:
                    e = rt.workers[w].stats.published_mean_poll_time
                    num += e * polls[w]
                    den += polls[w]
                    lo = e if lo is None else min(lo, e)
                    hi = max(hi, e)
            rec["mean_poll_duration"] = int(num / den) if den > 0 else 0
            rec["mean_poll_duration_worker_min"] = lo if lo is not None else 0
            rec["mean_poll_duration_worker_max"] = hi
        else:
            rec["injection_queue_depth"] = len(rt.inject)
        # the depth excludes the LIFO slot, except where the slot lives in the queue (1.51/1.52)
        extra = rt.profile.lifo_stealable
        depths = [len(w.queue) + (extra and w.lifo is not None) for w in rt.workers]
        rec["total_local_queue_depth"] = sum(depths)
        rec["max_local_queue_depth"] = max(depths)
        rec["min_local_queue_depth"] = min(depths)
        bp = rt.blocking
        rec["blocking_queue_depth"] = len(bp.queue)
        rec["blocking_threads_count"] = bp.num_threads + (n if rt.profile.blocking_threads_include_workers else 0)
        rec["idle_blocking_threads_count"] = bp.num_idle
        rec["io_driver_ready_count"] = rt.driver.ready_count - self.prev_ready
        rec["elapsed"] = now - self.prev_t
        self.prev = cur
        self.prev_remote = rt.remote_schedule_count
        self.prev_budget = rt.budget_forced_yield_count
        self.prev_ready = rt.driver.ready_count
        self.prev_t = now
        return {"kind": "interval", "t": now - self.origin, "runtime": rec, "tasks": tasks}
