"""`numasim serve SPEC.json|SCENARIO.toml`: simulate, then replay the run as a Prometheus /metrics endpoint.

A scenario (the Hawk job; `--layout`, default today) also serves the plan's application metrics
(search_*, job_numa_*, current_numa_node, the derived tokio_steal_rate ...) of the whole run, so
that the plan's check `curl localhost:9090/metrics | grep -E "(tokio_|search_|job_numa)"` works.

Interval k becomes visible k × sample_interval / SPEED seconds after the start; names and kinds
follow tokio-metrics' metrics-rs integration (`tokio_` prefix, counters summed, durations in µs).
After the last interval the endpoint keeps serving the final state until interrupted.
"""
import sys
import time

from ..engine import add_argument as add_engine_argument


def register(sub):
    p = sub.add_parser("serve", help="simulate a spec and serve its metrics over HTTP as Prometheus text",
                       description=__doc__.splitlines()[0])
    p.add_argument("spec", help="workload spec (JSON) or Hawk scenario (TOML)")
    p.add_argument("--layout", default="today", help="scenario layout: today, pinned, dual or single-node")
    p.add_argument("--port", type=int, default=9090, help="TCP port (default 9090; 0 picks a free one)")
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed, times real time (default 1)")
    p.add_argument("--tokio", default="1.49", help="tokio version profile: 1.24, 1.49, 1.51 or 1.53 (default 1.49)")
    p.add_argument("--seed", type=int, default=None, help="run seed (default: the spec's seed)")
    p.add_argument("--profile", default=None, help="a calibrated host profile (JSON)")
    p.add_argument("--exit-after-replay", action="store_true", help="stop once every interval is visible")
    p.add_argument("-q", "--quiet", action="store_true", help="no estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)
    add_engine_argument(p)
    p.set_defaults(func=run)


def run(args):
    from ..errors import UserError
    from ..serve import MetricsServer
    from ..engine import simulate
    from ..spec import load_spec
    from ..tokio.profile import get_profile
    from .predict import load_host

    if not args.speed > 0:
        raise UserError("--speed", f"must be positive, got {args.speed}")
    if not 0 <= args.port <= 65535:
        raise UserError("--port", f"must be 0-65535, got {args.port}")
    if args.spec.endswith(".toml"):
        intervals, sample_ns, extra = _scenario(args)
    else:
        from ..budget import check, pace, spec_events
        spec = load_spec(args.spec)
        check(args.spec, 1, spec_events(spec), args, 1, pace(spec), args.quiet)
        res = simulate(spec, get_profile(args.tokio), load_host(args.profile), seed=args.seed)
        intervals, sample_ns, extra = res.intervals, spec.sample_interval_ns, None
    srv = MetricsServer(intervals, sample_ns, args.speed, args.port, args.bind, extra_text=extra).start()
    replay = srv.collector.replay_s
    print(f"serving {len(intervals)} intervals on {srv.url} (replay takes {replay:.3g} s at speed {args.speed:g})",
          file=sys.stderr, flush=True)
    try:
        if args.exit_after_replay:
            time.sleep(replay + 0.05)
        else:
            while True:
                time.sleep(3600)
    finally:
        srv.stop()
    return 0


def _scenario(args):
    """A Hawk scenario under one layout: its merged runtime intervals, and the app metrics."""
    from ..errors import UserError
    from ..hawk.jobs import sample_interval_ms
    from ..hawk.layouts import run_layout
    from ..hawk.prometheus import prometheus_text
    from ..hawk.scenario import load_scenario
    if args.layout not in ("today", "pinned", "dual", "single-node"):
        raise UserError("--layout", f"expected today, pinned, dual or single-node, got {args.layout!r}")
    sc = load_scenario(args.spec)
    from ..budget import check, hawk_pace, scenario_events
    check(args.spec, 1, scenario_events(sc, args.layout), args, 1, hawk_pace(), args.quiet)
    r = run_layout(sc, args.layout, args.seed if args.seed is not None else 1)
    text = prometheus_text({args.layout: {"app": r["app"], "runtimes": r["runtimes"]}})
    return r["intervals"], int(sample_interval_ms(sc) * 1e6), text
