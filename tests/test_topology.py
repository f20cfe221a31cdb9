"""Topology: presets are consistent, readers parse real `numactl --hardware` text and sysfs trees,
and malformed input gets one line naming the file and line."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from numasim.cli import main
from numasim.errors import TopologyError, UserError
from numasim.machine import PRESETS, format_cpulist, parse_cpulist, preset, read_numactl, read_numactl_text, read_sysfs
from numasim.machine.topology import sockets_from_distance

DATA = __import__("pathlib").Path(__file__).parent / "data" / "numactl"


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_is_consistent(name):
    """Every preset has square symmetric matrices, disjoint CPUs, local distance 10, sources."""
    m = preset(name)
    n = m.n_nodes
    assert all(m.distance[i][i] == 10 for i in range(n))
    assert all(m.distance[i][j] == m.distance[j][i] for i in range(n) for j in range(n))
    assert len(set(m.cpus)) == m.n_cpus
    assert m.sources and m.reference
    for i in range(n):
        assert m.node_of_cpu(m.node_cpus[i][0]) == i
    json.dumps(m.to_dict())


def test_preset_shapes():
    """The requested machines: Genoa NPS1/NPS4, SPR, Graviton4 2 x 96, one single node."""
    assert preset("genoa-2s-nps1").n_nodes == 2
    g4 = preset("genoa-2s-nps4")
    assert (g4.n_nodes, g4.n_sockets) == (8, 2)
    assert sorted({d for r in g4.distance for d in r}) == [10, 12, 32]
    assert preset("sapphire-rapids-2s").distance[0][1] == 21
    gr = preset("graviton4-2node")
    assert [len(c) for c in gr.node_cpus] == [96, 96]
    assert preset("rome-1s").n_nodes == 1


def test_unknown_preset_is_a_user_error():
    with pytest.raises(UserError, match="expected one of"):
        preset("nope")


@pytest.mark.parametrize("text,cpus", [
    ("0-31,64-95", list(range(32)) + list(range(64, 96))),
    ("0,2,4", [0, 2, 4]),
    ("", []),
    ("0-7:2", [0, 2, 4, 6]),
    ("5\n", [5]),
])
def test_parse_cpulist(text, cpus):
    assert list(parse_cpulist(text)) == cpus


@pytest.mark.parametrize("bad", ["0-", "a", "3-1", "1,,2", "-4"])
def test_parse_cpulist_rejects(bad):
    with pytest.raises(TopologyError, match="cpulist"):
        parse_cpulist(bad, "f:1")


@given(st.sets(st.integers(0, 500), max_size=60))
def test_cpulist_round_trip(cpus):
    assert set(parse_cpulist(format_cpulist(cpus))) == cpus


def test_numactl_epyc_nps4():
    """A real dual EPYC 7413 NPS4 output: 8 nodes, SLIT 10/12/32, SMT siblings 48 apart."""
    m = read_numactl(DATA / "epyc7413-2s-nps4.txt")
    assert m.n_nodes == 8 and m.n_cpus == 96 and m.n_sockets == 2
    assert m.node_cpus[0] == (0, 1, 2, 3, 4, 5, 48, 49, 50, 51, 52, 53)
    assert m.node_socket == (0, 0, 0, 0, 1, 1, 1, 1)
    assert m.distance[0][1] == 12 and m.distance[0][4] == 32
    # Generic memory figures keep the order of the SLIT classes.
    assert m.idle_ns[0][0] < m.idle_ns[0][1] < m.idle_ns[0][4]
    assert m.node_of_cpu(53) == 0 and m.node_of_cpu(90) == 7


@pytest.mark.parametrize("fname,node0", [
    ("xeon-2s-odd-even.txt", tuple(range(0, 40, 2))),
    ("xeon-2s-p4d.txt", tuple(range(24)) + tuple(range(48, 72))),
])
def test_numactl_intel_two_socket(fname, node0):
    m = read_numactl(DATA / fname)
    assert m.n_nodes == 2 and m.n_sockets == 2
    assert m.distance == ((10, 21), (21, 10))
    assert m.node_cpus[0] == node0


def test_numactl_memory_only_node_and_sparse_ids():
    """A CXL-style node without CPUs, and node ids that skip numbers, are kept."""
    text = """available: 2 nodes (0,2)
node 0 cpus: 0 1 2 3
node 0 size: 1000 MB
node 0 free: 900 MB
node 2 cpus:
node 2 size: 4000 MB
node 2 free: 4000 MB
node distances:
node   0   2
  0:  10  14
  2:  14  10
"""
    m = read_numactl_text(text, "cxl.txt")
    assert m.node_ids == (0, 2) and m.node_cpus == ((0, 1, 2, 3), ())


@pytest.mark.parametrize("text,msg,line", [
    ("", "empty", None),
    ("available: 1 nodes (0)\nnode 0 cpus: 0 1\n", "no 'node distances:'", 2),
    ("node 0 cpus: 0 x\n", "integers", 1),
    ("node 0 cpus: 0\nnode distances:\nnode 0\n  0: 10 21\n", "2 values, header has 1", 4),
    ("node 0 cpus: 0\nnode distances:\nnode 0\n  0: 12\n", "itself", None),
    ("node 0 cpus: 0\nnode 1 cpus: 0\nnode distances:\nnode 0 1\n 0: 10 21\n 1: 21 10\n", "CPU 0", None),
    ("hello world\n", "unrecognised", 1),
    ("No NUMA available on this system\n", "no NUMA", 1),
])
def test_numactl_malformed(text, msg, line):
    with pytest.raises(TopologyError, match=msg) as e:
        read_numactl_text(text, "bad.txt")
    assert e.value.where.startswith("bad.txt")
    if line:
        assert e.value.where == f"bad.txt:{line}"
    assert "\n" not in str(e.value)


def _sysfs(tmp_path, cpulists, distances):
    base = tmp_path / "sys" / "devices" / "system" / "node"
    for i, (cl, d) in enumerate(zip(cpulists, distances)):
        nd = base / f"node{i}"
        nd.mkdir(parents=True)
        (nd / "cpulist").write_text(cl + "\n")
        (nd / "distance").write_text(" ".join(map(str, d)) + "\n")
    (base / "possible").write_text("0-%d\n" % (len(cpulists) - 1))
    return tmp_path / "sys"


def test_sysfs_two_socket(tmp_path):
    """`/sys/devices/system/node/node*/{cpulist,distance}` with SMT-style cpulists."""
    root = _sysfs(tmp_path, ["0-31,64-95", "32-63,96-127"], [[10, 21], [21, 10]])
    m = read_sysfs(root)
    assert m.n_cpus == 128 and m.node_cpus[1][:2] == (32, 33) and m.node_cpus[1][-1] == 127
    assert m.node_socket == (0, 1)
    # The node directory itself works too.
    assert read_sysfs(root / "devices" / "system" / "node").node_cpus == m.node_cpus


def test_sysfs_snc_four_nodes(tmp_path):
    """Intel SNC2: 10 / 11 same socket / 21 other socket gives two sockets of two nodes."""
    d = [[10, 11, 21, 21], [11, 10, 21, 21], [21, 21, 10, 11], [21, 21, 11, 10]]
    m = read_sysfs(_sysfs(tmp_path, ["0-13", "14-27", "28-41", "42-55"], d))
    assert m.node_socket == (0, 0, 1, 1)


def test_sysfs_errors(tmp_path):
    root = _sysfs(tmp_path, ["0-3", "4-x"], [[10, 21], [21, 10]])
    with pytest.raises(TopologyError, match="cpulist") as e:
        read_sysfs(root)
    assert e.value.where.endswith("node1/cpulist:1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TopologyError, match="no node"):
        read_sysfs(tmp_path / "empty")
    with pytest.raises(TopologyError, match="not a directory"):
        read_sysfs(tmp_path / "missing")


def test_sysfs_distance_count(tmp_path):
    root = _sysfs(tmp_path, ["0-3", "4-7"], [[10, 21, 21], [21, 10]])
    with pytest.raises(TopologyError, match="3 distances for 2 nodes"):
        read_sysfs(root)


def test_sockets_from_distance_naples():
    d = [[10, 16, 32, 32], [16, 10, 32, 32], [32, 32, 10, 16], [32, 32, 16, 10]]
    assert sockets_from_distance(d) == (0, 0, 1, 1)


def test_cli_topology(capsys, tmp_path):
    """`numasim topology` prints text or JSON; bad input is one line on stderr and status 2."""
    assert main(["topology", "--preset", "genoa-2s-nps4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["nodes"]) == 8 and out["distance"][0][4] == 32
    assert main(["topology", "--numactl", str(DATA / "xeon-2s-p4d.txt")]) == 0
    assert "cpus 0-23,48-71" in capsys.readouterr().out
    bad = tmp_path / "bad.txt"
    bad.write_text("node 0 cpus: 0\nnode distances:\nnode 0\n  0: 10 11\n")
    assert main(["topology", "--numactl", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.txt" in err
    assert main(["topology", "--sysfs", str(tmp_path / "nope")]) == 2
    assert main(["topology"]) == 2
