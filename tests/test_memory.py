"""Memory cost model: each preset reproduces its published idle and loaded figures within 10%,
remote costs rise with distance and load, `remote_penalty=1.0` makes remote equal local, and the
batch kernel agrees with the one-access API."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numasim.machine import PRESETS, preset
from numasim.machine.memory import (LoadState, Pattern, achieved_gbps, cost_batch_ns, cost_ns, loaded_latency_ns,
                                    refill_cost_ns, remote_node_order, remote_ratio, steal_cost_ns, wake_cost_ns)
from numasim.machine.placement import Region, interleave, place_region


def close(x, ref, tol=0.10):
    return abs(x - ref) <= tol * ref


def far_node(m, a=0):
    return max(range(m.n_nodes), key=lambda b: (m.distance[a][b], b))


@pytest.mark.parametrize("name", list(PRESETS))
def test_idle_latency_matches_reference(name):
    m = preset(name)
    ref = m.reference
    assert close(loaded_latency_ns(m, 0, 0), ref["idle_local_ns"])
    for d, ns in ref["idle_remote_ns"].items():
        b = next(b for b in range(m.n_nodes) if m.distance[0][b] == d)
        assert close(loaded_latency_ns(m, 0, b), ns), (d, ns)


@pytest.mark.parametrize("name", list(PRESETS))
def test_saturated_bandwidth_matches_reference(name):
    """All cores of node 0 streaming: local reaches the node's peak, remote the link (or the far
    node's DRAM, whichever is tighter), and latency climbs well above idle."""
    m = preset(name)
    ref = m.reference
    bw, lat = achieved_gbps(m, 0, 0)
    assert close(bw, ref["local_peak_gbps"]), bw
    assert lat > 1.5 * ref["idle_local_ns"]
    if "remote_peak_gbps" in ref:
        bw, lat = achieved_gbps(m, 0, far_node(m))
        assert close(bw, ref["remote_peak_gbps"]), bw


@pytest.mark.parametrize("name", [n for n in PRESETS if "local_loaded" in preset(n).reference])
def test_loaded_latency_matches_measured_curve(name):
    """SPR's Mess points: 195 ns at 218 GB/s local, 348 ns at 121 GB/s remote."""
    m = preset(name)
    g, ns = m.reference["local_loaded"]
    assert close(loaded_latency_ns(m, 0, 0, LoadState.from_streams(m, [(0, 0, g)])), ns)
    g, ns = m.reference["remote_loaded"]
    assert close(loaded_latency_ns(m, 0, 1, LoadState.from_streams(m, [(0, 1, g)])), ns)


def test_one_core_cannot_saturate():
    m = preset("sapphire-rapids-2s")
    one, _ = achieved_gbps(m, 0, 0, 1)
    assert close(one, m.core_gbps) and one < m.mem_peak_gbps(0) / 10
    remote_one, _ = achieved_gbps(m, 0, 1, 1)
    assert remote_one < one  # more latency, same misses in flight


def test_remote_penalty_rises_with_distance():
    """NPS4: same node < same socket (SLIT 12) < other socket (32), at idle and under load."""
    m = preset("genoa-2s-nps4")
    assert remote_ratio(m, 0, 0) == 1.0 < remote_ratio(m, 0, 1) < remote_ratio(m, 0, 4)
    for load in (LoadState.idle(m), LoadState.from_streams(m, [(0, 1, 30.0), (0, 4, 30.0), (0, 0, 30.0)])):
        t = [cost_ns(m, 0, b, 1 << 16, Pattern.RANDOM, load) for b in (0, 1, 4)]
        assert t[0] < t[1] < t[2]
    assert steal_cost_ns(m, 0, 0) < steal_cost_ns(m, 0, 1) < steal_cost_ns(m, 0, 4)
    assert remote_node_order(m, 0)[:3] == [1, 2, 3]


def test_remote_penalty_grows_under_load():
    m = preset("sapphire-rapids-2s")
    idle = loaded_latency_ns(m, 0, 1) / loaded_latency_ns(m, 0, 0)
    load = LoadState.from_streams(m, [(0, 1, 120.0), (0, 0, 120.0)])
    loaded = loaded_latency_ns(m, 0, 1, load) / loaded_latency_ns(m, 0, 0, load)
    assert loaded > idle


@pytest.mark.parametrize("name", ["genoa-2s-nps4", "sapphire-rapids-2s"])
def test_remote_penalty_knob(name):
    """At 1.0 remote equals local for memory and cache lines; larger values scale up, nearer
    nodes get less of it."""
    m = preset(name)
    far = far_node(m)
    for pat in (Pattern.STREAM, Pattern.RANDOM):
        local = cost_ns(m, far, far, 1 << 20, pat)
        assert cost_ns(m, 0, far, 1 << 20, pat, remote_penalty=1.0) == local
        assert cost_ns(m, 0, far, 1 << 20, pat, remote_penalty=2.0) == pytest.approx(2 * local, rel=1e-6, abs=2)
    assert steal_cost_ns(m, 0, far, remote_penalty=1.0) == steal_cost_ns(m, far, far)
    assert wake_cost_ns(m, 0, far, remote_penalty=3.0) > wake_cost_ns(m, 0, far, remote_penalty=1.5)
    if m.n_nodes > 2:
        assert 1.0 < remote_ratio(m, 0, 1, 3.0) < remote_ratio(m, 0, far, 3.0) == 3.0
    with pytest.raises(ValueError):
        cost_ns(m, 0, far, 64, remote_penalty=0.5)


def test_streams_share_bandwidth():
    """Twice the streams on one node: each gets about half once the DRAM saturates."""
    m = preset("genoa-2s-nps4")
    nbytes = 1 << 22
    t1 = cost_ns(m, 0, 0, nbytes, Pattern.STREAM, LoadState.from_streams(m, [(0, 0, 100.0)]))
    t2 = cost_ns(m, 0, 0, nbytes, Pattern.STREAM, LoadState.from_streams(m, [(0, 0, 200.0)]))
    assert t2 == pytest.approx(2 * t1, rel=0.05)


def test_interleave_is_between_local_and_remote():
    m = preset("sapphire-rapids-2s")
    r = Region("graph", 1 << 30)
    inter = place_region(m, r, interleave())
    t = [cost_ns(m, 0, p, 1 << 16, Pattern.RANDOM) for p in (0, inter, 1)]
    assert t[0] < t[1] < t[2]
    assert t[1] == pytest.approx((t[0] + t[2]) / 2, rel=0.02)


def test_random_reads_pay_latency_per_line_over_mlp():
    m = preset("sapphire-rapids-2s")
    assert cost_ns(m, 0, 0, 64 * 100, Pattern.RANDOM) == pytest.approx(100 * 116, rel=0.01)
    assert cost_ns(m, 0, 0, 64 * 100, Pattern.RANDOM, mlp=4) == pytest.approx(25 * 116, rel=0.01)


def test_cross_node_scheduling_costs():
    m = preset("sapphire-rapids-2s")
    assert steal_cost_ns(m, 0, 1) > steal_cost_ns(m, 0, 0) > 0
    assert steal_cost_ns(m, 0, 1, n_tasks=128) > steal_cost_ns(m, 0, 1, n_tasks=1)
    assert wake_cost_ns(m, 0, 1) > wake_cost_ns(m, 0, 0)
    # 32 KiB working set = 512 lines at 108 ns / 4 in flight.
    assert refill_cost_ns(m, 0, 1, 32 << 10) == round(512 * 108 / 4)
    assert refill_cost_ns(m, 0, 0, 0) == 0


@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 1 << 20), st.sampled_from([0, 1]),
                          st.integers(1, 8)), min_size=1, max_size=20),
       st.lists(st.floats(0, 300), min_size=8, max_size=8), st.sampled_from([None, 1.0, 2.5]))
def test_batch_matches_single(accesses, mem, pen):
    """The batch kernel prices each access exactly as the one-access API does; costs are >= 0."""
    m = preset("genoa-2s-nps4")
    load = LoadState(tuple(mem), ((0.0, 50.0), (50.0, 0.0)))
    a, b, nb, pat, mlp = (np.array(x) for x in zip(*accesses))
    frac = np.eye(8)[b]
    out = cost_batch_ns(m, a, frac, nb.astype(float), pat, load, mlp=mlp.astype(float), remote_penalty=pen)
    for i in range(len(a)):
        assert out[i] == cost_ns(m, int(a[i]), int(b[i]), float(nb[i]), Pattern(int(pat[i])), load,
                                 mlp=float(mlp[i]), remote_penalty=pen)
    assert (out >= 0).all()


def test_batch_checks_shapes():
    m = preset("sapphire-rapids-2s")
    with pytest.raises(ValueError):
        cost_batch_ns(m, [0], np.array([[0.5, 0.4]]), [64.0], [0])
    with pytest.raises(ValueError):
        cost_batch_ns(m, [5], np.array([[1.0, 0.0]]), [64.0], [0])
