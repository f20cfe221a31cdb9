"""Writers: interval records exported in each format read back to the same values.

Each format carries a known subset: Debug and Prometheus have no `completed` latency statistics,
Prometheus has no `elapsed` (metrics-rs does not export it), and 0.3 Debug has only 0.3's fields.
Everything else must come back exactly, ns for ns. Broken input of any kind raises TraceError only.
"""
import os
import tempfile

import pytest
from hypothesis import given, strategies as st

from numasim.errors import TraceError
from numasim.traces import Trace, read_trace, write_trace
from numasim.traces import fields as F
from numasim.traces.values import format_duration, parse_duration

COUNT = st.integers(0, 2**40)
DUR = st.integers(0, 10**13)          # up to ~3 h per interval
NAMES = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


def _values(names):
    return st.fixed_dictionaries({n: DUR if n in F.DURATION_FIELDS else COUNT for n in names})


@st.composite
def records(draw):
    """1-5 interval records sharing one field set, as a capture would."""
    rt_names = ["workers_count"] + draw(st.lists(st.sampled_from(F.RUNTIME_FIELDS_05[1:]), unique=True))
    task_names = draw(st.lists(NAMES, unique=True, max_size=3))
    task_fields = {n: draw(st.lists(st.sampled_from(F.TASK_FIELDS_05), unique=True, min_size=1)) for n in task_names}
    n = draw(st.integers(1, 5))
    gaps = draw(st.lists(st.integers(1, 10**11), min_size=n, max_size=n))
    out, t = [], 0
    for gap in gaps:
        t += gap
        tasks = {}
        for name in task_names:
            if draw(st.booleans()):
                vals = draw(_values(task_fields[name]))
                if draw(st.booleans()):
                    vals["completed"] = draw(st.fixed_dictionaries({k: COUNT for k in F.COMPLETED_FIELDS}))
                tasks[name] = vals
        out.append({"t": t, "runtime": draw(_values(rt_names)), "tasks": tasks})
    return out


def expected(recs, fmt, version="0.5"):
    keep_rt = set(F.RUNTIME_FIELDS_03) | {"global_queue_depth"} if version == "0.3" else set(F.RUNTIME_FIELDS_05)
    keep_task = set(F.TASK_FIELDS_03) if version == "0.3" else set(F.TASK_FIELDS_05)
    if fmt == "prometheus":
        keep_rt.discard("elapsed")
    out = []
    for r in recs:
        tasks = {}
        for name, t in r["tasks"].items():
            t = {k: v for k, v in t.items() if k in keep_task or (k == "completed" and fmt in ("probe", "mirror", "csv"))}
            if t or fmt != "prometheus":
                tasks[name] = t
        out.append({"t": r["t"], "runtime": {k: v for k, v in r["runtime"].items() if k in keep_rt}, "tasks": tasks})
    return out


CASES = [("probe", {}), ("debug", {"version": "0.5"}), ("debug", {"version": "0.3"}),
         ("prometheus", {}), ("prometheus", {"total": True}), ("mirror", {"durations": "ns"}),
         ("mirror", {"durations": "us"}), ("mirror", {"durations": "serde"}),
         ("mirror", {"durations": "debug"}), ("csv", {})]


@pytest.mark.parametrize("fmt, opts", CASES, ids=[f"{f}-{'-'.join(map(str, o.values()))}" for f, o in CASES])
@given(recs=records())
def test_round_trip(fmt, opts, recs):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "trace")
        write_trace(recs, p, fmt, **opts)
        back = read_trace(p)
    fmt_name = {"probe": "tokio-probe/1"}.get(fmt, fmt)
    assert back.format == fmt_name
    assert back.intervals == expected(recs, fmt, opts.get("version", "0.5"))


@given(recs=records())
def test_round_trip_prometheus_folder(recs):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "scrapes")
        write_trace(recs, p, "prometheus", folder=True)
        assert read_trace(p).intervals == expected(recs, "prometheus")


def test_probe_round_trip_of_a_real_trace_is_byte_identical_in_values(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fidelity", "traces-1.49",
                       "pub-hawk-w2-mid.r1.jsonl")
    if not os.path.exists(src):
        pytest.skip("needs ../shared/fidelity/traces-1.49 beside this checkout")
    t = read_trace(src)
    write_trace(t, tmp_path / "out.jsonl", "probe")
    u = read_trace(tmp_path / "out.jsonl")
    assert u.intervals == t.intervals and u.header["spec"] == t.header["spec"]


@pytest.mark.parametrize("ns, text", [
    (0, "0ns"), (1, "1ns"), (1_500, "1.5µs"), (1_234_000, "1.234ms"), (1_234_567, "1.234567ms"),
    (1_500_000_000, "1.5s"), (3_000_000_000, "3s"), (123_456_789_012, "123.456789012s"),
    (500_000, "500µs"), (1_000_512_000, "1.000512s"),
    ((2**64 - 1) * 10**9 + 999_999_999, "18446744073709551615.999999999s"),
])
def test_duration_debug_format_matches_rust(ns, text):
    """Rust's Duration Debug as tokio-metrics.md A.4 lists it, both ways."""
    assert format_duration(ns) == text
    assert parse_duration(text, "x") == ns


@given(st.integers(0, 2**64 * 10**9 - 1))
def test_duration_debug_round_trip(ns):
    assert parse_duration(format_duration(ns), "x") == ns


def test_precision_formatted_durations_read_as_printed():
    """{:.3?} rounds: 1.235ms is what was printed, so it reads as 1 235 000 ns."""
    assert parse_duration("1.235ms", "x") == 1_235_000
    assert parse_duration("1.000ns", "x") == 1          # {:.3?} pads ns with zeros


def test_prometheus_output_is_metrics_rs_shaped(tmp_path):
    """tokio_ names; counters with or without _total; µs values; gauges typed as gauges."""
    recs = [{"t": 10**9, "runtime": {"workers_count": 2, "total_busy_duration": 1_500, "total_polls_count": 7},
             "tasks": {"job": {"total_poll_count": 3}}}]
    write_trace(recs, tmp_path / "a.prom", "prometheus")
    text = (tmp_path / "a.prom").read_text()
    assert "# TYPE tokio_total_busy_duration counter\ntokio_total_busy_duration 1.5\n" in text
    assert "# TYPE tokio_workers_count gauge\ntokio_workers_count 2.0\n" in text
    assert 'tokio_total_poll_count{task="job"} 3.0' in text
    write_trace(recs, tmp_path / "b.prom", "prometheus", total=True)
    text = (tmp_path / "b.prom").read_text()
    assert "# TYPE tokio_total_polls_count_total counter\ntokio_total_polls_count_total 7.0\n" in text


def test_debug_output_orders(tmp_path):
    recs = [{"t": 1, "runtime": {"workers_count": 2, "elapsed": 1_000_512_000, "global_queue_depth": 0,
                                 "total_busy_duration": 1_234_000, "total_polls_count": 5}, "tasks": {}}]
    write_trace(recs, tmp_path / "a.log", "debug", version="0.5")
    assert "RuntimeMetrics { workers_count: 2, total_busy_duration: 1.234ms, global_queue_depth: 0, " \
           "elapsed: 1.000512s, total_polls_count: 5 }" in (tmp_path / "a.log").read_text()
    write_trace(recs, tmp_path / "b.log", "debug", version="0.3")
    assert "RuntimeMetrics { workers_count: 2, total_polls_count: 5, total_busy_duration: 1.234ms, " \
           "injection_queue_depth: 0, elapsed: 1.000512s }" in (tmp_path / "b.log").read_text()


# ---- broken input: TraceError and nothing else ------------------------------------------------

def _only_trace_errors(path, **kw):
    try:
        read_trace(path, **kw)
    except TraceError as e:
        assert "\n" not in str(e)


@pytest.mark.parametrize("fmt", [None, "probe", "debug", "prometheus", "mirror", "csv"])
@given(text=st.text(max_size=300))
def test_fuzzed_text_raises_only_trace_error(fmt, text):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        _only_trace_errors(p, format=fmt)


@pytest.mark.parametrize("fmt, opts", CASES[:1] + CASES[1:4:2] + CASES[5:])
@given(recs=records(), cut=st.floats(0, 1), junk=st.sampled_from(["", "{", "}", ",", "x", "\n", "1e99999", '"', "-1", "µ"]))
def test_truncated_and_mangled_output_raises_only_trace_error(fmt, opts, recs, cut, junk):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x")
        write_trace(recs, p, fmt, **opts)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        at = int(len(text) * cut)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text[:at] + junk)
        _only_trace_errors(p)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text[:at] + junk + text[at + 1:])
        _only_trace_errors(p)
