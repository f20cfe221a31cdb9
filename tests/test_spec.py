"""The workload language: what parses, and the one-line errors that name the bad field."""
import json

import numpy as np
import pytest

from numasim.errors import SpecError
from numasim.spec import Dist, IoWait, LoopUntilEnd, Repeat, Sleep, Spawn, SpawnBlocking, Spin, Yield, load_spec, parse_spec

BASE = {"name": "t", "runtime": {"workers": 2}, "duration_s": 0.1, "sources": []}


def spec_with(steps, **kw):
    d = dict(BASE, sources=[{"kind": "root", "task": {"name": "r", "steps": steps}}])
    d.update(kw)
    return d


def test_public_specs_parse(fidelity_specs):
    for path in fidelity_specs:
        s = load_spec(path)
        assert s.workers >= 1 and s.duration_ns > 0 and s.sources


def test_every_step_kind():
    s = parse_spec(spec_with([
        {"spin_us": 5}, {"yield": 1}, {"sleep_us": 200}, {"io_us": {"dist": "exponential", "mean_us": 100}},
        {"spawn_blocking_us": 50}, {"spawn": {"name": "c", "steps": [{"spin_us": 1}]}, "count": 3, "join": False},
        {"repeat": 2, "steps": [{"spin_us": 1}]}, {"loop_until_end": [{"sleep_us": 10}]},
    ]))
    kinds = [type(x) for x in s.sources[0].task.steps]
    assert kinds == [Spin, Yield, Sleep, IoWait, SpawnBlocking, Spawn, Repeat, LoopUntilEnd]
    assert s.sources[0].task.steps[0].dur == Dist("fixed", 5000)
    assert s.task_names() == ["r", "c"]


def test_lognormal_has_the_requested_mean_and_cv():
    s = parse_spec(spec_with([{"spin_us": {"dist": "lognormal", "mean_us": 20, "cv": 0.5}}]))
    d = s.sources[0].task.steps[0].dur
    x = np.array([d.sample(np.random.default_rng(1)) for _ in range(1)] + [d.sample(r) for r in [np.random.default_rng(2)] for _ in range(20000)])
    assert abs(x.mean() / 20_000 - 1) < 0.03
    assert abs(x.std() / x.mean() - 0.5) < 0.05


@pytest.mark.parametrize("steps,path,what", [
    ([{"spin_us": -1}], "sources[0].task.steps[0].spin_us", "non-negative"),
    ([{"spin_us": "x"}], "sources[0].task.steps[0].spin_us", "number"),
    ([{"spin_us": 1, "yield": 1}], "sources[0].task.steps[0]", "exactly one"),
    ([{"bogus": 1}], "sources[0].task.steps[0]", "exactly one"),
    ([{"spawn": {"steps": []}, "count": 0}], "sources[0].task.steps[0].count", "expected a positive integer, got 0"),
    ([{"repeat": 2.5, "steps": []}], "sources[0].task.steps[0].repeat", "integer"),
    ([{"sleep_us": {"dist": "weibull", "mean_us": 3}}], "sources[0].task.steps[0].sleep_us.dist", "lognormal"),
    ([{"sleep_us": {"dist": "lognormal", "mean_us": 3}}], "sources[0].task.steps[0].sleep_us.cv", "cv"),
    ([{"loop_until_end": [{"spin_us": 0}]}], "sources[0].task.steps[0].loop_until_end", "spin, sleep"),
    ([{"spawn": {"name": "c", "steps": [{"sleep_us": -3}]}}], "sources[0].task.steps[0].spawn.steps[0].sleep_us", "non-negative"),
])
def test_bad_steps_name_the_field(steps, path, what):
    with pytest.raises(SpecError) as e:
        parse_spec(spec_with(steps), "s.json")
    msg = str(e.value)
    assert msg.startswith(f"s.json: {path}:"), msg
    assert what in msg
    assert "\n" not in msg


@pytest.mark.parametrize("patch,path", [
    ({"runtime": {"workers": 0}}, "runtime.workers"),
    ({"runtime": {"threads": 2}}, "runtime.threads"),
    ({"duration_s": 0}, "duration_s"),
    ({"extra": 1}, "extra"),
    ({"sources": []}, "sources"),
    ({"sources": [{"kind": "cron", "task": {"steps": []}}]}, "sources[0].kind"),
    ({"sources": [{"kind": "external", "task": {"steps": []}}]}, "sources[0].interval_us"),
    ({"sources": [{"kind": "external", "interval_us": 5, "arrival": "burst", "task": {"steps": []}}]}, "sources[0].arrival"),
])
def test_bad_top_level_names_the_field(patch, path):
    d = dict(BASE, sources=[{"kind": "root", "task": {"steps": [{"spin_us": 1}]}}])
    d.update(patch)
    with pytest.raises(SpecError, match=rf"^s\.json: {__import__('re').escape(path)}: "):
        parse_spec(d, "s.json")


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(str(tmp_path / "missing.json"))
    p = tmp_path / "bad.json"
    p.write_text('{"name": "x",\n "duration_s": }')
    with pytest.raises(SpecError, match=r"bad\.json:2: not valid JSON"):
        load_spec(str(p))
    p.write_text(json.dumps([1, 2]))
    with pytest.raises(SpecError, match="top level"):
        load_spec(str(p))


def test_kept_handles_and_a_later_join():
    """`as` keeps JoinHandles of different task definitions; one join step awaits them all."""
    from numasim.simulate import simulate
    from numasim.tokio.profile import get_profile
    s = parse_spec(spec_with([
        {"spawn": {"name": "slow", "steps": [{"sleep_us": 3000}]}, "count": 2, "as": "all"},
        {"spawn": {"name": "fast", "steps": [{"spin_us": 50}]}, "count": 3, "as": "all"},
        {"repeat": 2, "steps": [{"spawn": {"name": "inner", "steps": [{"spin_us": 5}]}, "as": "all"}]},
        {"join_all": "all"}, {"spin_us": 5}]))
    lat = simulate(s, get_profile("1.49")).task_latencies
    assert max(lat["slow"]) < lat["r"][0]  # the root ended after every kept task
    assert len(lat["inner"]) == 2


@pytest.mark.parametrize("steps,path,what", [
    ([{"join_all": "x"}], "sources[0].task.steps[0].join_all", "no earlier spawn"),
    ([{"spawn": {"steps": []}, "as": "x", "join": True}], "sources[0].task.steps[0].join", "joined later"),
    ([{"spawn": {"steps": []}, "as": ""}], "sources[0].task.steps[0].as", "non-empty"),
    ([{"join_all": "x"}, {"spawn": {"steps": []}, "as": "x"}], "sources[0].task.steps[0].join_all", "no earlier spawn"),
])
def test_join_errors_name_the_field(steps, path, what):
    with pytest.raises(SpecError) as e:
        parse_spec(spec_with(steps), "s.json")
    assert str(e.value).startswith(f"s.json: {path}:") and what in str(e.value)
