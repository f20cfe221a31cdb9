"""Any bytes given to any command as its input file end in one line on stderr and exit status 2.

Random bytes are rarely UTF-8, sometimes empty, sometimes text that parses as JSON or TOML but
means nothing: every reader must turn each into a one-line error (file, line, what was
expected), never a traceback.
"""
import json
import os
import pathlib
import re
import tempfile

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from numasim.cli import main

BINARY = bytes(range(256)) * 2
# (argv with {f} for the file of random bytes, the file's name)
ENTRY_POINTS = [
    (["predict", "{f}", "-o", "{d}/out.jsonl"], "spec.json"),
    (["predict", "--profile", "{f}", "{d}/ok.json", "-o", "{d}/out.jsonl"], "profile.json"),
    (["compare", "{f}", "-q"], "scenario.toml"),
    (["run", "--scenario", "{f}", "-q"], "scenario.toml"),
    (["sweep", "{f}", "--out", "{d}/out", "-q"], "sweep.toml"),
    (["sweep", "{d}/uses.toml", "--out", "{d}/out", "-q"], "swept.json"),
    (["serve", "{f}", "--port", "0", "--exit-after-replay"], "spec.json"),
    (["serve", "{f}", "--port", "0", "--exit-after-replay"], "scenario.toml"),
    (["report", "numastat", "{f}"], "spec.json"),
    (["report", "workers", "{f}"], "scenario.toml"),
    (["topology", "--numactl", "{f}"], "numactl.txt"),
    (["topology", "--sysfs", "{d}/sys"], "sys/node0/cpulist"),
    (["decide", "{f}"], "trace.jsonl"),
    (["calibrate", "{f}", "-o", "{d}/p.json"], "trace.jsonl"),
    (["calibrate", "--spec", "{f}", "{d}/trace.jsonl", "-o", "{d}/p.json"], "spec.json"),
]
OK_SPEC = {"name": "ok", "duration_s": 0.01, "sources": [{"kind": "root", "task": {"steps": [{"spin_us": 1}]}}]}


def could_be_cpulist(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return re.fullmatch(r"[0-9][0-9,:-]*", text.strip()) is not None


def run_on(argv, name, data: bytes, capsys):
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d)
        (p / "ok.json").write_text(json.dumps(OK_SPEC))
        (p / "uses.toml").write_text('spec = "swept.json"\n[[param]]\npath = "tokio"\nvalues = ["1.49"]\n')
        (p / "trace.jsonl").write_text('{"format": "tokio-probe/1"}\n')
        os.makedirs(p / "sys" / "node0")
        (p / "sys" / "node0" / "distance").write_text("10\n")
        (p / "sys" / "node0" / "cpulist").write_text("0-1\n")
        (p / name).write_bytes(data)
        args = [a.format(f=p / name, d=d) for a in argv]
        capsys.readouterr()
        code = main(args)
        out = capsys.readouterr()
    return code, out


@pytest.mark.parametrize("argv, name", ENTRY_POINTS, ids=lambda x: x if isinstance(x, str) else " ".join(x[:2]))
@given(data=st.binary(max_size=400))
# capsys is read out before each example (run_on), so sharing it across examples is safe
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@example(data=BINARY)
@example(data=b"")
@example(data=b"\n\n# only a comment\n")
@example(data=b"\xef\xbb\xbf[]")
@example(data=b"[" * 5000)
def test_any_bytes_are_one_line_and_exit_2(argv, name, data, capsys):
    # a short run of digits is a valid CPU list ("0", "0-3"): that one input is not an error
    assume(not (name.endswith("cpulist") and could_be_cpulist(data)))
    code, out = run_on(argv, name, data, capsys)
    assert code == 2, f"exit {code}; stderr {out.err!r}"
    assert out.err.count("\n") == 1 and out.err.endswith("\n"), out.err
    assert "Traceback" not in out.err
