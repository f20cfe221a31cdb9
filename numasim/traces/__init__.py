"""Readers and writers for every way users capture tokio-metrics, over one interval-record shape.

    read_trace(path) -> Trace          format detected from the content (or a folder of scrapes)
    write_trace(trace_or_intervals, path, format, **options)

    read_traces(path, match=None) -> [Trace]   the same, one Trace per runtime of a Prometheus API result

Formats: `probe` (tokio-probe/1 JSON Lines), `debug` (RuntimeMetrics { .. } text, in log lines or
not), `prometheus` (metrics-rs text exposition; one file of concatenated scrapes or a folder of
scrape files), `mirror` (JSON Lines of user mirror structs), `csv` (a header of field names),
`prometheus-api` (a saved /api/v1/query_range or /api/v1/query answer, or Grafana's data frames
of one). Each is recognised by the fields it must have; content that fits none is refused with one
line naming the file and what was expected, and so is a trace in which no tokio-metrics field is
found. See docs/traces.md for the field mapping and what each format can and cannot carry.
"""
import io
import os

from ..errors import TraceError
import json

from . import csvtext, debug, mirror, probe, prom, promapi
from . import fields as F
from .model import Trace
from .text import read_lines

__all__ = ["Trace", "read_trace", "read_traces", "write_trace", "FORMATS"]

FORMATS = ("probe", "debug", "prometheus", "mirror", "csv", "prometheus-api")
EXPECTED = ("expected a tokio-probe/1 trace (JSON Lines, first line a header with \"format\": \"tokio-probe/1\"), "
            "mirror JSON Lines of RuntimeMetrics/TaskMetrics fields, a Prometheus HTTP API result or Grafana "
            "data frames (JSON), tokio-metrics Debug text, Prometheus text with tokio_* samples, or CSV with "
            "a header of field names")


def read_trace(path, format: str | None = None, **options) -> Trace:
    """Read one trace; `format` forces a reader, otherwise the content decides.

    Options go to the reader that takes them: `duration_unit` ("ns", "us", "ms", "s") for mirror
    JSON and CSV numbers whose field name carries no unit.
    Raises `TraceError` (one line: file, line, problem) for anything malformed.
    """
    traces = read_traces(path, format, **options)
    if len(traces) > 1:
        raise TraceError(os.fspath(path), f"holds {len(traces)} runtimes ("
                         + "; ".join(promapi._fmt_labels(t.header.get("labels", {})) for t in traces[:4])
                         + (" ..." if len(traces) > 4 else "") + "): pick one with a label selector (--match)")
    return traces[0]


def read_traces(path, format: str | None = None, match=None, exporter_interval_s=None, **options) -> list:
    """Every trace in one file: one, except for a Prometheus API result or Grafana export that
    holds several runtimes (label sets). `match` (a label selector, text or parsed) keeps the
    matching series of such a result; other formats carry no labels to select by."""
    path = os.fspath(path)
    try:
        return _read_traces(path, format, match, exporter_interval_s, **options)
    except RecursionError:
        # `[[[[...` deep enough to exhaust the JSON parser, wherever a reader meets it
        raise TraceError(path, "JSON nested too deeply; not a trace") from None


def _read_traces(path, format, match, exporter_interval_s, **options) -> list:
    if isinstance(match, str):
        match = promapi.parse_selector(match)
    if os.path.isdir(path):
        if format not in (None, "prometheus"):
            raise TraceError(path, f"a folder is read as Prometheus scrapes, not {format}")
        return [_checked(prom.read_folder(path), match)]
    lines = read_lines(path)
    fmt = format or detect(path, lines)
    if fmt == "prometheus-api":
        return [_checked(t) for t in promapi.read(path, "\n".join(lines), match, exporter_interval_s)]
    if fmt == "probe":
        return [_checked(probe.read(path, lines), match)]
    if fmt == "debug":
        return [_checked(debug.read(path, lines), match)]
    if fmt == "prometheus":
        return [_checked(prom.read(path, lines), match)]
    if fmt == "mirror":
        return [_checked(mirror.read(path, lines, options.get("duration_unit")), match)]
    if fmt == "csv":
        return [_checked(csvtext.read(path, lines, options.get("duration_unit")), match)]
    raise TraceError(path, f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def _checked(trace: Trace, match=None) -> Trace:
    if match:
        raise TraceError(trace.path, f"a label selector applies to Prometheus API results, not to {trace.format}")
    if not trace.fields:
        raise TraceError(trace.path, f"no tokio-metrics field in any record ({trace.format}): {EXPECTED}")
    return trace


def detect(path, lines) -> str:
    """The format whose required fields the content has; TraceError (file, what was expected)
    when it has none's."""
    first = next((l for l in lines if l.strip()), None)
    if first is None:
        raise TraceError(f"{path}:1", "empty file")
    if first.lstrip().startswith(("{", "[")):
        fmt = _detect_json(path, lines, first)
        if fmt is not None:
            return fmt
    if any(debug.looks_like(l) for l in lines):
        return "debug"
    if prom.looks_like(lines):
        return "prometheus"
    if csvtext.looks_like(first):
        return "csv"
    if first.lstrip().startswith("{"):
        return "mirror"
    raise TraceError(f"{path}:1", "not a trace format numasim knows (probe JSONL, Debug text, "
                     "Prometheus text, mirror JSONL or CSV)")


# Keys a mirror line may spell a field with: 0.3 and 0.5 names, with unit suffixes, derived values.
_FIELD_KEYS = F.RUNTIME_SET | F.TASK_SET | frozenset(F.RENAMES) | F.DERIVED


def _has_fields(obj) -> bool:
    keys = set(obj)
    for k in ("runtime", "tasks"):
        v = obj.get(k)
        if isinstance(v, dict):
            keys |= set(v) if k == "runtime" else {f for t in v.values() if isinstance(t, dict) for f in t}
    return any(mirror.split_unit(k, None)[0] in _FIELD_KEYS for k in keys if isinstance(k, str))


def _detect_json(path, lines, first) -> str:
    # One JSON document (pretty-printed or not) is an API result or Grafana frames; else JSON
    # Lines, told apart by the first line: a probe header, or a mirror with tokio-metrics fields.
    try:
        doc = json.loads("\n".join(lines))
    except (ValueError, RecursionError):
        doc = None
    if doc is not None and promapi.looks_like(doc):
        return "prometheus-api"
    try:
        head = json.loads(first)
    except (ValueError, RecursionError):
        head = None
    if isinstance(head, dict):
        fmt = head.get("format")
        if head.get("kind") == "header" or (isinstance(fmt, str) and fmt.startswith("tokio-probe")):
            if probe.looks_like(first):
                return "probe"
            raise TraceError(f"{path}:1", f"header of format {str(fmt)[:40]!r}: numasim reads \"format\": "
                             f"\"{probe.FORMAT}\" (JSON Lines: a header, then interval records)")
        objs = []
        for line in lines[:200]:
            try:
                o = json.loads(line) if line.strip() else None
            except (ValueError, RecursionError):
                break
            if isinstance(o, dict):
                objs.append(o)
        if any(_has_fields(o) for o in objs):
            return "mirror"
        what = "a JSON object" if len(objs) <= 1 else f"JSON Lines ({len(objs)} objects)"
        raise TraceError(f"{path}:1", f"{what} with no tokio-metrics field (keys {', '.join(sorted(head)[:4]) or 'none'}"
                         f"{' ...' if len(head) > 4 else ''}): {EXPECTED}")
    if doc is not None:
        raise TraceError(f"{path}:1", f"JSON {type(doc).__name__} that is no known result: {EXPECTED}")
    return None  # not JSON: a log line in brackets, or a broken mirror line (the mirror reader says where)


def write_trace(trace_or_intervals, path, format: str, **options) -> None:
    """Write a Trace (or a list of interval records) in `format`.

    Options: debug `version` ("0.5" or "0.3"); prometheus `total` (append `_total` to counters),
    `exact` (fractional µs so that ns survive); mirror `durations` ("ns", "us", "serde", "debug");
    csv none. Writing to a folder with prometheus writes one scrape file per interval.
    """
    trace = trace_or_intervals if isinstance(trace_or_intervals, Trace) else \
        Trace(os.fspath(path), format, {}, list(trace_or_intervals))
    if format == "prometheus" and options.pop("folder", False):
        prom.write_folder(trace, path, **options)
        return
    modules = {"probe": probe, "debug": debug, "prometheus": prom, "mirror": mirror, "csv": csvtext}
    if format not in modules:
        raise ValueError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    buf = io.StringIO()
    modules[format].write(trace, buf, **options)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
