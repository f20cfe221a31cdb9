"""`numasim decide TRACE... | --prometheus URL`: the seed plan's decision matrix applied to real traces.

Each trace is judged on its own (repetitions are not pooled: their agreement is itself evidence),
and so is each runtime (label set) of a Prometheus server or of a saved API result. The report
says what could not be judged and why; `--json` prints the same as one JSON document.
"""
import json

from .. import decide as D
from ..traces import FORMATS, promclient, read_traces


def register(subparsers):
    p = subparsers.add_parser("decide", help="apply the NUMA decision matrix to tokio-metrics traces",
                              description=__doc__.splitlines()[0])
    p.add_argument("traces", nargs="*", metavar="TRACE",
                   help="a trace file (any format numasim reads, a saved Prometheus API result included), "
                        "or a folder of Prometheus scrapes")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--migration-rate", type=float, metavar="R",
                   help="migrated operations per operation, measured outside tokio-metrics (0-1)")
    p.add_argument("--format", choices=FORMATS, help="skip format detection")
    p.add_argument("--duration-unit", choices=("ns", "us", "ms", "s"),
                   help="unit of plain-number durations in mirror JSON and CSV")
    promclient.add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import UserError
    if args.migration_rate is not None and not 0 <= args.migration_rate <= 1:
        raise UserError("--migration-rate", "must be a fraction between 0 and 1")
    reports = []
    def read(path, match, exporter_s):
        return read_traces(path, format=args.format, match=match, exporter_interval_s=exporter_s,
                           duration_unit=args.duration_unit)

    for trace in promclient.traces_from_args(args, args.traces, args.start, read):
        rep = D.decide_intervals(trace.intervals, args.migration_rate, trace.header)
        rep.update(trace=trace.path, format=trace.format, notes=trace.notes,
                   missing_unstable=sorted(trace.missing_unstable))
        reports.append(rep)
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=1, default=float))
    else:
        print("\n\n".join(render(r) for r in reports))
    return 0


def _fig(f):
    if f["value"] is None or f["why_not"]:
        return f"not judged: {f['why_not']}"
    if f["name"] == "latency_steal_correlation":
        return f"rho = {f['value']:+.2f}, p = {f['extra']['p']:.3g}, n = {f['extra']['n']}  ->  {f['band']}"
    if f["band"] == "reported":
        return f"{f['value']:.4f}"
    return f"{f['value']:.2%}  ({f['band']})  ->  {D.LEVELS[f['level']]}"


def render(rep) -> str:
    v = rep["verdict"]
    head = f"{rep['trace']}  ({rep['format']}"
    head += f", tokio {rep['tokio_version']}" if rep.get("tokio_version") else ""
    head += f", {rep['intervals']} intervals)"
    lines = [head, "  matrix inputs:"]
    for f in rep["inputs"].values():
        lines.append(f"    {f['name']:<28} {_fig(f)}")
    lines.append("  also:")
    for f in rep["supplementary"].values():
        lines.append(f"    {f['name']:<28} {_fig(f)}")
    tag = " (provisional)" if v["provisional"] and v["level"] is not None else ""
    lines.append(f"  decision: {v['decision']}{tag}")
    if v["mixed"]:
        lines.append(f"    mixed evidence ({', '.join(v['basis'])}); {D.RULE}")
    if rep["not_judged"]:
        lines.append("  could not judge:")
        for g in rep["not_judged"]:
            lines.append(f"    {g['what']}: {g['why']}")
    if rep["missing_unstable"]:
        lines.append(f"  absent unstable fields: {', '.join(rep['missing_unstable'])}")
    for n in rep["notes"]:
        lines.append(f"  note: {n}")
    return "\n".join(lines)
