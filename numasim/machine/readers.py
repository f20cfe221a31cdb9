"""Read a machine's topology from `numactl --hardware` text or from a sysfs node tree.

Both give nodes, their CPUs and the SLIT distance table, nothing about latency or bandwidth; the
resulting `Machine` carries the generic memory figures (see `topology.generic_machine`). Errors
name the file and line, and say what was expected, in one line.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import TopologyError
from ..inputs import read_text
from .topology import MAX_CPU, Machine, generic_machine, parse_cpulist, validate_distance

_AVAILABLE = re.compile(r"^available:\s+(\d+)\s+nodes?\b")
_NODE_LINE = re.compile(r"^node\s+(\d+)\s+(cpus|size|free):\s*(.*)$")
_DIST_HEAD = re.compile(r"^node\s+distances:\s*$")
_DIST_ROW = re.compile(r"^\s*(\d+):\s*(.*)$")
_SIZE = re.compile(r"^\d+ ?(B|kB|KB|MB|GB|TB)$")


def read_numactl_text(text: str, path: str = "<numactl>") -> Machine:
    """Parse the output of `numactl --hardware`."""
    cpus: dict[int, tuple[int, ...]] = {}
    declared = None
    header: list[int] | None = None
    rows: dict[int, list[int]] = {}
    in_table = False
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise TopologyError(path, "empty file; expected the output of `numactl --hardware`")
    for no, raw in enumerate(lines, 1):
        where = f"{path}:{no}"
        line = raw.rstrip()
        if not line.strip():
            continue
        if "No NUMA available" in line:
            raise TopologyError(where, "numactl reports no NUMA on that system; nothing to read")
        if in_table:
            if header is None:
                parts = line.split()
                if not parts or parts[0] != "node" or not all(p.isdigit() for p in parts[1:]) or len(parts) < 2:
                    raise TopologyError(where, f"expected the distance header 'node 0 1 ...', got {line.strip()!r}")
                header = [int(p) for p in parts[1:]]
                continue
            m = _DIST_ROW.match(line)
            if m:
                try:
                    vals = [int(v) for v in m.group(2).split()]
                except ValueError:
                    raise TopologyError(where, f"distance row has a non-integer: {line.strip()!r}") from None
                if len(vals) != len(header):
                    raise TopologyError(where, f"distance row for node {m.group(1)} has {len(vals)} values, header has {len(header)}")
                rows[int(m.group(1))] = vals
                continue
            in_table = False  # a trailing non-table line (some builds print more after it)
        if _AVAILABLE.match(line):
            declared = int(_AVAILABLE.match(line).group(1))
            continue
        m = _NODE_LINE.match(line)
        if m:
            node, kind, rest = int(m.group(1)), m.group(2), m.group(3)
            if kind == "cpus":
                try:
                    ids = tuple(sorted(int(c) for c in rest.split()))
                except ValueError:
                    raise TopologyError(where, f"node {node} cpus must be integers separated by spaces, got {rest!r:.60}") from None
                if ids and ids[-1] > MAX_CPU:
                    raise TopologyError(where, f"node {node} lists CPU {ids[-1]}: expected ids up to {MAX_CPU}")
                if len(set(ids)) != len(ids):
                    raise TopologyError(where, f"node {node} lists a CPU twice")
                cpus[node] = ids
            elif not _SIZE.match(rest.strip()):
                raise TopologyError(where, f"node {node} {kind} must be a number of bytes like '64326 MB', got {rest.strip()!r:.60}")
            continue
        if _DIST_HEAD.match(line):
            in_table = True
            continue
        if line.startswith("node ") or line.startswith("available") or line.startswith("  "):
            raise TopologyError(where, f"unrecognised numactl line {line.strip()!r}")
        raise TopologyError(where, f"unrecognised line {line.strip()!r}; expected `numactl --hardware` output")
    end = f"{path}:{len(lines)}"
    if header is None:
        raise TopologyError(end, "no 'node distances:' table found")
    if not cpus:
        raise TopologyError(end, "no 'node N cpus:' lines found")
    if sorted(rows) != sorted(header):
        raise TopologyError(end, f"distance table rows {sorted(rows)} do not match its header {header}")
    if sorted(cpus) != sorted(header):
        raise TopologyError(end, f"nodes with cpus {sorted(cpus)} do not match the distance table's {header}")
    if declared is not None and declared != len(header):
        raise TopologyError(end, f"'available: {declared} nodes' but the table has {len(header)}")
    ids = sorted(header)
    col = {nid: header.index(nid) for nid in ids}
    distance = [[rows[a][col[b]] for b in ids] for a in ids]
    validate_distance(distance, end)
    _check_disjoint(cpus, end)
    return generic_machine(f"numactl:{os.path.basename(path)}", ids, [cpus[i] for i in ids], distance,
                           sources=(f"numactl --hardware output {path}",))


def read_numactl(path) -> Machine:
    text = read_text(path, TopologyError, "the output of `numactl --hardware`")
    return read_numactl_text(text, str(path))


def read_sysfs(root) -> Machine:
    """Read `node*/cpulist` and `node*/distance` under a sysfs node directory.

    `root` may be `/sys/devices/system/node` itself or a tree that contains it (`/sys`, or a copy).
    """
    root = Path(root)
    if not root.is_dir():
        raise TopologyError(str(root), "not a directory; expected a sysfs node tree (…/devices/system/node)")
    base = root
    for cand in (root, root / "devices/system/node", root / "system/node", root / "node"):
        if cand.is_dir() and any(_node_dirs(cand)):
            base = cand
            break
    nodes = sorted(_node_dirs(base))
    if not nodes:
        raise TopologyError(str(root), "no node<N> directories found")
    ids = [n for n, _ in nodes]
    cpus, distance = {}, []
    for nid, d in nodes:
        cl = d / "cpulist"
        dist = d / "distance"
        for f in (cl, dist):
            if not f.is_file():
                raise TopologyError(str(f), "missing; each node<N> needs cpulist and distance")
        text = read_text(cl, TopologyError, "a CPU list like 0-3,8")
        cpus[nid] = parse_cpulist(text.strip(), f"{cl}:1")
        dtext = read_text(dist, TopologyError, "distances separated by spaces").strip()
        try:
            row = [int(x) for x in dtext.split()]
        except ValueError:
            raise TopologyError(f"{dist}:1", f"expected integers separated by spaces, got {dtext!r}") from None
        if len(row) != len(ids):
            raise TopologyError(f"{dist}:1", f"{len(row)} distances for {len(ids)} nodes")
        distance.append(row)
    if not any(cpus.values()):
        raise TopologyError(str(base), "no node lists a CPU; expected CPU lists like 0-3,8 in node<N>/cpulist")
    validate_distance(distance, str(base / f"node{ids[0]}" / "distance"))
    _check_disjoint(cpus, str(base))
    return generic_machine(f"sysfs:{base}", ids, [cpus[i] for i in ids], distance, sources=(f"sysfs tree {base}",))


def _node_dirs(base: Path):
    for d in base.iterdir() if base.is_dir() else ():
        m = re.fullmatch(r"node(\d+)", d.name)
        if m and d.is_dir():
            yield int(m.group(1)), d


def _check_disjoint(cpus: dict, where: str) -> None:
    seen: dict[int, int] = {}
    for node, cs in cpus.items():
        for c in cs:
            if c in seen:
                raise TopologyError(where, f"CPU {c} is listed on node {seen[c]} and node {node}")
            seen[c] = node
