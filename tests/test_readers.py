"""Readers: every capture shape users have reads into the same interval records."""
import glob
import os

import pytest

from numasim.errors import TraceError
from numasim.traces import read_trace

DATA = os.path.join(os.path.dirname(__file__), "data", "traces")
FIDELITY = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fidelity")
REAL = sorted(glob.glob(os.path.join(FIDELITY, "traces*", "*.jsonl")))


def data(name):
    return os.path.join(DATA, name)


@pytest.mark.skipif(not REAL, reason="needs the real traces of ../shared/fidelity beside this checkout")
@pytest.mark.parametrize("path", REAL, ids=[os.path.relpath(p, FIDELITY) for p in REAL])
def test_every_fidelity_trace_reads(path):
    """The real traces read, with 0.5 names only, t increasing, durations as ints."""
    t = read_trace(path)
    assert t.format == "tokio-probe/1" and t.intervals
    assert "injection_queue_depth" not in t.fields and "global_queue_depth" in t.fields
    assert all(b["t"] >= a["t"] for a, b in zip(t.intervals, t.intervals[1:]))
    assert all(isinstance(v, int) for r in t.intervals for v in r["runtime"].values())


@pytest.mark.skipif(not os.path.exists(os.path.join(FIDELITY, "traces", "pub-hawk-w2-mid.r1.jsonl")),
                    reason="../shared/fidelity is not here")
def test_probe_124_is_mapped_to_05_names_with_a_note():
    """tokio 1.24 traces: injection_queue_depth becomes global_queue_depth; missing unstable fields are known."""
    t = read_trace(os.path.join(FIDELITY, "traces", "pub-hawk-w2-mid.r1.jsonl"))
    assert any("injection_queue_depth" in n for n in t.notes)
    assert "total_steal_operations" in t.missing_unstable
    assert "total_steal_count" in t.runtime_fields
    assert set(t.intervals[0]["tasks"]["job"]["completed"]) == {"count", "p50", "p90", "p99", "max", "mean"}


def test_debug_05_in_tracing_log_lines():
    """Debug output of 0.5 inside tracing lines: durations exact, histogram skipped, task named from task=."""
    t = read_trace(data("debug-0.5-tracing.log"))
    assert t.format == "debug" and len(t.intervals) == 2
    r0, r1 = t.intervals
    assert r0["runtime"]["total_busy_duration"] == 1_234_000
    assert r0["runtime"]["max_busy_duration"] == 500_000
    assert r0["runtime"]["elapsed"] == 1_000_512_000
    assert r0["runtime"]["mean_poll_duration_worker_max"] == 41_250
    assert r0["runtime"]["workers_count"] == 64
    assert r1["runtime"]["max_busy_duration"] == 1_000_001_000
    assert r1["runtime"]["min_busy_duration"] == 1
    assert r1["tasks"]["search"]["total_poll_duration"] == 123_456_789_012
    assert r0["tasks"]["search"]["total_first_poll_delay"] == 45_500
    assert "poll_time_histogram" not in t.fields
    assert any("poll_time_histogram" in n for n in t.notes)
    # wall-clock stamps: t counts from the first sample, which is one elapsed after the start
    assert r0["t"] == 1_000_512_000 and r1["t"] - r0["t"] == 1_001_000_000


def test_debug_05_stable_only_in_journald_lines():
    """Without tokio_unstable the 10 stable fields are there and the unstable ones are absent, not an error."""
    t = read_trace(data("debug-0.5-stable.log"))
    assert t.runtime_fields == frozenset({
        "workers_count", "live_tasks_count", "total_park_count", "max_park_count", "min_park_count",
        "total_busy_duration", "max_busy_duration", "min_busy_duration", "global_queue_depth", "elapsed"})
    assert "total_polls_count" in t.missing_unstable
    assert t.intervals[1]["runtime"]["elapsed"] == 999_888


def test_debug_03_order_and_names():
    """0.3 order and names: injection_queue_depth and poll_count_histogram map to 0.5, 0.3 task order reads."""
    t = read_trace(data("debug-0.3-println.log"))
    assert t.header["tokio_metrics"] == ["0.3"]
    assert [r["runtime"]["global_queue_depth"] for r in t.intervals] == [0, 1]
    assert t.intervals[0]["runtime"]["total_busy_duration"] == 63_905_954
    assert t.intervals[0]["tasks"]["job"]["total_scheduled_duration"] == 3_761
    assert "max_idle_duration" not in t.fields
    # second-resolution clock: t falls back to the running sum of elapsed
    assert [r["t"] for r in t.intervals] == [100_101_651, 200_101_651]


def test_debug_pretty_multiline_with_uptime():
    """{:#?} output over several lines, with tracing's Uptime timer: t is the uptime."""
    t = read_trace(data("debug-0.5-pretty.log"))
    assert [r["t"] for r in t.intervals] == [1_000_512_345, 2_000_600_000]
    assert t.intervals[1]["runtime"]["total_busy_duration"] == 800_000


@pytest.mark.parametrize("text, what", [
    ("RuntimeMetrics { workers_count: 2, elapsed: 12 }\n", "Duration"),
    ("RuntimeMetrics { workers_count: 2ms }\n", "unsigned integer"),
    ("x RuntimeMetrics { workers_count: 2,\n", "never closed"),
    ("RuntimeMetrics { workers_count 2 }\n", "expected ':'"),
    ("RuntimeMetrics { elapsed: 1.5xs }\n", "Duration"),
])
def test_debug_malformed_is_one_line_with_file_and_line(tmp_path, text, what):
    p = tmp_path / "bad.log"
    p.write_text("INFO start\n" + text, encoding="utf-8")
    with pytest.raises(TraceError) as e:
        read_trace(p)
    assert what in str(e.value) and f"{p}:2" in str(e.value) and "\n" not in str(e.value)


def test_prometheus_metrics_rs_concatenated_scrapes_with_summaries():
    """metrics-rs scrapes: counters differenced, gauges as is, µs to ns, summaries and derived skipped."""
    t = read_trace(data("prom-metrics-rs-concat.prom"))
    assert t.format == "prometheus" and len(t.intervals) == 3
    r0, r1, r2 = (r["runtime"] for r in t.intervals)
    assert [r["total_busy_duration"] for r in (r0, r1, r2)] == [250_000_000, 260_000_000, 240_000_000]
    assert [r["total_polls_count"] for r in (r0, r1, r2)] == [800, 801, 802]
    assert [r["total_park_count"] for r in (r0, r1, r2)] == [60, 61, 62]   # a gauge: not differenced
    assert r0["mean_poll_duration"] == 17_000                               # a gauge in µs
    assert t.intervals[1]["tasks"]["search"] == {
        "total_poll_count": 101, "total_slow_poll_count": 3, "total_poll_duration": 5_000_000}
    assert "poll_time_histogram" not in t.fields and "busy_ratio" not in t.fields
    assert "elapsed" not in t.fields
    assert [r["t"] for r in t.intervals] == [0, 30_000_000_000, 60_000_000_000]
    assert any("summary" in n for n in t.notes) and any("elapsed" in n for n in t.notes)


def test_prometheus_recommended_naming_total_labels_and_sample_timestamps():
    """`_total` counters, global labels, sample timestamps in ms, and foreign metrics skipped."""
    t = read_trace(data("prom-recommended-naming.prom"))
    assert [r["runtime"]["total_busy_duration"] for r in t.intervals] == [1_500_500, 1_000_250]
    assert [r["runtime"]["total_polls_count"] for r in t.intervals] == [100, 50]
    assert [r["t"] for r in t.intervals] == [0, 1_000_000_000]
    assert any("without the tokio_ prefix" in n for n in t.notes)


def test_prometheus_folder_of_scrapes_times_from_file_names():
    t = read_trace(data("prom-scrapes"))
    assert [r["t"] for r in t.intervals] == [0, 30_000_000_000]
    assert [r["runtime"]["total_busy_duration"] for r in t.intervals] == [250_000_500, 260_000_250]


def test_prometheus_counter_reset_counts_from_zero(tmp_path):
    p = tmp_path / "reset.prom"
    p.write_text("# TYPE tokio_total_polls_count counter\ntokio_total_polls_count 100\n"
                 "# TYPE tokio_total_polls_count counter\ntokio_total_polls_count 150\n"
                 "# TYPE tokio_total_polls_count counter\ntokio_total_polls_count 20\n")
    t = read_trace(p)
    assert [r["runtime"]["total_polls_count"] for r in t.intervals] == [100, 50, 20]
    assert any("restart" in n for n in t.notes)


@pytest.mark.parametrize("text, what", [
    ("tokio_total_polls_count 1e999999999\n", "number"),
    ("tokio_total_polls_count NaN\n", "number"),
    ("tokio_workers_count{task=\"a} 3\n", "bad labels"),
    ("tokio_workers_count\n", "not a sample line"),
    ("tokio_workers_count 2.5\n", "whole"),
    ("# TYPE tokio_workers_count gauges\n", "unknown metric type"),
])
def test_prometheus_malformed(tmp_path, text, what):
    p = tmp_path / "bad.prom"
    p.write_text("# TYPE tokio_workers_count gauge\n" + text)
    with pytest.raises(TraceError) as e:
        read_trace(p)
    assert what in str(e.value) and f"{p}:2" in str(e.value)


def test_mirror_serde_durations_in_json_log_lines():
    """serde's {"secs","nanos"}, a tracing JSON log's timestamp, 0.3 names and derived values skipped."""
    t = read_trace(data("mirror-serde.jsonl"))
    assert t.format == "mirror" and len(t.intervals) == 2
    r0 = t.intervals[0]
    assert r0["runtime"]["elapsed"] == 1_000_000_500 and r0["runtime"]["global_queue_depth"] == 3
    assert r0["tasks"]["search"]["total_poll_duration"] == 2_000_000_005
    assert "busy_ratio" not in t.fields and "slow_poll_ratio" not in t.fields


def test_mirror_unit_suffixes_nested_intervals_and_debug_strings():
    t = read_trace(data("mirror-micros.jsonl"))
    r0 = t.intervals[0]
    assert r0["runtime"]["total_busy_duration"] == 1_234_500 and r0["runtime"]["elapsed"] == 1_000_000_000
    assert r0["tasks"]["job"] == {"total_poll_count": 7, "total_poll_duration": 70_250, "total_first_poll_delay": 1_500}
    assert [r["t"] for r in t.intervals] == [1_000_000_000, 2_000_000_000]


def test_mirror_plain_numbers_default_to_ns_with_a_note_and_take_a_unit():
    t = read_trace(data("mirror-plain-numbers.jsonl"))
    assert t.intervals[0]["runtime"]["total_busy_duration"] == 1_500
    assert any("read as ns" in n for n in t.notes)
    t = read_trace(data("mirror-plain-numbers.jsonl"), duration_unit="us")
    assert t.intervals[0]["runtime"]["total_busy_duration"] == 1_500_000


def test_csv_header_of_fields_with_task_rows_and_mixed_duration_spellings():
    t = read_trace(data("metrics.csv"))
    assert t.format == "csv" and len(t.intervals) == 2
    r0, r1 = t.intervals
    assert r0["runtime"]["total_busy_duration"] == 1_500_000 and r0["runtime"]["elapsed"] == 1_000_512_000
    assert r1["runtime"]["total_busy_duration"] == 2_000_000_000
    assert r0["tasks"]["search"] == {"total_poll_count": 9, "total_poll_duration": 2_500_000, "total_slow_poll_count": 1}


@pytest.mark.parametrize("name, text, line, what", [
    ("bad.jsonl", '{"workers_count": 2}\n{"workers_count": \n', 2, "not JSON"),
    ("bad.jsonl", '{"elapsed": {"secs": 1}}\n', 1, "secs and nanos"),
    ("bad.jsonl", '{"total_park_count": -1}\n', 1, "out of range"),
    ("bad.jsonl", '{"elapsed": "1.5 fortnights"}\n', 1, "expected a number"),
    ("bad.csv", "t,workers_count\n1,2\n2,3,4\n", 3, "3 cells for 2 columns"),
    ("bad.csv", "t,workers_count\n1,two\n", 2, "expected a number"),
])
def test_mirror_and_csv_malformed(tmp_path, name, text, line, what):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(TraceError) as e:
        read_trace(p)
    assert what in str(e.value) and f"{p}:{line}" in str(e.value)


def test_unknown_content_and_binary_are_trace_errors(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(TraceError, match="not a trace format"):
        read_trace(p)
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TraceError):
        read_trace(p)
    with pytest.raises(TraceError, match="cannot read"):
        read_trace(tmp_path / "missing.jsonl")
