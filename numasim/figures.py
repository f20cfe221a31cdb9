"""Run-level figures of a trace, as `../shared/fidelity/figures.py` computes them.

The same definitions, over in-memory interval records rather than a file, so that calibration,
sweeps and verdicts score simulations exactly as the shared scorer does: the intervals that end
within the submission period, less the first; rates per second of `elapsed`; per task name the
mean poll, scheduling delay, idle time, slow-poll ratio, mean latency and completions per second.
"""

# an error is relative to max(|real|, floor), so near-zero figures do not explode
FLOORS = {
    "polls_per_s": 100, "steals_per_poll": 0.02, "parks_per_s": 20, "noop_per_park": 0.05,
    "busy_ratio": 0.05, "local_sched_per_poll": 0.05, "remote_per_s": 5, "overflow_per_s": 5,
    "mean_poll_us": 2, "slow_poll_ratio": 0.05, "mean_sched_us": 5, "mean_idle_us": 20,
    "latency_mean_ms": 0.05, "completed_per_s": 5,
}


def figures(intervals, duration_ns) -> dict:
    """The figures of interval records whose submission period lasted `duration_ns`."""
    keep = [r for r in intervals if r["t"] <= duration_ns][1:] or list(intervals)
    if not keep:
        return {}

    def S(k):
        return sum(r["runtime"].get(k, 0) for r in keep)

    el = S("elapsed") / 1e9
    if el <= 0:
        return {}
    workers = keep[0]["runtime"].get("workers_count", 1) or 1
    polls = S("total_polls_count")
    parks = S("total_park_count")
    f = {
        "polls_per_s": polls / el,
        "steals_per_poll": S("total_steal_count") / max(polls, 1),
        "parks_per_s": parks / el,
        "noop_per_park": S("total_noop_count") / max(parks, 1),
        "busy_ratio": S("total_busy_duration") / 1e9 / (el * workers),
        "local_sched_per_poll": S("total_local_schedule_count") / max(polls, 1),
        "remote_per_s": S("num_remote_schedules") / el,
        "overflow_per_s": S("total_overflow_count") / el,
    }
    tasks: dict = {}
    for r in keep:
        for name, t in r.get("tasks", {}).items():
            a = tasks.setdefault(name, {"n": 0, "lat": 0.0})
            for k, v in t.items():
                if k == "completed":
                    a["n"] += v["count"]
                    a["lat"] += v["count"] * v["mean"]
                else:
                    a[k] = a.get(k, 0) + v
    for name, a in tasks.items():
        pc = max(a.get("total_poll_count", 0), 1)
        f[f"{name}.mean_poll_us"] = (a.get("total_fast_poll_duration", 0) + a.get("total_slow_poll_duration", 0)) / pc / 1e3
        f[f"{name}.slow_poll_ratio"] = a.get("total_slow_poll_count", 0) / pc
        f[f"{name}.mean_sched_us"] = a.get("total_scheduled_duration", 0) / max(a.get("total_scheduled_count", 0), 1) / 1e3
        f[f"{name}.mean_idle_us"] = a.get("total_idle_duration", 0) / max(a.get("total_idled_count", 0), 1) / 1e3
        if a["n"]:
            f[f"{name}.latency_mean_ms"] = a["lat"] / a["n"] / 1e6
            f[f"{name}.completed_per_s"] = a["n"] / el
    return f


def floor(key: str) -> float:
    return FLOORS[key.rsplit(".", 1)[-1]]


def error(real: float, sim: float, key: str) -> float:
    """The shared scorer's error of one figure."""
    return abs(sim - real) / max(abs(real), floor(key))
