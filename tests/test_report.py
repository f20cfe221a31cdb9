"""`numasim report numastat|threads`: per-node memory reads and thread placement over time."""
import json

import pytest

from numasim import report
from numasim.cli import main
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile


def spec(placement):
    return {"name": "r", "duration_s": 0.02, "sample_interval_ms": 2, "machine": {"preset": "graviton4-2node"},
            "runtimes": [{"name": "main", "workers": 2, "placement": placement}],
            "regions": {"data": {"bytes": 1e9, "policy": "bind", "node": 0}},
            "sources": [{"kind": "external", "interval_us": 40, "arrival": "poisson", "task": {"name": "req", "steps": [
                {"spin_us": 10}, {"mem": {"region": "data", "bytes": 8192, "pattern": "random"}}]}}]}


def run(placement):
    res = simulate(parse_spec(spec(placement)), get_profile("1.49"))
    return res, report.numastat(res.numa)


def test_pinned_to_the_memory_node_reads_nothing_remote():
    res, r = run({"kind": "pinned", "cpus": [0, 1]})
    assert r["rows"]["other_node"] == [0, 0] and r["rows"]["local_node"][0] > 0
    assert r["remote_fraction"] == 0
    rows = report.threads(res.numa, res.system.cpus.node_of.__getitem__)
    moves = report.thread_moves(rows)
    assert set(moves) == {"main/0", "main/1"}
    assert all(m == {"cpu_changes": 0, "node_changes": 0} for m in moves.values())


def test_a_worker_on_the_other_node_reads_remotely_and_the_rows_add_up():
    res, r = run({"kind": "pinned", "cpus": [0, 96]})
    m = res.numa["mem_bytes"]["matrix"]
    assert r["rows"]["other_node"][1] == m[1][0] > 0  # node 1's CPUs read node 0's memory
    assert r["rows"]["remote_in"][0] == m[1][0]
    assert r["total_bytes"] == sum(map(sum, m))
    assert 0 < r["remote_fraction"] < 1


def test_floating_threads_change_node_in_the_thread_report():
    res, _ = run({"kind": "float", "cpus": [0, 1, 96, 97], "migrate_hz": 2000})
    rows = report.threads(res.numa, res.system.cpus.node_of.__getitem__)
    assert {n for _t, _name, _c, n in rows} == {0, 1}
    assert sum(m["node_changes"] for m in report.thread_moves(rows).values()) > 0


def test_cli(tmp_path, capsys):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(spec({"kind": "pinned", "cpus": [0, 96]})))
    assert main(["report", "numastat", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nodes"] == 2
    assert main(["report", "threads", str(p)]) == 0
    assert "PSR" in capsys.readouterr().out
    plain = {"name": "p", "duration_s": 0.01, "sources": [{"kind": "root", "task": {"steps": [{"spin_us": 1}]}}]}
    q = tmp_path / "plain.json"
    q.write_text(json.dumps(plain))
    assert main(["report", "numastat", str(q)]) == 2
    assert "names no machine" in capsys.readouterr().err


def test_plots_of_migrations_and_per_worker_utilisation(tmp_path, capsys):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(spec({"kind": "float", "cpus": [0, 1, 96, 97], "migrate_hz": 2000})))
    mig, util = tmp_path / "mig.png", tmp_path / "util.png"
    assert main(["report", "threads", str(p), "--plot", str(mig)]) == 0
    assert main(["report", "workers", str(p), "--plot", str(util), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.splitlines()[-1])["main"]
    assert rows and all(0 <= b <= 1.0001 for r in rows for b in r["busy"])
    assert mig.stat().st_size > 10_000 and util.stat().st_size > 10_000
