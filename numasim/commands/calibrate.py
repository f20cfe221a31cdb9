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
    p.set_defaults(func=run)


def _progress_bar(max_evals):
    """A tqdm bar on a terminal; nothing under CI or when stderr is not a terminal."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm
    bar = tqdm(total=max_evals, desc="calibrate", unit="sim", file=sys.stderr)

    def cb(evals, j, best):
        bar.n = evals
        bar.set_postfix(err=f"{j:.4f}", best=f"{best:.4f}", refresh=False)
        bar.refresh()
    return bar, cb


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
        raise UserError("--max-evals", f"expected at least 1, got {args.max_evals}")
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
    bar, cb = _progress_bar(args.max_evals)
    try:
        fit = calibrate(cases, free=free, host0=host0, max_evals=args.max_evals, seeds=seeds,
                        fit_duration_s=args.fit_duration, uncertainty=not args.no_uncertainty, progress=cb)
    finally:
        if bar is not None:
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
