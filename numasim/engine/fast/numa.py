"""host/numa.py, compiled: what running on a NUMA machine costs a poll, and the run's NUMA counters.

The tables are the reference's own (`Numa`: c2c, wake_tab, refill_line, the memory-cost fits),
built in Python by engine/run.py and read here; the hot-path lookups and the counting are
compiled, and so is `Numa.refresher`'s round (`refresh`): the load of the last window, and when
it changed the memory-cost fits again, from the same batch (`Numa.batch`) priced by the same
kernel (`kernels/memcost.py`).
"""
from .jit import alloc, kernel

from ...host.numa import LOAD_REFRESH_NS
from ...kernels.memcost import _cost_batch

from .state import X_OUTSIDE
from .state import H_FMC, H_MC, X_MC_K, X_MC_K2, X_MC_ROWS, X_NREG, X_NSOCK
from .state import (C_NODE, H_C, H_FBYTES, H_FLINE, H_FREG, H_FSTREAM, H_REFILL, H_RN, H_STEALC,
                    H_T, H_TN, H_W, H_WAKE, H_X, N_STEAL_COST, NC, NT, NW, RN_POLLS,
                    RN_REFILL_NS, RN_REMOTE_REFILL_NS, RN_REMOTE_STEALS, RN_REMOTE_STEAL_NS,
                    RN_REMOTE_WAKES, RN_REMOTE_WAKE_NS, RN_STEALS, RN_TASK_MIG, RN_THREAD_MIG,
                    RN_WAKES, T_DEF, T_LAST_CPU, T_MON, T_NUMA_DEBT, TN_MIG, TN_POLLS,
                    TN_REMOTE_NS, W_CPU, W_LAST_NODE, W_RT, X_NNODES)

LINE = 64
RANDOM = 1


@kernel
def node_of(M, cpu):
    return M[M[H_C] + (cpu) * NC + (C_NODE)]


@kernel
def _rn(M, w):
    """The RuntimeNuma row of worker w's runtime."""
    return M[H_RN] + M[M[H_W] + (w) * NW + (W_RT)] * (RN_POLLS + M[M[H_X] + X_NNODES])


@kernel
def _tn(M, t):
    """The TaskNuma row of task t's name."""
    return M[H_TN] + M[M[H_T] + (t) * NT + (T_MON)] * (TN_POLLS + M[M[H_X] + X_NNODES])


@kernel
def poll_start(M, F, w, t):
    """Numa.poll_start: count the poll by node; the cost of the task's move (the steal that
    brought it here, its working set re-read from the old CPU's caches)."""
    n = M[M[H_X] + X_NNODES]
    RN = _rn(M, w)
    T = M[H_T]
    cpu = M[M[H_W] + (w) * NW + (W_CPU)]
    node = node_of(M, cpu)
    M[RN + RN_POLLS + node] += 1
    ts = _tn(M, t)
    M[ts + TN_POLLS + node] += 1
    last_node = M[M[H_W] + (w) * NW + (W_LAST_NODE)]
    if last_node != node:
        if last_node >= 0:
            M[RN + RN_THREAD_MIG] += 1
        M[M[H_W] + (w) * NW + (W_LAST_NODE)] = node
    extra = M[T + (t) * NT + (T_NUMA_DEBT)]
    M[T + (t) * NT + (T_NUMA_DEBT)] = 0
    last = M[T + (t) * NT + (T_LAST_CPU)]
    if last >= 0 and last != cpu:
        lnode = node_of(M, last)
        r = M[M[H_REFILL] + (M[T + (t) * NT + (T_DEF)] * n + lnode) * n + node]
        extra += r
        M[RN + RN_REFILL_NS] += r
        if lnode != node:
            M[RN + RN_TASK_MIG] += 1
            M[RN + RN_REMOTE_REFILL_NS] += r
            M[ts + TN_MIG] += 1
            M[ts + TN_REMOTE_NS] += r
    M[T + (t) * NT + (T_LAST_CPU)] = cpu
    return extra


@kernel
def stolen(M, F, thief, victim, t, n_tasks):
    """Numa.stolen: the first stolen task's poll pays for the queue's cache lines."""
    n = M[M[H_X] + X_NNODES]
    a = node_of(M, M[M[H_W] + (thief) * NW + (W_CPU)])
    b = node_of(M, M[M[H_W] + (victim) * NW + (W_CPU)])
    cost = M[M[H_STEALC] + (min(n_tasks, N_STEAL_COST - 1) * n + a) * n + b]
    M[M[H_T] + (t) * NT + (T_NUMA_DEBT)] += cost
    RN = _rn(M, thief)
    M[RN + RN_STEALS] += 1
    if a != b:
        M[RN + RN_REMOTE_STEALS] += 1
        M[RN + RN_REMOTE_STEAL_NS] += cost
        M[_tn(M, t) + TN_REMOTE_NS] += cost


@kernel
def wake_ns(M, F, waker, target):
    """Numa.wake_ns: what `waker` (a worker of any runtime, through System.cross; -1: a thread
    outside the runtimes: a pool thread replying from its node, X_OUTSIDE, or a source, which
    pays nothing) pays to unpark worker `target`, counted on the target's runtime."""
    if waker < 0:
        a = M[M[H_X] + X_OUTSIDE]
        if a < 0:
            return 0
    else:
        a = node_of(M, M[M[H_W] + (waker) * NW + (W_CPU)])
    n = M[M[H_X] + X_NNODES]
    b = node_of(M, M[M[H_W] + (target) * NW + (W_CPU)])
    cost = M[M[H_WAKE] + a * n + b]
    RN = _rn(M, target)
    M[RN + RN_WAKES] += 1
    if a != b:
        M[RN + RN_REMOTE_WAKES] += 1
        M[RN + RN_REMOTE_WAKE_NS] += cost
    return cost


@kernel
def mem_ns(M, F, cpu, region, nbytes, pattern):
    """Numa.mem_ns: CPU time to read `nbytes` of `region` from `cpu`, counting the bytes read
    per (CPU node, memory node) for the load refresh and numastat."""
    n = M[M[H_X] + X_NNODES]
    node = node_of(M, cpu)
    fr = M[H_FREG] + region * n
    row = M[H_FBYTES] + node * n
    if pattern == RANDOM:
        line = M[H_FLINE] + node * n
        t = 0.0
        for b in range(n):
            f = F[fr + b]
            if f > 0:
                x = nbytes * f
                F[row + b] += x
                t += -(-x // LINE) * F[line + b]  # whole lines of each node's part
        return int(t + 0.5)
    for b in range(n):
        f = F[fr + b]
        if f > 0:
            F[row + b] += nbytes * f
    s = M[H_FSTREAM] + (region * n + node) * 2
    return int(F[s] + F[s + 1] * nbytes)


_B1, _B2 = float(1 << 20), float(1 << 21)  # host/numa.py's fit sizes


@alloc
def refresh(M, F):
    """Numa.refresher's round: the streams of the last window (bytes per ns per CPU node and memory
    node) as a LoadState; if it differs from the current one, the tables again (_build_tables)."""
    X = M[H_X]
    n = M[X + X_NNODES]
    s = M[X + X_NSOCK]
    K = M[X + X_MC_K]
    K2 = M[X + X_MC_K2]
    rows = M[X + X_MC_ROWS]
    mi = M[H_MC]
    cpu_node = M[mi:mi + rows]
    pattern = M[mi + rows:mi + 2 * rows]
    out = M[mi + 2 * rows:mi + 3 * rows]
    socket = M[mi + 3 * rows:mi + 3 * rows + n]
    dist = M[mi + 3 * rows + n:mi + 3 * rows + n + n * n].reshape((n, n))
    o = M[H_FMC]
    frac = F[o:o + rows * n].reshape((rows, n))
    o += rows * n
    nbytes = F[o:o + rows]
    o += rows
    mlp = F[o:o + rows]
    o += rows
    idle = F[o:o + n * n].reshape((n, n))
    o += n * n
    mem_x = F[o:o + n * K].reshape((n, K))
    o += n * K
    mem_y = F[o:o + n * K].reshape((n, K))
    o += n * K
    link_x = F[o:o + K2]
    o += K2
    link_y = F[o:o + K2]
    o += K2
    core_gbps = F[o]
    penalty = F[o + 1]
    o += 2
    load_mem = F[o:o + n]
    o += n
    load_link = F[o:o + s * s].reshape((s, s))
    o += s * s
    new_mem = F[o:o + n]
    o += n
    new_link = F[o:o + s * s].reshape((s, s))
    o += s * s
    seen = F[o:o + n * n]
    by = M[H_FBYTES]
    # LoadState.from_streams over the streams in the order the reference lists them
    new_mem[:] = 0.0
    new_link[:, :] = 0.0
    for a in range(n):
        for b in range(n):
            d = F[by + a * n + b] - seen[a * n + b]
            if d > 0:
                g = d / LOAD_REFRESH_NS  # bytes per ns = GB/s
                new_mem[b] += g
                sa, sb = socket[a], socket[b]
                if sa != sb:
                    new_link[sa, sb] += g
                    new_link[sb, sa] += g
            seen[a * n + b] = F[by + a * n + b]
    same = True
    for b in range(n):
        if new_mem[b] != load_mem[b]:
            same = False
    for i in range(s):
        for j in range(s):
            if new_link[i, j] != load_link[i, j]:
                same = False
    if same:
        return
    load_mem[:] = new_mem
    load_link[:, :] = new_link
    _cost_batch(cpu_node, frac, nbytes, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket, core_gbps, dist,
                penalty, load_mem, load_link, out)
    # _build_tables: per (region, cpu node) the affine fit a + k * bytes from the two sizes, then
    # per (cpu node, memory node) the cost of one line
    nreg = M[X + X_NREG]
    st = M[H_FSTREAM]
    i = 0
    for r in range(nreg):
        for a in range(n):
            c1 = float(out[i])
            c2 = float(out[i + 1])
            k = (c2 - c1) / (_B2 - _B1)
            F[st + (r * n + a) * 2] = c1 - k * _B1 + 0.5  # +0.5: int() then rounds to nearest
            F[st + (r * n + a) * 2 + 1] = k
            i += 2
    ln = M[H_FLINE]
    for a in range(n):
        for b in range(n):
            F[ln + a * n + b] = float(out[i + a * n + b]) / (_B1 / LINE)
