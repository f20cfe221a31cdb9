"""The plan's application metrics with its mistakes fixed, on a hand-driven observer."""
import re
from types import SimpleNamespace as NS

import pytest

from numasim.hawk.appmetrics import APP_METRICS, HawkObserver, app_metrics, derived, merge_intervals
from numasim.hawk.prometheus import prometheus_text
from numasim.machine.presets import preset


class Env:
    now = 0


def _rt(machine):
    rt = NS(env=Env(), spec=NS(machine=machine), workers=[])
    for i in range(4):
        rt.workers.append(NS(rt=rt, cpu=[0, 1, 96, 97][i], stats=NS(steal_count=0)))
    return rt


def _task(tid, name, created):
    return NS(id=tid, name=name, created=created)


def _poll(obs, w, t, now):
    w.rt.env.now = now
    obs.poll_start(w, t)
    obs.poll_end(w, t)


def test_node_comes_from_the_cpu_map_not_cpu_div_16():
    """CPU 96 is on node 1 of graviton4-2node (96 CPUs per node); cpu/16 would say node 6."""
    rt = _rt(preset("graviton4-2node"))
    obs = HawkObserver()
    t = _task(1, "search.normal.left", 0)
    _poll(obs, rt.workers[2], t, 10)
    assert obs.records()[0].last_node == 1


def test_migration_is_a_change_of_node_not_of_cpu():
    rt = _rt(preset("graviton4-2node"))
    obs = HawkObserver()
    a = _task(1, "search.normal.left", 0)
    b = _task(2, "search.mirror.left", 0)
    _poll(obs, rt.workers[0], a, 1)   # CPU 0, node 0
    _poll(obs, rt.workers[1], a, 2)   # CPU 1, node 0: another CPU, same node
    _poll(obs, rt.workers[0], b, 3)
    _poll(obs, rt.workers[3], b, 4)   # CPU 97, node 1
    recs = {r.name: r for r in obs.records()}
    assert recs["search.normal.left"].node_changes == 0
    assert recs["search.mirror.left"].node_changes == 1


def _job_run():
    """One job: two search tasks (normal, mirror); 7 steals happen during the search phase."""
    rt = _rt(preset("graviton4-2node"))
    obs = HawkObserver()
    h = _task(1, "request_handler", 0)
    job = _task(2, "hawk_job", 5)
    s1 = _task(3, "search.normal.left", 10)
    s2 = _task(4, "search.mirror.right", 10)
    w0, w1, w2, w3 = rt.workers
    _poll(obs, w0, h, 1)
    _poll(obs, w0, job, 6)
    rt.workers[1].stats.steal_count = 3  # before the search phase: not counted
    _poll(obs, w0, s1, 11)
    _poll(obs, w2, s2, 12)
    rt.workers[1].stats.steal_count = 10
    _poll(obs, w3, s2, 2_000_000)
    rt.env.now = 2_000_000
    obs.complete(w3, s2)
    _poll(obs, w0, s1, 3_000_000)
    obs.complete(w0, s1)
    _poll(obs, w2, job, 4_000_000)   # the job moved to node 1
    obs.complete(w2, job)
    return obs


def test_steals_during_the_search_are_the_real_delta():
    m = app_metrics(_job_run(), [], {"normal": 8, "mirror": 8})
    assert m["search_steals_during_operation"] == 7
    assert m["jobs"] == 1 and m["job_numa_migrations"] == 1
    assert m["search_duration_ms"] == [pytest.approx((3_000_000 - 10) / 1e6)]
    assert m["search_task_numa_migrations"] == {"normal": 0, "mirror": 0}
    assert m["search_task_numa_node"] == {"normal": [0], "mirror": [1]}
    assert m["hnsw_search_duration_ms"]["mirror"] == [pytest.approx((2_000_000 - 10) / 1e6)]
    assert m["current_numa_node"] == 1
    assert m["search_query_count"] == {"normal": 8, "mirror": 8}


def _iv(steals, polls, slow, tpolls, t=0):
    return {"t": t, "runtime": {"total_steal_count": steals, "total_polls_count": polls, "total_steal_operations": steals},
            "tasks": {"a": {"total_poll_count": tpolls, "total_slow_poll_count": slow}}}


def test_derived_use_total_polls_count_and_task_metrics():
    """steal rate = Σ total_steal_count / Σ total_polls_count; slow-poll ratio from TaskMetrics;
    the correlation is Spearman's rho over intervals, not the product of the two."""
    ivs = [_iv(1, 100, 1, 50), _iv(5, 100, 4, 50), _iv(10, 100, 9, 50), _iv(20, 100, 20, 50)]
    d = derived(ivs)
    assert d["tokio_steal_rate"] == pytest.approx(36 / 400)
    assert d["tokio_slow_poll_ratio"] == pytest.approx(34 / 200)
    assert d["tokio_steal_vs_slow_poll_correlation"] == pytest.approx(1.0)


def test_merge_intervals_sums_counters_and_folds_extremes():
    a = {"t": 1, "runtime": {"total_polls_count": 3, "max_polls_count": 2, "min_polls_count": 1, "elapsed": 9},
         "tasks": {"x": {"total_poll_count": 3}}}
    b = {"t": 1, "runtime": {"total_polls_count": 5, "max_polls_count": 4, "min_polls_count": 0, "elapsed": 9},
         "tasks": {"x": {"total_poll_count": 5}}}
    (m,) = merge_intervals({"node0": [a], "node1": [b]})
    assert m["runtime"] == {"total_polls_count": 8, "max_polls_count": 4, "min_polls_count": 0, "elapsed": 9}
    assert m["tasks"]["x"]["total_poll_count"] == 8


RUNTIME = {"workers_count": 4, "live_tasks_count": 3, "total_park_count": 2, "max_park_count": 1,
           "min_park_count": 0, "total_busy_duration": 5000, "max_busy_duration": 3000, "min_busy_duration": 0,
           "global_queue_depth": 0, "elapsed": 100000, "total_steal_count": 2, "total_steal_operations": 1,
           "total_polls_count": 40, "num_remote_schedules": 3}


def test_prometheus_carries_every_metric_name():
    """Every app metric the issue lists, and the tokio-metrics runtime fields, as prometheus_client
    renders them (metrics-rs naming: tokio_ prefix, no _total on counters)."""
    obs = _job_run()
    ivs = [dict(_iv(2, 40, 1, 20, t=100000), runtime=dict(RUNTIME))]
    app = app_metrics(obs, ivs, {"normal": 8, "mirror": 8})
    text = prometheus_text({"today": {"app": app, "runtimes": {"main": ivs}}})
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    for n in APP_METRICS:
        assert n in names, n
    for f in RUNTIME:
        if f != "elapsed":
            assert f"tokio_{f}" in names, f
    assert "tokio_busy_ratio" in names
    assert 'search_task_duration_ms_bucket{layout="today",le="+Inf",operation="normal"} 1.0' in text
    assert not re.search(r"^# TYPE \S+_total ", text, re.M)
    # it parses back as Prometheus text
    from prometheus_client.parser import text_string_to_metric_families
    assert len(list(text_string_to_metric_families(text))) >= len(APP_METRICS)
