"""experiments/fidelity.py's scoring of real re-captures against the public traces."""
import pathlib
import shutil

import pytest

from helpers import load_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fidelity"


def load():
    return load_file("fidelity_exp", ROOT / "experiments" / "fidelity.py")


def test_a_recapture_identical_to_the_real_trace_scores_zero_and_a_missing_one_is_skipped(tmp_path, monkeypatch):
    if not (SHARED / "figures.py").exists():
        pytest.skip("needs ../shared/fidelity (specs, real traces, figures.py) beside this checkout")
    fx = load()
    specs, real, here = tmp_path / "specs", tmp_path / "real", tmp_path / "here"
    for d in (specs, real, here):
        d.mkdir()
    case = "pub-timers-w2"
    shutil.copy(SHARED / "specs" / f"{case}.json", specs)
    shutil.copy(SHARED / "specs" / "pub-hawk-w2-mid.json", specs)  # no re-capture: not scored
    src = SHARED / "traces-1.49" / f"{case}.r1.jsonl"
    shutil.copy(src, real / f"{case}.r1.jsonl")
    shutil.copy(src, here / f"{case}.r7.jsonl")
    shutil.copy(SHARED / "traces-1.49" / "pub-hawk-w2-mid.r1.jsonl", real)
    monkeypatch.setitem(fx.SETS, "public", (str(specs), {"1.49": str(real)}))
    out = fx.real_here(fx.figures_module(), {"1.49": str(here)})
    [(rep, rows, s)] = out["1.49"]
    assert rep == "r7"
    assert {c for c, *_ in rows} == {case}
    assert s["median"] == 0 and s["within"] == 1 and s["cases"] == 1
    assert all(s[k] == 1 for k in fx.IDLE_FIGURES)
    assert fx.real_here(fx.figures_module(), {"1.49": str(tmp_path / "none")}) == {}
