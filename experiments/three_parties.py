"""Is one simulated party enough? The three-party run against today's one-party scheme (issue 11).

    python experiments/three_parties.py [--scenario small] [--seeds 5] [--layouts today dual single-node]
                                        [--workers 2] [--engine fast] [--tokio 1.51]
                                        [--out experiments/out/three_parties-SCENARIO[-tokioV].json]

On numasim.hawk.parties.small_scenario() (2 requests per batch, 2 jobs, 1 M store, one iteration
per layer, 4 tokio CPUs per node, every message its own wait; `--scenario low-load`: the same
with prod's 32 tokio CPUs per node and 64 pool threads per eye; `remote-local`: remote memory
costs what local does; `default`: the default scenario itself, minutes per three-party run),
each layout runs with seeds
1..N under (a) the three-party run (three machines, every message a ring round) and (b) today's
one-party scheme (every message an io_us wait of the same latency), both on `--engine` (the
compiled one by default; `simpy` writes the same results, 15-20x slower); `--tokio` runs another
runtime.tokio profile (1.51: the LIFO slot stealable, docs/hawk.md "Three parties"). Per
scheme: each layout's p50 job latency (mean over seeds, 95% t-interval), polls and steals per job,
and each layout's p50 change against today paired over seeds (+ = faster than today); then the
difference between the schemes, paired by seed. Finished runs are kept in the JSON file and not
redone.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from numasim.hawk.parties import run_scheme, small_scenario  # noqa: E402
from numasim.hawk.scenario import default_scenario  # noqa: E402
from numasim.procs import map_ordered  # noqa: E402
from numasim.stats import t_interval  # noqa: E402

SCHEMES = {3: "three parties", 1: "one party (today's scheme)"}
SCENARIOS = {
    "small": lambda: small_scenario(),
    "low-load": lambda: small_scenario().replace(**{"runtime.cores_per_node": 32, "pool.threads_per_eye": 64}),
    "remote-local": lambda: small_scenario().replace(**{"memory.remote_penalty": 1.0}),
    "default": lambda: default_scenario(),
}


def _run(args):
    scenario, layout, seed, parties, engine, tokio = args
    t = time.time()
    sc = SCENARIOS[scenario]()
    if tokio:
        sc = sc.replace(**{"runtime.tokio": tokio})
    r = run_scheme(sc, layout, seed, parties, engine=engine)
    r["wall_s"] = round(time.time() - t, 1)
    return r


def gain(runs, layout, seeds):
    """Per seed: layout's p50 change against today, % of today's (+ = faster)."""
    return [100.0 * (runs["today"][s]["job_p50_ms"] - runs[layout][s]["job_p50_ms"]) / runs["today"][s]["job_p50_ms"]
            for s in seeds]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=list(SCENARIOS), default="small")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--layouts", nargs="+", default=["today", "dual", "single-node"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=["fast", "simpy"], default="fast",
                    help="simulation engine (both give the same results; fast: compiled)")
    ap.add_argument("--tokio", default=None, help="runtime.tokio profile (default: the scenario's)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    tail = f"-tokio{a.tokio}" if a.tokio else ""
    a.out = a.out or os.path.join(HERE, "out", f"three_parties-{a.scenario}{tail}.json")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    done = json.load(open(a.out)) if os.path.exists(a.out) else {}
    seeds = list(range(1, a.seeds + 1))
    todo = [(a.scenario, lay, s, p, a.engine, a.tokio) for p in SCHEMES for lay in a.layouts for s in seeds
            if f"{lay}/{s}/{p}" not in done]
    t0 = time.time()
    # in chunks of `workers` runs, each chunk saved, so an interrupted run keeps what finished
    for i in range(0, len(todo), max(1, a.workers)):
        chunk = todo[i:i + max(1, a.workers)]
        for item, r in zip(chunk, map_ordered(_run, chunk, a.workers)):
            done[f"{item[1]}/{item[2]}/{item[3]}"] = r
        json.dump(done, open(a.out, "w"), indent=1, sort_keys=True)
    runs = {p: {lay: {s: done[f"{lay}/{s}/{p}"] for s in seeds} for lay in a.layouts} for p in SCHEMES}
    print(f"# {a.scenario}{' (tokio ' + a.tokio + ')' if a.tokio else ''}: three parties against one ({len(todo)} runs in {time.time() - t0:.0f} s wall; "
          f"{sum(r['wall_s'] for r in done.values()):.0f} s of run time in all, seeds {seeds[0]}-{seeds[-1]})\n")
    print("| scheme | layout | p50 job latency ms | change vs today (+ = faster) | polls / steals per job | rounds that waited |")
    print("|---|---|---|---|---|---|")
    for p, name in SCHEMES.items():
        for lay in a.layouts:
            rs = runs[p][lay]
            p50 = t_interval([rs[s]["job_p50_ms"] for s in seeds])
            ch = t_interval(gain(runs[p], lay, seeds)).fmt(1, pct=True) if lay != "today" else ""
            polls = sum(rs[s]["polls_per_job"] for s in seeds) / len(seeds)
            steals = sum(rs[s]["steals_per_job"] for s in seeds) / len(seeds)
            waited = [rs[s]["messages"]["waited_share"] for s in seeds if "messages" in rs[s]]
            w = f"{100 * sum(waited) / len(waited):.0f}%" if waited else "100% (every message a wake)"
            print(f"| {name} | {lay} | {p50.fmt(0)} | {ch} | {polls / 1e3:.1f}k / {steals / 1e3:.1f}k | {w} |")
    print()
    print("| layout | p50: three parties vs one (paired, % of one party's) | change vs today: three parties minus one "
          "(points, paired) |")
    print("|---|---|---|")
    for lay in a.layouts:
        d = [100.0 * (runs[3][lay][s]["job_p50_ms"] - runs[1][lay][s]["job_p50_ms"]) / runs[1][lay][s]["job_p50_ms"]
             for s in seeds]
        g = "" if lay == "today" else t_interval([x - y for x, y in zip(gain(runs[3], lay, seeds),
                                                                          gain(runs[1], lay, seeds))]).fmt(1)
        print(f"| {lay} | {t_interval(d).fmt(1, pct=True)} | {g} |")
    bad = [k for k, r in done.items() if "messages" in r and not r["messages"]["reconciled"]]
    print(f"\nmessages reconciled (sent = arrived = used per session) in every three-party run: {not bad}")


if __name__ == "__main__":
    main()
