"""Readers and writers for every way users capture tokio-metrics, over one interval-record shape.

    read_trace(path) -> Trace          format detected from the content (or a folder of scrapes)
    write_trace(trace_or_intervals, path, format, **options)

Formats: `probe` (tokio-probe/1 JSON Lines), `debug` (RuntimeMetrics { .. } text, in log lines or
not), `prometheus` (metrics-rs text exposition; one file of concatenated scrapes or a folder of
scrape files), `mirror` (JSON Lines of user mirror structs), `csv` (a header of field names).
See docs/traces.md for the field mapping and what each format can and cannot carry.
"""
import io
import os

from ..errors import TraceError
from . import csvtext, debug, mirror, probe, prom
from .model import Trace

__all__ = ["Trace", "read_trace", "write_trace", "FORMATS"]

FORMATS = ("probe", "debug", "prometheus", "mirror", "csv")
MAX_BYTES = 1 << 30  # a trace larger than this is not a metrics capture


def read_trace(path, format: str | None = None, **options) -> Trace:
    """Read one trace; `format` forces a reader, otherwise the content decides.

    Options go to the reader that takes them: `duration_unit` ("ns", "us", "ms", "s") for mirror
    JSON and CSV numbers whose field name carries no unit.
    Raises `TraceError` (one line: file, line, problem) for anything malformed.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        if format not in (None, "prometheus"):
            raise TraceError(path, f"a folder is read as Prometheus scrapes, not {format}")
        return prom.read_folder(path)
    lines = _lines(path)
    fmt = format or detect(path, lines)
    if fmt == "probe":
        return probe.read(path, lines)
    if fmt == "debug":
        return debug.read(path, lines)
    if fmt == "prometheus":
        return prom.read(path, lines)
    if fmt == "mirror":
        return mirror.read(path, lines, options.get("duration_unit"))
    if fmt == "csv":
        return csvtext.read(path, lines, options.get("duration_unit"))
    raise TraceError(path, f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def _lines(path) -> list:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise TraceError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise TraceError(path, "larger than 1 GiB; not a metrics capture")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise TraceError(f"{path}:{line}", "not UTF-8 text") from None
    if "\x00" in text:
        raise TraceError(f"{path}:{text[:text.index(chr(0))].count(chr(10)) + 1}", "binary data (NUL byte)")
    return text.splitlines()


def detect(path, lines) -> str:
    first = next((l for l in lines if l.strip()), None)
    if first is None:
        raise TraceError(f"{path}:1", "empty file")
    if probe.looks_like(first):
        return "probe"
    if first.lstrip().startswith("{"):
        return "mirror"
    if any(debug.looks_like(l) for l in lines):
        return "debug"
    if prom.looks_like(lines):
        return "prometheus"
    if csvtext.looks_like(first):
        return "csv"
    raise TraceError(f"{path}:1", "not a trace format numasim knows (probe JSONL, Debug text, "
                     "Prometheus text, mirror JSONL or CSV)")


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
