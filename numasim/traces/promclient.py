"""Ask a Prometheus server (or anything that speaks its HTTP API) for tokio-metrics series.

    traces = fetch_traces("http://prom:9090", match='{job="hawk"}', range_s=3600)

The query is `query_range` of `{__name__=~"tokio_.+", <match>}` with `requests` (no hand-written
HTTP). Prometheus refuses more than 11,000 points per series in one query_range, so a long range
is asked for in pages of at most that many steps, each page starting one step after the last one
ended, and the pages are joined per series. The step defaults to the scrape interval of the
targets the selector matches (`/api/v1/targets`), so that no scrape is skipped; the metric kinds
come from `/api/v1/metadata` when the server has it. What comes back is read by `promapi`, as a
saved export would be. An unreachable server, an error answer, or a query that returns nothing is
a `UserError`: one line, exit status 2.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import time

from ..errors import UserError
from . import promapi

DEFAULT_RANGE_S = 3600.0
FALLBACK_STEP_S = 15.0
TIMEOUT_S = 30.0
NAME_MATCHER = ("__name__", "=~", "tokio_.+")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|y|w|d|h|m|s)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
          "y": 365 * 86400}


def parse_duration(text: str, flag: str) -> float:
    """Seconds from `90`, `1.5`, `30s`, `1h30m`, `500ms` (Prometheus' and Go's spellings)."""
    s = str(text).strip()
    try:
        v = float(s)
    except ValueError:
        parts = list(_DURATION.finditer(s))
        if not parts or "".join(p[0] for p in parts) != s:
            raise UserError(flag, f"expected a duration such as 30s, 5m, 1h30m or seconds, got {text!r}") from None
        v = sum(float(p[1]) * _UNITS[p[2]] for p in parts)
    if not (math.isfinite(v) and v > 0):
        raise UserError(flag, f"expected a positive duration, got {text!r}")
    return v


def parse_time(text: str, flag: str) -> float:
    """Unix seconds from `now`, a number of Unix seconds, or an RFC 3339 date (UTC if no offset)."""
    s = str(text).strip()
    if s == "now":
        return time.time()
    try:
        v = float(s)
    except ValueError:
        try:
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise UserError(flag, f"expected a time: RFC 3339 (2026-11-30T14:00:00Z), Unix seconds or now; "
                                  f"got {text!r}") from None
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        v = d.timestamp()
    if not (math.isfinite(v) and v >= 0):
        raise UserError(flag, f"expected a time after 1970, got {text!r}")
    return v


def time_range(start=None, end=None, range_=None) -> tuple[float, float]:
    """(start, end) in Unix seconds from any two of --start, --end, --range (end defaults to now,
    the range to 1 h)."""
    if start is not None and end is not None and range_ is not None:
        raise UserError("--range", "give at most two of --start, --end and --range")
    r = parse_duration(range_, "--range") if range_ is not None else None
    if start is not None:
        t0 = parse_time(start, "--start")
        t1 = parse_time(end, "--end") if end is not None else (t0 + r if r is not None else time.time())
    else:
        t1 = parse_time(end, "--end") if end is not None else time.time()
        t0 = t1 - (r if r is not None else DEFAULT_RANGE_S)
    if t1 <= t0:
        raise UserError("--end", "the range ends before it starts")
    return t0, t1


def go_duration_s(text) -> float | None:
    """Seconds of a Go duration as the targets API prints it (`15s`, `1m30s`, `100ms`)."""
    try:
        return parse_duration(text, "scrapeInterval")
    except UserError:
        return None


def _reason(e) -> str:
    """The useful end of a requests exception: `[Errno 111] Connection refused`, a timeout ..."""
    text = str(e)
    m = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if m:
        return m[0].strip()
    m = re.search(r"(Name or service not known|Temporary failure in name resolution|timed out|"
                  r"Connection refused|Connection reset)", text)
    return m[0] if m else type(e).__name__


class Client:
    """A requests session bound to one server's /api/v1."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S):
        import requests
        u = url.strip().rstrip("/")
        if not re.match(r"https?://[^/\s]+", u):
            raise UserError("--prometheus", f"expected an http:// or https:// URL, got {url!r}")
        self.url = u
        # a URL copied from the browser may carry the API path, or the graph page
        self.base = re.sub(r"/(api/v1(/.*)?|graph.*)$", "", u)
        self.timeout = timeout
        self.requests = requests
        self.session = requests.Session()

    def get(self, endpoint: str, params: dict) -> dict:
        req = self.requests
        try:
            r = self.session.get(f"{self.base}/api/v1/{endpoint}", params=params, timeout=self.timeout)
        except req.exceptions.Timeout:
            raise UserError(self.url, f"no answer within {self.timeout:g} s") from None
        except req.exceptions.RequestException as e:
            raise UserError(self.url, f"cannot reach the server: {_reason(e)}") from None
        try:
            doc = r.json()
        except ValueError:
            kind = r.headers.get("Content-Type", "?").split(";")[0]
            raise UserError(self.url, f"not a Prometheus HTTP API: /api/v1/{endpoint} answered HTTP "
                                      f"{r.status_code} with {kind}") from None
        if not isinstance(doc, dict) or doc.get("status") != "success" or "data" not in doc:
            err = doc.get("error", "") if isinstance(doc, dict) else ""
            kind = doc.get("errorType", "error") if isinstance(doc, dict) else "error"
            raise UserError(self.url, f"/api/v1/{endpoint} failed (HTTP {r.status_code}): {kind}: {str(err)[:200]}")
        return doc["data"]

    def query_range(self, query: str, start: float, end: float, step: float) -> tuple[dict, int]:
        """A matrix over [start, end] at `step`, in pages of at most MAX_POINTS points per series.

        Page k covers start + k·MAX_POINTS·step onwards, so every evaluation time is
        start + i·step exactly once, whatever the number of pages."""
        step_ms = max(1, round(step * 1000))
        t0, t1 = round(start * 1000), round(end * 1000)
        series, pages, k = {}, 0, 0
        while True:
            a = t0 + k * promapi.MAX_POINTS * step_ms
            if a > t1:
                break
            b = min(t1, a + (promapi.MAX_POINTS - 1) * step_ms)
            data = self.get("query_range", {"query": query, "start": _s(a), "end": _s(b), "step": _s(step_ms)})
            if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
                raise UserError(self.url, f"query_range answered resultType {data.get('resultType')!r}, not a matrix")
            for s in data["result"]:
                key = tuple(sorted(s.get("metric", {}).items()))
                series.setdefault(key, {"metric": s.get("metric", {}), "values": []})["values"] += s.get("values", [])
            pages += 1
            k += 1
        return {"resultType": "matrix", "result": list(series.values())}, pages

    def metric_types(self) -> dict:
        """tokio_* metric name -> counter/gauge from /api/v1/metadata; {} if the server has none."""
        try:
            data = self.get("metadata", {})
        except UserError:
            return {}
        out = {}
        if isinstance(data, dict):
            for name, entries in data.items():
                if name.startswith("tokio_") and isinstance(entries, list) and entries and isinstance(entries[0], dict):
                    out[name] = entries[0].get("type")
        return out

    def scrape_intervals(self, matchers) -> list:
        """Scrape intervals (s) of the active targets whose labels fit the selector's non-name
        matchers; [] when the server does not say (a proxy, or an older Prometheus)."""
        try:
            data = self.get("targets", {"state": "active"})
        except UserError:
            return []
        rest = [m for m in matchers if m[0] != "__name__"]
        out = []
        for t in data.get("activeTargets", []) if isinstance(data, dict) else []:
            if isinstance(t, dict) and promapi.matches(t.get("labels") or {}, rest):
                s = go_duration_s(t.get("scrapeInterval", ""))
                if s:
                    out.append(s)
        return out


def _s(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def fetch_traces(url: str, match: str | None = None, start=None, end=None, range_=None, step=None,
                 exporter_interval_s: float | None = None) -> list:
    """Query the server and read the answer: one Trace per runtime label set."""
    user = promapi.parse_selector(match) if match else []
    matchers = [NAME_MATCHER] + user
    query = promapi.render_selector(matchers)
    t0, t1 = time_range(start, end, range_)
    client = Client(url)
    notes = []
    intervals = sorted(set(client.scrape_intervals(user)))
    scrape_s = intervals[0] if intervals else None
    if step is not None:
        step_s = parse_duration(step, "--step")
    elif intervals:
        step_s = scrape_s
        notes.append(f"step {step_s:g} s: the scrape interval of the matching targets")
        if len(intervals) > 1:
            notes.append(f"the matching targets have several scrape intervals ({', '.join(f'{x:g} s' for x in intervals)}); "
                         "the shortest is the step")
    else:
        step_s = FALLBACK_STEP_S
        notes.append(f"the server gives no scrape interval (/api/v1/targets): step {step_s:g} s; give --step")
    if step_s < 0.001:
        raise UserError("--step", "Prometheus steps are whole milliseconds: at least 0.001 s")
    data, pages = client.query_range(query, t0, t1, step_s)
    when = (f"{_dt.datetime.fromtimestamp(t0, _dt.timezone.utc):%Y-%m-%dT%H:%M:%S}Z and "
            f"{_dt.datetime.fromtimestamp(t1, _dt.timezone.utc):%Y-%m-%dT%H:%M:%S}Z")
    if not data["result"]:
        raise UserError(client.url, f"no series match {query} between {when}")
    series, kind = promapi.unpack(data, client.url)
    header = {"source": "prometheus", "url": client.url, "query": query, "start": t0, "end": t1, "pages": pages}
    try:
        traces = promapi.to_traces(series, client.url, kind, types=client.metric_types(),
                                   exporter_interval_s=exporter_interval_s, step_s=step_s,
                                   scrape_interval_s=scrape_s, header=header)
    except UserError as e:
        raise UserError(e.where, f"{e.what} (query {query} between {when})") from None
    for t in traces:
        t.notes[1:1] = notes + ([f"read in {pages} pages of at most {promapi.MAX_POINTS} points per series"]
                                if pages > 1 else [])
    return traces


# ---- the command-line side, shared by decide and calibrate ---------------------------------

def add_arguments(p, start_help: str | None = None) -> None:
    g = p.add_argument_group("reading a Prometheus server, or an export of its API")
    g.add_argument("--prometheus", metavar="URL",
                   help="query this Prometheus server's HTTP API for tokio_* series (instead of, or beside, files)")
    g.add_argument("--match", metavar="SELECTOR",
                   help='label selector, e.g. \'{job="hawk", instance=~"db1.*"}\'; also filters a saved API result')
    g.add_argument("--range", dest="range_", metavar="DURATION", help="how far back from --end (default 1h): 30m, 2h, 90s")
    g.add_argument("--start", metavar="TIME", help=start_help or "range start: RFC 3339, Unix seconds or now")
    g.add_argument("--end", metavar="TIME", help="range end (default now)")
    g.add_argument("--step", metavar="DURATION",
                   help="query step (default: the targets' scrape interval); match it to the exporter's interval")
    g.add_argument("--exporter-interval", metavar="DURATION",
                   help="the metrics-rs reporter's interval (default 30s in tokio-metrics), to check the step against")


def traces_from_args(args, paths, start=None, read_file=None) -> list:
    """Every trace the command line names: files (several traces for a multi-runtime API result),
    then the server's, if --prometheus is given."""
    exp = parse_duration(args.exporter_interval, "--exporter-interval") if args.exporter_interval else None
    for flag, v in (("--range", args.range_), ("--end", args.end), ("--step", args.step)):
        if v is not None and not args.prometheus:
            raise UserError(flag, "applies to --prometheus only")
    if not paths and not args.prometheus:
        raise UserError("TRACE", "give a trace file or --prometheus URL")
    out = []
    for p in paths:
        out += read_file(p, args.match, exp)
    if args.prometheus:
        out += fetch_traces(args.prometheus, args.match, start, args.end, args.range_, args.step, exp)
    return out
