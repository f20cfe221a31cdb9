"""JSON Lines of user mirror structs: tokio-metrics has no Serialize, so users write their own.

tokio-metrics derives no `Serialize` (tokio-metrics.md A.4), so each user mirrors the fields they
need, and durations come out in whatever way the mirror chose:
- serde's own `Duration`: `{"secs": 1, "nanos": 500}`;
- a number: the unit comes from the key (`busy_us`-style suffixes `_ns`, `_nanos`, `_us`,
  `_micros`, `_ms`, `_millis`, `_s`, `_secs`, `_seconds`), else from `duration_unit`, else ns;
- a Debug string: `"1.234ms"`.

A line is one RuntimeMetrics mirror, one TaskMetrics mirror (recognised by its task fields; the
task's name in `task`, `task_name`, `monitor` or `name`), or a whole interval with `runtime` and
`tasks` members. Its time is `t` (ns since start) or `ts`/`timestamp`/`time` (a date or an epoch).
"""
import json

from ..errors import TraceError
from . import fields as F
from . import model
from .values import to_count, to_ns

FORMAT = "mirror"
SUFFIXES = {"_ns": "ns", "_nanos": "ns", "_us": "us", "_micros": "us", "_ms": "ms", "_millis": "ms",
            "_s": "s", "_secs": "s", "_seconds": "s"}
NAME_KEYS = ("task", "task_name", "monitor", "name")
TIME_KEYS = ("ts", "timestamp", "time")
PLAIN_NOTE = "durations given as plain numbers without a unit in the key are read as ns"
IGNORED = frozenset({"kind", "type", "level", "message", "msg", "target"}) | set(NAME_KEYS)


def looks_like(first_line: str) -> bool:  # pragma: no cover - detection is by the leading {
    return first_line.lstrip().startswith("{")


def split_unit(key: str, default: str | None):
    """(field, unit) from a possibly suffixed key: `total_busy_duration_us` -> (.., "us")."""
    for suf, unit in SUFFIXES.items():
        if key.endswith(suf) and key[:-len(suf)] in F.DURATION_FIELDS:
            return key[:-len(suf)], unit
    return key, default


def convert(raw: dict, task: bool, where: str, notes: list, default_unit) -> dict:
    """One mirror's fields to 0.5 names and ints, keys' unit suffixes applied."""
    renamed, units = {}, {}
    for k, v in raw.items():
        if k in IGNORED or k in TIME_KEYS or k == "t":
            continue
        f, unit = split_unit(k, default_unit)
        if f in renamed:
            raise TraceError(where, f"{f} given twice")
        renamed[f], units[F.canonical(f)] = v, unit

    def dur(value, w, name):
        unit = units.get(name)
        if unit is None and not isinstance(value, dict) and not (isinstance(value, str) and value.strip()[-1:] == "s"):
            notes.append(PLAIN_NOTE)
        return to_ns(value, unit, w)

    return model.map_fields(renamed, task, where, notes, dur, to_count)


def sample_time(obj: dict, where: str):
    if "t" in obj:
        return to_count(obj["t"], f"{where}: t"), True
    for k in TIME_KEYS:
        if k in obj:
            v = obj[k]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return model.epoch_ns(v, f"{where}: {k}")
            if isinstance(v, str):
                return model.parse_timestamp(v, f"{where}: {k}")
            raise TraceError(where, f"{k} must be a date or a number")
    return None, False


def is_task(raw: dict) -> bool:
    keys = {split_unit(k, None)[0] for k in raw}
    return bool(keys & (F.TASK_SET - F.RUNTIME_SET)) or any(k in raw for k in ("task", "task_name", "monitor"))


def task_name(raw: dict, where: str) -> str:
    for k in NAME_KEYS:
        if k in raw:
            if not isinstance(raw[k], str) or not raw[k]:
                raise TraceError(where, f"{k} must be a non-empty string")
            return raw[k]
    return "task"


def read(path, lines, duration_unit=None) -> model.Trace:
    if duration_unit not in (None, "ns", "us", "µs", "ms", "s"):
        raise TraceError(str(path), f"unknown duration unit {duration_unit!r}")
    notes: list = []
    asm = model.Assembler()
    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise TraceError(where, f"not JSON ({getattr(e, 'msg', e)})") from None
        except RecursionError:
            raise TraceError(where, "JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise TraceError(where, "expected a JSON object per line")
        ts, rel = sample_time(obj, where)
        if "runtime" in obj or "tasks" in obj:
            rt, tasks = obj.get("runtime", {}), obj.get("tasks", {})
            if not isinstance(rt, dict) or not isinstance(tasks, dict):
                raise TraceError(where, "runtime and tasks must be objects")
            if rt or not tasks:
                asm.add(model.Sample(where, None, convert(rt, False, where, notes, duration_unit), ts, rel))
            for name, tm in tasks.items():
                if not isinstance(tm, dict):
                    raise TraceError(where, f"tasks.{name} must be an object")
                asm.add(model.Sample(where, name, _task(tm, where, notes, duration_unit), ts, rel))
        elif is_task(obj):
            name = task_name(obj, where)
            if "task" not in obj and "task_name" not in obj and "monitor" not in obj and "name" not in obj:
                notes.append('task mirrors without a task name are named "task"')
            asm.add(model.Sample(where, name, _task(obj, where, notes, duration_unit), ts, rel))
        else:
            asm.add(model.Sample(where, None, convert(obj, False, where, notes, duration_unit), ts, rel))
    if not asm.samples:
        raise TraceError(f"{path}:1", "no samples")
    intervals = asm.intervals(notes)
    _unit_note(intervals, duration_unit, notes)
    return model.finish(path, FORMAT, {}, intervals, notes)


def _task(raw, where, notes, unit):
    raw = dict(raw)
    done = raw.pop("completed", None)
    vals = convert(raw, True, where, notes, unit)
    if done is not None:
        vals["completed"] = model.map_completed(done, where, to_count)
    return vals


def _unit_note(intervals, unit, notes):
    if unit is None and PLAIN_NOTE in notes:
        els = [r["runtime"]["elapsed"] for r in intervals if "elapsed" in r["runtime"]]
        # Sampling periods under 10 ms are rare; an elapsed that small in "ns" is likely µs.
        if els and max(els) < 10_000_000:
            notes.append("elapsed is below 10 ms if read as ns: the numbers may be µs (duration_unit='us')")


def write(trace, fh, durations: str = "ns"):
    """One JSON line per RuntimeMetrics and per TaskMetrics mirror, each with `t` (ns since start).

    `durations`: "ns" (ints), "us" (keys suffixed `_us`, fractional µs so ns survive), "serde"
    (`{"secs", "nanos"}`) or "debug" (Rust Debug strings).
    """
    if durations not in ("ns", "us", "serde", "debug"):
        raise ValueError(f"unknown durations style {durations!r}")
    for r in trace.intervals:
        fh.write(json.dumps({"t": r["t"], **_values(r["runtime"], durations)}, ensure_ascii=False) + "\n")
        for name, tm in r.get("tasks", {}).items():
            obj = {"t": r["t"], "task": name, **_values({k: v for k, v in tm.items() if k != "completed"}, durations)}
            if "completed" in tm:
                obj["completed"] = tm["completed"]
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _values(vals: dict, style: str) -> dict:
    from .values import format_duration
    out = {}
    for k, v in vals.items():
        if k not in F.DURATION_FIELDS or style == "ns":
            out[k] = v
        elif style == "us":
            # A float of µs keeps the exact ns while v < 2**52 ns (52 days); whole µs stay exact as
            # ints at any size. Beyond both, the sub-µs digits are rounded.
            out[k + "_us"] = v // 1000 if v % 1000 == 0 else v / 1000
        elif style == "serde":
            out[k] = {"secs": v // 10**9, "nanos": v % 10**9}
        else:
            out[k] = format_duration(v)
    return out
