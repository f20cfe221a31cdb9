"""The one shape every reader returns, and the grouping of loose samples into interval records.

An interval record is `{"t": ns, "runtime": {field: int}, "tasks": {name: {field: int,
"completed": {...}}}}`, field names as tokio-metrics 0.5 names them and durations as int ns:
exactly the `tokio-probe/1` interval record without its `kind`.

Debug logs, mirror JSON and CSV give runtime and task samples one by one; `Assembler` groups them:
a sample starts a new interval when the current one already holds a sample of the same kind and
name (a second RuntimeMetrics, or a second TaskMetrics of one task). So `R T T R T T` and
`T T R T T R` both group per tick, which is how loggers print them.
"""
import datetime as _dt
import re
from dataclasses import dataclass, field

from ..errors import TraceError
from . import fields as F


@dataclass
class Trace:
    """A trace read from any format: interval records plus what is known about them.

    `fields` names the fields present in at least one interval: runtime and task fields by their
    0.5 names (the two sets do not overlap), plus `completed` when latency statistics are there.
    `notes` says what was mapped, skipped or guessed, one sentence each.
    """
    path: str
    format: str
    header: dict
    intervals: list
    fields: frozenset = frozenset()
    notes: list = field(default_factory=list)

    @property
    def runtime_fields(self) -> frozenset:
        return self.fields & F.RUNTIME_SET

    @property
    def task_fields(self) -> frozenset:
        return self.fields & F.TASK_SET

    @property
    def missing_unstable(self) -> frozenset:
        """Runtime fields that need `--cfg tokio_unstable` and are absent here."""
        return F.RUNTIME_UNSTABLE - self.fields


def present_fields(intervals) -> frozenset:
    out = set()
    for r in intervals:
        out.update(r.get("runtime", {}))
        for t in r.get("tasks", {}).values():
            out.update(t)
    return frozenset(out)


def finish(path, fmt, header, intervals, notes) -> Trace:
    return Trace(str(path), fmt, header, intervals, present_fields(intervals), list(dict.fromkeys(notes)))


@dataclass
class Sample:
    """One loose RuntimeMetrics (name None) or TaskMetrics (name = task) sample, already in 0.5 names/ns."""
    where: str
    name: str | None
    values: dict
    time_ns: int | None = None   # a timestamp from the capture, if it had one
    relative: bool = False       # the timestamp counts from process start (uptime), not an epoch


class Assembler:
    def __init__(self):
        self.samples: list[list[Sample]] = []

    def add(self, s: Sample):
        cur = self.samples[-1] if self.samples else None
        if cur is None or any(o.name == s.name for o in cur):
            self.samples.append([s])
        else:
            cur.append(s)

    def intervals(self, notes: list) -> list:
        out = []
        for group in self.samples:
            rec = {"t": None, "runtime": {}, "tasks": {}}
            for s in group:
                if s.name is None:
                    rec["runtime"] = s.values
                else:
                    rec["tasks"][s.name] = s.values
            out.append(rec)
        times = [next((s.time_ns for s in g if s.time_ns is not None), None) for g in self.samples]
        rel = any(s.relative for g in self.samples for s in g)
        assign_times(out, times, rel, notes)
        return out


def assign_times(records, times, relative, notes):
    """Fill `t` (ns since monitoring started) from capture timestamps or from `elapsed`.

    - Uptime timestamps (tracing's `Uptime` timer, or numbers below 1e9 s) already count from
      process start: t is the timestamp.
    - Wall-clock timestamps: t counts from the first sample, whose own t is its `elapsed` (the
      monitor started one interval before it) or 0 when elapsed is absent.
    - No timestamps: t is the running sum of `elapsed`, the probe's own notion of time.
    - Neither: t is the sample index, and a note says so.
    """
    coarse = any(b <= a for a, b in zip(times, times[1:])) if None not in times else False
    if coarse and all("elapsed" in r["runtime"] for r in records):
        # Second-resolution log clocks print several samples with one time: elapsed is finer.
        notes.append("timestamps too coarse to tell samples apart; t is the running sum of elapsed")
        times = [None] * len(records)
    if records and all(x is not None for x in times):
        if relative:
            for r, x in zip(records, times):
                r["t"] = x
        else:
            t0 = records[0]["runtime"].get("elapsed", 0)
            for r, x in zip(records, times):
                r["t"] = t0 + x - times[0]
            notes.append("t counts from the first sample's timestamp (plus its elapsed), not from process start")
        return
    partly = any(x is not None for x in times)
    total = 0
    for i, r in enumerate(records):
        el = r["runtime"].get("elapsed")
        if el is None:
            break
        total += el
        r["t"] = total
    else:
        if partly:
            notes.append("some samples have no timestamp; t is the running sum of elapsed")
        return
    for i, r in enumerate(records):
        r["t"] = i
    notes.append("no timestamps and no elapsed: t is the sample index, not ns")


# Timestamps as captures print them: RFC 3339 with up to 9 fractional digits, tracing's Uptime
# (`1.000512345s`), or epoch numbers in s, ms, µs or ns (told apart by magnitude).
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?")
_UPTIME = re.compile(r"(\d{1,12})\.(\d{1,9})s")


def parse_timestamp(text: str, where: str) -> tuple[int, bool]:
    """(ns, relative) from a timestamp token; relative means 'since process start'."""
    text = text.strip()
    m = _ISO.fullmatch(text)
    if m:
        return iso_ns(m, where), False
    m = _UPTIME.fullmatch(text)
    if m:
        return int(m[1]) * 10**9 + int(m[2].ljust(9, "0")), True
    if len(text) > 40:
        raise TraceError(where, f"expected a timestamp, got {text[:40]!r}...")
    try:
        x = float(text) if not re.fullmatch(r"\d+", text) else int(text)
    except ValueError:
        raise TraceError(where, f"expected a timestamp, got {text[:40]!r}") from None
    return epoch_ns(x, where)


def epoch_ns(x, where) -> tuple[int, bool]:
    from fractions import Fraction
    if x != x or x < 0 or x == float("inf"):
        raise TraceError(where, f"bad timestamp {x!r}")
    # Below 1e9 s (2001) a number cannot be a current epoch time: read it as seconds since start.
    for limit, scale in ((1e9, 10**9), (1e12, 10**9), (1e15, 10**6), (1e18, 10**3), (float("inf"), 1)):
        if x < limit:
            return round(Fraction(x) * scale), limit == 1e9
    raise TraceError(where, f"bad timestamp {x!r}")  # pragma: no cover


def iso_ns(m, where) -> int:
    day, hh, mm, ss, frac, tz = m.groups()
    try:
        d = _dt.datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss}")
    except ValueError:
        raise TraceError(where, f"bad date {m[0]!r}") from None
    off = 0
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    d = d.replace(tzinfo=_dt.timezone.utc)
    secs = int(d.timestamp()) - off
    return secs * 10**9 + int((frac or "0").ljust(9, "0"))


def map_fields(raw: dict, task: bool, where: str, notes: list, duration, count) -> dict:
    """Map one sample's fields to 0.5 names and int values.

    `duration(value, where, name)` and `count(value, where)` convert one value each, so that each
    format keeps its own spelling rules. Pre-0.4 names are renamed with a note; histograms, derived
    values and unknown names are skipped with a note, since newer and older crates add fields.
    """
    out = {}
    for name, value in raw.items():
        w = f"{where}: {name}"
        if name in F.HISTOGRAM_FIELDS:
            notes.append(f"{name} present but not kept (the interval shape holds ints only)")
            continue
        new = F.canonical(name)
        if new != name:
            notes.append(f"{name} (tokio-metrics < 0.4) read as {new}")
        known = F.TASK_SET if task else F.RUNTIME_SET
        if new not in known:
            if new in F.DERIVED or (task and new == "mean_poll_duration"):
                notes.append(f"derived value {new} skipped (numasim keeps the raw fields)")
            else:
                notes.append(f"unknown {'task' if task else 'runtime'} field {name} skipped")
            continue
        if new in out:
            raise TraceError(where, f"{new} given twice")
        out[new] = duration(value, w, new) if new in F.DURATION_FIELDS else count(value, w)
    return out


def map_completed(raw, where: str, count) -> dict:
    if not isinstance(raw, dict):
        raise TraceError(where, "completed must be an object")
    out = {}
    for k, v in raw.items():
        if k not in F.COMPLETED_FIELDS:
            raise TraceError(where, f"unknown completed statistic {k!r}")
        out[k] = count(v, f"{where}: completed.{k}")
    return out
