"""Plots: each writes a non-empty PNG with labelled axes (checked on the figure before it closes)."""
import json
import pathlib

import matplotlib.pyplot as plt
import pytest

from numasim import plots
from numasim import sweep as S
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile

DATA = pathlib.Path(__file__).parent / "data" / "sweeps"


@pytest.fixture(scope="module")
def intervals():
    spec = parse_spec(json.loads((DATA / "tiny.json").read_text()))
    return simulate(spec, get_profile("1.49"), seed=2).intervals


@pytest.fixture
def labels(monkeypatch):
    """Record every saved figure's axis labels, legend texts and colour-bar labels."""
    seen = []
    real = plots._save

    def spy(fig, path):
        seen.append([(a.get_xlabel(), a.get_ylabel(), [t.get_text() for t in (a.get_legend().get_texts() if a.get_legend() else [])])
                     for a in fig.axes])
        return real(fig, path)
    monkeypatch.setattr(plots, "_save", spy)
    return seen


def rows(grid=True):
    out = []
    xs = [100, 200, 400] if grid else [101.5, 230.2, 377.9, 150.0]
    for i, x in enumerate(xs):
        for w in ([1, 2] if grid else [1 + i]):
            for seed in (1, 2):
                out.append({"point": i, "seed": seed, "sources.0.interval_us": x, "runtime.workers": w,
                            "job.latency_mean_ms": 1.0 + x / 1000 + w + seed / 10,
                            "steal_rate": 0.1 * w + seed / 100, "verdict_level": float(min(w - 1, 2))})
    return out


def _ok(path):
    p = pathlib.Path(path)
    assert p.exists() and p.stat().st_size > 1000
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("grid", [True, False])
def test_heatmap_and_decision_regions(tmp_path, labels, grid):
    _ok(plots.heatmap(rows(grid), "sources.0.interval_us", "runtime.workers", "job.latency_mean_ms", tmp_path / "h.png"))
    _ok(plots.decision_regions(rows(grid), "sources.0.interval_us", "runtime.workers", tmp_path / "d.png"))
    (hx, hy, _), cbar = labels[0][0], labels[0][1]
    assert hx == "sources.0.interval_us (µs)" and hy.startswith("runtime.workers")
    assert "ms" in cbar[1]
    assert any("dual" in t for t in labels[1][0][2])


def test_steal_latency_scatter_reports_spearman(tmp_path, labels, intervals):
    xs, ys, ylabel = plots.steal_latency_from_intervals(intervals)
    _ok(plots.steal_latency_scatter(xs, ys, tmp_path / "s.png", ylabel=ylabel))
    x, y, legend = labels[0][0]
    assert "steal rate" in x and "µs" in y
    assert "Spearman" in legend[0]


def test_worker_utilisation_and_metric_over_time(tmp_path, labels, intervals):
    _ok(plots.worker_utilisation(intervals, tmp_path / "u.png"))
    _ok(plots.metric_over_time(intervals, ["job.completed.p99", "total_polls_count"], tmp_path / "m.png"))
    x, y, legend = labels[0][0]
    assert x == "time since start (s)" and "fraction" in y and len(legend) == 4
    (x, y, legend), (_, y2, _) = labels[1]
    assert x == "time since start (s)" and y in ("duration (ms)", "duration (µs)")
    assert y2 == "count per interval" and len(legend) == 2


def test_a_two_parameter_sweep_writes_its_plots(tmp_path):
    sw = S.load_sweep(str(DATA / "grid.toml"))
    sw.seeds = (1,)
    s = S.run_sweep(sw, tmp_path, workers=1, quiet=True)
    assert [pathlib.Path(p).name for p in s["plots"]] == ["heatmap.png", "decision.png", "steal_latency.png"]
    for p in s["plots"]:
        _ok(p)
    assert not plt.get_fignums(), "figures are closed after saving"
