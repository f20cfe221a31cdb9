"""What running on a NUMA machine costs a poll, and the NUMA facts of a run.

The cost model is the machine's (`numasim.machine.memory`); this module turns it into tables
read on the hot path, so that a poll never calls into numpy or Numba:

* `mem` steps: a streaming read is one lead-off latency per node part plus bytes over bandwidth,
  so per (region, CPU node) an affine cost `a + k * bytes`, fitted exactly from two
  `cost_batch_ns` points; a run of dependent reads is whole lines x the loaded latency of each
  node part, so per (CPU node, memory node) the cost of one line. The tables are recomputed every `LOAD_REFRESH_NS` from the bytes
  read in the last window (a `LoadState` of the recent demand per CPU node and memory node),
  so that remote latency rises with load as the loaded-latency curves say.
* cross-node scheduling, per pair of nodes, with the exact formulas of `steal_cost_ns`,
  `wake_cost_ns` and `refill_cost_ns`. Every steal, unpark and task move between CPUs pays the
  pair's price, local pairs included (they move cache lines too, just cheaper ones): this is what
  makes `remote_penalty = 1` give remote exactly the local price.
"""
import numpy as np

from ..machine.memory import (REFILL_MLP, WAKE_LINES, LoadState, c2c_ns, cost_batch_ns, steal_lines)

# How often the memory-cost tables follow the load (the bandwidth drawn in the last window).
LOAD_REFRESH_NS = 1_000_000
LINE = 64
STREAM, RANDOM = 0, 1  # memcost.STREAM / RANDOM
# The two sizes the affine memory-cost fit is read at: large enough that rounding is noise.
_B1, _B2 = float(1 << 20), float(1 << 21)


class TaskNuma:
    """NUMA counters of one task name in one runtime (hung on its TaskMonitor)."""

    __slots__ = ("polls", "migrations", "remote_ns")

    def __init__(self, n_nodes):
        self.polls = [0] * n_nodes  # polls by the node of the polling CPU
        self.migrations = 0  # polls on a node other than the previous poll's
        self.remote_ns = 0  # cross-node steal and refill costs paid by its polls

    def to_dict(self):
        return {"polls_by_node": list(self.polls), "migrations": self.migrations, "remote_cost_ns": self.remote_ns}


class RuntimeNuma:
    """NUMA counters of one runtime (or one pool)."""

    __slots__ = ("polls", "task_migrations", "thread_migrations", "steals", "remote_steals", "remote_steal_ns",
                 "refill_ns", "remote_refill_ns", "wakes", "remote_wakes", "remote_wake_ns")

    def __init__(self, n_nodes):
        self.polls = [0] * n_nodes
        self.task_migrations = 0
        self.thread_migrations = 0  # a worker seen on another node than at its previous poll
        self.steals = 0
        self.remote_steals = 0
        self.remote_steal_ns = 0
        self.refill_ns = 0
        self.remote_refill_ns = 0
        self.wakes = 0
        self.remote_wakes = 0
        self.remote_wake_ns = 0

    def to_dict(self):
        return {"polls_by_node": list(self.polls), "task_migrations": self.task_migrations,
                "thread_migrations": self.thread_migrations, "steals": self.steals,
                "remote_steals": self.remote_steals, "remote_steal_ns": self.remote_steal_ns,
                "refill_ns": self.refill_ns, "remote_refill_ns": self.remote_refill_ns, "wakes": self.wakes,
                "remote_wakes": self.remote_wakes, "remote_wake_ns": self.remote_wake_ns}


class Numa:
    """The machine's costs as tables, and the run's NUMA accounting."""

    def __init__(self, machine, spec, node_of):
        m = self.machine = machine
        self.penalty = spec.remote_penalty
        self.node_of = node_of  # CPU number -> node index
        n = self.n = m.n_nodes
        c2c = [[c2c_ns(m, a, b, self.penalty) for b in range(n)] for a in range(n)]
        self.c2c = c2c
        self.wake_tab = [[int(round(WAKE_LINES * c2c[a][b])) for b in range(n)] for a in range(n)]
        # refill_cost_ns(from, to) = lines x c2c(to, from) / REFILL_MLP
        self.refill_line = [[c2c[to][frm] / REFILL_MLP for to in range(n)] for frm in range(n)]
        self.regions = {r.name: i for i, r in enumerate(spec.regions)}
        self.frac = np.array([r.frac for r in spec.regions], dtype=np.float64).reshape(len(spec.regions), n)
        self.parts = {r.name: [(b, f) for b, f in enumerate(r.frac) if f > 0] for r in spec.regions}
        # bytes read, [cpu node][memory node]: cumulative, and at the last load refresh
        self.bytes = [[0.0] * n for _ in range(n)]
        self._seen = [[0.0] * n for _ in range(n)]
        self.load = LoadState.idle(m)
        self.stream = {}
        self.line = []
        self._build_tables(self.load)
        # the node of the thread outside any runtime that is waking tasks right now (a pool
        # thread), for wake costs; None for the sources, which are not on the machine
        self.outside_node = None
        self.pool_stats = {}
        self.timeline = []  # (t, {thread: cpu})

    def runtime_stats(self) -> RuntimeNuma:
        """Fresh NUMA counters for a runtime or a pool."""
        return RuntimeNuma(self.n)

    def task_stats(self) -> TaskNuma:
        """Fresh NUMA counters for one task name of one runtime."""
        return TaskNuma(self.n)

    # ------------------------------------------------------------------ memory
    def _build_tables(self, load):
        """Streaming reads: per (region, CPU node) an affine `a + k * bytes` (one lead-off latency
        per node part plus bytes over bandwidth), fitted from two sizes. Dependent reads: per
        (CPU node, memory node) the cost of one line, so that a read of a region's node part costs
        whole lines x that (as the kernel prices each part)."""
        regions = list(self.regions)
        if not regions:
            return
        n = self.n
        cpu, frac, nbytes, pattern = self.batch()
        cost = cost_batch_ns(self.machine, cpu, frac, nbytes, pattern, load, remote_penalty=self.penalty)
        stream = {}
        i = 0
        for name in regions:
            row = []
            for _a in range(n):
                c1, c2 = float(cost[i]), float(cost[i + 1])
                k = (c2 - c1) / (_B2 - _B1)
                row.append((c1 - k * _B1 + 0.5, k))  # +0.5: int() then rounds to nearest
                i += 2
            stream[name] = row
        line = [[float(cost[i + a * n + b]) / (_B1 / LINE) for b in range(n)] for a in range(n)]
        self.stream = stream
        self.line = line

    def batch(self):
        """The accesses the tables are fitted from, as cost_batch_ns takes them (cpu nodes, page
        fractions, bytes, patterns): stream fits per (region, cpu node, size), then one line of
        dependent reads per (cpu node, memory node)."""
        n = self.n
        nreg = len(self.regions)
        eye = np.eye(n)
        cpu = [a for _r in range(nreg) for a in range(n) for _b in (_B1, _B2)] + [a for a in range(n) for _b in range(n)]
        frac = np.concatenate([self.frac[[r for r in range(nreg) for _a in range(n) for _b in (_B1, _B2)]],
                               eye[[b for _a in range(n) for b in range(n)]]])
        nbytes = [b for _r in range(nreg) for _a in range(n) for b in (_B1, _B2)] + [_B1] * (n * n)
        pattern = [STREAM] * (len(cpu) - n * n) + [RANDOM] * (n * n)
        return (np.array(cpu, dtype=np.int64), frac, np.array(nbytes, dtype=np.float64),
                np.array(pattern, dtype=np.int64))

    def mem_ns(self, cpu, region, nbytes, pattern) -> int:
        """CPU time for a thread on `cpu` to read `nbytes` of `region` (pattern 0 stream, 1 random)."""
        node = self.node_of[cpu]
        row = self.bytes[node]
        parts = self.parts[region]
        if pattern == RANDOM:
            line = self.line[node]
            t = 0.0
            for b, f in parts:
                x = nbytes * f
                row[b] += x
                t += -(-x // LINE) * line[b]  # whole lines of each node's part
            return int(t + 0.5)
        for b, f in parts:
            row[b] += nbytes * f
        a, k = self.stream[region][node]
        return int(a + k * nbytes)

    def refresher(self, env):
        """Refresh the memory-cost tables from the demand of the last window."""
        if not self.regions:
            return
        n = self.n
        while True:
            yield env.timeout(LOAD_REFRESH_NS)
            streams = []
            for a in range(n):
                ra, sa = self.bytes[a], self._seen[a]
                for b in range(n):
                    d = ra[b] - sa[b]
                    if d > 0:
                        streams.append((a, b, d / LOAD_REFRESH_NS))  # bytes per ns = GB/s
                    sa[b] = ra[b]
            load = LoadState.from_streams(self.machine, streams)
            if load != self.load:
                self.load = load
                self._build_tables(load)

    # ------------------------------------------------------------------ scheduling costs
    def poll_start(self, w, task) -> int:
        """Called at each poll start: count the poll by node and charge what the task's move
        costs (the steal that brought it here, its working set re-read from the old CPU)."""
        cpu = w.cpu
        node = self.node_of[cpu]
        rs = w.rt.numa_stats
        rs.polls[node] += 1
        ts = task.monitor.numa
        ts.polls[node] += 1
        if w.last_node != node:
            if w.last_node >= 0:
                rs.thread_migrations += 1
            w.last_node = node
        extra = task.numa_debt
        task.numa_debt = 0
        last = task.last_cpu
        if last >= 0 and last != cpu:
            lnode = self.node_of[last]
            r = int(round(-(-task.ws // LINE) * self.refill_line[lnode][node]))
            extra += r
            rs.refill_ns += r
            if lnode != node:
                rs.task_migrations += 1
                rs.remote_refill_ns += r
                ts.migrations += 1
                ts.remote_ns += r
        task.last_cpu = cpu
        return extra

    def stolen(self, thief, victim, task, n_tasks):
        """A steal of `n_tasks` from `victim` by `thief`: the first stolen task's poll pays for
        the queue's cache lines (steal_cost_ns)."""
        a = self.node_of[thief.cpu]
        b = self.node_of[victim.cpu]
        cost = int(round(steal_lines(n_tasks) * self.c2c[a][b]))
        task.numa_debt += cost
        rs = thief.rt.numa_stats
        rs.steals += 1
        if a != b:
            rs.remote_steals += 1
            rs.remote_steal_ns += cost
            task.monitor.numa.remote_ns += cost

    def wake_ns(self, waker, target) -> int:
        """What the waker pays to unpark `target` (wake_cost_ns): `waker` is a worker, or None for
        a thread outside the runtimes (a pool thread sets `outside_node`; sources pay nothing)."""
        a = self.node_of[waker.cpu] if waker is not None else self.outside_node
        if a is None:
            return 0
        b = self.node_of[target.cpu]
        cost = self.wake_tab[a][b]
        rs = target.rt.numa_stats
        rs.wakes += 1
        if a != b:
            rs.remote_wakes += 1
            rs.remote_wake_ns += cost
        return cost

    # ------------------------------------------------------------------ results
    def mem_report(self):
        n = self.n
        local = [self.bytes[b][b] for b in range(n)]
        # numastat's view, per memory node: bytes read by CPUs of other nodes
        remote = [sum(self.bytes[a][b] for a in range(n) if a != b) for b in range(n)]
        return {"matrix": [[int(x) for x in row] for row in self.bytes],
                "local": [int(x) for x in local], "remote": [int(x) for x in remote]}

    def sample_threads(self, t, threads):
        self.timeline.append((t, {name: th.cpu for name, th in threads}))
