"""Engine speed: simulated polls per wall second on the public specs, on one core.

    python benchmarks/bench_engine.py [--repeat N] [--specs DIR]

Each spec runs once per tokio profile in this process (one core); the figure is task polls
(every poll of every task, LIFO polls included) divided by wall time. Peak RSS is reported too.
"""
import argparse
import glob
import os
import resource
import sys
import time

from numasim.simulate import simulate
from numasim.spec import load_spec
from numasim.tokio.profile import get_profile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPECS = os.path.join(HERE, "..", "..", "shared", "fidelity", "specs")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", default=DEFAULT_SPECS)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.specs, "*.json")))
    if not paths:
        sys.exit(f"no specs in {args.specs}")
    total_polls = total_wall = total_cpu = 0.0
    # CPU seconds of this process as well as wall seconds: on a shared machine the CPU figure is
    # the engine's own cost
    print(f"{'spec':28s} {'tokio':5s} {'polls':>9s} {'wall s':>7s} {'polls/s':>9s} {'cpu s':>7s} {'polls/cpu-s':>11s}")
    for v in ("1.24", "1.49"):
        for p in paths:
            spec = load_spec(p)
            best = cpu_best = None
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                res = simulate(spec, get_profile(v))
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                best = wall if best is None else min(best, wall)
                cpu_best = cpu if cpu_best is None else min(cpu_best, cpu)
            polls = sum(m.c[8] for m in res.runtime.monitors.values())
            total_polls += polls
            total_wall += best
            total_cpu += cpu_best
            print(f"{spec.name:28s} {v:5s} {polls:9d} {best:7.2f} {polls / best:9.0f} {cpu_best:7.2f} {polls / cpu_best:11.0f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'all':28s} {'':5s} {int(total_polls):9d} {total_wall:7.2f} {total_polls / total_wall:9.0f} "
          f"{total_cpu:7.2f} {total_polls / total_cpu:11.0f}")
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
