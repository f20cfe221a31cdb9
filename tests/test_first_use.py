"""What a new user meets first: help that tells the truth, inputs checked, tables stable, docs portable."""
import json
import pathlib
import re
import tomllib

import pytest

from numasim import sweep as S
from numasim.cli import build_parser, main
from numasim.errors import TopologyError
from numasim.machine import read_numactl
from numasim.tokio.profile import PROFILES

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY = json.loads((DATA / "sweeps" / "tiny.json").read_text())


def help_of(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


@pytest.mark.parametrize("command", ["predict", "serve", "report"])
def test_tokio_help_lists_every_version_profile(command):
    h = " ".join(help_of(command).split())
    short = [v for v in PROFILES if re.fullmatch(r"\d+\.\d+", v)]  # full versions are aliases
    assert len(short) >= 4
    for v in short:
        # the option's own line, not the usage line above it
        assert v in h.rsplit("--tokio TOKIO", 1)[1].split(" --", 1)[0], f"{command} --tokio help misses {v}"


def test_compare_help_is_about_comparing_not_registration():
    h = help_of("compare")
    assert "regist" not in h and "sweep kind" not in h
    assert "layout" in h


def test_sweep_out_default_is_in_the_current_folder(tmp_path, monkeypatch):
    assert "in the current folder" in " ".join(help_of("sweep").split())
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    (tmp_path / "s.toml").write_text('spec = "tiny.json"\n[[param]]\npath = "tokio"\nvalues = ["1.49"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "s.toml", "-q", "--workers", "1", "--no-plot"]) == 0
    assert (tmp_path / "s.sweep" / S.TABLE).exists()


def test_csv_columns_are_in_one_order_fresh_resumed_or_rebuilt(tmp_path):
    sw = S.parse_sweep({"spec": TINY, "param": [{"path": "sources.0.interval_us", "values": [200, 400]}]},
                       str(DATA / "sweeps" / "x.toml"))
    S.run_sweep(sw, tmp_path, quiet=True, plot=False)
    fresh = (tmp_path / S.TABLE).read_text().splitlines()[0]
    lines = (tmp_path / S.RESULTS).read_text().splitlines(keepends=True)
    (tmp_path / S.RESULTS).write_text(lines[0])  # one row on disk, one to run again
    S.run_sweep(sw, tmp_path, quiet=True, plot=False)
    resumed = (tmp_path / S.TABLE).read_text().splitlines()[0]
    S.run_sweep(sw, tmp_path, quiet=True, plot=False)  # every row from disk
    rebuilt = (tmp_path / S.TABLE).read_text().splitlines()[0]
    assert fresh == resumed == rebuilt
    assert fresh.startswith("point,seed,sources.0.interval_us,") and fresh.endswith("verdict_basis,verdict_level")


def test_an_empty_scenario_is_an_error_not_the_prod_default(tmp_path, capsys):
    f = tmp_path / "empty.toml"
    f.write_text("# nothing yet\n")
    assert main(["compare", str(f), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty scenario" in err and str(f) in err


def test_zero_workers_is_expected_to_be_a_positive_integer(tmp_path, capsys):
    f = tmp_path / "w0.json"
    f.write_text(json.dumps(dict(TINY, runtime={"workers": 0})))
    assert main(["predict", str(f)]) == 2
    assert "runtime.workers: expected a positive integer, got 0" in capsys.readouterr().err
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    s = tmp_path / "s.toml"
    s.write_text('spec = "tiny.json"\n[[param]]\npath = "tokio"\nvalues = ["1.49"]\n')
    assert main(["sweep", str(s), "--workers", "0"]) == 2
    assert "--workers: expected a positive integer, got 0" in capsys.readouterr().err


NUMACTL = ("available: 2 nodes (0-1)\nnode 0 cpus: 0 1\nnode 0 size: {size}\nnode 0 free: 100 MB\n"
           "node 1 cpus: 2 {cpu}\nnode 1 size: 1024 MB\nnode 1 free: 100 MB\n"
           "node distances:\nnode   0   1\n  0:  10  21\n  1:  21  10\n")


def test_numactl_sizes_and_cpu_ids_are_checked(tmp_path):
    f = tmp_path / "m.txt"
    f.write_text(NUMACTL.format(size="1024 MB", cpu=3))
    assert read_numactl(f).n_nodes == 2
    for size, cpu, what in [("lots MB", 3, "size"), ("1024 MB", 100000000, "CPU 100000000"),
                            ("1024 MB", 2, "twice")]:
        f.write_text(NUMACTL.format(size=size, cpu=cpu))
        with pytest.raises(TopologyError) as e:
            read_numactl(f)
        assert what in str(e.value) and str(f) in str(e.value)


def test_a_cpulist_beyond_any_kernels_cpus_is_refused_without_expanding_it(tmp_path):
    from numasim.machine.topology import parse_cpulist
    with pytest.raises(TopologyError, match="expected ids up to"):
        parse_cpulist("0-100000000", "x:1")


def test_readme_states_the_python_pyproject_requires():
    need = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert need == ">=3.11"
    assert "Python ≥ 3.11" in (ROOT / "README.md").read_text()


def test_readme_says_where_shared_comes_from_and_which_tests_need_it():
    text = (ROOT / "README.md").read_text()
    section = text.split("### Tests and `../shared`", 1)[1].split("\n## ", 1)[0]
    users = sorted(p.name for p in (ROOT / "tests").glob("test_*.py")
                   if re.search(r"\bSHARED\b|FIDELITY|fidelity_dir|fidelity_specs|\"shared\"", p.read_text())
                   and p.name != "test_first_use.py")
    assert len(users) >= 5
    for name in users:
        assert name in section, f"{name} reads ../shared but the README does not say so"


def test_docs_name_no_machine_specific_absolute_path():
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").rglob("*.*"),
             *(ROOT / "profiles").glob("*.json")]
    bad = [f"{p.relative_to(ROOT)}: {m}" for p in files for m in re.findall(r"(?:/work|/home|/Users)/[\w./-]+", p.read_text())]
    assert not bad, bad


@pytest.mark.parametrize("argv", [
    ["report", "numastat", "examples/specs/two-node-stores.json", "--json"],
    ["report", "numastat", "examples/specs/numactl-machine.json", "--json"],
    ["report", "workers", "examples/scenarios/hawk-small.toml", "--layout", "dual", "--json"],
])
def test_shipped_examples_run(argv, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)


def test_the_shipped_scenario_compares(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["compare", "examples/scenarios/hawk-small.toml", "--seeds", "2", "--workers", "1", "-q", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res["layouts"]) == {"today", "pinned", "dual", "single-node"} and res["verdict"]
