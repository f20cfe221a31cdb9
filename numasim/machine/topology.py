"""The NUMA machine: nodes, CPUs, SLIT distances, and the memory figures the cost model reads.

A `Machine` is plain frozen data. Node indices are 0..n-1 inside the model; `node_ids` keeps the
ids the OS printed (sysfs can skip numbers), so that messages and output use the user's names.

Memory is described per (CPU node, memory node) pair by an idle load-to-use latency, and per
resource by a loaded-latency curve (Mess style, bsc-mem/Mess-Results): latency as a function of the
read bandwidth drawn through that resource. Two kinds of resource are shared: each node's DRAM
controllers, and the link between each pair of sockets (UPI / xGMI / the Graviton coherent link).
A remote access pays the idle remote latency plus the queueing added by both, which is why a
fixed local/remote pair is not enough: under load the remote penalty grows (hardware notes §3.1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import TopologyError

LOCAL_DISTANCE = 10
# SLIT values below this are "same package" (AMD 12/16, Intel SNC 11); 21 and 32 cross a socket
# link. Used only when a topology source does not say which node sits on which socket.
SAME_SOCKET_MAX_DISTANCE = 20


@dataclass(frozen=True)
class Curve:
    """Piecewise-linear latency (ns) against read bandwidth drawn (GB/s, which is bytes per ns).

    The first point is the idle latency at 0 GB/s; the last is the saturation point, whose
    bandwidth is the most the resource delivers. Beyond it latency stays at the last value: the
    excess demand is not served, it waits (the cost model shares the bandwidth instead).
    """

    gbps: tuple[float, ...]
    ns: tuple[float, ...]

    def __post_init__(self):
        if len(self.gbps) != len(self.ns) or len(self.gbps) < 2:
            raise ValueError("a curve needs at least two (gbps, ns) points of equal length")
        if self.gbps[0] != 0.0:
            raise ValueError("a curve starts at 0 GB/s (the idle point)")
        if any(b < a for a, b in zip(self.gbps, self.gbps[1:])):
            raise ValueError("curve bandwidths must not decrease")

    @property
    def idle_ns(self) -> float:
        return self.ns[0]

    @property
    def peak_gbps(self) -> float:
        return self.gbps[-1]

    def at(self, gbps: float) -> float:
        """Latency at a drawn bandwidth (clamped to the curve's ends)."""
        xs, ys = self.gbps, self.ns
        if gbps <= 0:
            return ys[0]
        for i in range(1, len(xs)):
            if gbps <= xs[i]:
                x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
                return y1 if x1 == x0 else y0 + (y1 - y0) * (gbps - x0) / (x1 - x0)
        return ys[-1]

    def extra(self) -> "Curve":
        """The same curve less its idle latency: the queueing a load adds."""
        return Curve(self.gbps, tuple(y - self.ns[0] for y in self.ns))


# Shape of a loaded-latency curve as (utilisation, latency / idle). From the SPR 8480+ Mess local
# 100%-read curve (116 ns idle; 130 @ 117, 166 @ 198, 195 @ 218 of 233 GB/s), with the saturation
# end extrapolated (Mess: "200-600 ns+ under saturation"). Used for presets whose loaded curve
# was not measured; a calibrated profile replaces it.
SPR_SHAPE = ((0.0, 1.0), (117 / 233, 130 / 116), (198 / 233, 166 / 116), (218 / 233, 195 / 116), (1.0, 240 / 116))


def shaped_curve(idle_ns: float, peak_gbps: float, shape=SPR_SHAPE) -> Curve:
    """A loaded-latency curve with a borrowed shape, scaled to an idle latency and a peak."""
    return Curve(tuple(u * peak_gbps for u, _ in shape), tuple(r * idle_ns for _, r in shape))


def link_extra_from_remote(local: Curve, remote_idle_ns: float, remote_points) -> Curve:
    """Derive a link's added-latency curve from a measured remote loaded-latency curve.

    When one node reads another socket's memory, the traffic queues at the remote DRAM and on the
    link. The remote curve measures both; subtracting the DRAM share (the local curve's queueing
    at the same bandwidth) leaves the link's, so the model adds them back up to the measurement.
    """
    local_extra = local.extra()
    xs, ys = [0.0], [0.0]
    for gbps, ns in remote_points:
        xs.append(gbps)
        ys.append(max(ys[-1], ns - remote_idle_ns - local_extra.at(gbps)))
    return Curve(tuple(xs), tuple(ys))


@dataclass(frozen=True)
class Machine:
    """Nodes × CPUs with distances, per-pair idle latency, loaded-latency curves and link bandwidth.

    `idle_ns[a][b]`: load-to-use latency from a CPU on node a to memory on node b, idle.
    `mem_curve[b]`: latency against bandwidth drawn from node b's DRAM, read locally.
    `link_extra`: latency the socket link adds against the bandwidth crossing it; its last point's
    bandwidth is the link's read capacity (one direction, each socket pair).
    `core_gbps`: what one core can stream on its own (limited by its outstanding misses).
    `c2c_ns[a][b]`: moving one contended cache line between a CPU on node a and one on node b.
    `reference`: the published figures the memory figures came from (checked by tests).
    """

    name: str
    node_ids: tuple[int, ...]
    node_cpus: tuple[tuple[int, ...], ...]
    node_socket: tuple[int, ...]
    distance: tuple[tuple[int, ...], ...]
    idle_ns: tuple[tuple[float, ...], ...]
    mem_curve: tuple[Curve, ...]
    link_extra: Curve
    core_gbps: float
    c2c_ns: tuple[tuple[float, ...], ...]
    description: str = ""
    sources: tuple[str, ...] = ()
    reference: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        n = len(self.node_ids)
        for name in ("node_cpus", "node_socket", "distance", "idle_ns", "mem_curve", "c2c_ns"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {n} nodes")
        for name in ("distance", "idle_ns", "c2c_ns"):
            if any(len(row) != n for row in getattr(self, name)):
                raise ValueError(f"{name} is not {n}x{n}")

    # --- shape -------------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_sockets(self) -> int:
        return len(set(self.node_socket))

    @property
    def cpus(self) -> tuple[int, ...]:
        return tuple(sorted(c for cs in self.node_cpus for c in cs))

    @property
    def n_cpus(self) -> int:
        return sum(len(cs) for cs in self.node_cpus)

    def node_of_cpu(self, cpu: int) -> int:
        """Node index holding a CPU (raises KeyError for a CPU the machine does not have)."""
        return self._cpu_node()[cpu]

    def _cpu_node(self) -> dict:
        cache = self.__dict__.get("_cpu_node_cache")
        if cache is None:
            cache = {c: i for i, cs in enumerate(self.node_cpus) for c in cs}
            object.__setattr__(self, "_cpu_node_cache", cache)
        return cache

    def same_socket(self, a: int, b: int) -> bool:
        return self.node_socket[a] == self.node_socket[b]

    @property
    def link_gbps(self) -> float:
        return self.link_extra.peak_gbps

    def mem_peak_gbps(self, node: int) -> float:
        return self.mem_curve[node].peak_gbps

    # --- output ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "nodes": [
                {
                    "id": self.node_ids[i],
                    "cpus": format_cpulist(self.node_cpus[i]),
                    "n_cpus": len(self.node_cpus[i]),
                    "socket": self.node_socket[i],
                    "mem_peak_gbps": round(self.mem_peak_gbps(i), 1),
                    "mem_curve": {"gbps": list(self.mem_curve[i].gbps), "ns": list(self.mem_curve[i].ns)},
                }
                for i in range(self.n_nodes)
            ],
            "distance": [list(r) for r in self.distance],
            "idle_latency_ns": [[round(x, 1) for x in r] for r in self.idle_ns],
            "link": {"gbps": list(self.link_extra.gbps), "extra_ns": list(self.link_extra.ns)},
            "core_gbps": self.core_gbps,
            "c2c_ns": [[round(x, 1) for x in r] for r in self.c2c_ns],
            "sources": list(self.sources),
        }

    def to_text(self) -> str:
        lines = [f"machine {self.name}: {self.n_nodes} nodes, {self.n_sockets} sockets, {self.n_cpus} CPUs"]
        if self.description:
            lines.append(f"  {self.description}")
        for i in range(self.n_nodes):
            lines.append(
                f"node {self.node_ids[i]} socket {self.node_socket[i]} cpus {format_cpulist(self.node_cpus[i])}"
                f" ({len(self.node_cpus[i])}); DRAM {self.mem_peak_gbps(i):.0f} GB/s,"
                f" idle {self.idle_ns[i][i]:.0f} ns"
            )
        w = max(4, max(len(str(x)) for x in self.node_ids) + 1)
        head = "".join(f"{x:>{w}}" for x in self.node_ids)
        for title, mat, fmt in (("distances", self.distance, "d"), ("idle latency ns", self.idle_ns, ".0f"),
                                ("cache-line transfer ns", self.c2c_ns, ".0f")):
            lines.append(f"{title}:")
            lines.append(f"{'node':>6}{head}")
            for i, row in enumerate(mat):
                lines.append(f"{self.node_ids[i]:>5}:" + "".join(f"{x:>{w}{fmt}}" for x in row))
        if self.n_sockets > 1:
            lines.append(f"socket link: {self.link_gbps:.0f} GB/s read per socket pair")
        lines.append(f"one core streams {self.core_gbps:.0f} GB/s")
        for s in self.sources:
            lines.append(f"source: {s}")
        return "\n".join(lines)


# --- cpulists --------------------------------------------------------------------------------
# Linux's NR_CPUS tops out at 8192 on today's architectures; ids far beyond are a typo, and a
# range up to one would otherwise be expanded into memory
MAX_CPU = 65535


def parse_cpulist(text: str, where: str = "") -> tuple[int, ...]:
    """Parse a Linux cpulist ("0-31,64-95", "0,2,4", "0-63:2", or empty) into sorted CPU ids."""
    text = text.strip()
    cpus: set[int] = set()
    if not text:
        return ()
    for part in text.split(","):
        part = part.strip()
        try:
            stride = 1
            if ":" in part:
                part, s = part.split(":", 1)
                stride = int(s)
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
            else:
                lo = hi = int(part)
        except ValueError:
            raise TopologyError(where, f"bad cpulist {text!r}: expected ranges like 0-31,64-95") from None
        if lo < 0 or hi < lo or stride < 1:
            raise TopologyError(where, f"bad cpulist range {part!r} in {text!r}")
        if hi > MAX_CPU:
            raise TopologyError(where, f"CPU id {hi} in {text!r:.60}: expected ids up to {MAX_CPU}")
        cpus.update(range(lo, hi + 1, stride))
    return tuple(sorted(cpus))


def format_cpulist(cpus) -> str:
    """The inverse of `parse_cpulist`, with ranges merged: (0,1,2,5) -> "0-2,5"."""
    cpus = sorted(cpus)
    out, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


def sockets_from_distance(distance) -> tuple[int, ...]:
    """Group nodes into sockets: nodes closer than SAME_SOCKET_MAX_DISTANCE share a package."""
    n = len(distance)
    sock = [-1] * n
    s = 0
    for i in range(n):
        if sock[i] >= 0:
            continue
        stack = [i]
        sock[i] = s
        while stack:
            a = stack.pop()
            for b in range(n):
                if sock[b] < 0 and max(distance[a][b], distance[b][a]) < SAME_SOCKET_MAX_DISTANCE:
                    sock[b] = s
                    stack.append(b)
        s += 1
    return tuple(sock)


def validate_distance(distance, where: str) -> None:
    n = len(distance)
    for i, row in enumerate(distance):
        if len(row) != n:
            raise TopologyError(where, f"distance row {i} has {len(row)} entries, expected {n}")
        if row[i] != LOCAL_DISTANCE:
            raise TopologyError(where, f"distance of node {i} to itself is {row[i]}, expected {LOCAL_DISTANCE}")
        for j, d in enumerate(row):
            if j != i and d <= LOCAL_DISTANCE:
                raise TopologyError(where, f"distance {i}->{j} is {d}; remote distances must exceed {LOCAL_DISTANCE}")


# --- generic memory figures for machines read from numactl or sysfs ----------------------------
# Read topologies carry distances but no latencies. SLIT is a hint, not a latency ratio (notes
# §3.2: 12 -> 1.08x, 32 -> 1.87x, 21 -> 1.6x), so instead of mapping it linearly we use
# measured ratios by class: same socket ~1.08x, across a socket link ~1.7x (SPR 194/116 = 1.67,
# Genoa 200/107 = 1.87, CLX 130/81 = 1.6). A calibrated profile should replace these.
GENERIC_LOCAL_NS = 110.0
GENERIC_SOCKET_GBPS = 200.0  # split evenly over the nodes of a socket
GENERIC_LINK_GBPS = 60.0
GENERIC_CORE_GBPS = 12.0
GENERIC_C2C_NS = (50.0, 100.0, 140.0)  # same node, same socket, across sockets


def _generic_ratio(d: int, same_socket: bool) -> float:
    if d == LOCAL_DISTANCE:
        return 1.0
    if same_socket:
        # Grows with the SLIT step so that 11 < 12 < 16 stay ordered; 12 -> 1.08 as measured.
        return 1.0 + 0.04 * (d - LOCAL_DISTANCE)
    return 1.7 + 0.01 * (d - 21)  # 21 -> 1.70, 32 -> 1.81: farther is never cheaper


def generic_machine(name: str, node_ids, node_cpus, distance, sources=(), description="") -> Machine:
    """A machine from a read topology, with the generic memory figures above."""
    socket = sockets_from_distance(distance)
    n = len(node_ids)
    idle = tuple(
        tuple(GENERIC_LOCAL_NS * _generic_ratio(distance[a][b], socket[a] == socket[b]) for b in range(n))
        for a in range(n)
    )
    c2c = tuple(
        tuple(GENERIC_C2C_NS[0 if a == b else (1 if socket[a] == socket[b] else 2)] for b in range(n))
        for a in range(n)
    )
    per_socket = [socket.count(s) for s in socket]
    mem = tuple(shaped_curve(GENERIC_LOCAL_NS, GENERIC_SOCKET_GBPS / per_socket[i]) for i in range(n))
    link = shaped_curve(GENERIC_LOCAL_NS, GENERIC_LINK_GBPS).extra()
    return Machine(
        name=name, node_ids=tuple(node_ids), node_cpus=tuple(tuple(c) for c in node_cpus),
        node_socket=socket, distance=tuple(tuple(r) for r in distance), idle_ns=idle, mem_curve=mem,
        link_extra=link, core_gbps=GENERIC_CORE_GBPS, c2c_ns=c2c,
        description=description or "read topology; memory figures are generic defaults (calibrate them)",
        sources=tuple(sources),
    )


def uniform_cpus(n_nodes: int, per_node: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(range(i * per_node, (i + 1) * per_node)) for i in range(n_nodes))

