"""Prometheus text exposition as metrics-rs exporters print tokio-metrics.

tokio-metrics' metrics-rs integration names every value `tokio_<field>` (tokio-metrics.md A.4).
metrics-exporter-prometheus prints names as given, or with `_total` on counters and a unit suffix
under recommended naming; histograms come out as summaries. Per reporter interval it
*increments counters* by the interval's value (µs for Durations) and *sets gauges* to it, so:

- a counter is differenced between successive scrapes (the first scrape counts from the start;
  a drop is a restart and counts from zero again);
- a gauge is the value of the reporter's last interval before the scrape.

The two agree with tokio-metrics' interval values only when scrapes follow the reporter's
interval (30 s by default); the reader says so in a note. `elapsed` is not exported, so it is
absent; histograms and summaries (`tokio_poll_time_histogram`) and derived values are skipped.

Scrapes are split at a timestamp comment (`# 2026-01-05T10:00:00Z`, `# scrape t=1.5s`), at
`# EOF`, or where a series repeats. A scrape's time is that comment's, else the largest sample
timestamp (ms since the epoch) in it, else, for a folder, a number or date in the file name.
"""
import os
import re
from fractions import Fraction

from ..errors import TraceError
from . import fields as F
from . import model
from .text import read_lines

FORMAT = "prometheus"
PREFIX = "tokio_"

class StaticFamilies:
    """A prometheus_client collector that serves fixed metric families."""

    def __init__(self, families):
        self.families = list(families)

    def collect(self):
        return list(self.families)


def exposition(registry, total: bool = False) -> str:
    """Prometheus text of a registry. prometheus_client names counter families `x_total` in
    HELP/TYPE (OpenMetrics munging); metrics-exporter-prometheus does not by default, so unless
    `total` the families are named back after their samples."""
    from prometheus_client import generate_latest
    text = generate_latest(registry).decode("utf-8")
    if not total:
        text = re.sub(r"^(# (?:HELP|TYPE) \S+)_total\b", r"\1", text, flags=re.M)
    return text


def render(families, total: bool = False) -> str:
    """Prometheus text of fixed metric families, through a registry of their own."""
    from prometheus_client import CollectorRegistry
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StaticFamilies(families))
    return exposition(reg, total)


# metrics-rs kinds when a scrape has no # TYPE line (tokio-metrics' metrics_rs_integration.rs).
COUNTERS = frozenset({
    "total_busy_duration", "max_busy_duration", "min_busy_duration",
    "total_noop_count", "max_noop_count", "min_noop_count",
    "total_steal_count", "max_steal_count", "min_steal_count",
    "total_steal_operations", "max_steal_operations", "min_steal_operations",
    "num_remote_schedules",
    "total_local_schedule_count", "max_local_schedule_count", "min_local_schedule_count",
    "total_overflow_count", "max_overflow_count", "min_overflow_count",
    "total_polls_count", "max_polls_count", "min_polls_count",
    "budget_forced_yield_count", "io_driver_ready_count",
    # task Durations are counters in µs; task counts are gauges
    "total_first_poll_delay", "total_idle_duration", "max_idle_duration", "total_scheduled_duration",
    "total_poll_duration", "total_fast_poll_duration", "total_slow_poll_duration",
    "total_short_delay_duration", "total_long_delay_duration",
})
UNITS = {"_microseconds": 1_000, "_us": 1_000, "_seconds": 1_000_000_000, "_milliseconds": 1_000_000,
         "_ms": 1_000_000, "_nanoseconds": 1, "_ns": 1}
TASK_LABELS = ("task", "task_name", "monitor", "name")

_SAMPLE = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?\s*")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_META = re.compile(r"#\s*(HELP|TYPE|UNIT|EOF)\b\s*(\S*)\s*(.*)")
# A comment that is only a timestamp (with an optional word before it) separates scrapes. The
# token must look like a time: a date, an uptime `12.5s`, a decimal, or an epoch of >= 9 digits.
_STAMP_COMMENT = re.compile(r"#\s*(?:[A-Za-z_][A-Za-z_ ]{0,24}?\s*[:=@]?\s*)?"
                            r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S*|\d{1,12}\.\d{1,9}s?|\d{9,19})\s*")
_FILE_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}[:-]?\d{2}[:-]?\d{2}(?:\.\d+)?Z?|\d{9,19}(?:\.\d+)?")


def looks_like(lines) -> bool:
    for line in lines:
        s = line.strip()
        if s.startswith(PREFIX) or re.match(r"#\s*(HELP|TYPE)\s+tokio_", s):
            return True
    return False


class _Scrape:
    def __init__(self, where):
        self.where = where
        self.time = None
        self.relative = False
        self.samples = {}   # (name, labels) -> (value text, where)
        self.typed = set()
        self.max_ts = None


def parse(path, lines, types: dict) -> list:
    """Split text into scrapes of raw samples; `types` collects # TYPE lines (name -> kind)."""
    scrapes = []
    cur = None

    def new(where):
        nonlocal cur
        if cur is None or cur.samples:
            cur = _Scrape(where)
            scrapes.append(cur)
        return cur

    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            m = _META.fullmatch(s)
            if m:
                kind, name = m[1], m[2]
                if kind == "EOF":
                    cur = None
                elif kind == "TYPE":
                    if m[3] not in ("counter", "gauge", "summary", "histogram", "untyped", "unknown"):
                        raise TraceError(where, f"unknown metric type {m[3][:20]!r}")
                    if cur is not None and name in cur.typed:
                        new(where)
                    (cur or new(where)).typed.add(name)
                    types[name] = m[3]
                continue
            m = _STAMP_COMMENT.fullmatch(s)
            if m:
                try:
                    ts = model.parse_timestamp(m[1].rstrip(), where)
                except TraceError:
                    continue  # an ordinary comment
                sc = new(where)
                sc.time, sc.relative = ts
            continue
        m = _SAMPLE.fullmatch(s)
        if not m:
            raise TraceError(where, f"not a sample line: {s[:60]!r}")
        name, labels, value, ts = m[1], _labels(m[2], where), m[3], m[4]
        key = (name, labels)
        if cur is None or key in cur.samples:
            new(where)
        cur.samples[key] = (value, where)
        if ts is not None:
            ms = int(ts)
            cur.max_ts = ms if cur.max_ts is None else max(cur.max_ts, ms)
    return scrapes


def _labels(text, where) -> tuple:
    if not text:
        return ()
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        m = _LABEL.match(body, i)
        if not m:
            raise TraceError(where, f"bad labels {text[:60]!r}")
        value = re.sub(r'\\(.)', lambda e: "\n" if e[1] == "n" else e[1], m[2])
        out.append((m[1], value))
        i = m.end()
        if m[3] == "" and i < len(body):  # pragma: no cover - the regex ends at $ here
            raise TraceError(where, f"bad labels {text[:60]!r}")
    return tuple(sorted(out))


def _field(name, types):
    """(field, scale to ns or None for a count, is_counter) for a sample name, or None to skip."""
    if not name.startswith(PREFIX):
        return None
    base = name[len(PREFIX):]
    kind = types.get(name)
    for suf in ("_sum", "_count", "_bucket"):
        if base.endswith(suf) and types.get(name[:-len(suf)]) in ("summary", "histogram"):
            return ("histogram", None, False)
    if kind in ("summary", "histogram") or re.sub(r"_(sum|count|bucket)$", "", base) in F.HISTOGRAM_FIELDS:
        return ("histogram", None, False)
    counter = kind == "counter"
    if base.endswith("_total") and F.canonical(base) not in F.RUNTIME_SET | F.TASK_SET:
        base, counter = base[:-6], True
        kind = kind or types.get(name[:-6])
        counter = counter or kind == "counter"
    scale = 1_000
    for suf, sc in UNITS.items():
        if base.endswith(suf) and base[:-len(suf)] in F.DURATION_FIELDS:
            base, scale = base[:-len(suf)], sc
    if kind is None:
        kind = types.get(PREFIX + base)
        counter = counter or kind == "counter" or (kind is None and base in COUNTERS)
    return (base, scale if base in F.DURATION_FIELDS else None, counter)


def read(path, lines) -> model.Trace:
    types = {}
    scrapes = parse(path, lines, types)
    return assemble(path, scrapes, types, [])


def kept_field(field, counter, name, notes):
    """(canonical field, is it a TaskMetrics field) for a series numasim keeps; None, with a note
    saying why, for a histogram or summary, a derived value or an unknown metric. The scrape
    reader and the Prometheus API reader share it, so both keep and skip the same series."""
    if field == "histogram":
        base = name.rsplit('_', 1)[0] if name.endswith(('_sum', '_count')) else name
        notes.append(f"{base} (histogram/summary) skipped: the interval shape holds ints only")
        return None
    field = F.canonical(field)
    task = field in F.TASK_SET or (field == "mean_poll_duration" and counter)
    if field in F.DERIVED or (task and field not in F.TASK_SET):
        notes.append(f"derived value tokio_{field} skipped (numasim keeps the raw fields)")
        return None
    if field not in F.RUNTIME_SET and not task:
        notes.append(f"unknown metric {name} skipped")
        return None
    return field, task


def assemble(path, scrapes, types, notes) -> model.Trace:
    scrapes = [s for s in scrapes if s.samples]
    if not scrapes:
        raise TraceError(f"{path}:1", "no samples")
    prev = {}       # counter (scope, field) -> previous cumulative value (Fraction)
    records, times, rel = [], [], False
    runtime_labels = None
    skipped = set()
    for sc in scrapes:
        rec = {"t": None, "runtime": {}, "tasks": {}}
        for (name, labels), (text, where) in sc.samples.items():
            f = _field(name, types)
            if f is None:
                skipped.add(name)
                continue
            field, scale, counter = f
            kept = kept_field(field, counter, name, notes)
            if kept is None:
                continue
            field, task = kept
            value = _decimal(text, where)
            if task:
                lab = dict(labels)
                tname = next((lab[k] for k in TASK_LABELS if k in lab), "task")
                scope, dest = ("task", tname), rec["tasks"].setdefault(tname, {})
            else:
                if runtime_labels is None:
                    runtime_labels = labels
                elif labels != runtime_labels:
                    notes.append(f"runtime series with labels {dict(labels)} skipped; "
                                 f"kept {dict(runtime_labels)} (one runtime per trace)")
                    continue
                scope, dest = ("runtime",), rec["runtime"]
            if counter:
                last = prev.get((scope, field))
                prev[(scope, field)] = value
                if last is not None and value < last:
                    notes.append(f"{name} went down at {where}: a restart; counted from zero again")
                elif last is not None:
                    value = value - last
            if scale is None:
                if value != int(value):
                    raise TraceError(where, f"{name}: a count must be whole, got {text}")
                out = int(value)
            else:
                out = round(value * scale)
            if out < 0 or out > F.U64_MAX * 10**9:
                raise TraceError(where, f"{name}: value out of range {text}")
            dest[field] = out
        records.append(rec)
        if sc.time is not None:
            times.append(sc.time)
            rel = rel or sc.relative
        else:
            times.append(sc.max_ts * 10**6 if sc.max_ts is not None else None)
    if skipped:
        notes.append(f"{len(skipped)} metric names without the tokio_ prefix skipped")
    notes.append("metrics-rs exports no elapsed: elapsed is absent")
    notes.append("counters are differenced between scrapes and gauges are the reporter's last interval: "
                 "exact only when scrapes follow the reporter's interval")
    model.assign_times(records, times, rel, notes)
    return model.finish(path, FORMAT, {"scrapes": len(records)}, records, notes)


_NUMBER = re.compile(r"\+?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,2})?")


def _decimal(text, where) -> Fraction:
    # Fraction reads the decimal text exactly, so 1234.567 µs is 1 234 567 ns with no float error.
    # The shape check first keeps `1e999999999` from becoming a billion-digit integer.
    if not _NUMBER.fullmatch(text):
        raise TraceError(where, f"expected a finite non-negative number, got {text[:30]!r}")
    try:
        v = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise TraceError(where, f"expected a number, got {text[:30]!r}") from None
    if v < 0:
        raise TraceError(where, f"negative value {text[:30]}")
    return v


def read_folder(path) -> model.Trace:
    names = sorted((n for n in os.listdir(path) if not n.startswith(".")), key=_natural)
    names = [n for n in names if os.path.isfile(os.path.join(path, n))]
    if not names:
        raise TraceError(path, "empty folder")
    types, scrapes = {}, []
    for n in names:
        p = os.path.join(path, n)
        got = parse(p, read_lines(p), types)
        if len(got) == 1 and got[0].time is None and got[0].max_ts is None:
            m = _FILE_STAMP.search(n)
            if m:
                stamp = m[0]
                if "T" in stamp:
                    stamp = re.sub(r"T(\d{2})-?(\d{2})-?(\d{2})", r"T\1:\2:\3", stamp)
                got[0].time, got[0].relative = model.parse_timestamp(stamp, p)
        scrapes += got
    trace = assemble(path, scrapes, types, [f"read {len(names)} scrape files in name order"])
    return trace


def _natural(name):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name)]


# ---- writer -------------------------------------------------------------------------------

def write(trace, fh, total: bool = False, exact: bool = True, label: str = "task"):
    """Concatenated scrapes, one per interval, each produced by prometheus_client.

    Counters carry running sums and gauges the interval's value, as metrics-rs would after one
    reporter interval per scrape. Durations are µs; `exact` keeps the ns as fractional µs (whole µs
    otherwise, as metrics-rs records them). `total` names counters `..._total` (recommended
    naming). Each scrape starts with `# scrape t=<uptime>s`. Task metrics carry `task="<name>"`.
    """
    for text in scrapes(trace, total, exact, label):
        fh.write(text)


def write_folder(trace, path, **options):
    os.makedirs(path, exist_ok=True)
    for i, text in enumerate(scrapes(trace, **options)):
        with open(os.path.join(path, f"scrape-{i:06d}.prom"), "w", encoding="utf-8") as f:
            f.write(text)


def scrapes(trace, total=False, exact=True, label="task"):
    from prometheus_client.core import Metric

    sums = {}
    for r in trace.intervals:
        fams = {}

        def add(field, labels, value):
            counter = field in COUNTERS
            key = (field, labels)
            if counter:
                sums[key] = sums.get(key, 0) + value
                value = sums[key]
            if field in F.DURATION_FIELDS:
                value = Fraction(value, 1000) if exact else value // 1000
            name = PREFIX + field
            fam = fams.get(name)
            if fam is None:
                fam = fams[name] = Metric(name, f"tokio-metrics {field}", "counter" if counter else "gauge")
            fam.add_sample(name + ("_total" if counter and total else ""), dict(labels), float(value))

        for field in F.RUNTIME_FIELDS_05:
            if field in r["runtime"] and field != "elapsed":
                add(field, (), r["runtime"][field])
        for tname, tm in r.get("tasks", {}).items():
            for field in F.TASK_FIELDS_05:
                if field in tm:
                    add(field, ((label, tname),), tm[field])

        text = render(fams.values(), total)
        s, ns = divmod(r["t"], 10**9)
        yield f"# scrape t={s}.{ns:09d}s\n" + text
