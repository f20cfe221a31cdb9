"""`tokio-probe/1` JSON Lines: the fidelity traces' format, and numasim's own export format.

Line 1 is `{"kind": "header", "format": "tokio-probe/1", ...}`; every other line is
`{"kind": "interval", "t", "runtime", "tasks"}` with tokio-metrics names and int ns durations
(../shared/fidelity/README.md). Traces of tokio 1.24 use `injection_queue_depth`; it is read as
`global_queue_depth` with a note.
"""
import json

from ..errors import TraceError
from . import model
from .values import to_count

FORMAT = "tokio-probe/1"


def looks_like(first_line: str) -> bool:
    try:
        head = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(head, dict) and head.get("format") == FORMAT


def _int(v, where):
    # The probe writes exact ints; a float or a string here means the file is not what it says.
    if isinstance(v, bool) or not isinstance(v, int):
        raise TraceError(where, f"expected an integer, got {v!r:.40}")
    return to_count(v, where)


def _dur(v, where, name):
    return _int(v, where)


def read(path, lines) -> model.Trace:
    notes: list = []
    header = None
    intervals = []
    for no, line in enumerate(lines, 1):
        where = f"{path}:{no}"
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise TraceError(where, f"not JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise TraceError(where, "expected a JSON object")
        kind = rec.get("kind")
        if header is None:
            if kind != "header" or rec.get("format") != FORMAT:
                raise TraceError(where, f'the first record must be a {FORMAT} header')
            header = rec
            continue
        if kind != "interval":
            notes.append(f"records of kind {kind!r} skipped")
            continue
        intervals.append(interval(rec, where, notes))
    if header is None:
        raise TraceError(f"{path}:1", "empty file")
    check_times(intervals, path)
    return model.finish(path, FORMAT, header, intervals, notes)


def interval(rec: dict, where: str, notes: list) -> dict:
    t = _int(rec.get("t"), f"{where}: t")
    rt, tasks = rec.get("runtime"), rec.get("tasks", {})
    if not isinstance(rt, dict):
        raise TraceError(where, "runtime must be an object")
    if not isinstance(tasks, dict):
        raise TraceError(where, "tasks must be an object")
    out = {"t": t, "runtime": model.map_fields(rt, False, where, notes, _dur, _int), "tasks": {}}
    for name, tm in tasks.items():
        if not isinstance(tm, dict):
            raise TraceError(where, f"tasks.{name} must be an object")
        tm = dict(tm)
        done = tm.pop("completed", None)
        vals = model.map_fields(tm, True, f"{where}: tasks.{name}", notes, _dur, _int)
        if done is not None:
            vals["completed"] = model.map_completed(done, f"{where}: tasks.{name}", _int)
        out["tasks"][name] = vals
    return out


def check_times(intervals, path):
    # A later sample earlier than the one before means two captures were concatenated or the
    # file was edited: the deltas would be meaningless.
    for a, b in zip(intervals, intervals[1:]):
        if b["t"] < a["t"]:
            raise TraceError(str(path), f"t goes backwards ({a['t']} then {b['t']})")


def write(trace, fh):
    header = dict(trace.header) if trace.header else {}
    header.setdefault("kind", "header")
    header["format"] = FORMAT
    fh.write(json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
    for r in trace.intervals:
        rec = {"kind": "interval", "t": r["t"], "runtime": r["runtime"], "tasks": r.get("tasks", {})}
        fh.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
