"""`numasim report numastat|threads|workers [SPEC.json|SCENARIO.toml]`: reports of a simulated run.

With no input, the default Hawk scenario under `--layout` (default `today`). A spec must name a
machine (`"machine": {"preset": ...}`); a scenario TOML is turned into a spec for the layout.
"""
import json
import sys

from ..engine import add_argument as add_engine_argument
from ..errors import UserError


def register(sub):
    p = sub.add_parser("report", help="numastat-like and ps-like reports of a simulated run", description=__doc__)
    p.add_argument("what", choices=("numastat", "threads", "workers"),
                   help="numastat: memory reads per node; threads: thread -> CPU and node over time; "
                        "workers: each worker's busy share per interval")
    p.add_argument("input", nargs="?", help="a spec (JSON, with a machine) or a scenario (TOML); default: the default scenario")
    p.add_argument("--layout", default="today", help="scenario layout: today, pinned, dual or single-node (default today)")
    p.add_argument("--tokio", default="1.49", help="tokio version profile: 1.24, 1.49, 1.51 or 1.53 (default 1.49)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plot", metavar="PNG", help="threads: NUMA migrations over time; workers: utilisation per worker")
    p.add_argument("-q", "--quiet", action="store_true", help="no estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)
    add_engine_argument(p)
    p.set_defaults(func=run)


def _spec(args):
    from ..spec import load_spec, parse_spec
    if args.input and args.input.endswith(".json"):
        return load_spec(args.input)
    from ..hawk import jobs as hawk
    from ..hawk.scenario import default_scenario, load_scenario
    sc = load_scenario(args.input) if args.input else default_scenario()
    if args.layout not in ("today", "pinned", "dual", "single-node"):
        raise UserError("--layout", f"expected today, pinned, dual or single-node, got {args.layout!r}")
    return parse_spec(hawk.generate(sc, args.layout, args.seed), args.input or "<default scenario>")


def run(args):
    from .. import report
    from ..engine import simulate
    from ..budget import check, pace, spec_events
    from ..tokio.profile import get_profile
    spec = _spec(args)
    check(args.input or "<default scenario>", 1, spec_events(spec), args, 1, pace(spec), args.quiet)
    res = simulate(spec, get_profile(args.tokio), seed=args.seed)
    if args.what == "workers":
        return _workers(args, spec, res)
    if res.numa is None:
        raise UserError(args.input or "<spec>", "the spec names no machine: add \"machine\": {\"preset\": ...}")
    if args.what == "numastat":
        r = report.numastat(res.numa)
        if args.json:
            json.dump(r, sys.stdout, indent=1)
            print()
        else:
            print(f"Per-node memory reads of {spec.name} on {res.numa['machine']} (simulated, seed {args.seed})\n")
            print(report.format_numastat(r))
        return 0
    node_of = spec.machine.node_of_cpu  # CPU -> node, the machine's map (either engine's run)
    rows = report.threads(res.numa, node_of)
    if args.plot:
        from ..plots import numa_migrations
        numa_migrations(res.numa["timeline"], node_of, args.plot, f"{spec.name}: threads' NUMA node")
    if args.json:
        json.dump({"samples": [{"t_ns": t, "thread": n, "psr": c, "node": nd} for t, n, c, nd in rows],
                   "moves": report.thread_moves(rows)}, sys.stdout)
        print()
        return 0
    print(f"{'TIME_MS':>9s} {'THREAD':14s} {'PSR':>4s} {'NODE':>4s}")
    for t, name, cpu, node in rows:
        print(f"{t / 1e6:9.1f} {name:14s} {cpu if cpu is not None else '-':>4} {node if node is not None else '-':>4}")
    return 0


def _workers(args, spec, res):
    """Each worker's busy share per interval, per runtime (tokio's per-worker busy time)."""
    out = {}
    for rt, samples in res.per_worker.items():
        out[rt] = [{"t_ns": smp["t"], "busy": [b / max(smp["elapsed"], 1) for b in smp["busy_duration"]],
                    "polls": smp["polls_count"]} for smp in samples]
    if args.plot:
        from ..plots import worker_utilisation
        first = next(iter(res.per_worker))
        worker_utilisation(res.runtimes[first], args.plot, f"{spec.name}: worker utilisation ({first})",
                           per_worker=res.per_worker[first])
    if args.json:
        json.dump(out, sys.stdout)
        print()
        return 0
    for rt, rows in out.items():
        n = len(rows[0]["busy"]) if rows else 0
        print(f"runtime {rt}: busy share of each interval per worker")
        print(f"{'TIME_MS':>9s} " + " ".join(f"{'w' + str(i):>6s}" for i in range(n)))
        for r in rows:
            print(f"{r['t_ns'] / 1e6:9.1f} " + " ".join(f"{b:6.2f}" for b in r["busy"]))
    return 0
