"""The seed plan's application metrics for the Hawk job, with its mistakes fixed.

An observer (`HawkObserver`) watches the engine's poll and completion events; it never changes
what the model does. After a run, `app_metrics(...)` turns what it saw into the plan's metrics:

| metric | kind | what it is here (and the plan's mistake it fixes) |
|---|---|---|
| search_duration_ms | histogram | per job: the searches of both orientations, first search task spawned to last done |
| search_steals_during_operation | counter | per job: the runtimes' real steal count (stolen tasks, summed over workers of every runtime) at the end of the search phase minus at its start (the plan's helper returned 0) |
| job_numa_migrations | counter | jobs whose task was polled on more than one NUMA node (node from the machine's CPU-to-node map, not cpu/16; migration = a change of node, not of CPU) |
| search_task_duration_ms{operation} | histogram | each spawned HNSW search task (one per eye, request, base rotation), operation = normal or mirror |
| search_task_numa_migrations{operation} | counter | those search tasks polled on more than one node |
| search_task_numa_node{operation} | histogram | the node of each search task's last poll |
| search_query_count{orientation} | gauge | requests searched per orientation in the last job |
| hnsw_search_duration_ms{orientation} | histogram | per job: that orientation's search tasks, first spawned to last done |
| eye_operation_total_duration_ms{orientation} | histogram | per job: all of that orientation's work (intra-batch, searches, is_match) |
| current_numa_node | gauge | node of the CPU that last polled the job (request handler) task |
| tokio_steal_rate | gauge | Σ total_steal_count / Σ total_polls_count (stolen tasks per poll; `total_polls` does not exist) |
| tokio_slow_poll_ratio | gauge | TaskMetrics Σ total_slow_poll_count / Σ total_poll_count (the runtime has no slow-poll fields) |
| tokio_steal_vs_slow_poll_correlation | gauge | Spearman's rho between the per-interval steal rate and slow-poll ratio (the plan multiplied the two, which is no correlation) |

Every tokio-metrics runtime metric is exported beside these (`tokio_<field>`, metrics-rs naming),
per runtime, plus the TaskMetrics per task name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import starmap

APP_METRICS = (
    "search_duration_ms", "search_steals_during_operation", "job_numa_migrations",
    "search_task_duration_ms", "search_task_numa_migrations", "search_task_numa_node",
    "search_query_count", "hnsw_search_duration_ms", "eye_operation_total_duration_ms",
    "current_numa_node", "tokio_steal_rate", "tokio_slow_poll_ratio", "tokio_steal_vs_slow_poll_correlation",
)
JOB_TASK = "hawk_job"
HANDLER_TASKS = ("hawk_job", "request_handler")


@dataclass(slots=True)
class TaskRecord:
    """One task instance as the observer saw it."""
    id: int
    name: str
    created: int
    first_poll: int = -1
    done: int = -1
    polls: int = 0
    first_node: int = -1
    last_node: int = -1
    node_changes: int = 0
    steals_first_poll: int = 0
    steals_done: int = 0


class HawkObserver:
    """Engine observer: per task instance, when and on which NUMA node it was polled.

    `node_of(worker) -> int` maps the worker's current CPU to its node through the machine's
    CPU-to-node map. Steal counts are the live (unpublished) per-worker counters of every runtime
    seen so far: the real number of stolen tasks at that instant.
    """

    # it reads only what the compiled engine's replay gives (the event's time, the worker's CPU and
    # live steal count, the task's id, name and creation time): both engines can run it
    replayable = True

    def __init__(self, node_of=None, keep=None):
        self.node_of = node_of or _node_of_worker
        self.tasks: dict[tuple, TaskRecord] = {}
        self.taken: list[TaskRecord] = []  # the records a compiled run hands over whole (take_facts)
        self.runtimes: list = []
        self._rt_ids: set = set()
        self.handler_nodes: list = []  # (t, node) of each poll of the job/handler tasks
        self.keep = keep  # None: every task name; else a predicate on names

    def _steals(self) -> int:
        return sum(w.stats.steal_count for rt in self.runtimes for w in rt.workers)

    def _see(self, rt):
        if id(rt) not in self._rt_ids:
            self._rt_ids.add(id(rt))
            self.runtimes.append(rt)

    def poll_start(self, worker, task):
        rt = worker.rt
        self._see(rt)
        name = task.name
        if self.keep is not None and not self.keep(name):
            return
        now = rt.env.now
        node = self.node_of(worker)
        key = (id(rt), task.id)  # ids are per runtime; id(task) is reused once a task is freed
        rec = self.tasks.get(key)
        if rec is None:
            rec = self.tasks[key] = TaskRecord(task.id, name, task.created, first_poll=now, first_node=node,
                                                    last_node=node, steals_first_poll=self._steals())
        elif node != rec.last_node:
            rec.node_changes += 1
        rec.last_node = node
        rec.polls += 1
        if name in HANDLER_TASKS:
            self.handler_nodes.append((now, node))

    def poll_end(self, worker, task):
        pass

    def park(self, worker):
        pass

    def steal(self, thief, victim, tasks):
        pass

    def complete(self, worker, task):
        rec = self.tasks.get((id(worker.rt), task.id)) if worker is not None else None
        if rec is None:
            return
        rec.done = worker.rt.env.now if worker is not None else rec.done
        rec.steals_done = self._steals()

    def records(self) -> list[TaskRecord]:
        recs = list(self.tasks.values()) + self.taken if self.taken else self.tasks.values()
        return sorted(recs, key=lambda r: (r.created, r.id))

    # The compiled engine can keep what poll_start and complete above keep, per task, in its kernel
    # (engine/fast/observe.py facts_poll_start and facts_complete, the same rules) and hand the
    # records over whole at the end of a run, instead of replaying every event to them.
    task_facts = True

    def facts_plan(self, spec, names, ncpu):
        """What the kernel needs to keep the facts: the node of each CPU 0..ncpu-1 and of no CPU
        (-1) after them, and per task name whether it is kept and whether it is a handler task;
        None when node_of is not the CPU-to-node map (a replay then calls poll_start)."""
        if self.node_of is not _node_of_worker:
            return None
        nodes = [_node_of_cpu(spec, c) for c in range(ncpu)] + [_node_of_cpu(spec, -1)]
        keep = [self.keep is None or bool(self.keep(n)) for n in names]
        return nodes, keep, [n in HANDLER_TASKS for n in names]

    def take_facts(self, runtimes, fields, handler_nodes):
        """The kernel's facts: the runtimes seen, in the order first seen; per task, in the order
        of first polls, TaskRecord's fields in order (`fields`); the (time, node) of each handler
        poll."""
        for rt in runtimes:
            self._see(rt)
        # one record per task instance already (the kernel keys them by runtime and id), so a list:
        # no per-task dict of 190k keys on the burst spec; the events above never run with it
        self.taken.extend(starmap(TaskRecord, fields))
        self.handler_nodes.extend(handler_nodes)


def _node_of_worker(worker) -> int:
    """The NUMA node of the CPU a worker runs on now (CPU-to-node map of the spec's machine)."""
    node = getattr(worker, "node", None)
    if isinstance(node, int):
        return node
    return _node_of_cpu(worker.rt.spec, getattr(worker, "cpu", None))


def _node_of_cpu(spec, cpu) -> int:
    m = getattr(spec, "machine", None)
    if m is None or cpu is None:
        return 0
    c = getattr(cpu, "id", cpu)
    try:
        return m.node_of_cpu(int(c))
    except (KeyError, TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------------------------
# from records to the plan's metrics

@dataclass
class JobFigures:
    start: int
    end: int
    latency_ns: int
    migrated: bool
    search_ns: int | None
    search_steals: int
    hnsw_ns: dict = field(default_factory=dict)        # orientation -> span of its search tasks
    eye_op_ns: dict = field(default_factory=dict)      # orientation -> span of all its tasks
    queries: dict = field(default_factory=dict)        # orientation -> requests searched


def _orient(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) >= 3 and parts[1] in ("normal", "mirror") else None


def jobs_from_records(records: list[TaskRecord], batch_requests: dict | None = None) -> list[JobFigures]:
    """Per finished job: its latency, migration, search phase span and steals, per-orientation spans.
    A task belongs to the job during which it was created (one batch runs at a time)."""
    jobs = [r for r in records if r.name == JOB_TASK and r.done >= 0]
    out = []
    for j in jobs:
        mine = [r for r in records if j.created <= r.created <= j.done and r is not j]
        search = [r for r in mine if r.name.startswith("search.") and r.done >= 0]
        if search:
            s0 = min(search, key=lambda r: r.created)
            s_start = s0.created
            s_end = max(r.done for r in search)
            first_polled = min(search, key=lambda r: r.first_poll)
            last_done = max(search, key=lambda r: r.done)
            steals = max(0, last_done.steals_done - first_polled.steals_first_poll)
            search_ns = s_end - s_start
        else:
            search_ns, steals = None, 0
        jf = JobFigures(j.created, j.done, j.done - j.created, j.node_changes > 0, search_ns, steals)
        for o in ("normal", "mirror"):
            so = [r for r in search if _orient(r.name) == o]
            if so:
                jf.hnsw_ns[o] = max(r.done for r in so) - min(r.created for r in so)
            allo = [r for r in mine if _orient(r.name) == o and r.done >= 0]
            if allo:
                jf.eye_op_ns[o] = max(r.done for r in allo) - min(r.created for r in allo)
            if batch_requests is not None:
                jf.queries[o] = batch_requests.get(o, 0)
        out.append(jf)
    return out


def search_tasks(records: list[TaskRecord]) -> list[TaskRecord]:
    return [r for r in records if r.name.startswith("search.") and r.done >= 0]


def merge_intervals(by_runtime: dict) -> list:
    """One interval list over several runtimes (sampled at the same instants): runtime counters
    summed, max/min folded, gauges summed; task metrics summed by name."""
    lists = [v for v in by_runtime.values() if v]
    if len(lists) == 1:
        return lists[0]
    out = []
    for recs in zip(*lists):
        rt, tasks = {}, {}
        for r in recs:
            for k, v in r["runtime"].items():
                if not isinstance(v, (int, float)):
                    continue
                if k.startswith("max_"):
                    rt[k] = max(rt.get(k, v), v)
                elif k.startswith("min_"):
                    rt[k] = min(rt.get(k, v), v)
                elif k == "elapsed":
                    rt[k] = v
                elif k.startswith("mean_poll_duration"):
                    rt[k] = max(rt.get(k, 0), v)  # an EWMA blend cannot be summed; not used by decide
                else:
                    rt[k] = rt.get(k, 0) + v
            for name, tm in r.get("tasks", {}).items():
                acc = tasks.setdefault(name, {})
                for k, v in tm.items():
                    if isinstance(v, (int, float)):
                        acc[k] = max(acc.get(k, v), v) if k.startswith("max_") else acc.get(k, 0) + v
        out.append({"t": recs[0]["t"], "runtime": rt, "tasks": tasks})
    return out


def _per_interval_rates(intervals):
    steal, slow = [], []
    for r in intervals:
        polls = r["runtime"].get("total_polls_count", 0)
        tp = sum(t.get("total_poll_count", 0) for t in r.get("tasks", {}).values())
        ts = sum(t.get("total_slow_poll_count", 0) for t in r.get("tasks", {}).values())
        if polls and tp and "total_steal_count" in r["runtime"]:
            steal.append(r["runtime"]["total_steal_count"] / polls)
            slow.append(ts / tp)
    return steal, slow


def derived(intervals) -> dict:
    """tokio_steal_rate, tokio_slow_poll_ratio and their Spearman correlation over intervals."""
    S = lambda k: sum(r["runtime"].get(k, 0) for r in intervals)  # noqa: E731
    polls = S("total_polls_count")
    tasks = [t for r in intervals for t in r.get("tasks", {}).values()]
    tp = sum(t.get("total_poll_count", 0) for t in tasks)
    out = {
        "tokio_steal_rate": S("total_steal_count") / polls if polls else None,
        "tokio_steal_operations_per_poll": S("total_steal_operations") / polls if polls else None,
        "tokio_slow_poll_ratio": sum(t.get("total_slow_poll_count", 0) for t in tasks) / tp if tp else None,
        "tokio_steal_vs_slow_poll_correlation": None,
    }
    xs, ys = _per_interval_rates(intervals)
    if len(xs) >= 3 and len(set(xs)) > 1 and len(set(ys)) > 1:
        from scipy.stats import spearmanr
        out["tokio_steal_vs_slow_poll_correlation"] = float(spearmanr(xs, ys).statistic)
    return out


def app_metrics(observer: HawkObserver, intervals, batch_requests: dict | None = None) -> dict:
    """Every metric of `APP_METRICS` for one run (values in ms where the name says so)."""
    recs = observer.records()
    jobs = jobs_from_records(recs, batch_requests)
    st = search_tasks(recs)
    ms = lambda ns: ns / 1e6  # noqa: E731
    m = {
        "search_duration_ms": [ms(j.search_ns) for j in jobs if j.search_ns is not None],
        "search_steals_during_operation": sum(j.search_steals for j in jobs),
        "search_steals_per_job": [j.search_steals for j in jobs],
        "job_numa_migrations": sum(1 for j in jobs if j.migrated),
        "jobs": len(jobs),
        "job_latency_ms": [ms(j.latency_ns) for j in jobs],
        "search_task_duration_ms": {}, "search_task_numa_migrations": {}, "search_task_numa_node": {},
        "search_query_count": {}, "hnsw_search_duration_ms": {}, "eye_operation_total_duration_ms": {},
        "search_tasks": {},
        "current_numa_node": observer.handler_nodes[-1][1] if observer.handler_nodes else None,
    }
    for o in ("normal", "mirror"):
        so = [r for r in st if _orient(r.name) == o]
        m["search_tasks"][o] = len(so)
        m["search_task_duration_ms"][o] = [ms(r.done - r.created) for r in so]
        m["search_task_numa_migrations"][o] = sum(1 for r in so if r.node_changes > 0)
        m["search_task_numa_node"][o] = [r.last_node for r in so]
        m["hnsw_search_duration_ms"][o] = [ms(j.hnsw_ns[o]) for j in jobs if o in j.hnsw_ns]
        m["eye_operation_total_duration_ms"][o] = [ms(j.eye_op_ns[o]) for j in jobs if o in j.eye_op_ns]
        if batch_requests is not None:
            m["search_query_count"][o] = batch_requests.get(o, 0)
    m.update(derived(intervals))
    n_st = len(st)
    m["search_task_migration_rate"] = sum(m["search_task_numa_migrations"].values()) / n_st if n_st else None
    m["job_migration_rate"] = m["job_numa_migrations"] / len(jobs) if jobs else None
    return m
