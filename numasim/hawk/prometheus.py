"""The Hawk runs as one Prometheus exposition: the plan's app metrics (`appmetrics.app_metrics`)
beside every tokio-metrics runtime and task metric, per layout, rendered by the trace writer's
one Prometheus renderer (`traces.prom.render`)."""
from __future__ import annotations

import math

from ..traces import fields as F
from ..traces.prom import COUNTERS, PREFIX, render

MS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)


def prometheus_text(runs: dict, n_nodes: int = 2) -> str:
    """One exposition for several layouts: `runs[layout] = {"app": app_metrics(...),
    "runtimes": {runtime name: [intervals]}}`. Every series carries `layout`; tokio runtime metrics
    also `runtime`, task metrics `task`. Counters are run totals, gauges the last interval's value,
    durations in µs (metrics-rs naming, no `_total` suffix), app histograms in ms."""
    from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

    fams: dict = {}

    def fam(name, help_, kind):
        f = fams.get(name)
        if f is None:
            if kind == "histogram":
                f = HistogramMetricFamily(name, help_, labels=None)
            elif kind == "gauge":
                f = GaugeMetricFamily(name, help_)
            else:
                f = Metric(name, help_, kind)
            fams[name] = f
        return f

    def sample(name, help_, kind, labels, value):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return
        fam(name, help_, kind).add_sample(name, dict(labels), float(value))

    def histogram(name, help_, labels, values, buckets):
        f = fam(name, help_, "histogram")
        lab = dict(labels)
        vals = sorted(values)
        i = 0
        for b in buckets:
            while i < len(vals) and vals[i] <= b:
                i += 1
            f.add_sample(name + "_bucket", dict(lab, le=_le(b)), float(i))
        f.add_sample(name + "_bucket", dict(lab, le="+Inf"), float(len(vals)))
        f.add_sample(name + "_count", lab, float(len(vals)))
        f.add_sample(name + "_sum", lab, float(sum(vals)))

    for layout, run in runs.items():
        L = (("layout", layout),)
        for rname, ivs in run["runtimes"].items():
            RL = L + (("runtime", rname),)
            if not ivs:
                continue
            totals, last = {}, ivs[-1]["runtime"]
            for r in ivs:
                for k, v in r["runtime"].items():
                    totals[k] = totals.get(k, 0) + v
            for fld in F.RUNTIME_FIELDS_05:
                if fld == "elapsed" or fld not in last:
                    continue
                counter = fld in COUNTERS
                v = totals[fld] if counter else last[fld]
                if fld in F.DURATION_FIELDS:
                    v = v / 1000.0
                sample(PREFIX + fld, f"tokio-metrics RuntimeMetrics {fld}", "counter" if counter else "gauge", RL, v)
            el = last.get("elapsed")
            if el and "total_busy_duration" in last:
                sample("tokio_busy_ratio", "total_busy_duration / elapsed (not divided by workers)", "gauge", RL,
                       last["total_busy_duration"] / el)
            if "total_polls_count" in last and "total_park_count" in last:
                den = max(0, last["total_park_count"] - last.get("total_noop_count", 0))
                sample("tokio_mean_polls_per_park", "total_polls_count / (total_park_count - total_noop_count)",
                       "gauge", RL, last["total_polls_count"] / den if den else 0.0)
            tasks_tot: dict = {}
            for r in ivs:
                for tname, tm in r.get("tasks", {}).items():
                    acc = tasks_tot.setdefault(tname, {})
                    for k, v in tm.items():
                        if isinstance(v, (int, float)):
                            acc[k] = acc.get(k, 0) + v
            for tname, tm in sorted(tasks_tot.items()):
                TL = RL + (("task", tname),)
                for fld in F.TASK_FIELDS_05:
                    if fld in tm:
                        v = tm[fld] / 1000.0 if fld in F.DURATION_FIELDS else tm[fld]
                        sample(PREFIX + fld, f"tokio-metrics TaskMetrics {fld}",
                               "counter" if fld in COUNTERS else "gauge", TL, v)
        a = run["app"]
        histogram("search_duration_ms", "per job: both orientations' searches, ms", L, a["search_duration_ms"], MS_BUCKETS)
        sample("search_steals_during_operation", "stolen tasks during the search phase (real steal delta)", "counter", L,
               a["search_steals_during_operation"])
        sample("job_numa_migrations", "jobs polled on more than one NUMA node", "counter", L, a["job_numa_migrations"])
        for o in ("normal", "mirror"):
            OL = L + (("operation", o),)
            histogram("search_task_duration_ms", "each spawned HNSW search task, ms", OL,
                      a["search_task_duration_ms"].get(o, []), MS_BUCKETS)
            sample("search_task_numa_migrations", "search tasks polled on more than one NUMA node", "counter", OL,
                   a["search_task_numa_migrations"].get(o, 0))
            histogram("search_task_numa_node", "NUMA node of each search task's last poll", OL,
                      a["search_task_numa_node"].get(o, []), tuple(range(n_nodes)))
            GL = L + (("orientation", o),)
            sample("search_query_count", "requests searched per orientation (last job)", "gauge", GL,
                   a["search_query_count"].get(o, 0))
            histogram("hnsw_search_duration_ms", "per job: the orientation's HNSW searches, ms", GL,
                      a["hnsw_search_duration_ms"].get(o, []), MS_BUCKETS)
            histogram("eye_operation_total_duration_ms", "per job: all of the orientation's work, ms", GL,
                      a["eye_operation_total_duration_ms"].get(o, []), MS_BUCKETS)
        sample("current_numa_node", "node of the CPU that last polled the job task", "gauge", L,
               a["current_numa_node"] if a["current_numa_node"] is not None else float("nan"))
        # the three derived figures are always present (NaN when they cannot be computed)
        for k, h in (("tokio_steal_rate", "sum total_steal_count / sum total_polls_count"),
                     ("tokio_slow_poll_ratio", "TaskMetrics sum total_slow_poll_count / sum total_poll_count"),
                     ("tokio_steal_vs_slow_poll_correlation",
                      "Spearman rho: per-interval steal rate vs slow-poll ratio")):
            v = a.get(k)
            fam(k, h, "gauge").add_sample(k, dict(L), float("nan") if v is None else float(v))

    return render(fams.values())


def _le(b) -> str:
    return f"{float(b)}"
