"""Where worker threads run and where memory lives.

Threads (linux terms: an affinity mask, sched_setaffinity):
- `unpinned(mask, migrate_rate_hz, stay_on_node)`: workers float inside a mask and the OS moves
  them; between two polls a worker may land on another CPU, possibly another node. This is
  iris-mpc's set-up (SEPARATE_TOKIO_CORES_PER_NODE: one mask over the first n CPUs of each node).
- `pinned(cpus)`: one worker per CPU, never moves.
- `per_runtime(node)`: a runtime's workers confined to one node's CPUs (float inside it).

Memory (linux mempolicy terms): `first_touch()` puts a region on the node of the thread that
allocates (touches) it, `interleave(nodes)` spreads pages evenly, `bind(node)` forces one node.
A placement is a vector of page fractions per node, which is what the cost model reads.

Plain functions and frozen dataclasses; random draws are passed in, so the same draws give the same
placement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .topology import Machine


# --- threads ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThreadAffinity:
    """How a set of worker threads may be placed.

    kind: "unpinned" (float within `cpus`, moved at `migrate_rate_hz`), "pinned" (worker i on
    cpus[i]) or "per_runtime" (float within one node's CPUs; same migration rule).
    `stay_on_node`: probability that a migration stays on the current node. Linux balances inside
    the LLC / node scheduling domains far more often than across NUMA domains; None means "uniform
    over the mask" (no such preference).
    """

    kind: str
    cpus: tuple[int, ...]
    migrate_rate_hz: float = 0.0
    stay_on_node: float | None = None

    def __post_init__(self):
        if self.kind not in ("unpinned", "pinned", "per_runtime"):
            raise ValueError(f"unknown affinity kind {self.kind!r}")
        if not self.cpus:
            raise ValueError("an affinity mask needs at least one CPU")
        if self.migrate_rate_hz < 0:
            raise ValueError("migrate_rate_hz must be >= 0")
        if self.stay_on_node is not None and not 0.0 <= self.stay_on_node <= 1.0:
            raise ValueError("stay_on_node must be in [0, 1]")


def unpinned(m: Machine, cpus=None, migrate_rate_hz: float = 100.0, stay_on_node: float | None = None) -> ThreadAffinity:
    """Workers float within `cpus` (default: every CPU of the machine)."""
    cpus = tuple(sorted(cpus)) if cpus is not None else m.cpus
    _check_cpus(m, cpus)
    return ThreadAffinity("unpinned", cpus, migrate_rate_hz, stay_on_node)


def pinned(m: Machine, cpus) -> ThreadAffinity:
    """Worker i pinned to cpus[i]."""
    cpus = tuple(cpus)
    _check_cpus(m, cpus)
    if len(set(cpus)) != len(cpus):
        raise ValueError("pinned workers need distinct CPUs")
    return ThreadAffinity("pinned", cpus)


def per_runtime(m: Machine, node: int, migrate_rate_hz: float = 100.0) -> ThreadAffinity:
    """A runtime confined to one node: its workers float over that node's CPUs only."""
    return ThreadAffinity("per_runtime", m.node_cpus[node], migrate_rate_hz, 1.0)


def first_cpus_per_node(m: Machine, n: int) -> tuple[int, ...]:
    """The first n CPUs of every node: iris-mpc's SEPARATE_TOKIO_CORES_PER_NODE mask."""
    return tuple(c for cs in m.node_cpus for c in sorted(cs)[:n])


def _check_cpus(m: Machine, cpus) -> None:
    have = set(m.cpus)
    bad = [c for c in cpus if c not in have]
    if bad:
        raise ValueError(f"CPUs {bad[:5]} are not on machine {m.name}")


def initial_cpus(m: Machine, aff: ThreadAffinity, n_workers: int) -> tuple[int, ...]:
    """Starting CPU of each worker: round-robin over the mask's nodes, so a fresh runtime spreads
    like Linux's initial placement of new threads (wake-balance toward idle CPUs)."""
    if aff.kind == "pinned":
        if n_workers > len(aff.cpus):
            raise ValueError(f"{n_workers} pinned workers but only {len(aff.cpus)} CPUs")
        return aff.cpus[:n_workers]
    by_node: dict[int, list[int]] = {}
    for c in aff.cpus:
        by_node.setdefault(m.node_of_cpu(c), []).append(c)
    nodes = sorted(by_node)
    out, i = [], 0
    while len(out) < n_workers:
        node = nodes[i % len(nodes)]
        lst = by_node[node]
        out.append(lst[(i // len(nodes)) % len(lst)])
        i += 1
    return tuple(out)


def migration_probability(aff: ThreadAffinity, dt_ns: int) -> float:
    """Chance the OS moved a floating worker during `dt_ns` (Poisson at `migrate_rate_hz`)."""
    if aff.kind == "pinned" or aff.migrate_rate_hz == 0 or dt_ns <= 0:
        return 0.0
    return 1.0 - math.exp(-aff.migrate_rate_hz * dt_ns * 1e-9)


def next_cpu(m: Machine, aff: ThreadAffinity, cpu: int, dt_ns: int, u_move: float, u_node: float, u_cpu: float) -> int:
    """CPU a worker runs on at its next poll, `dt_ns` after the last one on `cpu`.

    Three uniform draws in [0, 1) are passed in: whether it moved, whether it stayed on its node
    (when `stay_on_node` is set), and which CPU it landed on.
    """
    if u_move >= migration_probability(aff, dt_ns):
        return cpu
    here = m.node_of_cpu(cpu)
    choices = [c for c in aff.cpus if c != cpu]
    if not choices:
        return cpu
    if aff.stay_on_node is not None:
        same = [c for c in choices if m.node_of_cpu(c) == here]
        other = [c for c in choices if m.node_of_cpu(c) != here]
        if same and (u_node < aff.stay_on_node or not other):
            choices = same
        elif other:
            choices = other
    return choices[min(int(u_cpu * len(choices)), len(choices) - 1)]


def next_cpus(m: Machine, aff: ThreadAffinity, cpus, dt_ns, draws) -> np.ndarray:
    """`next_cpu` for every worker at once; `draws` is float[k, 3]."""
    cpus = np.asarray(cpus)
    dt_ns = np.broadcast_to(np.asarray(dt_ns), cpus.shape)
    return np.array([next_cpu(m, aff, int(c), int(t), *map(float, d)) for c, t, d in zip(cpus, dt_ns, draws)],
                    dtype=np.int64)


# --- memory ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """A memory region the workload touches. `name` is for output; `nbytes` its size."""

    name: str
    nbytes: int


@dataclass(frozen=True)
class MemPolicy:
    """kind: "first_touch", "interleave" (over `nodes`, default all) or "bind" (to nodes[0])."""

    kind: str
    nodes: tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind not in ("first_touch", "interleave", "bind"):
            raise ValueError(f"unknown memory policy {self.kind!r}")
        if self.kind == "bind" and len(self.nodes) != 1:
            raise ValueError("bind takes exactly one node")


def first_touch() -> MemPolicy:
    return MemPolicy("first_touch")


def interleave(nodes=()) -> MemPolicy:
    return MemPolicy("interleave", tuple(nodes))


def bind(node: int) -> MemPolicy:
    return MemPolicy("bind", (node,))


@dataclass(frozen=True)
class RegionPlacement:
    """Fraction of a region's pages on each node (sums to 1)."""

    region: Region
    frac: tuple[float, ...] = field(default=())

    @property
    def home(self) -> int:
        """The node holding most of the region."""
        return int(np.argmax(self.frac))


def place_region(m: Machine, region: Region, policy: MemPolicy, allocating_cpu: int | None = None) -> RegionPlacement:
    """Where a region's pages land under a policy.

    first_touch needs the allocating thread's CPU: Linux puts each page on the node of the CPU
    that first writes it (iris-mpc clones each iris inside its eye's pinned worker for this reason).
    """
    f = [0.0] * m.n_nodes
    if policy.kind == "first_touch":
        if allocating_cpu is None:
            raise ValueError("first_touch needs the allocating thread's CPU")
        f[m.node_of_cpu(allocating_cpu)] = 1.0
    elif policy.kind == "bind":
        node = policy.nodes[0]
        if not 0 <= node < m.n_nodes:
            raise ValueError(f"bind to node {node}: machine has {m.n_nodes} nodes")
        f[node] = 1.0
    else:
        nodes = policy.nodes or tuple(range(m.n_nodes))
        if any(not 0 <= x < m.n_nodes for x in nodes):
            raise ValueError(f"interleave over {nodes}: machine has {m.n_nodes} nodes")
        for x in nodes:
            f[x] += 1.0 / len(nodes)
    return RegionPlacement(region, tuple(f))


# Sizes from iris-mpc-hawk.md: per party per eye, a code share of 25,600 B and a mask share of
# 12,800 B per iris; the graph keeps Rice-coded u32 neighbour lists (taken here as ~4 B per link
# before coding, an upper bound).
IRIS_SHARE_BYTES = 25_600 + 12_800


def hawk_regions(db_size: int, m_links: int = 256, sessions: int = 2304, task_state_bytes: int = 16_384) -> dict:
    """The regions of iris-mpc's Hawk job: an iris store per eye, a graph per eye, query buffers and
    task state (per session). A starting size table for the workload model to refine."""
    return {
        "store_left": Region("store_left", db_size * IRIS_SHARE_BYTES),
        "store_right": Region("store_right", db_size * IRIS_SHARE_BYTES),
        "graph_left": Region("graph_left", db_size * 2 * m_links * 4),
        "graph_right": Region("graph_right", db_size * 2 * m_links * 4),
        # 31 rotations + 31 mirrored, both eyes, per query.
        "query_buffers": Region("query_buffers", sessions * 62 * IRIS_SHARE_BYTES),
        "task_state": Region("task_state", sessions * task_state_bytes),
    }
