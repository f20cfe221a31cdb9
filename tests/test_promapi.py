"""Prometheus HTTP API results and Grafana frames read back as tokio-metrics intervals; a live server.

The unit tests build what Prometheus holds after a metrics-rs reporter ran once per interval
(counters as running totals in µs, per-interval counts as gauges, task series labelled `task`)
from a simulated run, and check that the reader gives that run's intervals back. The last tests
start a real Prometheus on loopback, let it scrape `numasim serve`, and check that `decide
--prometheus` and `decide` on the server's own query_range JSON give the matrix row of `decide` on
the simulation's own trace.
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest

from numasim import cli
from numasim.decide import decide_intervals
from numasim.errors import TraceError, UserError
from numasim.simulate import simulate
from numasim.spec import load_spec
from numasim.tokio.profile import get_profile
from numasim.traces import fields as F
from numasim.traces import read_trace, read_traces
from numasim.traces.prom import COUNTERS
from numasim.traces.promapi import parse_selector

DATA = pathlib.Path(__file__).parent / "data"
TINY = DATA / "sweeps" / "tiny.json"
SPEC = DATA / "specs" / "fanout-w2-short.json"
T0 = 1_764_500_000.0
LABELS = {"instance": "10.0.0.7:9000", "job": "hawk"}


@pytest.fixture(scope="module")
def own():
    spec = load_spec(str(TINY))
    return simulate(spec, get_profile("1.49"), seed=3).intervals


def exported(intervals, step=0.05, labels=LABELS, per_interval=1, keep_every=1, reset_at=None):
    """Prometheus' series after a metrics-rs reporter exported `intervals` every `step` seconds,
    scraped `per_interval` times per interval, keeping every `keep_every`-th scrape. Runtime
    counters read 0 at a first scrape before any interval; task series appear when the reporter
    first records them. `reset_at` restarts the process (counters from zero) at that interval."""
    series, sums = {}, {}

    def add(name, lab, t, v):
        s = series.setdefault((name, tuple(sorted(lab.items()))), {"metric": {"__name__": name, **lab}, "values": []})
        s["values"].append([round(t, 3), repr(float(v))])

    scrape = 0
    for k, r in enumerate([None] + list(intervals)):
        if k == reset_at:
            sums.clear()
        cur = {}
        for f in F.RUNTIME_FIELDS_05:
            if f == "elapsed":
                continue
            v = r["runtime"].get(f) if r else None
            if f in COUNTERS:
                sums[f] = sums.get(f, 0) + (v or 0)
                cur[("tokio_" + f, ())] = sums[f]
            elif v is not None:
                cur[("tokio_" + f, ())] = v
        for tn, tm in (r or {"tasks": {}})["tasks"].items():
            for f in F.TASK_FIELDS_05:
                if f in tm:
                    key = (tn, f)
                    if f in COUNTERS:
                        sums[key] = sums.get(key, 0) + tm[f]
                    cur[("tokio_" + f, (("task", tn),))] = sums[key] if f in COUNTERS else tm[f]
        for i in range(per_interval):
            t = T0 + k * step + i * step / per_interval
            if scrape % keep_every == 0:
                for (name, extra), v in cur.items():
                    field = name[len("tokio_"):]
                    add(name, {**labels, **dict(extra)}, t, v / 1000 if field in F.DURATION_FIELDS else v)
            scrape += 1
    return {"status": "success", "data": {"resultType": "matrix", "result": list(series.values())}}


def moved(r):
    """An interval in which some counter moved: one the reader can tell from a repeated scrape."""
    return any(r["runtime"].get(f) for f in COUNTERS) or \
        any(t.get(f) for t in r["tasks"].values() for f in COUNTERS)


def same_values(got, want):
    """Every field the export carries, in the reader's record, equals the interval's own value."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert {k: v for k, v in g["runtime"].items() if k != "elapsed"} == \
            {k: v for k, v in w["runtime"].items() if k != "elapsed"}
        assert g["tasks"] == {n: {k: v for k, v in t.items() if k != "completed"} for n, t in w["tasks"].items()}


def write(tmp_path, doc, name="export.json", indent=None):
    p = tmp_path / name
    p.write_text(json.dumps(doc, indent=indent))
    return p


def row(rep):
    """The decision-matrix row of a decide report: what is compared between sources."""
    out = {"decision": rep["verdict"]["decision"]}
    for name, f in rep["inputs"].items():
        out[name] = (f["level"], f["band"], f["value"], f["extra"].get("n"))
    return out


def assert_same_row(got, want):
    assert got["decision"] == want["decision"]
    for name in ("steal_rate", "migration_rate", "latency_steal_correlation"):
        gl, gb, gv, gn = got[name]
        wl, wb, wv, wn = want[name]
        assert (gl, gb, gn) == (wl, wb, wn), name
        assert (gv is None) == (wv is None), name
        if gv is not None:
            assert gv == pytest.approx(wv, rel=1e-9, abs=1e-12), name


# ---- reading saved results ----------------------------------------------------------------------

def test_a_query_range_result_gives_back_the_exported_intervals(tmp_path, own):
    [tr] = read_traces(write(tmp_path, exported(own), indent=1))
    assert tr.format == "prometheus-api" and tr.header["labels"] == LABELS
    same_values(tr.intervals, [r for r in own if moved(r)])
    # elapsed is the spacing of the points, and t counts from the baseline point
    assert {r["runtime"]["elapsed"] for r in tr.intervals} == {50_000_000}
    assert tr.intervals[0]["t"] == 50_000_000
    assert any("baseline" in n for n in tr.notes)
    assert_same_row(row(decide_intervals(tr.intervals)), row(decide_intervals(own)))


def test_a_counter_reset_counts_from_zero(tmp_path, own):
    [tr] = read_traces(write(tmp_path, exported(own, reset_at=5)))
    same_values(tr.intervals, [r for r in own if moved(r)])
    assert any("restarts" in n for n in tr.notes)


def test_a_step_shorter_than_the_exporters_interval_is_merged_and_said(tmp_path, own):
    [tr] = read_traces(write(tmp_path, exported(own, per_interval=4)))
    same_values(tr.intervals, [r for r in own if moved(r)])
    note = next(n for n in tr.notes if "exporter's interval" in n)
    assert "does not match" in note and "shorter" in note and "merged" in note


def test_a_step_longer_than_the_exporters_interval_is_said(tmp_path, own):
    [tr] = read_traces(write(tmp_path, exported(own, keep_every=2)), exporter_interval_s=0.05)
    assert any("longer than the exporter's interval" in n for n in tr.notes)
    # counters still add up over the whole range; only the per-interval split is lost
    assert sum(r["runtime"]["total_polls_count"] for r in tr.intervals) == \
        sum(r["runtime"]["total_polls_count"] for r in own[:2 * len(tr.intervals)])
    [tr] = read_traces(write(tmp_path, exported(own)), exporter_interval_s=0.05)
    assert any("matches the exporter's interval" in n for n in tr.notes)


def test_label_sets_group_runtimes_and_a_selector_picks_one(tmp_path, own):
    a = exported(own, labels={"instance": "a:9000", "job": "hawk"})
    b = exported(own[:6], labels={"instance": "b:9000", "job": "hawk"})
    a["data"]["result"] += b["data"]["result"]
    p = write(tmp_path, a)
    traces = read_traces(p)
    assert [t.header["labels"]["instance"] for t in traces] == ["a:9000", "b:9000"]
    assert 'instance="b:9000"' in traces[1].path
    same_values(traces[1].intervals, [r for r in own[:6] if moved(r)])
    [only] = read_traces(p, match='{instance=~"b.*"}')
    same_values(only.intervals, traces[1].intervals)
    with pytest.raises(TraceError, match="holds 2 runtimes"):
        read_trace(p)
    with pytest.raises(TraceError, match="no samples match"):
        read_traces(p, match='{job="other"}')


def test_grafana_frames_read_as_the_api_result(tmp_path, own):
    doc = exported(own)
    [want] = read_traces(write(tmp_path, doc))
    frames, panel = [], []
    for s in doc["data"]["result"]:
        times = [round(t * 1000) for t, _ in s["values"]]
        values = [float(v) for _, v in s["values"]]
        value_field = {"name": "Value", "type": "number", "labels": s["metric"],
                       "config": {"displayNameFromDS": s["metric"]["__name__"]}}
        frames.append({"schema": {"refId": "A", "fields": [{"name": "Time", "type": "time"}, value_field]},
                       "data": {"values": [times, values]}})
        panel.append({"refId": "A", "length": len(times), "fields": [
            {"name": "Time", "type": "time", "values": times}, {**value_field, "values": values}]})
    # a frame whose labels lack __name__ is named by its legend (`tokio_x{instance="..."}`)
    legend = [{"schema": {"fields": [fr["schema"]["fields"][0], {
        "name": fr["schema"]["fields"][1]["labels"]["__name__"] + '{instance="10.0.0.7:9000"}', "type": "number",
        "labels": {k: v for k, v in fr["schema"]["fields"][1]["labels"].items() if k != "__name__"}}]},
        "data": fr["data"]} for fr in frames]
    for d in (frames, {"state": "Done", "series": panel}, {"results": {"A": {"status": 200, "frames": frames}}}, legend):
        [got] = read_traces(write(tmp_path, d, "grafana.json"))
        assert got.intervals == want.intervals and got.header["source"] == "grafana"


def test_a_vector_is_one_interval_of_run_totals(tmp_path, own):
    doc = exported(own)
    vec = [{"metric": s["metric"], "value": s["values"][-1]} for s in doc["data"]["result"]]
    [tr] = read_traces(write(tmp_path, {"status": "success", "data": {"resultType": "vector", "result": vec}}))
    [r] = tr.intervals
    assert r["runtime"]["total_steal_count"] == sum(x["runtime"]["total_steal_count"] for x in own)
    assert r["runtime"]["total_polls_count"] == sum(x["runtime"]["total_polls_count"] for x in own)
    assert any("one instant" in n for n in tr.notes)


@pytest.mark.parametrize("doc, what", [
    ({"hello": "world"}, "no tokio-metrics field"),
    ({"kind": "header", "format": "tokio-probe/9"}, '"format": "tokio-probe/1"'),
    ([1, 2, 3], "no known result"),
    ({"status": "error", "errorType": "bad_data", "error": "parse error"}, "the query failed: bad_data"),
    ({"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}}, "resultType 'scalar'"),
    ({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"instance": "a"}, "values": [[1, "2"], [2, "3"]]}]}}, "rate() or"),
    ({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "up"}, "values": [[1, "1"], [2, "1"]]}]}}, "no tokio-metrics series"),
    ({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "tokio_total_polls_count"}, "values": [[1, "2"], [2, "NaN"]]}]}}, "finite"),
])
def test_content_that_fits_no_format_is_refused_with_the_file_and_what_was_expected(tmp_path, capsys, doc, what):
    p = write(tmp_path, doc, "x.json")
    with pytest.raises(TraceError) as e:
        read_traces(p)
    assert str(p) in str(e.value) and what in str(e.value)
    assert cli.main(["decide", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(p) in err and what in err


@pytest.mark.parametrize("text, want", [
    ('{job="hawk", instance=~"db1.*"}', [("job", "=", "hawk"), ("instance", "=~", "db1.*")]),
    ("job!='x'", [("job", "!=", "x")]),
    ('tokio_total_polls_count{runtime!~"io|blocking"}',
     [("__name__", "=", "tokio_total_polls_count"), ("runtime", "!~", "io|blocking")]),
])
def test_label_selectors(text, want):
    assert parse_selector(text) == want


@pytest.mark.parametrize("text", ['{job="hawk"', "{job=hawk}", '{job=~"("}'])
def test_bad_label_selectors_are_one_line_errors(text):
    with pytest.raises(UserError, match="--match"):
        parse_selector(text)


def free_ports(n=1):
    """n distinct loopback ports nothing listens on (all bound at once, so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def test_an_unreachable_server_is_one_line_and_exit_2(capsys):
    [port] = free_ports()  # closed again: nothing listens there
    assert cli.main(["decide", "--prometheus", f"http://127.0.0.1:{port}", "--range", "5m"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the server" in err and str(port) in err


def test_range_flags_need_a_server(tmp_path, own, capsys):
    p = write(tmp_path, exported(own))
    assert cli.main(["decide", str(p), "--range", "5m"]) == 2
    assert "applies to --prometheus only" in capsys.readouterr().err


# ---- a real Prometheus scraping numasim serve --------------------------------------------------

SPEED = 0.2            # 50 ms intervals replayed as 0.25 s
SCRAPE = "50ms"        # five scrapes per replayed interval: none is missed, repeats are merged


def _get(url, params=None):
    import requests
    return requests.get(url, params=params, timeout=10).json()


def _wait(what, ok, bound_s, proc=None, log=None):
    """Poll `ok()` until it is true; fail (with the log) after `bound_s` seconds or if `proc` died."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited ({proc.returncode}): {log.read_text()[-800:] if log else ''}")
        try:
            if ok():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {bound_s} s{': ' + log.read_text()[-800:] if log else ''}")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if shutil.which("prometheus") is None:
        pytest.skip("the prometheus binary is not installed (Debian: apt-get install prometheus; .ci/run installs it)")
    mp = pytest.MonkeyPatch()
    # loopback only: never through a proxy from the environment
    mp.setenv("NO_PROXY", ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"])))
    d = tmp_path_factory.mktemp("prometheus")
    prom_port, serve_port = free_ports(2)
    (d / "prometheus.yml").write_text(
        f"global:\n  scrape_interval: {SCRAPE}\n  scrape_timeout: {SCRAPE}\n"
        f"scrape_configs:\n  - job_name: numasim\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{serve_port}']\n        labels: {{runtime: main}}\n")
    prom_log, serve_log = d / "prometheus.log", d / "serve.log"
    procs = []
    try:
        with open(prom_log, "w") as log:
            procs.append(subprocess.Popen(
                ["prometheus", f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'data'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{prom_port}"
        # the simulation's own trace, computed while Prometheus starts; serve simulates the same run
        spec = load_spec(str(SPEC))
        own_iv = simulate(spec, get_profile("1.49")).intervals
        n = len(own_iv)
        _wait("prometheus ready", lambda: _get(url + "/api/v1/status/buildinfo")["status"] == "success", 60,
              procs[0], prom_log)

        def scraping():
            # Prometheus applies its targets a few seconds after it is ready; a replay started
            # before would be seen from its middle
            ts = _get(url + "/api/v1/targets")["data"]["activeTargets"]
            return bool(ts) and not ts[0]["lastScrape"].startswith("0001")
        _wait("prometheus scrapes the (not yet started) target", scraping, 60, procs[0], prom_log)
        start = time.time() - 1
        with open(serve_log, "w") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "numasim.cli", "serve", str(SPEC), "--port", str(serve_port),
                 "--speed", str(SPEED), "--tokio", "1.49"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        def seen():
            q = _get(url + "/api/v1/query", {"query": "numasim_replay_intervals"})["data"]["result"]
            return bool(q) and int(float(q[0]["value"][1])) == n
        _wait("prometheus has scraped every replayed interval", seen, n * 0.05 / SPEED + 120, procs[1], serve_log)
        end = time.time()
        yield {"url": url, "start": start, "end": end, "own": own_iv, "dir": d, "step": "0.05"}
    finally:
        mp.undo()
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def decide_json(capsys, *argv):
    assert cli.main(["decide", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def expected_row(live):
    """decide on the own trace, merged as the scrapes saw it: the intervals each new scrape
    revealed are one record (all of them, one each, unless a scrape was late)."""
    q = _get(live["url"] + "/api/v1/query_range", {"query": "numasim_replay_intervals", "start": live["start"],
                                                   "end": live["end"], "step": live["step"]})
    ks = [int(float(v)) for _, v in q["data"]["result"][0]["values"]]
    cuts = sorted(set(ks))
    own = live["own"]
    recs = []
    for a, b in zip(cuts, cuts[1:]):
        part = own[a:b]
        rec = {"t": part[-1]["t"], "runtime": dict(part[-1]["runtime"]), "tasks": {}}
        for f in COUNTERS:
            if f in rec["runtime"]:
                rec["runtime"][f] = sum(r["runtime"].get(f, 0) for r in part)
        for name in {n for r in part for n in r["tasks"]}:
            last = next(r["tasks"][name] for r in reversed(part) if name in r["tasks"])
            rec["tasks"][name] = {f: (sum(r["tasks"].get(name, {}).get(f, 0) for r in part) if f in COUNTERS else v)
                                  for f, v in last.items()}
        recs.append(rec)
    return cuts, row(decide_intervals(recs))


def test_decide_on_a_live_server_and_on_its_export_gives_the_own_traces_row(live, capsys):
    cuts, want = expected_row(live)
    span = ["--start", f"{live['start']:.3f}", "--end", f"{live['end']:.3f}"]
    rep = decide_json(capsys, "--prometheus", live["url"], *span, "--step", live["step"], "--match", '{job="numasim"}')
    assert rep["format"] == "prometheus-api" and rep["intervals"] >= 8
    assert any("does not match the exporter's interval" in n for n in rep["notes"])
    assert_same_row(row(rep), want)
    # every interval seen (the normal case: scrapes start before the replay and come 5 times an
    # interval): the own trace's row exactly; a late scrape under load merges intervals, and the
    # row above already holds the expectation merged as the scrapes saw them
    if cuts == list(range(len(live["own"]) + 1)):
        assert_same_row(row(rep), row(decide_intervals(live["own"])))

    # the server's own query_range JSON, saved as a user would, read by `decide FILE`
    raw = _get(live["url"] + "/api/v1/query_range", {"query": '{__name__=~"tokio_.+"}', "start": live["start"],
                                                     "end": live["end"], "step": live["step"]})
    p = live["dir"] / "export.json"
    p.write_text(json.dumps(raw))
    saved = decide_json(capsys, str(p))
    assert saved["format"] == "prometheus-api" and saved["intervals"] == rep["intervals"]
    assert_same_row(row(saved), want)


def test_a_long_range_is_paged_under_the_11000_points_limit(live, capsys):
    # 1 ms steps over the whole replay: more than 11,000 points per series, which Prometheus
    # refuses in one query_range; two series keep the answer small
    span = ["--start", f"{live['start']:.3f}", "--end", f"{max(live['end'], live['start'] + 12):.3f}"]
    one = _get(live["url"] + "/api/v1/query_range", {"query": "tokio_total_polls_count", "start": span[1],
                                                     "end": span[3], "step": "0.001"})
    assert one["status"] == "error" and "11,000" in one["error"]
    rep = decide_json(capsys, "--prometheus", live["url"], *span, "--step", "0.001",
                      "--match", '{__name__=~"tokio_total_(steal|polls)_count"}')
    assert any("pages of at most 11000 points" in n for n in rep["notes"])
    _, want = expected_row(live)
    assert rep["inputs"]["steal_rate"]["value"] == pytest.approx(want["steal_rate"][2], rel=1e-9)


def test_a_query_that_returns_nothing_is_one_line_and_exit_2(live, capsys):
    assert cli.main(["decide", "--prometheus", live["url"], "--match", '{job="nobody"}', "--range", "10m"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'no series match {__name__=~"tokio_.+", job="nobody"}' in err


def test_calibrate_reads_the_live_server(live, capsys, tmp_path):
    span = ["--start", f"{live['start']:.3f}", "--end", f"{live['end']:.3f}", "--step", live["step"]]
    assert cli.main(["calibrate", "--prometheus", live["url"], *span, "-o", str(tmp_path / "p.json")]) == 2
    assert "give one with --spec" in capsys.readouterr().err
    out = tmp_path / "p.json"
    assert cli.main(["calibrate", "--prometheus", live["url"], *span, "--spec", str(SPEC), "--tokio", "1.49",
                     "--free", "poll_ns", "--max-evals", "2", "--no-uncertainty", "--fit-duration", "0.2",
                     "-o", str(out)]) == 0
    prof = json.loads(out.read_text())
    assert prof["traces"] and live["url"] in json.dumps(prof["traces"])


def test_calibrate_start_is_a_profile_without_a_server_and_a_time_with_one(tmp_path, own, capsys):
    p = write(tmp_path, exported(own))
    missing = tmp_path / "nope.json"
    assert cli.main(["calibrate", str(p), "--start", str(missing), "-o", str(tmp_path / "o.json")]) == 2
    assert str(missing) in capsys.readouterr().err  # read as the profile to start from, as before
    assert cli.main(["calibrate", "--prometheus", "http://127.0.0.1:1", "--start", str(missing),
                     "-o", str(tmp_path / "o.json")]) == 2
    assert "--start-profile" in capsys.readouterr().err
