"""How much of the time the two workers share one vCPU: the model against the guest kernel.

    python experiments/colocation.py [--version 1.49] [SPEC.json ...]

For each spec that has a kernel trace in fidelity/ktrace/logs (fidelity/ktrace/capture.sh), runs
the SimPy engine on the host the experiments use for it (the measured host for this repository's
captures, the default host for the public specs), samples every 5 us which vCPU each worker is on
or was last placed on, and prints the share of the time both sat on one vCPU next to the kernel
trace's share (fidelity/ktrace/schedfacts.py). On a 2-vCPU guest that share decides whether a
spawner and its thief run side by side or take turns on one vCPU (README, issue 12).
"""
import argparse
import glob
import os
import sys

import simpy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KTRACE = os.path.join(REPO, "fidelity", "ktrace")
SAMPLE_NS = 5_000


def schedfacts():
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from fidelity import load_file
    return load_file("schedfacts", os.path.join(KTRACE, "schedfacts.py"))


def spec_path(name):
    for d in (os.path.join(REPO, "fidelity", "specs"), os.path.join(REPO, "..", "shared", "fidelity", "specs")):
        p = os.path.join(d, name + ".json")
        if os.path.exists(p):
            return p
    return None


def model_share(path, version):
    """The share of the run's time the first two workers of the spec's runtime sat on one vCPU."""
    from numasim.host.costs import default_host
    from numasim.simulate import _drain, _start_party, rng_streams
    from numasim.spec import load_spec
    from numasim.tokio.profile import get_profile
    spec = load_spec(path)
    profile = get_profile(version)
    host = default_host(profile.version)
    if os.path.dirname(os.path.abspath(path)) == os.path.join(REPO, "fidelity", "specs"):
        if HERE not in sys.path:
            sys.path.insert(0, HERE)
        from hosts import measured_host
        host = measured_host(profile.version)
    env = simpy.Environment()
    streams = rng_streams(spec.seed, max(1, len(spec.runtimes)))
    system, sampler = _start_party(env, spec, profile, host, streams, ())
    runtimes = list(system.runtimes.values())
    workers = runtimes[0].workers[:2]
    count = [0, 0]

    def sample():
        # reads the CPU table only: the run's events and draws are the same with or without it
        while True:
            yield env.timeout(SAMPLE_NS)
            count[0] += 1
            count[1] += workers[0].cpu == workers[1].cpu

    env.process(sample())
    env.process(_drain(env, runtimes, host.startup_ns + spec.duration_ns, [sampler]))
    env.run(until=sampler.stop)
    return count[1] / max(count[0], 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="1.49", choices=["1.24", "1.49"])
    ap.add_argument("specs", nargs="*", help="spec files (default: every spec with a kernel trace)")
    args = ap.parse_args(argv)
    traces = {os.path.basename(p).split(".trace")[0]: p for p in glob.glob(os.path.join(KTRACE, "logs", "*.trace.xz"))}
    names = [os.path.basename(s)[:-5] for s in args.specs] or sorted(traces)
    sf = schedfacts()
    print("| spec | kernel: time on one vCPU | model |")
    print("|---|---|---|")
    for name in names:
        path = args.specs[names.index(name)] if args.specs else spec_path(name)
        if path is None or not os.path.exists(path):
            print(f"colocation.py: {name}: no such spec", file=sys.stderr)
            return 2
        real = "-"
        if name in traces:
            num, den = sf.summary(sf.facts(sf.parse(traces[name])))["time on one vCPU"]
            real = f"{num / den:.2f}"
        print(f"| {name} | {real} | {model_share(path, args.version):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
