"""Observers on the compiled engine: its event log replayed to them, in order, between kernel calls.

The SimPy engine calls `observer.poll_start(worker, task)`, `poll_end(worker, task)`,
`complete(worker, task)`, `steal(thief, victim, tasks)` and `park(worker)` on live objects. The
compiled engine logs each call as a row of facts that do not change afterwards
(`engine/fast/observe.py`) and this module makes the calls from them, on stand-ins that offer
exactly these facts:

* the worker: `index` (in its runtime), `cpu` (its CPU at that event), `rt`, and
  `stats.steal_count`, its live count of stolen tasks at that event (the replay keeps it from the
  steal events);
* the runtime (one stand-in per runtime): `name`, `spec`, `num_workers`, `workers`, and
  `env.now`, the event's time (one clock shared by all, as SimPy's one environment);
* a task: `id` (per runtime, as the reference's `Runtime.next_id`), `name`, `created`.

An observer that reads anything else (a queue, a task's state, another worker's CPU, a
TaskMonitor) needs the live engine: it says it does not by a class attribute `replayable = True`,
and the compiled engine refuses any other observer (`--engine auto` runs it on SimPy). The
stand-ins have `__slots__`, so an opted-in observer reading more fails loudly, never quietly.

A run that is rerun with bigger arrays (engine/run.py) produces the same events again; the
replay keeps count and delivers each event once, on the same stand-in objects.
"""
import gc

import numpy as np

from ..simulate import _observer
from .fast import state as st
from .fast.observe import OBS_OVERFLOW


class _Env:
    __slots__ = ("now",)

    def __init__(self):
        self.now = 0


class _Stats:
    __slots__ = ("steal_count",)

    def __init__(self):
        self.steal_count = 0


class ReplayRuntime:
    """The runtime as a replayed observer sees it."""
    __slots__ = ("name", "spec", "num_workers", "workers", "env")

    def __init__(self, spec, rs, env):
        self.name = rs.name
        self.spec = spec
        self.num_workers = rs.workers
        self.env = env  # one clock for every runtime, as SimPy's one environment
        self.workers = [ReplayWorker(self, i) for i in range(rs.workers)]


class ReplayWorker:
    __slots__ = ("rt", "index", "cpu", "stats")

    def __init__(self, rt, index):
        self.rt = rt
        self.index = index
        self.cpu = None
        self.stats = _Stats()


class ReplayTask:
    __slots__ = ("id", "name", "created")

    def __init__(self, tid, name, created):
        self.id = tid
        self.name = name
        self.created = created


def replayable(observers) -> object:
    """The first observer that needs the live engine, or None if all can be replayed."""
    for o in observers:
        if not getattr(o, "replayable", False):
            return o
    return None


class Replay:
    """The observers of one run and the stand-ins they are shown."""

    CAP = 1 << 16  # log rows; the kernel pauses at half
    FA_CAP = 1 << 12  # facts log rows, the same

    def __init__(self, spec, observers, names, ncpu=1):
        # an observer that keeps per-task facts only takes them whole from the kernel (the first
        # such one: the kernel keeps one set); the others get every event
        self.facts, self.plan = None, None
        rest = []
        for o in observers:
            plan = o.facts_plan(spec, names, ncpu) if self.facts is None and getattr(o, "task_facts", False) else None
            if plan is not None:
                self.facts, self.plan = o, plan
            else:
                rest.append(o)
        self.observer = _observer(rest)
        self.spec = spec
        self.names = names
        self.cap = self.CAP
        self.fa_cap = self.FA_CAP
        self.fa = []  # the facts log's rows of this run so far
        self.delivered = 0  # events handed to the observers so far (a rerun skips them)
        env = _Env()
        self.runtimes = [ReplayRuntime(spec, rs, env) for rs in spec.runtimes]
        # the kernel numbers workers over every runtime, in spec order
        self.workers = [w for rt in self.runtimes for w in rt.workers]
        # the stand-ins of the tasks the observers have seen and not seen complete, by (runtime,
        # id): ids are per runtime, as the reference's Runtime.next_id
        self.tasks = {}
        self.seen = 0

    def tables(self):
        """The log's table for the layout (one row when nobody observes)."""
        n = self.cap if self.observer is not None else 1
        t = {"OBS": (st.H_OBS, np.zeros((n, st.OB_COLS), np.int64)),
             "NID": (st.H_NID, np.zeros(len(self.runtimes), np.int64))}
        if self.facts is None:
            return dict(t, FA=(st.H_FA, np.zeros((1, st.FA_COLS), np.int64)), FNODE=(st.H_FNODE, np.zeros(1, np.int64)),
                        FFLAG=(st.H_FFLAG, np.zeros(max(1, len(self.names)), np.int64)))
        nodes, keep, handler = self.plan
        flags = np.array([st.FF_KEEP * k + st.FF_HANDLER * h for k, h in zip(keep, handler)] or [0], np.int64)
        return dict(t, FA=(st.H_FA, np.zeros((self.fa_cap, st.FA_COLS), np.int64)),
                    FNODE=(st.H_FNODE, np.array(nodes, np.int64)), FFLAG=(st.H_FFLAG, flags))

    def init(self, M, S):
        M[st.H_OBSCAP] = self.cap if self.observer is not None else 0
        S.X[st.X_OBS] = int(self.observer is not None)
        M[st.H_FACAP] = self.fa_cap if self.facts is not None else 0
        S.X[st.X_FACTS] = int(self.facts is not None)

    def rerun(self, code):
        """The run starts over (a capacity ran out): the logs' own, doubled, if it was that."""
        if code == OBS_OVERFLOW:
            self.cap *= 2
            self.fa_cap *= 2
        self.fa = []  # the facts are handed over at the end only: the rerun logs them again
        # the stand-ins stay the same objects (observers may key on them); the skipped events
        # count the steals again from zero
        self.seen = 0
        for w in self.workers:
            w.stats.steal_count = 0

    def drain(self, S):
        """Replay the rows logged since the last call and empty the logs."""
        if self.facts is not None:
            n = int(S.X[st.X_FA_N])
            if n:
                self.fa.append(S.FA[:n].copy())
                S.X[st.X_FA_N] = 0
        n = int(S.X[st.X_OBS_N])
        if n == 0 or self.observer is None:
            return
        S.X[st.X_OBS_N] = 0
        K, T, W, CPU, A, B, C = S.OBS[:n].T.tolist()
        obs = self.observer
        poll_start, poll_end, complete, park, steal = obs.poll_start, obs.poll_end, obs.complete, obs.park, obs.steal
        STEAL, PARK, START, END, COMPLETE = st.OB_STEAL, st.OB_PARK, st.OB_POLL_START, st.OB_POLL_END, st.OB_COMPLETE
        ws = self.workers
        names = self.names
        nn = len(names)
        tasks = self.tasks
        task = self._task
        seen, delivered = self.seen, self.delivered
        j = 0
        while j < n:
            kind = K[j]
            a = A[j]
            if kind == STEAL:
                m = C[j]
                moved = [task(A[k], B[k], C[k], nn) for k in range(j + 1, j + 1 + m)]
                thief = ws[W[j]]
                thief.stats.steal_count += m
                seen += 1
                if seen > delivered:
                    thief.rt.env.now = T[j]
                    thief.cpu = CPU[j]
                    victim = ws[a]
                    victim.cpu = B[j]
                    steal(thief, victim, moved)
                j += 1 + m
                continue
            seen += 1
            if seen <= delivered:
                if kind == COMPLETE:
                    tasks.pop((B[j] // nn, a), None)
                j += 1
                continue
            wk = ws[W[j]]
            wk.rt.env.now = T[j]
            wk.cpu = CPU[j]
            if kind == START:
                poll_start(wk, task(a, B[j], C[j], nn))
            elif kind == END:
                poll_end(wk, task(a, B[j], C[j], nn))
            elif kind == PARK:
                park(wk)
            else:
                complete(wk, tasks.pop((B[j] // nn, a), None) or ReplayTask(a, names[B[j] % nn], C[j]))
            j += 1
        self.seen = seen
        self.delivered = max(delivered, seen)

    def _task(self, tid, mon, created, nn):
        """The stand-in of task `tid` of the runtime whose TaskMonitor row `mon` is (rows are
        runtime * names + name)."""
        key = (mon // nn, tid)
        t = self.tasks.get(key)
        if t is None:
            t = self.tasks[key] = ReplayTask(tid, self.names[mon % nn], created)
        return t

    def finish(self, S):
        """At the end of the run (after the last drain): the facts observer's records, those of
        the tasks still alive from their rows, in the order of their first polls."""
        if self.facts is None:
            return
        # a record per task (190k on the burst spec): the cyclic collector would walk the
        # growing heap again and again while they are made, and none of them is garbage
        was = gc.isenabled()
        gc.disable()
        try:
            self._finish(S)
        finally:
            if was:
                gc.enable()

    def _finish(self, S):
        T = S.T
        live = T[T[:, st.T_F_POLLS] > 0]
        rows = np.zeros((len(live), st.FA_COLS), np.int64)
        rows[:, 0] = st.FA_RECORD
        for j, c in enumerate((st.T_ID, st.T_MON, st.T_CREATED, st.T_F_FIRST)):
            rows[:, 1 + j] = live[:, c]
        rows[:, 5] = -1  # not done: TaskRecord's defaults
        for j, c in enumerate((st.T_F_POLLS, st.T_F_FNODE, st.T_F_LNODE, st.T_F_CHANGES, st.T_F_STEALS0)):
            rows[:, 6 + j] = live[:, c]
        rows[:, 12] = live[:, st.T_F_SEQ]
        fa = np.concatenate(self.fa + [rows])
        recs = fa[fa[:, 0] == st.FA_RECORD]
        recs = recs[np.argsort(recs[:, 12], kind="stable")]
        nn = len(self.names)
        rts = self.runtimes
        _k, tid, mon, created, first, done, polls, n0, n1, ch, s0, s1, _q = recs.T.tolist()
        names = self.names
        fields = list(zip(tid, [names[m % nn] for m in mon], created, first, done, polls, n0, n1, ch, s0, s1))
        seen = S.RT[:, st.Q_SEEN]
        order = [rts[r] for r in sorted((r for r in range(len(rts)) if seen[r]), key=lambda r: seen[r])]
        hn = fa[fa[:, 0] == st.FA_HANDLER][:, 1:3].tolist()
        self.facts.take_facts(order, fields, [(t, node) for t, node in hn])
        self.fa = []
