"""`numasim predict SPEC.json`: simulate a workload spec and write a tokio-probe/1 trace."""
import sys

from ..engine import add_argument as add_engine_argument
from ..errors import UserError


def register(sub):
    p = sub.add_parser("predict", help="simulate a workload spec and write a tokio-probe/1 trace",
                       description=__doc__)
    p.add_argument("spec", help="workload spec (JSON, the language of shared/fidelity/README.md)")
    p.add_argument("--tokio", default="1.49", help="tokio version profile: 1.24, 1.49, 1.51 or 1.53 (default 1.49)")
    p.add_argument("--seed", type=int, default=None, help="run seed (default: the spec's seed)")
    p.add_argument("--profile", default=None, help="a calibrated host profile (JSON) from `numasim calibrate`")
    p.add_argument("-o", "--output", default="-", help="output trace (default: standard output)")
    p.add_argument("-q", "--quiet", action="store_true", help="no estimate on stderr")
    from ..budget import add_arguments
    add_arguments(p)
    add_engine_argument(p)
    p.set_defaults(func=run)


def load_host(path, version="1.49"):
    from ..host.costs import Host, default_host
    if path is None:
        return default_host(version)
    from ..inputs import read_json
    d = read_json(path, UserError, "a host profile (JSON) from `numasim calibrate`")
    if not isinstance(d, dict):
        raise UserError(path, "expected a JSON object")
    return Host.from_dict(d.get("host", d), f"{path}: host")


def run(args):
    from ..engine import simulate
    from ..spec import load_spec
    from ..tokio.profile import get_profile

    from ..budget import check, pace, spec_events
    spec = load_spec(args.spec)
    check(args.spec, 1, spec_events(spec), args, 1, pace(spec), args.quiet)
    profile = get_profile(args.tokio)
    host = load_host(args.profile, profile.version)
    res = simulate(spec, profile, host, seed=args.seed)
    if args.output == "-":
        res.write(sys.stdout)
    else:
        tmp = args.output + ".part"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                res.write(f)
        except OSError as e:
            raise UserError(args.output, f"cannot write: {e.strerror}") from None
        import os
        os.replace(tmp, args.output)
    return 0
