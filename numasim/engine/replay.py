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

    def __init__(self, spec, observers, names):
        self.observer = _observer(observers)
        self.spec = spec
        self.names = names
        self.cap = self.CAP
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
        return {"OBS": (st.H_OBS, np.zeros((n, st.OB_COLS), np.int64)),
                "NID": (st.H_NID, np.zeros(len(self.runtimes), np.int64))}

    def init(self, M, S):
        M[st.H_OBSCAP] = self.cap if self.observer is not None else 0
        S.X[st.X_OBS] = int(self.observer is not None)

    def rerun(self, code):
        """The run starts over (a capacity ran out): the log's own, doubled, if it was that."""
        if code == OBS_OVERFLOW:
            self.cap *= 2
        # the stand-ins stay the same objects (observers may key on them); the skipped events
        # count the steals again from zero
        self.seen = 0
        for w in self.workers:
            w.stats.steal_count = 0

    def drain(self, S):
        """Replay the rows logged since the last call and empty the log."""
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
