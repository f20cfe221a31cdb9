#!/usr/bin/env python3
"""Write the one-runtime/split spec pairs of the layout check into specs/.

Each case is one workload in two layouts on the 2-vCPU guest: `CASE-one` runs it on one runtime
of 2 workers, `CASE-split` on two runtimes of 1 worker (r0, r1) with the sources split between
them and, where the case says so, spawns going into the other runtime (a remote schedule). In the
one-runtime layout those spawns are plain tokio::spawn calls (local schedules): the counterfactual
of not splitting. Standard library only; run it from this folder.
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DURATION_S = 1.0
SAMPLE_MS = 100


def ext(interval_us, task, runtime):
    return {"kind": "external", "interval_us": interval_us, "arrival": "poisson", "task": task, "runtime": runtime}


def job(name, steps):
    return {"name": name, "steps": steps}


def spawn(task, runtime, count=1):
    return {"spawn": task, "count": count, "join": True, "runtime": runtime}


def chain(hops, spin_us):
    """A task that spins, then spawns the next hop into the other runtime and joins it."""
    rts = ["r0", "r1"]  # hop h runs in r1 when h is odd, so it spawns hop h+1 into r0
    t = job(f"hop{hops}", [{"spin_us": spin_us}])
    for h in range(hops - 1, 0, -1):
        t = job(f"hop{h}", [{"spin_us": spin_us}, spawn(t, rts[(h - 1) % 2])])
    return t


CASES = {
    # the same CPU-bound job from two sources, one per runtime
    "bal-cpu": [ext(200, job("a", [{"spin_us": 60}]), "r0"), ext(200, job("b", [{"spin_us": 60}]), "r1")],
    # one heavy and one light source: split, the heavy one has a worker to itself
    "imb-cpu": [ext(120, job("a", [{"spin_us": 50}]), "r0"), ext(1000, job("b", [{"spin_us": 50}]), "r1")],
    # jobs that mostly wait on a timer
    "bal-sleep": [ext(200, job("a", [{"spin_us": 20}, {"sleep_us": 500}, {"spin_us": 20}]), "r0"),
                  ext(200, job("b", [{"spin_us": 20}, {"sleep_us": 500}, {"spin_us": 20}]), "r1")],
    "imb-sleep": [ext(100, job("a", [{"spin_us": 30}, {"sleep_us": 500}, {"spin_us": 10}]), "r0"),
                  ext(1000, job("b", [{"spin_us": 30}, {"sleep_us": 500}, {"spin_us": 10}]), "r1")],
    # each job fans out into the other runtime and joins (split), or spawns locally (one)
    "remote-spawn": [ext(1000, job("a", [{"spin_us": 10}, spawn(job("ca", [{"spin_us": 30}]), "r1", 4)]), "r0"),
                     ext(1000, job("b", [{"spin_us": 10}, spawn(job("cb", [{"spin_us": 30}]), "r0", 4)]), "r1")],
    # all work enters r0 and its subtasks go to r1: the dual layout's cross-eye hand-off
    "offload": [ext(500, job("a", [{"spin_us": 20}, spawn(job("ca", [{"spin_us": 40}]), "r1", 2),
                                   {"spin_us": 10}]), "r0")],
    # one subtask in the other runtime that waits on a timer: the join's waker crosses back later
    "cross-join": [ext(700, job("a", [{"spin_us": 20}, spawn(job("ca", [{"spin_us": 10}, {"sleep_us": 300},
                                                                    {"spin_us": 10}]), "r1"), {"spin_us": 10}]), "r0"),
                   ext(700, job("b", [{"spin_us": 20}, spawn(job("cb", [{"spin_us": 10}, {"sleep_us": 300},
                                                                    {"spin_us": 10}]), "r0"), {"spin_us": 10}]), "r1")],
    # a chain that hops r0 -> r1 -> r0 -> r1 and joins back down
    "chain": [ext(600, job("a", [{"spin_us": 10}, spawn(chain(4, 10), "r1")]), "r0")],
}


def strip_runtime(x):
    """The one-runtime counterfactual: no source or spawn names a runtime."""
    if isinstance(x, dict):
        return {k: strip_runtime(v) for k, v in x.items() if k != "runtime"}
    if isinstance(x, list):
        return [strip_runtime(v) for v in x]
    return x


def specs(case, sources):
    base = {"duration_s": DURATION_S, "sample_interval_ms": SAMPLE_MS, "seed": 1}
    one = dict(base, name=f"{case}-one", runtime={"workers": 2}, sources=strip_runtime(sources))
    split = dict(base, name=f"{case}-split", runtimes=[{"name": "r0", "workers": 1}, {"name": "r1", "workers": 1}],
                 sources=copy.deepcopy(sources))
    return one, split


def main():
    out = os.path.join(HERE, "specs")
    os.makedirs(out, exist_ok=True)
    for case, sources in CASES.items():
        for s in specs(case, sources):
            with open(os.path.join(out, s["name"] + ".json"), "w") as f:
                json.dump(s, f, indent=1)
                f.write("\n")


if __name__ == "__main__":
    main()
