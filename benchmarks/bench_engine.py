"""Engine speed: both engines on the public specs in one process, simulated polls per CPU-second.

    python benchmarks/bench_engine.py [--repeat N] [--specs DIR] [--versions 1.24,1.49]

(`--specs benchmarks/specs`: the public specs' shapes with durations drawn inside the tasks;
`--specs fidelity/layouts/specs`: one runtime against two.)

Each spec runs once per tokio profile on the SimPy engine and on the compiled engine (after a
first call that loads or compiles the kernels, timed on its own); the figure is task polls (every
poll of every task, LIFO polls included) per CPU second of this process, and the ratio of the two.
Every pair of runs is checked to write the same bytes. Peak RSS is reported too.

Beside the overall figure (the public specs, flat host), two rows each: the machine example
(examples/specs/numactl-machine.json, 1 s: NodeAware placement, OS migration, `mem` steps and the
memory-load refresher) and the public burst spec watched by the Hawk app metrics' observer (the
compiled engine replays its events); checked for the same bytes (and NUMA facts, and observed
records) too.
"""
import argparse
import glob
import os
import resource
import sys
import time

from numasim.engine.run import simulate_fast
from numasim.simulate import simulate
from numasim.hawk.appmetrics import HawkObserver
from numasim.spec import load_spec, parse_spec
from numasim.tokio.profile import get_profile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPECS = os.path.join(HERE, "..", "..", "shared", "fidelity", "specs")


def _timed(fn, repeat):
    best = None
    for _ in range(repeat):
        c0 = time.process_time()
        res = fn()
        cpu = time.process_time() - c0
        best = cpu if best is None else min(best, cpu)
    return res, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", default=DEFAULT_SPECS)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--versions", default="1.24,1.49")
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.specs, "*.json")))
    if not paths:
        sys.exit(f"no specs in {args.specs}")
    first = load_spec(paths[0])
    c0, t0 = time.process_time(), time.perf_counter()
    simulate_fast(first, get_profile("1.49"))
    print(f"first fast call (compile, or load from the cache): {time.process_time() - c0:.1f} CPU s, "
          f"{time.perf_counter() - t0:.1f} wall s")
    tot = {"simpy": 0.0, "fast": 0.0, "polls": 0}
    print(f"{'spec':26s} {'tokio':5s} {'polls':>8s} {'simpy cpu-s':>11s} {'polls/cpu-s':>11s} "
          f"{'fast cpu-s':>10s} {'polls/cpu-s':>11s} {'ratio':>6s} same")
    for v in args.versions.split(","):
        prof = get_profile(v)
        for p in paths:
            spec = load_spec(p)
            a, ts = _timed(lambda: simulate(spec, prof), args.repeat)
            b, tf = _timed(lambda: simulate_fast(spec, prof), args.repeat)
            polls = sum(m.c[8] for rt in a.system.runtimes.values() for m in rt.monitors.values())
            same = list(a.lines()) == list(b.lines())
            tot["simpy"] += ts
            tot["fast"] += tf
            tot["polls"] += polls
            print(f"{spec.name:26s} {v:5s} {polls:8d} {ts:11.2f} {polls / ts:11.0f} {tf:10.3f} {polls / tf:11.0f} "
                  f"{ts / tf:6.1f} {'yes' if same else 'NO'}")
    n = tot["polls"]
    print(f"{'all':26s} {'':5s} {n:8d} {tot['simpy']:11.2f} {n / tot['simpy']:11.0f} {tot['fast']:10.3f} "
          f"{n / tot['fast']:11.0f} {tot['simpy'] / tot['fast']:6.1f}")
    extra(paths, args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB (both engines, one process)")


def extra(paths, repeat):
    """The machine example and an observed run (not in the overall figure above)."""
    prof = get_profile("1.49")
    mpath = os.path.join(HERE, "..", "examples", "specs", "numactl-machine.json")
    machine = parse_spec(dict(load_spec(mpath).raw, duration_s=1.0), mpath)
    burst = load_spec(next(p for p in paths if "burst" in p) if any("burst" in p for p in paths) else paths[0])
    for label, spec, observed in (("machine: numactl-machine 1s", machine, False),
                                  (f"observed: {burst.name}", burst, True)):
        # an observer watches one run: a fresh one for every repetition, the last ones compared
        obs = [None, None]

        def watched(i):
            if not observed:
                return ()
            obs[i] = HawkObserver()
            return [obs[i]]
        a, ts = _timed(lambda: simulate(spec, prof, observers=watched(0)), repeat)
        b, tf = _timed(lambda: simulate_fast(spec, prof, observers=watched(1)), repeat)
        polls = sum(m.c[8] for m in a.runtime.monitors.values())
        same = list(a.lines()) == list(b.lines()) and a.numa == b.numa
        if observed:
            same = same and obs[0].records() == obs[1].records()
        print(f"{label:36s} 1.49 {polls:8d} {ts:11.2f} {polls / ts:11.0f} {tf:10.3f} {polls / tf:11.0f} "
              f"{ts / tf:6.1f} {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
