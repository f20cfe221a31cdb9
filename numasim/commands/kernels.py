"""`numasim kernels`: run a kernel on synthetic data and print what it measured."""
import json

from ..errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("kernels", help="run a Numba kernel (hnsw) on synthetic data")
    sub = p.add_subparsers(dest="kernel", metavar="KERNEL")
    h = sub.add_parser("hnsw", help="build an HNSW graph over clustered vectors, search it, report recall and cost")
    h.add_argument("--n", type=int, default=20000, help="database vectors (default 20000)")
    h.add_argument("--dim", type=int, default=32, help="dimensions (default 32)")
    h.add_argument("--m", type=int, default=16, help="HNSW M (links per node; 2M on layer 0)")
    h.add_argument("--ef", type=int, default=64, help="search beam width on layer 0")
    h.add_argument("--ef-construction", type=int, default=100, help="build beam width (default 100)")
    h.add_argument("--queries", type=int, default=500, help="held-out queries (default 500)")
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--select", choices=("heuristic", "nearest"), default="heuristic",
                   help="neighbour rule: Malkov's heuristic (hnswlib) or the nearest M (iris-mpc)")
    h.add_argument("--json", action="store_true", help="print JSON (default: one line per figure)")
    h.set_defaults(func=run_hnsw)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_hnsw(args) -> int:
    from ..kernels import hnsw

    checks = [("--n", args.n >= 11, "at least 11"), ("--dim", args.dim >= 1, "a positive integer"),
              ("--m", args.m >= 2, "at least 2"), ("--ef", args.ef >= 1, "a positive integer"),
              ("--ef-construction", args.ef_construction >= 1, "a positive integer"),
              ("--queries", args.queries >= 1, "a positive integer")]
    for flag, ok, what in checks:
        if not ok:
            raise UserError(flag, f"must be {what}, got {getattr(args, flag[2:].replace('-', '_'))}")
    r = hnsw.run(args.n, args.dim, args.m, args.ef, args.queries, seed=args.seed, ef_construction=args.ef_construction,
                 select=args.select)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        for k, v in r.items():
            print(f"{k:32} {v:.4g}" if isinstance(v, float) else f"{k:32} {v}")
    return 0
