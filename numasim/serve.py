"""Replay a simulated run as a live Prometheus endpoint, the way metrics-rs exports tokio-metrics.

    server = MetricsServer(intervals, sample_interval_ns, speed=10, port=0).start()
    ... GET http://127.0.0.1:{server.port}/metrics ...
    server.stop()

Interval k (1-based) becomes visible k × sample_interval / speed seconds after the start, as if
the reporter ran at the spec's sample interval. What a scrape sees follows tokio-metrics'
metrics-rs integration (tokio-metrics.md A.4) with metrics-exporter-prometheus' default naming:
names are `tokio_<field>`, counters carry the running sum of the visible intervals' values and
gauges the last visible interval's value, durations are in µs, `elapsed` is not exported, task
metrics carry a `task="<name>"` label. The text is rendered by prometheus_client from its own
registry and a custom collector, and reads back with `numasim.traces` (prometheus format).
Two numasim gauges say how far the replay is: `numasim_replay_intervals` (visible) and
`numasim_replay_length_intervals`.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import UserError
from .traces import fields as F
from .traces.prom import COUNTERS, PREFIX, StaticFamilies
from .traces.prom import exposition as prom_exposition

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ReplayCollector:
    """A prometheus_client collector over interval records, revealed on a clock.

    `clock()` returns seconds (monotonic); injectable so that tests need not sleep. Running sums
    are computed once up front, so a scrape costs one pass over the field names.
    """

    def __init__(self, intervals, sample_interval_ns: int, speed: float = 1.0, clock=time.monotonic, label="task"):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.intervals = list(intervals)
        self.step_s = sample_interval_ns / 1e9 / speed
        self.clock = clock
        self.label = label
        self.t0 = clock()
        # series key (field, labels) -> running sums after each interval (index k-1)
        self.sums = {}
        acc = {}
        for i, r in enumerate(self.intervals):
            for key, v in self._values(r):
                if key[0] in COUNTERS:
                    acc[key] = acc.get(key, 0) + v
            for key, total in acc.items():
                # a series that first appears late reads 0 before it does
                self.sums.setdefault(key, [0] * len(self.intervals))[i] = total

    def _values(self, r):
        for field in F.RUNTIME_FIELDS_05:
            if field in r["runtime"] and field != "elapsed":
                yield (field, ()), r["runtime"][field]
        for tname, tm in sorted(r.get("tasks", {}).items()):
            for field in F.TASK_FIELDS_05:
                if field in tm:
                    yield (field, ((self.label, tname),)), tm[field]

    def visible(self) -> int:
        """How many intervals a scrape now sees."""
        k = int((self.clock() - self.t0) / self.step_s + 1e-9)
        return max(0, min(len(self.intervals), k))

    @property
    def replay_s(self) -> float:
        return len(self.intervals) * self.step_s

    def collect(self):
        from prometheus_client.core import Metric
        k = self.visible()
        fams = {}

        def add(field, labels, value, kind):
            if field in F.DURATION_FIELDS:
                value = value / 1000  # metrics-rs records Durations in µs
            name = PREFIX + field
            fam = fams.get(name)
            if fam is None:
                fam = fams[name] = Metric(name, f"tokio-metrics {field}", kind)
            fam.add_sample(name, dict(labels), float(value))

        # counters: the running sum, 0 before the first interval, so every counter is there from
        # the first scrape; gauges: only once an interval has set them
        for (field, labels), arr in self.sums.items():
            add(field, labels, arr[k - 1] if k else 0, "counter")
        if k:
            for (field, labels), v in self._values(self.intervals[k - 1]):
                if field not in COUNTERS:
                    add(field, labels, v, "gauge")
        for name, v, doc in (("numasim_replay_intervals", k, "interval records visible so far"),
                             ("numasim_replay_length_intervals", len(self.intervals), "interval records in the run")):
            m = Metric(name, doc, "gauge")
            m.add_sample(name, {}, float(v))
            fams[name] = m
        return list(fams.values())


def exposition(registry) -> bytes:
    """Prometheus text of a registry, counters named as metrics-rs names them (no `_total`)."""
    return prom_exposition(registry).encode("utf-8")


class MetricsServer:
    """An HTTP server for /metrics over a ReplayCollector, in a daemon thread."""

    def __init__(self, intervals, sample_interval_ns, speed=1.0, port=9090, bind="127.0.0.1", clock=time.monotonic,
                 extra_text: str | None = None):
        from prometheus_client import CollectorRegistry
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = ReplayCollector(intervals, sample_interval_ns, speed, clock)
        self.registry.register(self.collector)
        if extra_text:
            # the app metrics of a finished scenario run, served beside the replay; families the
            # replay already serves are left out so that no name repeats
            from prometheus_client.parser import text_string_to_metric_families
            replayed = {m.name for m in self.collector.collect()}
            self.registry.register(StaticFamilies(
                f for f in text_string_to_metric_families(extra_text) if f.name not in replayed))
        registry = self.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404, "only /metrics is served")
                    return
                body = exposition(registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):  # scrapes every few seconds would flood stderr
                pass

        try:
            self.httpd = ThreadingHTTPServer((bind, port), Handler)
        except OSError as e:
            raise UserError(f"--port {port}", f"cannot listen on {bind}:{port}: {e.strerror or e}") from None
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}/metrics"

    def start(self) -> "MetricsServer":
        self.collector.t0 = self.collector.clock()  # the replay starts when serving does
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="numasim-serve", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout)
