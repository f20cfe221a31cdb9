"""CSV with a header of field names: one row per RuntimeMetrics or TaskMetrics sample.

Columns are tokio-metrics field names (0.3 or 0.5, with optional unit suffixes as in mirror JSON),
plus optional `t` (ns since start) or `ts`/`timestamp`/`time`, and `task` (a row with a task name
is a TaskMetrics sample, a row without one a RuntimeMetrics sample). `completed_count`,
`completed_p50`, .. carry the probe's latency statistics. Cells may hold numbers or Debug
durations (`1.5ms`); an empty cell means the field was not captured.
"""
import csv
import re

from ..errors import TraceError
from . import fields as F
from . import model
from .mirror import NAME_KEYS, TIME_KEYS, convert, sample_time, split_unit, _unit_note
from .values import to_count

FORMAT = "csv"


def looks_like(first_line: str) -> bool:
    cols = [c.strip().strip('"') for c in first_line.split(",")]
    known = F.RUNTIME_SET | F.TASK_SET | set(F.RENAMES)
    return len(cols) > 1 and any(split_unit(c, None)[0] in known for c in cols)


def read(path, lines, duration_unit=None) -> model.Trace:
    notes: list = []
    asm = model.Assembler()
    try:
        rows = csv.reader(lines, strict=True)
        header = next(rows, None)
        if not header:
            raise TraceError(f"{path}:1", "empty file")
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            raise TraceError(f"{path}:1", "a column name appears twice")
        name_col = next((k for k in ("task", "task_name", "monitor") if k in header), None)
        for row in rows:
            where = f"{path}:{rows.line_num}"
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise TraceError(where, f"{len(row)} cells for {len(header)} columns")
            cells = {h: c.strip() for h, c in zip(header, row) if c.strip() != ""}
            ts, rel = sample_time(cells, where)
            name = cells.pop(name_col, None) if name_col else None
            done = {k[len("completed_"):]: cells.pop(k) for k in list(cells) if k.startswith("completed_")}
            if name is None:
                if done:
                    raise TraceError(where, "completed_* cells need a task name")
                asm.add(model.Sample(where, None, convert(cells, False, where, notes, duration_unit), ts, rel))
            else:
                vals = convert(cells, True, where, notes, duration_unit)
                if done:
                    vals["completed"] = model.map_completed(done, where, to_count)
                asm.add(model.Sample(where, name, vals, ts, rel))
    except csv.Error as e:
        raise TraceError(f"{path}:{getattr(rows, 'line_num', 1)}", f"bad CSV ({e})") from None
    if not asm.samples:
        raise TraceError(f"{path}:2", "no rows")
    intervals = asm.intervals(notes)
    _unit_note(intervals, duration_unit, notes)
    return model.finish(path, FORMAT, {"columns": header}, intervals, notes)


def write(trace, fh):
    """`t`, `task`, the runtime fields, the task fields and `completed_*`, durations as int ns."""
    rt = [f for f in F.RUNTIME_FIELDS_05 if any(f in r["runtime"] for r in trace.intervals)]
    tk = [f for f in F.TASK_FIELDS_05 if any(f in t for r in trace.intervals for t in r.get("tasks", {}).values())]
    done = [f for f in F.COMPLETED_FIELDS
            if any(f in t.get("completed", {}) for r in trace.intervals for t in r.get("tasks", {}).values())]
    cols = ["t", "task"] + rt + tk + ["completed_" + f for f in done]
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(cols)
    for r in trace.intervals:
        w.writerow([r["t"], ""] + [r["runtime"].get(f, "") for f in rt] + [""] * (len(tk) + len(done)))
        for name, t in r.get("tasks", {}).items():
            if not name:
                raise ValueError("a task name cannot be empty in CSV (an empty task cell is a runtime row)")
            c = t.get("completed", {})
            w.writerow([r["t"], name] + [""] * len(rt) + [t.get(f, "") for f in tk] + [c.get(f, "") for f in done])
