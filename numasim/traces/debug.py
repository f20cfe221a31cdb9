"""tokio-metrics Debug text: `RuntimeMetrics { .. }` and `TaskMetrics { .. }`, alone or in log lines.

Users print samples with `{:?}` (or `{:#?}`, which spans lines) through `tracing` or `println!`,
so a sample is found anywhere in a line: `2026-01-05T10:00:00.123Z  INFO hawk: RuntimeMetrics {
workers_count: 2, .. }`. A timestamp in the prefix (RFC 3339, or tracing's Uptime `1.000512345s`)
becomes the sample's time; a `task=NAME` (or `name=`, `monitor=`) in the prefix names a TaskMetrics
sample. The field names of 0.3, 0.4 and 0.5 are accepted in any order; 0.3's are renamed.
"""
import re

from ..errors import TraceError
from . import fields as F
from . import model
from .values import format_duration, parse_duration

FORMAT = "debug"

_START = re.compile(r"\b(RuntimeMetrics|TaskMetrics)\s*\{")
_NAME = re.compile(r"\b(?:task|task_name|name|monitor)\s*[=:]\s*\"?([A-Za-z0-9_.:/-]+)\"?")
_UPTIME_PREFIX = re.compile(r"^\s*\[?\s*(\d+\.\d{1,9}s)\b")
_INT = re.compile(r"\d{1,25}")
MAX_SPAN = 400  # lines a {:#?} sample may span; more means a brace was never closed


def looks_like(text: str) -> bool:
    return bool(_START.search(text))


def read(path, lines) -> model.Trace:
    notes: list = []
    asm = model.Assembler()
    versions = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _START.search(line)
        if not m:
            i += 1
            continue
        start = i
        text = line[m.start():]
        # {:#?} output continues over the next lines until the braces balance.
        while _depth(text) > 0:
            i += 1
            if i >= len(lines) or i - start > MAX_SPAN:
                raise TraceError(f"{path}:{start + 1}", f"{m[1]} {{ is never closed (truncated?)")
            text += "\n" + lines[i]
        i += 1
        where = f"{path}:{start + 1}"
        kind, values, _ = _Parser(text, where).struct()
        if kind not in ("RuntimeMetrics", "TaskMetrics"):  # pragma: no cover - _START guarantees it
            continue
        prefix = line[:m.start()]
        versions.add(_version(kind, values))
        ts, rel = _timestamp(prefix, where)
        if kind == "RuntimeMetrics":
            vals = model.map_fields(values, False, where, notes, _dur, _count)
            asm.add(model.Sample(where, None, vals, ts, rel))
        else:
            n = _NAME.search(prefix)
            name = n[1] if n else "task"
            if not n:
                notes.append('TaskMetrics without task=NAME in the log line are named "task"')
            vals = model.map_fields(values, True, where, notes, _dur, _count)
            asm.add(model.Sample(where, name, vals, ts, rel))
    if not asm.samples:
        raise TraceError(f"{path}:1", "no RuntimeMetrics { .. } or TaskMetrics { .. } found")
    versions.discard(None)
    header = {"tokio_metrics": sorted(versions)}
    return model.finish(path, FORMAT, header, asm.intervals(notes), notes)


def _depth(text: str) -> int:
    return text.count("{") + text.count("[") - text.count("}") - text.count("]")


def _timestamp(prefix: str, where):
    m = model._ISO.search(prefix)
    if m:
        return model.iso_ns(m, where), False
    m = _UPTIME_PREFIX.match(prefix)
    if m:
        return model.parse_timestamp(m[1], where)
    return None, False


def _version(kind, values):
    """Which field set printed this: '0.3' (old names or 0.3 order) or '>=0.4'."""
    names = [k for k in values]
    if "injection_queue_depth" in names or "poll_count_histogram" in names:
        return "0.3"
    if kind == "TaskMetrics" and "max_idle_duration" not in names:
        return "0.3" if names and names == [n for n in F.TASK_FIELDS_03 if n in names] else None
    return ">=0.4"


def _dur(value, where, name):
    if not isinstance(value, str):
        raise TraceError(where, "expected a Duration like 1.234ms")
    return parse_duration(value, where)


def _count(value, where):
    if not isinstance(value, str) or not _INT.fullmatch(value):
        raise TraceError(where, f"expected an unsigned integer, got {str(value)[:40]!r}")
    n = int(value)
    if n > F.U64_MAX:
        raise TraceError(where, f"count out of range: {value[:40]}")
    return n


class _Parser:
    """Rust's derived Debug: `Name { field: value, .. }`, `[a, b]`, and bare scalars."""

    def __init__(self, text, where):
        self.s, self.i, self.where = text, 0, where

    def error(self, what):
        raise TraceError(self.where, what)

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def ident(self):
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        if not m:
            self.error(f"expected a name at {self.s[self.i:self.i + 20]!r}")
        self.i = m.end()
        return m[0]

    def expect(self, ch):
        self.ws()
        if self.s[self.i:self.i + 1] != ch:
            got = self.s[self.i:self.i + 20] or "end of line"
            self.error(f"expected {ch!r} at {got!r}")
        self.i += 1

    def peek(self):
        self.ws()
        return self.s[self.i:self.i + 1]

    def struct(self):
        name = self.ident()
        self.expect("{")
        vals = {}
        while self.peek() != "}":
            key = self.ident()
            self.expect(":")
            if key in vals:
                self.error(f"{key} given twice")
            vals[key] = self.value()
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "}":
                self.error(f"expected ',' or '}}' after {key}")
        self.i += 1
        return name, vals, self.i

    def value(self):
        c = self.peek()
        if c == "[":
            self.i += 1
            items = []
            while self.peek() != "]":
                if not self.peek():
                    self.error("unterminated [")
                items.append(self.value())
                if self.peek() == ",":
                    self.i += 1
                elif self.peek() != "]":
                    self.error("expected ',' or ']'")
            self.i += 1
            return items
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\{").match(self.s, self.i)
        if m:
            return self.struct()[1]
        m = re.compile(r"[^,{}\[\]\s]+").match(self.s, self.i)
        if not m:
            self.error(f"expected a value at {self.s[self.i:self.i + 20] or 'end of line'!r}")
        self.i = m.end()
        return m[0]


def write(trace, fh, version="0.5", timestamps=True):
    """Debug lines as a tracing subscriber with the Uptime timer prints them.

    `version` "0.5" (also 0.4's order and names) or "0.3" (0.3's order, `injection_queue_depth`,
    and no fields 0.3 lacked). Each line starts with `t` as an uptime timestamp so that t reads
    back exactly; fields absent from a record are left out of its line.
    """
    rt_order, task_order = (F.RUNTIME_FIELDS_03, F.TASK_FIELDS_03) if version == "0.3" else (F.RUNTIME_FIELDS_05, F.TASK_FIELDS_05)
    for r in trace.intervals:
        prefix = f"{_uptime(r['t'])}  INFO numasim: " if timestamps else ""
        rt = r["runtime"]
        if version == "0.3":
            rt = {("injection_queue_depth" if k == "global_queue_depth" else k): v for k, v in rt.items()}
        fh.write(prefix + "RuntimeMetrics { " + _body(rt, rt_order) + " }\n")
        for name, tm in r.get("tasks", {}).items():
            if not _NAME.fullmatch(f"task={name}"):
                raise ValueError(f"task name {name!r} cannot be written in a log line")
            fh.write(f"{prefix}task={name} TaskMetrics {{ " + _body(tm, task_order) + " }\n")


def _uptime(t):
    s, ns = divmod(t, 10**9)
    return f"{s:4d}.{ns:09d}s"


def _body(values, order):
    parts = []
    for k in order:
        if k in values:
            v = values[k]
            parts.append(f"{k}: {format_duration(v) if F.canonical(k) in F.DURATION_FIELDS else v}")
    return ", ".join(parts)
