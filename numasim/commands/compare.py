"""`numasim compare SCENARIO.toml`: every layout of a Hawk scenario over several seeds, side by side.

Prints the layouts' job latency (p50, p99) and throughput with 95% t-intervals over seeds, the
paired improvement over today, the plan's decision-matrix row and the verdict on the dual runtime
(docs/hawk.md). `--json` prints everything as JSON instead; `--prometheus FILE` writes the plan's
app metrics and every tokio-metrics runtime metric (first seed of each layout, label `layout`).
A run larger than the limit is refused before it starts unless --yes (an estimate is shown).
"""
# (not in the docstring, which is the command's --help) importing this module registers the
# `scenario` sweep kind with numasim.sweep.register_evaluator
import json
import os
import sys

from ..errors import UserError


def register(sub):
    p = sub.add_parser("compare", help="compare runtime layouts for a Hawk scenario (TOML) and judge the dual runtime",
                       description=__doc__)
    add_common(p)
    p.add_argument("scenario", help="scenario TOML (see numasim/data/hawk-default.toml)")
    p.set_defaults(func=run)


def add_common(p):
    from ..engine import add_argument as add_engine_argument
    add_engine_argument(p)
    p.add_argument("--layouts", nargs="+", default=None, metavar="LAYOUT",
                   help="layouts to run: today pinned dual single-node (default: the scenario's)")
    p.add_argument("--seeds", type=int, default=None, help="seeds 1..N (default: the scenario's)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes to run in (default: one per available CPU, at most one per run)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--prometheus", metavar="FILE", default=None,
                   help="write Prometheus text (prometheus_client) with every metric name")
    p.add_argument("--trace-out", metavar="FILE", default=None,
                   help="write today's simulated tokio-metrics (first seed, every runtime merged) as a "
                        "tokio-probe/1 trace that `numasim decide` reads")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)


def execute(sc, args, out=None):
    out = out or sys.stdout  # looked up at call time (tests and pipes replace sys.stdout)
    from ..errors import UserError
    from ..hawk.scenario import LAYOUTS
    from ..hawk.layouts import compare_layouts, format_report
    layouts = args.layouts or list(sc.layouts)
    for lay in layouts:
        if lay not in LAYOUTS:
            raise UserError("--layouts", f"unknown layout {lay!r} (known: {', '.join(LAYOUTS)})")
    seeds = args.seeds if args.seeds is not None else sc.seeds
    if seeds < 1:
        raise UserError("--seeds", f"expected a positive integer, got {seeds}")
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers", f"expected a positive integer, got {args.workers}")
    workers = args.workers or max(1, min(len(os.sched_getaffinity(0)), len(layouts) * seeds))
    from ..budget import check, hawk_pace, scenario_events
    events = seeds * sum(scenario_events(sc, lay) for lay in layouts)
    check(getattr(args, "scenario", None) or sc.name, len(layouts) * seeds, events, args, workers, hawk_pace(),
          args.quiet)
    # progress on stderr: a bar on a terminal, a line every few seconds elsewhere, none with -q
    res = compare_layouts(sc, layouts, range(1, seeds + 1), workers=workers, progress=not args.quiet)
    if args.prometheus:
        write_prometheus(res, args.prometheus, sc)
    if getattr(args, "trace_out", None):
        write_probe(res, args.trace_out)
    if args.json:
        # the promised keys first: verdict, boundary, layouts (docs/hawk.md)
        first = ("verdict", "boundary", "layouts", "sign", "disagreement", "hops")
        slim = {k: res[k] for k in first}
        slim.update((k, v) for k, v in res.items() if k not in ("runtimes", "headers") + first)
        json.dump(slim, out, indent=1, default=str)
        out.write("\n")
    else:
        out.write(format_report(res) + "\n")
    return res


def write_prometheus(res, path, sc):
    from ..hawk.prometheus import prometheus_text
    from ..machine.presets import preset
    runs = {lay: {"app": res["app"][lay], "runtimes": res["runtimes"][lay]} for lay in res["layout_names"]}
    text = prometheus_text(runs, preset(sc.machine).n_nodes)
    tmp = path + ".part"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(path, f"cannot write: {e.strerror}") from None


def write_probe(res, path):
    """The baseline layout's first seed as a tokio-probe/1 trace: what prod's RuntimeMonitor
    would show under the model (runtimes merged as one, as `numasim decide` judges one runtime)."""
    from ..hawk.appmetrics import merge_intervals
    from ..traces import write_trace
    from ..traces.model import Trace
    base = res["baseline"]
    ivs = merge_intervals(res["runtimes"][base])
    grouped = res["hops"].get("round_groups", 0) != 0
    header = dict(res["headers"][base], note="numasim run: simulated tokio-metrics, one interval per sample; "
                  + ("MPC hops grouped as scale.round_groups says (polls and steals under-stated)" if grouped
                     else "every MPC message its own wait (multiplexer tasks not modelled)"))
    tmp = path + ".part"
    try:
        write_trace(Trace(path, "probe", header, ivs), tmp, "probe")
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(path, f"cannot write: {e.strerror}") from None


def run(args):
    from ..hawk.scenario import load_scenario
    execute(load_scenario(args.scenario), args)
    return 0


# ---------------------------------------------------------------------------------------------
# the `scenario` sweep kind

def _load_base(t: dict, where: str, folder: str) -> dict:
    from ..errors import SpecError
    from ..hawk.scenario import load_scenario, parse_scenario
    s = t.get("scenario")
    if s is None:
        raise SpecError(f"{where}: scenario", "missing: a scenario TOML (relative to the sweep file) or an inline [scenario] table")
    if isinstance(s, str):
        sc = load_scenario(os.path.join(folder, s))
    elif isinstance(s, dict):
        sc = parse_scenario(s, f"{where}: scenario")
    else:
        raise SpecError(f"{where}: scenario", "expected a file name or a table")
    from ..sweep import _flatten
    fixed = t.get("set", {})
    if not isinstance(fixed, dict):
        raise SpecError(f"{where}: set", "expected a table of path = value applied to every point")
    return {"scenario": sc.to_dict(), "set": _flatten(fixed)}


def _prepare(base: dict, assignment: dict, seed: int, where: str) -> dict:
    import copy

    from ..errors import SpecError, UserError
    from ..hawk.scenario import parse_scenario
    from ..sweep import set_path
    d = copy.deepcopy(base["scenario"])
    for path, v in list(base.get("set", {}).items()) + list(assignment.items()):
        set_path(d, path, v, f"{where}: param {path}")
    try:
        sc = parse_scenario(d, f"{where}: scenario")
    except UserError as e:
        raise SpecError(e.where, e.what) from None
    return {"scenario": sc.to_dict(), "seed": int(seed)}


def _evaluate(payload: dict) -> dict:
    """Every layout of the scenario at one seed: per layout p50/p99/throughput and app figures,
    dual's and pinned's improvement over today at this seed (the sweep pairs seeds across
    points), and the decision matrix of today (verdict_level, verdict_basis)."""
    from ..decide import decide_intervals
    from ..hawk.scenario import from_dict
    from ..hawk.layouts import run_layout
    sc = from_dict(payload["scenario"])
    out = {}
    runs = {}
    for lay in sc.layouts:
        r = run_layout(sc, lay, payload["seed"])
        runs[lay] = r
        for k in ("job_p50_ms", "job_p99_ms", "throughput_qps"):
            out[f"{lay}.{k}"] = r["figures"][k]
        out[f"{lay}.tokio_steal_rate"] = r["app"]["tokio_steal_rate"]
        out[f"{lay}.search_task_migration_rate"] = r["app"]["search_task_migration_rate"]
    base = "today" if "today" in runs else sc.layouts[0]
    for lay in runs:
        if lay != base:
            b, c = runs[base]["figures"]["job_p50_ms"], runs[lay]["figures"]["job_p50_ms"]
            out[f"{lay}.improvement_pct"] = 100.0 * (b - c) / b if b and c is not None else None
    r = runs[base]
    d = decide_intervals(r["intervals"], migration=r["app"]["search_task_migration_rate"])
    out["steal_rate"] = d["inputs"]["steal_rate"]["value"]
    out["verdict_level"] = d["verdict"]["level"]
    out["verdict_basis"] = "; ".join(d["verdict"]["basis"])
    return out


def _estimate(payload: dict) -> tuple[float, float]:
    from ..budget import hawk_pace, scenario_events
    from ..hawk.scenario import from_dict
    sc = from_dict(payload["scenario"])
    return sum(scenario_events(sc, lay) for lay in sc.layouts), hawk_pace()


def _register():
    from ..sweep import Evaluator, register_evaluator
    register_evaluator("scenario", Evaluator(_load_base, _prepare, _evaluate, _estimate))


_register()
