"""`numasim sweep SWEEP.toml`: run a parameter sweep (grid, random or Latin hypercube), resumably.

Results go to DIR/results.jsonl (one line per finished point and seed; the resume log) and
DIR/results.csv (the table). Run the same command again after a kill and it carries on where it
stopped. See docs/sweep.md for the sweep file format.
"""
import os


def register(sub):
    p = sub.add_parser("sweep", help="run a parameter sweep over a spec, resumably", description=__doc__.splitlines()[0])
    p.add_argument("sweep", help="sweep file (TOML, see docs/sweep.md)")
    p.add_argument("--out", default=None, help="output folder (default: NAME.sweep in the current folder)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes (default: one per CPU); 1 runs in this process")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run on Dask: 'local' starts a LocalCluster of --workers processes, else a scheduler address")
    p.add_argument("--no-plot", action="store_true", help="do not draw the heatmap of a 2-parameter design")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)
    from ..engine import add_argument as add_engine_argument
    add_engine_argument(p)
    p.set_defaults(func=run)


def run(args):
    from ..errors import UserError
    from ..sweep import load_sweep, run_sweep
    from ..budget import check
    if args.workers < 1:
        raise UserError("--workers", f"expected a positive integer, got {args.workers}")
    sw = load_sweep(args.sweep)
    # before anything runs or is generated: the design's size is known from its parameters
    events, pace = sw.estimate()
    if events is not None:
        check(args.sweep, sw.n_runs, events, args, args.workers, pace, args.quiet)
    out = args.out or f"{sw.name}.sweep"
    s = run_sweep(sw, out, workers=args.workers, dask=args.dask, quiet=args.quiet, plot=not args.no_plot)
    print(f"{s['runs']} runs ({s['ran']} run now, {s['reused']} already done) -> {s['table']}")
    for p in s["plots"]:
        print(f"plot: {p}")
    return 0
