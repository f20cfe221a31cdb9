"""Prometheus HTTP API results, and Grafana's data frames of them, read back as tokio-metrics intervals.

Where production keeps tokio-metrics is a Prometheus server: the metrics-rs reporter exports each
interval (counters as running totals, per-interval counts as gauges, Durations in µs; tokio-metrics.md
A.4) and Prometheus stores what each scrape saw. What a user can hand over is that server's answer
to `/api/v1/query_range` (resultType `matrix`) or `/api/v1/query` (`vector`, or `matrix` for a range
selector), saved as JSON, or Grafana's JSON of the same data (the panel inspector's DataFrame JSON,
panel data, or the query inspector's response). This module turns any of them into interval
records:

- Series are grouped by their labels without `__name__` and without the task label: one group is
  one runtime (`instance`, `job`, a `runtime` label ... tell runtimes apart), and a task series
  joins the runtime whose labels it carries. Each group becomes one Trace.
- The first time point of a group is the baseline: what counters held before it is not known to
  belong to the range, so it is not counted. Every later point is one record: a counter gives the
  difference from its previous point (a drop is a restart: the new value counts from zero, as
  Prometheus' `rate()` does), a gauge is read as it is.
- A point at which no counter moved saw no new reporter interval (the step is shorter than the
  exporter's interval, or the runtime was idle): it is merged into the next point, so that each
  record is one reporter interval when the step is at most the exporter's interval. The notes say
  how many points were merged and whether the step matches the exporter's interval.
- A `vector` is one instant: counters are the run's totals since the exporter started and are
  read as one interval from zero.
- `elapsed`, which metrics-rs does not export, is the time between the points that close two
  records: the exporter's wall clock as Prometheus stamped it.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
import statistics
from dataclasses import dataclass
from fractions import Fraction

from ..errors import TraceError, UserError
from . import fields as F
from . import model
from .prom import TASK_LABELS, _decimal, _field, kept_field

FORMAT = "prometheus-api"
# Prometheus refuses a query_range whose (end - start) / step exceeds this (per series).
MAX_POINTS = 11_000


@dataclass
class Series:
    labels: dict    # every label, `__name__` included when the query kept it
    points: list    # [(t_ms, value)], value a decimal string (Prometheus) or a float (Grafana)


# ---- label selectors -----------------------------------------------------------------------

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*'
                      r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`)\s*(,|$)')
_METRIC = re.compile(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*")


def parse_selector(text: str, where: str = "--match") -> list:
    """`{job="hawk", instance=~"a.*"}` (braces, and a leading metric name, optional) as
    [(label, op, value)]. Raises UserError naming `where` for anything else."""
    s = text.strip()
    out = []
    m = _METRIC.match(s)
    if m and not s.startswith("{") and (m.end() == len(s) or s[m.end()] == "{"):
        out.append(("__name__", "=", m[1]))
        s = s[m.end():].strip()
    if s.startswith("{"):
        if not s.endswith("}"):
            raise UserError(where, f"unbalanced braces in {text!r}")
        s = s[1:-1]
    i = 0
    while i < len(s.rstrip()):
        m = _MATCHER.match(s, i)
        if not m:
            raise UserError(where, f'expected label matchers like {{job="hawk", instance=~"a.*"}}, got {text!r}')
        raw = m[3]
        value = raw[1:-1] if raw[0] == "`" else re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e[1], e[1]), raw[1:-1])
        if m[2] in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as e:
                raise UserError(where, f"bad regular expression {value!r}: {e}") from None
        out.append((m[1], m[2], value))
        i = m.end()
    return out


def render_selector(matchers) -> str:
    """PromQL text of matchers; values escaped as PromQL (Go) strings."""
    return "{" + ", ".join(f"{k}{op}{json.dumps(v, ensure_ascii=False)}" for k, op, v in matchers) + "}"


def matches(labels: dict, matchers) -> bool:
    """Prometheus' matching: regexes are anchored, an absent label is the empty string."""
    for k, op, v in matchers:
        got = labels.get(k, "")
        if op == "=" and got != v or op == "!=" and got == v:
            return False
        if op in ("=~", "!~") and (re.fullmatch(v, got) is None) == (op == "=~"):
            return False
    return True


# ---- recognising and unpacking documents ---------------------------------------------------

def looks_like(doc) -> bool:
    """A Prometheus API answer (or its `data`), Grafana data frames (one, a list, panel data, or
    a query-inspector response)."""
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), dict) and "resultType" in doc["data"] and "status" in doc:
            return True
        if "resultType" in doc and "result" in doc:
            return True
        if doc.get("status") == "error" and "errorType" in doc:
            return True  # a failed query, saved: refused with Prometheus' own message
        if isinstance(doc.get("results"), dict) or isinstance(doc.get("response"), dict) and \
                isinstance(doc["response"].get("results"), dict):
            return True
        if isinstance(doc.get("series"), list) and all(_is_frame(f) for f in doc["series"]):
            return bool(doc["series"])
        return _is_frame(doc)
    if isinstance(doc, list):
        return bool(doc) and all(_is_frame(f) for f in doc)
    return False


def _is_frame(f) -> bool:
    if not isinstance(f, dict):
        return False
    if isinstance(f.get("schema"), dict) and isinstance(f.get("data"), dict):
        return True
    return isinstance(f.get("fields"), list) and all(isinstance(x, dict) and "values" in x for x in f["fields"])


def unpack(doc, where: str) -> tuple[list, str]:
    """(series, kind) of a document; kind is "matrix", "vector" or "frames"."""
    if isinstance(doc, dict) and "status" in doc and not isinstance(doc.get("data"), dict):
        raise TraceError(where, f"the query failed: {doc.get('errorType', 'error')}: {str(doc.get('error', ''))[:200]}")
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict) and "resultType" in doc["data"]:
        if doc.get("status") not in (None, "success"):
            raise TraceError(where, f"the query failed: {doc.get('errorType', 'error')}: {str(doc.get('error', ''))[:200]}")
        doc = doc["data"]
    if isinstance(doc, dict) and "resultType" in doc:
        return _api_result(doc, where)
    return _frames(doc, where), "frames"


def _api_result(data, where):
    kind, result = data.get("resultType"), data.get("result")
    if kind not in ("matrix", "vector"):
        raise TraceError(where, f"resultType {kind!r}: expected matrix (query_range) or vector (query) of tokio_* series")
    if not isinstance(result, list):
        raise TraceError(where, "result must be a list of series")
    out = []
    for i, s in enumerate(result):
        w = f"{where}: result[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("metric"), dict):
            raise TraceError(w, "a series needs a metric object of labels")
        if kind == "matrix":
            pts = s.get("values", [])
            if "histograms" in s and not pts:
                continue  # native histograms: not a tokio-metrics field numasim keeps
        else:
            pts = [s["value"]] if "value" in s else []
        if not isinstance(pts, list):
            raise TraceError(w, "values must be a list of [time, value] pairs")
        points = []
        for p in pts:
            if not (isinstance(p, list) and len(p) == 2 and isinstance(p[0], (int, float)) and not isinstance(p[0], bool)
                    and isinstance(p[1], str)):
                raise TraceError(w, f'expected [unix seconds, "value"] pairs, got {str(p)[:40]}')
            points.append((_ms(p[0], w), p[1]))
        out.append(Series({str(k): str(v) for k, v in s["metric"].items()}, points))
    return out, kind


def _ms(t, where) -> int:
    if not math.isfinite(t) or t < 0:
        raise TraceError(where, f"bad timestamp {t!r}")
    return round(t * 1000)


def _frames(doc, where) -> list:
    """Grafana frames -> series: each number field beside a time field is one series, its labels
    the field's labels (`__name__` there, or the field's or frame's name)."""
    if isinstance(doc, dict) and isinstance(doc.get("response"), dict):
        doc = doc["response"]
    if isinstance(doc, dict) and isinstance(doc.get("results"), dict):
        frames = []
        for ref, res in doc["results"].items():
            if isinstance(res, dict) and res.get("error"):
                raise TraceError(where, f"query {ref} failed: {str(res['error'])[:200]}")
            frames += (res or {}).get("frames", []) if isinstance(res, dict) else []
    elif isinstance(doc, dict) and "series" in doc:
        frames = doc["series"]
    elif isinstance(doc, list):
        frames = doc
    else:
        frames = [doc]
    out = []
    for i, fr in enumerate(frames):
        w = f"{where}: frame {i}"
        if not _is_frame(fr):
            raise TraceError(w, "expected a data frame (schema and data, or fields with values)")
        if "schema" in fr:
            fields = fr["schema"].get("fields", [])
            data = fr["data"]
            columns = data.get("values", [])
            entities = data.get("entities") or [None] * len(columns)
            name = fr["schema"].get("name")
        else:
            fields = fr["fields"]
            columns = [f.get("values", []) for f in fields]
            entities = [f.get("entities") for f in fields]
            name = fr.get("name")
        if not isinstance(columns, list) or len(columns) != len(fields):
            raise TraceError(w, f"{len(fields)} fields but {len(columns) if isinstance(columns, list) else 0} value columns")
        times = next((c for f, c in zip(fields, columns) if isinstance(f, dict) and f.get("type") == "time"), None)
        if times is None:
            raise TraceError(w, "no time field")
        for f, col, ent in zip(fields, columns, entities):
            if not isinstance(f, dict) or f.get("type") != "number":
                continue
            if not isinstance(col, list) or len(col) != len(times):
                raise TraceError(w, f"field {f.get('name')!r} has {len(col) if isinstance(col, list) else 0} values "
                                    f"for {len(times)} times")
            labels = {str(k): str(v) for k, v in (f.get("labels") or {}).items()}
            if "__name__" not in labels:
                cfg = f.get("config") or {}
                # a legend such as `tokio_total_polls_count{instance="a:9000"}` names the metric too
                for cand in (f.get("name"), cfg.get("displayNameFromDS"), name):
                    m = re.fullmatch(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{.*\})?", cand) if isinstance(cand, str) else None
                    if m and m[1] != "Value":
                        labels["__name__"] = m[1]
                        break
            # JSON has no NaN or Inf: Grafana writes null and lists the index under entities
            # (NaN, Inf, NegInf, Undef); a plain null (or Undef) is a time without a sample
            special = set()
            if isinstance(ent, dict):
                for key in ("NaN", "Inf", "NegInf"):
                    special.update(ent.get(key) or [])
            points = []
            for j, (t, v) in enumerate(zip(times, col)):
                if j in special:
                    v = math.nan  # refused later if the series is a field numasim keeps
                elif v is None:
                    continue
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not isinstance(t, (int, float)):
                    raise TraceError(w, f"expected numbers, got {str(v)[:30]!r} at {str(t)[:30]!r}")
                points.append((round(t), v))  # Grafana times are epoch ms
            out.append(Series(labels, points))
    return out


# ---- series -> interval records ------------------------------------------------------------

def _value(v, where) -> Fraction:
    if isinstance(v, str):
        if v in ("NaN", "+Inf", "-Inf", "Inf"):
            raise TraceError(where, f"value {v}: a tokio-metrics field is a finite number")
        return _decimal(v, where)
    if not math.isfinite(v):
        raise TraceError(where, "NaN or infinite value: a tokio-metrics field is a finite number")
    if v < 0:
        raise TraceError(where, f"expected a non-negative number, got {v!r}")
    return Fraction(repr(float(v))) if isinstance(v, float) else Fraction(v)


def _fmt_labels(labels) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(dict(labels).items())) + "}"


def _when(ms) -> str:
    d = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_traces(series, where: str, kind: str, types: dict | None = None, match=None,
              exporter_interval_s: float | None = None, step_s: float | None = None,
              scrape_interval_s: float | None = None, header: dict | None = None) -> list:
    """Interval records per runtime from series; one Trace per label group, in label order.

    `types` (metric name -> counter/gauge, e.g. from /api/v1/metadata) overrides the metrics-rs
    kinds; `match` (parsed selector) keeps matching series; `step_s` is the query step when known
    (else the most common spacing of the points); `exporter_interval_s` is the reporter's interval
    when the user knows it; `scrape_interval_s` the server's.
    """
    types = types or {}
    notes = []
    if match:
        series = [s for s in series if matches(s.labels, match)]
    named = [s for s in series if "__name__" in s.labels]
    if series and not named:
        raise TraceError(where, "no series carries a metric name (__name__): a function such as rate() or "
                                "increase() drops it; export the raw tokio_* series")
    if not any(s.points for s in named):
        raise TraceError(where, "no samples" + (f" match {render_selector(match)}" if match else ""))
    runtimes, tasks = {}, {}   # identity -> {field: (series, scale, counter)}; tasks: identity -> {name: {...}}
    skipped = set()
    for s in named:
        name = s.labels["__name__"]
        f = _field(name, types)
        if f is None:
            skipped.add(name)
            continue
        field, scale, counter = f
        kept = kept_field(field, counter, name, notes)
        if kept is None:
            continue
        field, task = kept
        labels = {k: v for k, v in s.labels.items() if k != "__name__"}
        if task:
            tname = next((labels[k] for k in TASK_LABELS if k in labels), "task")
            ident = tuple(sorted((k, v) for k, v in labels.items() if k not in TASK_LABELS))
            dest = tasks.setdefault(ident, {}).setdefault(tname, {})
        else:
            ident = tuple(sorted(labels.items()))
            dest = runtimes.setdefault(ident, {})
        if field in dest:
            notes.append(f"{name}{_fmt_labels(labels)} repeats tokio_{field} of the same series; the first is kept")
            continue
        dest[field] = (s, scale, counter)
    if skipped:
        notes.append(f"{len(skipped)} metric names that are not tokio-metrics fields skipped")
    groups = {ident: {"runtime": rt, "tasks": {}} for ident, rt in runtimes.items()}
    for ident, tk in tasks.items():
        if ident in groups:
            host = ident
        else:
            sup = [r for r in runtimes if set(ident) <= set(r)]
            host = sup[0] if len(sup) == 1 else None
        if host is None:
            groups.setdefault(ident, {"runtime": {}, "tasks": {}})
            host = ident
            notes.append(f"task series {_fmt_labels(ident)} match no single runtime's labels: read as a trace of their own")
        groups[host]["tasks"].update(tk)
    if not groups:
        raise TraceError(where, "no tokio-metrics series (tokio_<field> names of RuntimeMetrics or TaskMetrics)")
    many = len(groups) > 1
    out = []
    for ident in sorted(groups):
        g = groups[ident]
        gn = list(notes)
        recs, info = _records(g, where, kind, gn, step_s, exporter_interval_s, scrape_interval_s)
        labels = dict(ident)
        gn.insert(0, f"series labels {_fmt_labels(labels)}" + (f"; {len(groups)} runtimes in the result, one trace each"
                                                               if many else ""))
        path = f"{where} {_fmt_labels(labels)}" if many else where
        head = dict(header or {})
        head.update(labels=labels, **info)
        out.append(model.finish(path, FORMAT, head, recs, gn))
    return out


def _records(group, where, kind, notes, step_s, exporter_s, scrape_s):
    cols = []   # (scope, field, series, scale, counter); scope None = runtime, else the task name
    for field, (s, scale, counter) in group["runtime"].items():
        cols.append((None, field, s, scale, counter))
    for tname, fs in sorted(group["tasks"].items()):
        for field, (s, scale, counter) in fs.items():
            cols.append((tname, field, s, scale, counter))
    at = [dict(s.points) for _, _, s, _, _ in cols]
    times = sorted({t for pts in at for t in pts})
    info = {"points": len(times)}
    if kind == "vector" or len(times) == 1:
        rec = _record(0, cols, at, times[0], {}, where, notes, from_zero=True)
        notes.append("one instant (a vector): counters are the totals since the exporter started, read as one "
                     "interval; gauges are the last reporter interval's; elapsed is unknown")
        return [rec], info
    diffs = [b - a for a, b in zip(times, times[1:])]
    step_ms = round(step_s * 1000) if step_s else statistics.mode(diffs)
    info["step_s"] = step_ms / 1000
    # The group's first point is the baseline of every series there; a series that appears later
    # was created within the range (metrics-rs registers a counter when it first records), so it
    # counts from zero.
    prev, late = {}, 0
    for i, pts in enumerate(at):
        if times[0] in pts:
            prev[i] = (times[0], pts[times[0]])
        elif pts:
            prev[i] = (None, "0")
            late += cols[i][4]
    has_counters = any(c[4] for c in cols)
    records, merged, resets, last = [], 0, [], times[0]
    for t in times[1:]:
        moved = [False]
        rec = _record(t - times[0], cols, at, t, prev, where, notes, moved=moved, resets=resets)
        if has_counters and not moved[0]:
            merged += 1
            continue
        rec["runtime"]["elapsed"] = (t - last) * 10**6
        last = t
        records.append(rec)
    if resets:
        notes.append(f"{len(resets)} counter drops (restarts), e.g. {resets[0]}: the value after a drop counts from zero")
    notes.append(f"the first point ({_when(times[0])}) is the baseline: counts before it are not in the trace")
    if late:
        notes.append(f"{late} counter series appear after the first point: created within the range, counted from zero")
    notes.append("elapsed is the time between the points that close two records (metrics-rs exports no elapsed)")
    _step_notes(notes, records, merged, len(times) - 1, step_ms, exporter_s, scrape_s, has_counters)
    info.update(merged_points=merged, records=len(records))
    if not records:
        raise TraceError(where, f"no counter moved after the first point of {_fmt_labels(group_labels(group))}: "
                                "nothing happened in the range")
    return records, info


def group_labels(group):
    for field, (s, _, _) in group["runtime"].items():
        return {k: v for k, v in s.labels.items() if k != "__name__"}
    return {}


def _record(t_ms, cols, at, t, prev, where, notes, from_zero=False, moved=None, resets=None):
    rec = {"t": t_ms * 10**6, "runtime": {}, "tasks": {}}
    for i, (scope, field, s, scale, counter) in enumerate(cols):
        if t not in at[i]:
            continue
        w = f"{where}: {s.labels.get('__name__')}{_fmt_labels({k: v for k, v in s.labels.items() if k != '__name__'})} " \
            f"at {_when(t)}"
        value = _value(at[i][t], w)
        if counter and not from_zero:
            p = prev.get(i)
            prev[i] = (t, at[i][t])
            if p is None or p[0] == t:
                continue
            last = _value(p[1], w)
            if value < last:
                resets.append(w)
            else:
                value -= last
            if value:
                moved[0] = True
        if scale is None:
            if value != int(value):
                raise TraceError(w, f"a count must be whole, got {at[i][t]}")
            n = int(value)
        else:
            n = round(value * scale)
        if n > F.U64_MAX * 10**9:
            raise TraceError(w, f"value out of range {at[i][t]}")
        dest = rec["runtime"] if scope is None else rec["tasks"].setdefault(scope, {})
        dest[field] = n
    return rec


def _step_notes(notes, records, merged, steps, step_ms, exporter_s, scrape_s, has_counters):
    """Say whether the query step matches the exporter's interval, and what follows if not."""
    step = step_ms / 1000
    seen = [r["runtime"]["elapsed"] / 1e9 for r in records]
    est = statistics.median(seen) if seen else None
    if exporter_s:
        if abs(step - exporter_s) <= 0.01 * exporter_s:
            notes.append(f"the step ({step:g} s) matches the exporter's interval ({exporter_s:g} s)")
        elif step > exporter_s:
            notes.append(f"the step ({step:g} s) is longer than the exporter's interval ({exporter_s:g} s): each record "
                         f"sums about {step / exporter_s:.3g} intervals' counters but shows only the last one's gauges "
                         "(task counts, park counts); query with a step equal to the exporter's interval")
        else:
            notes.append(f"the step ({step:g} s) is shorter than the exporter's interval ({exporter_s:g} s): {merged} of "
                         f"{steps} points saw no new interval and were merged into the next")
    elif merged and est is not None and merged * 3 >= steps:
        notes.append(f"the step ({step:g} s) does not match the exporter's interval: it is shorter (the counters moved "
                     f"about every {est:.3g} s); {merged} of {steps} points saw no new interval and were merged into "
                     "the next, so each record is one reporter interval")
    elif merged:
        notes.append(f"{merged} of {steps} points saw no counter move (an idle runtime, or a scrape between two "
                     "reporter intervals) and were merged into the next")
    elif has_counters:
        notes.append(f"counters moved at every step ({step:g} s): the exporter's interval is at most the step; if it is "
                     "shorter, each record sums several intervals' counters and shows only the last one's gauges "
                     "(give the exporter's interval to check)")
    if scrape_s and step > scrape_s * 1.01:
        notes.append(f"the step ({step:g} s) is longer than the scrape interval ({scrape_s:g} s): scrapes between "
                     "steps are skipped")


# ---- a saved document ----------------------------------------------------------------------

def read(path, text: str, match=None, exporter_interval_s=None) -> list:
    """The traces of one saved API result or Grafana export (one per runtime label set)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise TraceError(f"{path}:{getattr(e, 'lineno', 1)}", f"not JSON ({getattr(e, 'msg', e)})") from None
    except RecursionError:
        raise TraceError(str(path), "JSON nested too deeply") from None
    if not looks_like(doc):
        raise TraceError(str(path), "not a Prometheus HTTP API result (status, data.resultType, data.result) "
                                    "or Grafana data frames")
    series, kind = unpack(doc, str(path))
    return to_traces(series, str(path), kind, match=match, exporter_interval_s=exporter_interval_s,
                     header={"source": "prometheus-api" if kind != "frames" else "grafana"})
