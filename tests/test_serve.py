"""serve: intervals replayed on a clock as Prometheus text with metrics-rs names, over loopback HTTP."""
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from numasim.serve import MetricsServer, ReplayCollector, exposition
from numasim.simulate import simulate
from numasim.spec import parse_spec
from numasim.tokio.profile import get_profile
from numasim.traces import read_trace

DATA = pathlib.Path(__file__).parent / "data" / "sweeps"
SPEC = json.loads((DATA / "tiny.json").read_text())
# loopback only: never through a proxy from the environment
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def run():
    spec = parse_spec(SPEC)
    return spec, simulate(spec, get_profile("1.49"), seed=4).intervals


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def scrape_text(collector):
    from prometheus_client import CollectorRegistry
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    return exposition(reg).decode()


def value(text, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return None if m is None else float(m.group(1))


def test_interval_k_appears_after_k_sample_intervals_over_speed(run):
    spec, iv = run
    clock = Clock()
    c = ReplayCollector(iv, spec.sample_interval_ns, speed=2.0, clock=clock)
    step = spec.sample_interval_ns / 1e9 / 2.0
    text = scrape_text(c)
    assert value(text, "tokio_total_polls_count") == 0 and value(text, "tokio_workers_count") is None
    clock.t += 3 * step
    text = scrape_text(c)
    assert value(text, "numasim_replay_intervals") == 3
    # counters: the running sum of the visible intervals; durations in µs; gauges: the last interval
    assert value(text, "tokio_total_polls_count") == sum(r["runtime"]["total_polls_count"] for r in iv[:3])
    assert value(text, "tokio_total_busy_duration") == pytest.approx(sum(r["runtime"]["total_busy_duration"] for r in iv[:3]) / 1e3)
    assert value(text, "tokio_total_park_count") == iv[2]["runtime"]["total_park_count"]
    assert value(text, "tokio_instrumented_count", '{task="job"}') == iv[2]["tasks"]["job"]["instrumented_count"]
    assert "tokio_elapsed" not in text
    assert "# TYPE tokio_total_polls_count counter" in text and "_total counter" not in text
    clock.t += 1e6
    assert value(scrape_text(c), "numasim_replay_intervals") == len(iv)


def test_a_scrape_reads_back_as_a_prometheus_trace(run, tmp_path):
    spec, iv = run
    clock = Clock()
    c = ReplayCollector(iv, spec.sample_interval_ns, clock=clock)
    clock.t += 1e6
    (tmp_path / "s.prom").write_text(scrape_text(c))
    t = read_trace(tmp_path / "s.prom")
    assert t.intervals[0]["runtime"]["total_steal_count"] == sum(r["runtime"]["total_steal_count"] for r in iv)


def get(url):
    with OPENER.open(url, timeout=5) as r:
        return r.status, r.headers["Content-Type"], r.read().decode()


def test_server_in_a_thread_serves_metrics_on_loopback(run):
    spec, iv = run
    srv = MetricsServer(iv, spec.sample_interval_ns, speed=1000.0, port=0).start()
    try:
        time.sleep(0.05)  # > every interval at speed 1000
        status, ctype, text = get(srv.url)
        assert status == 200 and ctype.startswith("text/plain")
        names = set(re.findall(r"^(tokio_\w+)", text, re.M))
        assert {"tokio_total_polls_count", "tokio_workers_count", "tokio_total_busy_duration",
                "tokio_total_poll_count", "tokio_global_queue_depth"} <= names
        assert 'task="sub"' in text
        with pytest.raises(urllib.error.HTTPError):
            get(srv.url.replace("/metrics", "/nope"))
    finally:
        t = time.monotonic()
        srv.stop()
        assert time.monotonic() - t < 2 and not srv.thread.is_alive()


def test_serve_command_in_a_subprocess(tmp_path):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(SPEC))
    proc = subprocess.Popen([sys.executable, "-m", "numasim.cli", "serve", str(spec), "--port", "0", "--speed", "0.2"],
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stderr.readline()  # the banner names the port; blocks until the server listens
        m = re.search(r"(http://127\.0\.0\.1:\d+/metrics)", line)
        assert m, line
        status, _, text = get(m.group(1))
        assert status == 200 and re.search(r"^tokio_total_polls_count ", text, re.M)
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode is not None


def test_a_taken_port_is_a_user_error(run):
    from numasim.errors import UserError
    spec, iv = run
    a = MetricsServer(iv, spec.sample_interval_ns, port=0)
    try:
        with pytest.raises(UserError, match="cannot listen"):
            MetricsServer(iv, spec.sample_interval_ns, port=a.port)
    finally:
        a.httpd.server_close()


def test_serving_a_scenario_passes_the_plans_validation_command(tmp_path):
    """`numasim serve SCENARIO.toml`: the plan's `curl .../metrics | grep -E "(tokio_|search_|job_numa)"`
    finds tokio's runtime metrics and the plan's application metrics, each family once."""
    scenario = os.path.join(os.path.dirname(__file__), "data", "small-scenario.toml")
    proc = subprocess.Popen([sys.executable, "-m", "numasim.cli", "serve", scenario, "--port", "0", "--speed", "100"],
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stderr.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/metrics)", line)
        assert m, line
        status, _, text = get(m.group(1))
        assert status == 200
        lines = [ln for ln in text.splitlines() if re.search(r"(tokio_|search_|job_numa)", ln)]
        names = {re.split(r"[{ ]", ln)[0] for ln in lines if not ln.startswith("#")}
        for want in ("tokio_total_polls_count", "tokio_total_steal_count", "search_duration_ms_count",
                     "search_steals_during_operation_total", "job_numa_migrations_total", "search_query_count",
                     "tokio_steal_rate"):
            assert want in names, want
        types = [ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE")]
        assert len(types) == len(set(types))  # no family is served twice
    finally:
        proc.terminate()
        proc.wait(10)
