"""Memory cost: what a poll's memory work and cross-node scheduling cost, in integer nanoseconds.

The model, resource by resource (figures and sources in presets.py and docs/machine.md):

- Latency from a CPU on node a to memory on node b is the idle pair latency plus the queueing at
  b's DRAM (its loaded-latency curve at the bandwidth b is serving) plus, across sockets, the
  queueing on the socket link. So the remote penalty is not a constant: it grows with load, as the
  Mess remote curves and Carrefour's "congestion matters more than wire delay" both show.
- A streaming access pays one lead-off latency, then bytes / bandwidth. One core's bandwidth is
  bounded by the misses it keeps in flight (Little's law: it falls as latency rises); concurrent
  streams share a node's DRAM and a socket link in proportion to their demand.
- Dependent random reads (a pointer chase, an HNSW hop) pay one loaded latency per cache line,
  divided by the number of independent chains in flight (`mlp`).
- Scheduling moves cache lines: a steal CASes the victim's queue head and copies task pointers, a
  wake pushes to a queue and unparks a worker, and the first poll after a task migrates re-reads
  its working set from the old CPU's caches. Each line costs one core-to-core transfer (§3.4).
- `remote_penalty` (None = the machine's own figures) replaces all of that for remote pairs by
  "local cost × ratio", with ratio rising with SLIT distance to `remote_penalty` at the farthest
  pair; at 1.0 remote costs exactly what local does.

`LoadState` is what the scheduler knows about concurrent traffic; `LoadState.from_streams` turns a
list of active streams into it. The batch path (`cost_batch_ns`) is one Numba call per batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from ..kernels import memcost
from .topology import LOCAL_DISTANCE, Machine

LINE_BYTES = memcost.LINE_BYTES
# Cache lines a steal moves before the first stolen task can run: load the victim's head, CAS it
# (steal half), read the tail; plus the copied task pointers (8 bytes each). tokio queue.rs
# steal_into2 does these three atomic operations on the victim's Inner.
STEAL_FIXED_LINES = 3
# A cross-node wake: push to the target's queue (or the inject queue's mutex + tail), the idle
# state atomic that picks a sleeper, and the parker state of the woken worker.
WAKE_LINES = 4
# Independent lines in flight when a migrated task refills its working set on the new CPU.
REFILL_MLP = 4.0


class Pattern(IntEnum):
    STREAM = memcost.STREAM
    RANDOM = memcost.RANDOM


@dataclass(frozen=True)
class MachineArrays:
    """The machine as arrays for the kernels (built once per machine)."""

    idle: np.ndarray      # [n, n] ns
    mem_x: np.ndarray     # [n, K] GB/s, padded by repeating the last point
    mem_y: np.ndarray     # [n, K] ns added by DRAM queueing
    link_x: np.ndarray    # [K2] GB/s
    link_y: np.ndarray    # [K2] ns added on the link
    socket: np.ndarray    # [n] int64
    core_gbps: float
    dist: np.ndarray      # [n, n] int64
    c2c: np.ndarray       # [n, n] ns


def machine_arrays(m: Machine) -> MachineArrays:
    # Kept on the (frozen) machine itself: hashing a Machine per call would cost more than the
    # kernel does.
    cached = m.__dict__.get("_arrays_cache")
    if cached is None:
        cached = _machine_arrays(m)
        object.__setattr__(m, "_arrays_cache", cached)
    return cached


def _machine_arrays(m: Machine) -> MachineArrays:
    n = m.n_nodes
    k = max(len(c.gbps) for c in m.mem_curve)
    mem_x = np.empty((n, k))
    mem_y = np.empty((n, k))
    for i, c in enumerate(m.mem_curve):
        xs = list(c.gbps) + [c.gbps[-1]] * (k - len(c.gbps))
        ys = [y - c.ns[0] for y in c.ns] + [c.ns[-1] - c.ns[0]] * (k - len(c.ns))
        mem_x[i], mem_y[i] = xs, ys
    return MachineArrays(
        idle=np.array(m.idle_ns, dtype=np.float64), mem_x=mem_x, mem_y=mem_y,
        link_x=np.array(m.link_extra.gbps, dtype=np.float64), link_y=np.array(m.link_extra.ns, dtype=np.float64),
        socket=np.array(m.node_socket, dtype=np.int64), core_gbps=float(m.core_gbps),
        dist=np.array(m.distance, dtype=np.int64), c2c=np.array(m.c2c_ns, dtype=np.float64),
    )


@dataclass(frozen=True)
class LoadState:
    """Concurrent traffic, as offered demand: the GB/s all running streams (the priced access's own
    included) would draw from each node's DRAM, and across each socket pair (symmetric), if
    unthrottled. An idle state means the access runs alone.

    Demand above a resource's peak is what makes streams share it (each gets peak x its demand /
    total demand); latency follows the curve up to the peak and stays at the saturated value.
    """

    mem_gbps: tuple[float, ...]
    link_gbps: tuple[tuple[float, ...], ...]

    @staticmethod
    def idle(m: Machine) -> "LoadState":
        s = max(m.node_socket) + 1
        return LoadState((0.0,) * m.n_nodes, ((0.0,) * s,) * s)

    @staticmethod
    def from_streams(m: Machine, streams) -> "LoadState":
        """Load from active streams `(cpu_node, mem_node, gbps demanded)`: each adds to the memory
        node's DRAM and, when it crosses sockets, to the link between the two sockets. A stream's
        demand is what one core pulls on its own: `stream_demand_gbps`."""
        s = max(m.node_socket) + 1
        mem = [0.0] * m.n_nodes
        link = [[0.0] * s for _ in range(s)]
        for a, b, g in streams:
            mem[b] += g
            sa, sb = m.node_socket[a], m.node_socket[b]
            if sa != sb:
                link[sa][sb] += g
                link[sb][sa] += g
        return LoadState(tuple(mem), tuple(tuple(r) for r in link))

    def arrays(self):
        return np.asarray(self.mem_gbps, dtype=np.float64), np.asarray(self.link_gbps, dtype=np.float64)


def _frac(m: Machine, placement) -> np.ndarray:
    """Accept a node index, a RegionPlacement (has .frac) or a sequence of per-node fractions."""
    if isinstance(placement, (int, np.integer)):
        f = np.zeros(m.n_nodes)
        f[int(placement)] = 1.0
        return f
    f = np.asarray(getattr(placement, "frac", placement), dtype=np.float64)
    if f.shape != (m.n_nodes,):
        raise ValueError(f"placement must give {m.n_nodes} node fractions, got shape {f.shape}")
    return f


def _penalty(remote_penalty) -> float:
    if remote_penalty is None:
        return 0.0
    if remote_penalty < 1.0:
        raise ValueError("remote_penalty must be >= 1.0 (1.0: remote costs what local does)")
    return float(remote_penalty)


def cost_ns(m: Machine, cpu_node: int, region_placement, nbytes: float, pattern: Pattern = Pattern.STREAM,
            load_state: LoadState | None = None, *, mlp: float = 1.0, remote_penalty: float | None = None) -> int:
    """Time (ns) for a CPU on `cpu_node` to read `nbytes` of a region placed as `region_placement`.

    One access; for many, use `cost_batch_ns` (one kernel call for the whole batch).
    """
    return int(cost_batch_ns(m, [cpu_node], [_frac(m, region_placement)], [nbytes], [int(pattern)], load_state,
                             mlp=[mlp], remote_penalty=remote_penalty)[0])


def cost_batch_ns(m: Machine, cpu_nodes, placements, nbytes, patterns, load_state: LoadState | None = None, *,
                  mlp=None, remote_penalty: float | None = None, out=None) -> np.ndarray:
    """Integer ns per access for a batch. `placements` is a [k, nodes] array of page fractions (or a
    list of anything `cost_ns` accepts)."""
    arr = machine_arrays(m)
    cpu_nodes = np.asarray(cpu_nodes, dtype=np.int64)
    k = cpu_nodes.shape[0]
    pl = np.asarray(placements, dtype=np.float64) if not isinstance(placements, list) else \
        np.array([_frac(m, p) for p in placements]).reshape(k, m.n_nodes)
    mlp = np.ones(k) if mlp is None else np.asarray(mlp, dtype=np.float64)
    mem, link = (load_state or LoadState.idle(m)).arrays()
    return memcost.cost_batch(arr, cpu_nodes, pl, nbytes, patterns, mlp, mem, link, _penalty(remote_penalty), out)


def loaded_latency_ns(m: Machine, cpu_node: int, mem_node: int, load_state: LoadState | None = None,
                      remote_penalty: float | None = None) -> float:
    """Latency of one dependent cache-line read under a load (what MLC --loaded_latency reports)."""
    return float(cost_ns(m, cpu_node, mem_node, LINE_BYTES, Pattern.RANDOM, load_state, remote_penalty=remote_penalty))


def achieved_gbps(m: Machine, cpu_node: int, mem_node: int, n_streams: int | None = None) -> tuple[float, float]:
    """Aggregate bandwidth and loaded latency when `n_streams` cores of `cpu_node` (default: all of
    them) stream from `mem_node` and nothing else runs: the model's bandwidth-latency point.

    Solved as a fixed point: each stream's bandwidth depends on the latency and the share, which
    depend on the total.
    """
    k = len(m.node_cpus[cpu_node]) if n_streams is None else n_streams
    nbytes = 1 << 24  # long enough that the lead-off latency is noise
    d = m.core_gbps
    for _ in range(500):
        new = stream_demand_gbps(m, cpu_node, mem_node, LoadState.from_streams(m, [(cpu_node, mem_node, k * d)]))
        if abs(new - d) < 1e-6 * new:
            break
        d = 0.5 * d + 0.5 * new
    load = LoadState.from_streams(m, [(cpu_node, mem_node, k * d)])
    total = k * nbytes / cost_ns(m, cpu_node, mem_node, nbytes, Pattern.STREAM, load)
    lat = loaded_latency_ns(m, cpu_node, mem_node, load)
    return total, lat


def stream_demand_gbps(m: Machine, cpu_node: int, mem_node: int, load_state: LoadState | None = None) -> float:
    """What one core streaming from `mem_node` pulls when unthrottled: its idle-local bandwidth
    scaled down by how much longer each miss takes (fixed misses in flight)."""
    lat = loaded_latency_ns(m, cpu_node, mem_node, load_state)
    return m.core_gbps * m.idle_ns[cpu_node][cpu_node] / lat


def remote_ratio(m: Machine, a: int, b: int, remote_penalty: float | None = None) -> float:
    """Idle latency ratio remote/local for a CPU on a reading node b's memory."""
    if remote_penalty is not None:
        dmax = max(max(r) for r in m.distance)
        if a == b or dmax == LOCAL_DISTANCE:
            return 1.0
        return 1.0 + (_penalty(remote_penalty) - 1.0) * (m.distance[a][b] - LOCAL_DISTANCE) / (dmax - LOCAL_DISTANCE)
    return m.idle_ns[a][b] / m.idle_ns[b][b]


def c2c_ns(m: Machine, a: int, b: int, remote_penalty: float | None = None) -> float:
    """One contended cache line moved between a CPU on node a and one on node b."""
    if remote_penalty is None or a == b:
        return m.c2c_ns[a][b]
    return m.c2c_ns[b][b] * remote_ratio(m, a, b, remote_penalty)


def steal_lines(n_tasks: int) -> int:
    """Cache lines a steal of `n_tasks` moves: the queue's atomics plus the copied task pointers."""
    return STEAL_FIXED_LINES + math.ceil(max(n_tasks, 0) * 8 / LINE_BYTES)


def steal_cost_ns(m: Machine, thief_node: int, victim_node: int, n_tasks: int = 1,
                  remote_penalty: float | None = None) -> int:
    """Extra time a worker on `thief_node` spends stealing `n_tasks` from a worker on `victim_node`.

    The atomics are a dependent chain (load head, CAS, read tail), so lines are paid one after the
    other. A same-node steal still moves lines, just cheaper ones.
    """
    return int(round(steal_lines(n_tasks) * c2c_ns(m, thief_node, victim_node, remote_penalty)))


def wake_cost_ns(m: Machine, waker_node: int, target_node: int, lines: int = WAKE_LINES,
                 remote_penalty: float | None = None) -> int:
    """Extra time a wake from `waker_node` to a worker (or queue) on `target_node` costs the waker."""
    return int(round(lines * c2c_ns(m, waker_node, target_node, remote_penalty)))


def refill_cost_ns(m: Machine, from_node: int, to_node: int, working_set_bytes: int, mlp: float = REFILL_MLP,
                   remote_penalty: float | None = None) -> int:
    """First poll after a task moved CPUs: its working set comes over from the old CPU's caches."""
    lines = math.ceil(max(working_set_bytes, 0) / LINE_BYTES)
    return int(round(lines * c2c_ns(m, to_node, from_node, remote_penalty) / mlp))


def remote_node_order(m: Machine, node: int) -> list[int]:
    """Other nodes from nearest to farthest (SLIT, then idle latency): the order a NUMA-aware
    stealer would try victims in."""
    return sorted((b for b in range(m.n_nodes) if b != node), key=lambda b: (m.distance[node][b], m.idle_ns[node][b], b))
