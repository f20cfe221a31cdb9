"""The public real traces as a regression guard: a model change that scores worse on them fails.

Every public spec of ../shared/fidelity is simulated under tokio 1.24 and 1.49 with the default
(fitted) host and scored with the shared figures.py, exactly as `experiments/fidelity.py` does.
The scores may only improve on `data/fidelity_baseline.json`; when a rule change improves them,
regenerate that file with `python tests/test_fidelity_regression.py --write` and commit it with
the change, so that the next change is held to the better figures.
"""
import glob
import importlib.util
import json
import pathlib
import statistics
import sys

import pytest

from numasim.simulate import simulate
from numasim.spec import load_spec
from numasim.tokio.profile import get_profile

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "fidelity"
BASELINE = pathlib.Path(__file__).parent / "data" / "fidelity_baseline.json"
REAL = {"1.24": "traces", "1.49": "traces-1.49"}
IDLE = ("steals_per_poll", "parks_per_s", "noop_per_park")


def score(version, tmp):
    spec = importlib.util.spec_from_file_location("shared_figures", SHARED / "figures.py")
    F = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(F)
    errs, idle = [], {k: 0 for k in IDLE}
    for p in sorted(glob.glob(str(SHARED / "specs" / "*.json"))):
        s = load_spec(p)
        out = pathlib.Path(tmp) / f"{s.name}-{version}.jsonl"
        with open(out, "w") as f:
            simulate(s, get_profile(version)).write(f)
        reals = sorted(glob.glob(str(SHARED / REAL[version] / f"{s.name}.r*.jsonl")))
        for k, (_, _, e) in F.case_errors(reals, str(out)).items():
            errs.append(e)
            if k in idle:
                idle[k] += e <= 0.25
    return {"median": round(statistics.median(errs), 6), "within": round(sum(e <= 0.25 for e in errs) / len(errs), 6),
            **idle}


@pytest.mark.parametrize("version", list(REAL))
def test_public_scores_do_not_get_worse(version, tmp_path):
    if not (SHARED / "figures.py").exists():
        pytest.skip("needs ../shared/fidelity (specs, real traces, figures.py) beside this checkout")
    base = json.loads(BASELINE.read_text())[version]
    got = score(version, tmp_path)
    assert got["median"] <= base["median"], got
    assert got["within"] >= base["within"], got
    for k in IDLE:
        assert got[k] >= base[k], (k, got)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        BASELINE.write_text(json.dumps({v: score(v, d) for v in REAL}, indent=1) + "\n")
    print(BASELINE.read_text())
