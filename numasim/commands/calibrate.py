"""`numasim calibrate TRACE... -o PROFILE.json`: fit the host model (and a spec's open values) to real traces.

Traces are files, or a Prometheus server's tokio_* series (`--prometheus URL`; each runtime label
set is one trace, and --spec and --tokio are then needed). Each trace's header gives its spec and
tokio version unless --spec/--tokio say otherwise;
repetitions of one spec are averaged, and different specs (or versions) are fitted jointly. The
profile feeds `numasim predict --profile PROFILE.json`. See docs/calibration.md.
"""
import json
import os
import sys

from ..errors import UserError
from ..traces import promclient, read_traces


def register(sub):
    p = sub.add_parser("calibrate", help="fit host costs to real traces and write a profile",
                       description=__doc__)
    p.add_argument("traces", nargs="*", metavar="TRACE", help="real traces (any format numasim reads)")
    p.add_argument("--spec", default=None, help="workload spec for every trace (default: each trace header's spec)")
    p.add_argument("--tokio", default=None, help="tokio version profile (default: each trace header's tokio_version)")
    p.add_argument("-o", "--output", required=True, help="profile JSON to write")
    p.add_argument("--free", default=None,
                   help="comma-separated host costs to fit (default: poll_ns, spawn_ns, run_task_ns, "
                        "unpark_latency_ns, idle_wake_latency_ns, unpark_ns, park_ns, timer_slack_ns); "
                        "'' fits only the spec's open values")
    p.add_argument("--start-profile", default=None, metavar="PROFILE",
                   help="start from this profile's host (default: the built-in host); without --prometheus, "
                        "--start PROFILE says the same")
    p.add_argument("--max-evals", type=int, default=80, help="simulation rounds the optimizer may spend (default 80)")
    p.add_argument("--seeds", default=None,
                   help="comma-separated seeds shared by every candidate (default: each spec's own seed)")
    p.add_argument("--fit-duration", type=float, default=None, metavar="S",
                   help="simulate at most S seconds of submission per candidate (default: the spec's duration)")
    p.add_argument("--no-uncertainty", action="store_true", help="skip the curvature estimate (2 runs per parameter)")
    promclient.add_arguments(p, start_help="with --prometheus: range start (RFC 3339, Unix seconds or now); "
                                           "otherwise a profile to start from, as --start-profile")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)
    from ..engine import add_argument as add_engine_argument
    add_engine_argument(p)
    p.set_defaults(func=run)


def _estimate(args, cases, free, host0, seeds):
    """Simulations the fit may run: every case and seed per round, rounds = --max-evals, the
    start, the final errors and the curvature's two per free parameter."""
    from ..budget import check, pace, spec_events
    from ..calibrate import _parse, host_params, spec_params
    per_round, slowest = 0.0, float("inf")
    for c in cases:
        raw = c.raw
        if args.fit_duration is not None and raw.get("duration_s", 0) > args.fit_duration:
            raw = dict(raw, duration_s=args.fit_duration)
        spec = _parse(raw, c.where, {})
        per_round += spec_events(spec) * len(seeds)
        slowest = min(slowest, pace(spec))
    n = len(host_params(free, host0)) + len(spec_params(cases))
    rounds = args.max_evals + 2 + (2 * n if not args.no_uncertainty else 0)
    paths = [p for c in cases for p in c.paths]
    where = str(paths[0]) if len(paths) == 1 else f"{len(paths)} traces"
    check(where, rounds * len(cases) * len(seeds), rounds * per_round, args, 1, slowest, args.quiet)


def write_profile(path, prof):
    tmp = path + ".part"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(prof, f, indent=1, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
    except OSError as e:
        raise UserError(path, f"cannot write: {e.strerror}") from None


def run(args):
    from ..calibrate import DEFAULT_FREE, calibrate, load_cases
    from .predict import load_host

    if args.max_evals < 1:
        raise UserError("--max-evals", f"expected a positive integer, got {args.max_evals}")
    if args.fit_duration is not None and not args.fit_duration > 0:
        raise UserError("--fit-duration", f"expected a positive number of seconds, got {args.fit_duration}")
    free = DEFAULT_FREE if args.free is None else tuple(s.strip() for s in args.free.split(",") if s.strip())
    seeds = [None]
    if args.seeds:
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            raise UserError("--seeds", f"expected comma-separated integers, got {args.seeds!r}") from None
    # --start was the profile to start from before calibrate read Prometheus servers; it still is
    # without --prometheus, where no range is asked for
    profile = args.start_profile if args.prometheus or args.start_profile else args.start
    if args.prometheus and args.start is not None and args.start.endswith(".json"):
        raise UserError("--start", "with --prometheus it is the range start; a profile to start from is --start-profile")
    host0 = load_host(profile)

    def read(path, match, exporter_s):
        return read_traces(path, match=match, exporter_interval_s=exporter_s)
    sources = promclient.traces_from_args(args, args.traces, args.start if args.prometheus else None, read)
    cases = load_cases(sources, args.spec, args.tokio)
    _estimate(args, cases, free, host0, seeds)
    from ..progress import Progress
    # a bar on a terminal, a line every few seconds elsewhere (a log, CI), nothing with -q
    bar = Progress(args.max_evals, "numasim calibrate", "round", quiet=args.quiet)

    def cb(evals, j, best):
        bar.set(evals, f"error {j:.4f}, best {best:.4f}")
    try:
        fit = calibrate(cases, free=free, host0=host0, max_evals=args.max_evals, seeds=seeds,
                        fit_duration_s=args.fit_duration, uncertainty=not args.no_uncertainty, progress=cb)
    finally:
        bar.close()
    write_profile(args.output, fit.profile())
    if fit.interrupted:
        print(f"numasim calibrate: interrupted after {fit.evals} simulation rounds; "
              f"best so far (error {fit.objective:.4f}) written to {args.output}", file=sys.stderr)
        return 130
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        print(f"numasim calibrate: error {fit.start_objective:.4f} -> {fit.objective:.4f} in {fit.evals} rounds, "
              f"{fit.seconds:.0f} s; wrote {args.output}", file=sys.stderr)
    return 0
