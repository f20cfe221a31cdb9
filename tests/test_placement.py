"""Placement: worker threads (unpinned, pinned, per runtime) and memory regions (first touch,
interleave, bind) as plain functions with the random draws passed in."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numasim.machine import preset
from numasim.machine.placement import (Region, bind, first_cpus_per_node, first_touch, hawk_regions, initial_cpus,
                                       interleave, migration_probability, next_cpu, next_cpus, per_runtime, pinned,
                                       place_region, unpinned)

M = preset("graviton4-2node")


def test_iris_mpc_mask():
    """SEPARATE_TOKIO_CORES_PER_NODE=32 on x8g.48xlarge: CPUs 0-31 and 96-127, 64 workers."""
    mask = first_cpus_per_node(M, 32)
    assert mask == tuple(range(32)) + tuple(range(96, 128))
    aff = unpinned(M, mask)
    start = initial_cpus(M, aff, 64)
    assert len(set(start)) == 64
    assert sum(M.node_of_cpu(c) == 0 for c in start) == 32


def test_pinned_never_moves():
    aff = pinned(M, [0, 1, 2])
    assert initial_cpus(M, aff, 3) == (0, 1, 2)
    assert migration_probability(aff, 10**9) == 0.0
    assert next_cpu(M, aff, 1, 10**9, 0.0, 0.0, 0.5) == 1
    with pytest.raises(ValueError):
        initial_cpus(M, aff, 4)
    with pytest.raises(ValueError):
        pinned(M, [0, 0])


def test_per_runtime_stays_on_node():
    aff = per_runtime(M, 1, migrate_rate_hz=1e6)
    rng = np.random.default_rng(1)
    cpu = initial_cpus(M, aff, 1)[0]
    for _ in range(200):
        cpu = next_cpu(M, aff, cpu, 10_000_000, *rng.random(3))
        assert M.node_of_cpu(cpu) == 1


def test_unpinned_migration_rate():
    """Poisson moves: at 100 Hz over 10 ms, 1 - e^-1 of workers moved; uniform landing crosses
    nodes about half the time on a 2-node mask."""
    aff = unpinned(M, migrate_rate_hz=100.0)
    p = migration_probability(aff, 10_000_000)
    assert p == pytest.approx(1 - np.exp(-1))
    rng = np.random.default_rng(7)
    n = 4000
    cpus = np.zeros(n, dtype=np.int64)
    new = next_cpus(M, aff, cpus, 10_000_000, rng.random((n, 3)))
    moved = new != 0
    assert moved.mean() == pytest.approx(p, abs=0.03)
    crossed = np.array([M.node_of_cpu(int(c)) == 1 for c in new[moved]])
    assert crossed.mean() == pytest.approx(0.5, abs=0.05)


def test_stay_on_node_bias():
    aff = unpinned(M, migrate_rate_hz=1e9, stay_on_node=0.9)
    rng = np.random.default_rng(3)
    new = next_cpus(M, aff, np.zeros(2000, dtype=np.int64), 10**6, rng.random((2000, 3)))
    assert np.mean([M.node_of_cpu(int(c)) == 0 for c in new]) == pytest.approx(0.9, abs=0.03)


@given(st.integers(0, 191), st.floats(0, 0.999), st.floats(0, 0.999), st.floats(0, 0.999))
def test_next_cpu_stays_in_mask(cpu, u1, u2, u3):
    mask = first_cpus_per_node(M, 32)
    aff = unpinned(M, mask, migrate_rate_hz=1e9)
    start = mask[cpu % len(mask)]
    assert next_cpu(M, aff, start, 10**6, u1, u2, u3) in mask


def test_memory_policies():
    r = Region("store_left", 1 << 30)
    assert place_region(M, r, first_touch(), allocating_cpu=100).frac == (0.0, 1.0)
    assert place_region(M, r, bind(0)).home == 0
    assert place_region(M, r, interleave()).frac == (0.5, 0.5)
    g4 = preset("genoa-2s-nps4")
    assert place_region(g4, r, interleave([0, 1, 2, 3])).frac[:5] == (0.25, 0.25, 0.25, 0.25, 0.0)
    with pytest.raises(ValueError):
        place_region(M, r, first_touch())
    with pytest.raises(ValueError):
        place_region(M, r, bind(5))


def test_hawk_regions_sizes():
    regs = hawk_regions(20_000_000)
    # Notes: ~1.54 TB per party at 20 M irises, both eyes.
    total = regs["store_left"].nbytes + regs["store_right"].nbytes
    assert total == pytest.approx(1.54e12, rel=0.01)
