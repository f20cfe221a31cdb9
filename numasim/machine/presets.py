"""Machine presets, with every memory figure traced to ../shared/docs/numa-hardware.md (beside the checkout).

Tags follow the notes: [H] primary source read, [M] secondary, [L] weak, and [D] derived here by
arithmetic from tagged figures (the derivation is written next to it). `Machine.reference` keeps
the figures each preset must reproduce; tests/test_memory.py checks the model against them.

CPU numbering is one hardware thread per core (SMT siblings left out) so that a node's CPU count is
its core count; a real machine read with `numasim topology --sysfs` keeps its own numbering.
"""
from __future__ import annotations

from .topology import Curve, Machine, link_extra_from_remote, shaped_curve, uniform_cpus


def _build(name, *, sockets, nodes_per_socket, cores_per_node, slit, idle, local_curves, link_extra,
           core_gbps, c2c, description, sources, reference) -> Machine:
    """Two-level machine: nodes grouped into sockets. `slit`, `idle`, `c2c` are
    (same node, same socket, other socket) triples."""
    n = sockets * nodes_per_socket
    sock = tuple(i // nodes_per_socket for i in range(n))

    def cls(a, b):
        return 0 if a == b else (1 if sock[a] == sock[b] else 2)

    def mat(tri):
        return tuple(tuple(tri[cls(a, b)] for b in range(n)) for a in range(n))

    return Machine(
        name=name, node_ids=tuple(range(n)), node_cpus=uniform_cpus(n, cores_per_node), node_socket=sock,
        distance=mat(slit), idle_ns=mat(idle), mem_curve=tuple(local_curves for _ in range(n)),
        link_extra=link_extra, core_gbps=core_gbps, c2c_ns=mat(c2c), description=description,
        sources=tuple(sources), reference=reference,
    )


def _shaped_link(local: Curve, remote_idle: float, link_gbps: float) -> Curve:
    # No measured remote curve: give the remote path the SPR Mess shape scaled to its own idle
    # latency and peak, then split it into DRAM and link shares like a measured one.
    remote = shaped_curve(remote_idle, link_gbps)
    return link_extra_from_remote(local, remote_idle, zip(remote.gbps[1:], remote.ns[1:]))


def sapphire_rapids_2s() -> Machine:
    # Xeon 8480+ (MareNostrum 5 GPP), Mess 100%-read curves [H]: local 116 ns lead-off, 130 @ 117,
    # 166 @ 198, 195 @ 218, max 233 GB/s; remote 194 ns, 241 @ 114, 348 @ 121, max 126 GB/s.
    # Saturation ends (240 ns local, 420 ns remote) extrapolate the last slopes [D].
    local = Curve((0.0, 117.0, 198.0, 218.0, 233.0), (116.0, 130.0, 166.0, 195.0, 240.0))
    link = link_extra_from_remote(local, 194.0, ((114.0, 241.0), (121.0, 348.0), (126.0, 420.0)))
    return _build(
        "sapphire-rapids-2s", sockets=2, nodes_per_socket=1, cores_per_node=56, slit=(10, 10, 21),
        idle=(116.0, 116.0, 194.0), local_curves=local, link_extra=link,
        core_gbps=12.0,  # [L] one core's read stream, MLP-bound; not in the notes
        # c2c: no SPR figure in the notes; Xeon 8375C (Ice Lake) 51 ns in-socket, 108 ns across [H].
        c2c=(51.0, 51.0, 108.0),
        description="2-socket Intel Xeon 8480+ (56 cores/socket), one node per socket, UPI 2.0",
        sources=(
            "bsc-mem/Mess-Results Systems/MN5/MN5-GPP/regular/AVX2/{local,remote}/processed/memory_curves.csv @2eb90133 [H]",
            "nviennot/core-to-core-latency README (8375C, proxy for SPR) [H]",
        ),
        reference=dict(idle_local_ns=116.0, idle_remote_ns={21: 194.0}, local_peak_gbps=233.0,
                       remote_peak_gbps=126.0, local_loaded=(218.0, 195.0), remote_loaded=(121.0, 348.0)),
    )


# Genoa: the one measured 2S Genoa row is an EPYC 9224 (24 cores/socket) in NPS2 [L provenance,
# H content]: 106-107.5 ns same node, 115.6-117.1 ns other node same socket, 199-200.7 ns other
# socket, 99.8-101.3 GB/s per node, 76.6-77.6 GB/s remote read per node. Both presets keep that
# part so the figures stay measured ones, and derive NPS1/NPS4 from it.
GENOA_SOCKET_GBPS = 201.0  # [D] 2 NPS2 nodes x 100.5 GB/s
GENOA_LINK_GBPS = 154.0    # [D] 2 x 77 GB/s remote per NPS2 node; xGMI theoretical 384-512 GB/s [M]
GENOA_REMOTE_NS = 200.0    # [H content]
GENOA_C2C = (23.0, 100.0, 197.0)  # EPYC 9274F: same CCD 22-24, cross-CCD 97-104, cross-socket 193-202 [H]
GENOA_CORE_GBPS = 25.0     # [L] one Zen 4 core's read stream; not in the notes
GENOA_SOURCES = (
    "2S EPYC 9224 NPS2 MLC notes file on GitHub (latency, bandwidth) [L provenance, H content]",
    "nviennot/core-to-core-latency issue #132 (dual EPYC 9274F) [H]",
    "Lenovo Press LP1852 (xGMI 384-512 GB/s theoretical) [M]",
    "SLIT 10/12/32 for 2S EPYC NPS4 (numactl outputs, many copies) [H]",
)


def genoa_2s_nps1() -> Machine:
    # NPS1 interleaves a socket's memory over all its channels, so a local line comes from the near
    # or the far half equally: (106.7 + 116.3) / 2 = 111.5 ns [D].
    local_ns = 111.5
    local = shaped_curve(local_ns, GENOA_SOCKET_GBPS)
    return _build(
        "genoa-2s-nps1", sockets=2, nodes_per_socket=1, cores_per_node=24, slit=(10, 10, 32),
        idle=(local_ns, local_ns, GENOA_REMOTE_NS), local_curves=local,
        link_extra=_shaped_link(local, GENOA_REMOTE_NS, GENOA_LINK_GBPS), core_gbps=GENOA_CORE_GBPS,
        # In NPS1 two cores of one node are mostly on different CCDs (4 CCDs per socket).
        c2c=(GENOA_C2C[1], GENOA_C2C[1], GENOA_C2C[2]),
        description="2-socket AMD EPYC 9224-class Genoa (24 cores/socket), NPS1: one node per socket, xGMI",
        sources=GENOA_SOURCES,
        reference=dict(idle_local_ns=local_ns, idle_remote_ns={32: GENOA_REMOTE_NS}, local_peak_gbps=GENOA_SOCKET_GBPS,
                       remote_peak_gbps=GENOA_LINK_GBPS),
    )


def genoa_2s_nps4() -> Machine:
    # NPS4: each quadrant (one CCD of 6 cores on a 9224) is a node with a quarter of the channels.
    # Local latency drops as in Rome's NPS4 vs NPS1 (113 vs 122 ns, -8%, AnandTech [M]):
    # 111.5 x 0.92 = 103 ns [D]. Same socket, other node: 116 ns, the NPS2 figure [H content].
    local_ns, near_ns = 103.0, 116.0
    node_gbps = GENOA_SOCKET_GBPS / 4  # [D]
    local = shaped_curve(local_ns, node_gbps)
    return _build(
        "genoa-2s-nps4", sockets=2, nodes_per_socket=4, cores_per_node=6, slit=(10, 12, 32),
        idle=(local_ns, near_ns, GENOA_REMOTE_NS), local_curves=local,
        link_extra=_shaped_link(local, GENOA_REMOTE_NS, GENOA_LINK_GBPS), core_gbps=GENOA_CORE_GBPS,
        c2c=GENOA_C2C,
        description="2-socket AMD EPYC 9224-class Genoa (24 cores/socket), NPS4: four 6-core nodes per socket",
        sources=GENOA_SOURCES + ("AnandTech 14694 p7 (Rome NPS1 vs NPS4 latency) [M]",),
        # One node reading a far node is bound by the far node's DRAM (50 GB/s), not the link.
        reference=dict(idle_local_ns=local_ns, idle_remote_ns={12: near_ns, 32: GENOA_REMOTE_NS},
                       local_peak_gbps=node_gbps, remote_peak_gbps=node_gbps),
    )


def graviton4_2node() -> Machine:
    # AWS x8g.48xlarge (iris-mpc prod): 2 x Graviton4, 96 Neoverse V2 cores each.
    # Bandwidth: 12 x DDR5-5600 = 536.7 GB/s theoretical per socket (AnandTech news 21172) [M];
    # Mess: systems saturate at 70-90% of theoretical -> 0.8 x 536.7 = 429 GB/s [D].
    # Cache-line bounce: 30-60 ns in the CMN-700 mesh, 138.6 ns across sockets ("similar to SPR")
    # (Chips and Cheese, "Arm's Neoverse V2 in AWS's Graviton 4") [M].
    # Latency: no published DRAM latency found. 110 ns local is a placeholder inside Mess' 85-130 ns
    # idle range [L]; remote uses SPR's ratio 194/116 = 1.67 (C&C: its c2c is SPR-like) -> 184 ns [D];
    # the link keeps SPR's remote/local bandwidth ratio 126/233 = 0.54 -> 232 GB/s [D].
    # SLIT is not in the notes either: 10/20 is a guess [L]. Calibrate this preset first.
    local_ns, remote_ns, node_gbps, link_gbps = 110.0, 184.0, 429.0, 232.0
    local = shaped_curve(local_ns, node_gbps)
    return _build(
        "graviton4-2node", sockets=2, nodes_per_socket=1, cores_per_node=96, slit=(10, 10, 20),
        idle=(local_ns, local_ns, remote_ns), local_curves=local,
        link_extra=_shaped_link(local, remote_ns, link_gbps),
        core_gbps=20.0,  # [L]
        c2c=(45.0, 45.0, 138.6),
        description="AWS x8g.48xlarge: 2 x Graviton4 (96 Neoverse V2 cores per node); memory figures mostly derived",
        sources=(
            "AnandTech 21172 (Graviton4 536.7 GB/s theoretical) [M]",
            "Chips and Cheese, Arm's Neoverse V2 in AWS's Graviton 4 (c2c 30-60 / 138.6 ns) [M]",
            "bsc-mem/Mess-Results README (idle 85-130 ns, saturation at 70-90% of theoretical) [H]",
            "iris-mpc PR #1924 (prod on x8g.48xlarge) [H]",
        ),
        reference=dict(idle_local_ns=local_ns, idle_remote_ns={20: remote_ns}, local_peak_gbps=node_gbps,
                       remote_peak_gbps=link_gbps),
    )


def rome_1s() -> Machine:
    # 1S EPYC 7742 (64 cores), NPS1, Mess: 120 ns lead-off, 149 GB/s max [H]; AnandTech 122 ns [M].
    local_ns, node_gbps = 120.0, 149.0
    local = shaped_curve(local_ns, node_gbps)
    return _build(
        "rome-1s", sockets=1, nodes_per_socket=1, cores_per_node=64, slit=(10, 10, 10),
        idle=(local_ns, local_ns, local_ns), local_curves=local, link_extra=Curve((0.0, 1.0), (0.0, 0.0)),
        core_gbps=20.0,  # [L]
        # Milan 7R13 cross-CCX 107 ns is the nearest measured Zen 2/3 figure [H, proxy].
        c2c=(107.0, 107.0, 107.0),
        description="1-socket AMD EPYC 7742 (Rome, 64 cores), NPS1: a single node (UMA baseline)",
        sources=(
            "bsc-mem/Mess-Results Systems/CTE-AMD/local/processed/memory_curves.csv [H]",
            "AnandTech 14694 p7 [M]",
            "nviennot/core-to-core-latency README (EPYC 7R13) [H]",
        ),
        reference=dict(idle_local_ns=local_ns, idle_remote_ns={}, local_peak_gbps=node_gbps),
    )


PRESETS = {
    "genoa-2s-nps1": genoa_2s_nps1,
    "genoa-2s-nps4": genoa_2s_nps4,
    "sapphire-rapids-2s": sapphire_rapids_2s,
    "graviton4-2node": graviton4_2node,
    "rome-1s": rome_1s,
}


def preset(name: str) -> Machine:
    """A preset machine by name (raises UserError listing the names for an unknown one)."""
    from ..errors import UserError

    try:
        return PRESETS[name]()
    except KeyError:
        raise UserError("--preset", f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}") from None

