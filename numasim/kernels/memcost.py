"""Memory-cost kernel: the time a batch of memory accesses takes, from where each runs and reads.

One call prices a whole batch (all polls of a scheduling round, say): per access the CPU's node, the
fraction of the region's pages on each node, the bytes, the pattern (streaming or dependent random
reads) and its memory-level parallelism. The load state (bandwidth already drawn from each node's
DRAM and across each socket pair) is shared by the batch. Pure function over arrays; the model is
described in numasim/machine/memory.py and docs/machine.md.
"""
from __future__ import annotations

import numpy as np
from numba import njit

STREAM = 0
RANDOM = 1
LINE_BYTES = 64


@njit(cache=True, inline="always")
def _interp(x, xs, ys):
    """Piecewise-linear y(x), clamped at both ends (np.interp without its array set-up)."""
    if x <= xs[0]:
        return ys[0]
    for i in range(1, xs.shape[0]):
        if x <= xs[i]:
            dx = xs[i] - xs[i - 1]
            return ys[i] if dx == 0.0 else ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / dx
    return ys[xs.shape[0] - 1]


@njit(cache=True, inline="always")
def _part_ns(a, b, nbytes, weight, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket, core_gbps,
             mem_load, link_load):
    """Time for `nbytes` of one access read by a CPU on node a from memory on node b.

    `weight` is the share of the access's lead-off latency this part carries (its page fraction).
    """
    sa, sb = socket[a], socket[b]
    cross = sa != sb
    # Loaded latency: idle pair latency plus queueing at b's DRAM and, across sockets, on the link.
    lat = idle[a, b] + _interp(mem_load[b], mem_x[b], mem_y[b])
    if cross:
        lat += _interp(link_load[sa, sb], link_x, link_y)
    # One core keeps a fixed number of misses in flight (Little's law), so its own stream slows as
    # latency grows: core_gbps is what it gets at its idle local latency.
    bw = core_gbps * idle[a, a] / lat
    peak = mem_x[b, mem_x.shape[1] - 1]
    # The load state already includes this access's own demand (it is one of the running streams);
    # an idle state means it runs alone.
    offered = mem_load[b] if mem_load[b] > bw else bw
    share = 1.0
    if offered > peak:  # DRAM oversubscribed: streams share it in proportion to demand
        share = peak / offered
    if cross:
        # The tighter of DRAM and link sets the share (not their product: the same throttled
        # stream passes both).
        lpeak = link_x[link_x.shape[0] - 1]
        loffered = link_load[sa, sb] if link_load[sa, sb] > bw else bw
        if loffered > lpeak and lpeak / loffered < share:
            share = lpeak / loffered
    bw = bw * share
    if pattern == STREAM:
        return weight * lat + nbytes / bw  # GB/s == bytes/ns
    # Dependent random reads: each line waits for the previous result, `mlp` chains overlap.
    lines = np.ceil(nbytes / LINE_BYTES)
    t = lines * lat / mlp
    tb = nbytes / bw
    return t if t > tb else tb


@njit(cache=True, inline="always")
def _access_ns(a, frac, nbytes, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket, core_gbps,
               dist, dmax, penalty, mem_load, link_load):
    n = frac.shape[0]
    total = 0.0
    for b in range(n):
        f = frac[b]
        if f <= 0.0:
            continue
        if penalty > 0.0 and b != a:
            # The knob replaces the machine's remote figures: price the part as if it were local to
            # b, then scale by a ratio that grows with SLIT distance up to `penalty` at the farthest.
            t = _part_ns(b, b, nbytes * f, f, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket,
                         core_gbps, mem_load, link_load)
            ratio = 1.0 + (penalty - 1.0) * (dist[a, b] - 10) / (dmax - 10) if dmax > 10 else 1.0
            total += t * ratio
        else:
            total += _part_ns(a, b, nbytes * f, f, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket,
                              core_gbps, mem_load, link_load)
    return total


@njit(cache=True)
def _cost_batch(cpu_node, frac, nbytes, pattern, mlp, idle, mem_x, mem_y, link_x, link_y, socket, core_gbps,
                dist, penalty, mem_load, link_load, out):
    dmax = 10
    for i in range(dist.shape[0]):
        for j in range(dist.shape[1]):
            if dist[i, j] > dmax:
                dmax = dist[i, j]
    for i in range(cpu_node.shape[0]):
        out[i] = np.int64(np.rint(_access_ns(cpu_node[i], frac[i], nbytes[i], pattern[i], mlp[i], idle, mem_x,
                                             mem_y, link_x, link_y, socket, core_gbps, dist, dmax, penalty, mem_load,
                                             link_load)))
    return out


def cost_batch(arrays, cpu_node, frac, nbytes, pattern, mlp, mem_load, link_load, penalty=0.0, out=None):
    """Checked entry point: integer ns per access. `arrays` is `machine.memory.machine_arrays(m)`.

    cpu_node: int64[k]; frac: float64[k, nodes] (rows sum to 1); nbytes: float64[k];
    pattern: int64[k] (STREAM or RANDOM); mlp: float64[k] (>= 1); mem_load: float64[nodes] GB/s;
    link_load: float64[sockets, sockets] GB/s; penalty: remote multiplier, 0 = machine figures.
    """
    n = arrays.idle.shape[0]
    cpu_node = np.ascontiguousarray(cpu_node, dtype=np.int64)
    k = cpu_node.shape[0]
    frac = np.ascontiguousarray(frac, dtype=np.float64)
    nbytes = np.ascontiguousarray(nbytes, dtype=np.float64)
    pattern = np.ascontiguousarray(pattern, dtype=np.int64)
    mlp = np.ascontiguousarray(mlp, dtype=np.float64)
    mem_load = np.ascontiguousarray(mem_load, dtype=np.float64)
    link_load = np.ascontiguousarray(link_load, dtype=np.float64)
    if frac.shape != (k, n):
        raise ValueError(f"frac must be ({k}, {n}), got {frac.shape}")
    for name, arr in (("nbytes", nbytes), ("pattern", pattern), ("mlp", mlp)):
        if arr.shape != (k,):
            raise ValueError(f"{name} must have shape ({k},), got {arr.shape}")
    if k and (cpu_node.min() < 0 or cpu_node.max() >= n):
        raise ValueError("cpu_node out of range")
    if k and (np.any(nbytes < 0) or np.any(mlp < 1) or np.any((pattern != STREAM) & (pattern != RANDOM))):
        raise ValueError("nbytes must be >= 0, mlp >= 1, pattern STREAM or RANDOM")
    if k and np.any(np.abs(frac.sum(axis=1) - 1.0) > 1e-6):
        raise ValueError("each frac row must sum to 1")
    if mem_load.shape != (n,) or link_load.shape[0] != link_load.shape[1]:
        raise ValueError("mem_load must be (nodes,), link_load (sockets, sockets)")
    if penalty < 0 or (0 < penalty < 1):
        raise ValueError("remote_penalty must be >= 1 (or 0 for the machine's own figures)")
    if out is None:
        out = np.empty(k, dtype=np.int64)
    a = arrays
    return _cost_batch(cpu_node, frac, nbytes, pattern, mlp, a.idle, a.mem_x, a.mem_y, a.link_x, a.link_y, a.socket,
                       a.core_gbps, a.dist, float(penalty), mem_load, link_load, out)
