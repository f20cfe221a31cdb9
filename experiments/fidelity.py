"""Score the simulator against real tokio traces, case by case.

    python experiments/fidelity.py [--set public|captured|all] [--out DIR] [--md FILE] [--seed N]

Two sets of real traces, each with its specs and three repetitions per tokio version:
- `public`: ../shared/fidelity (specs/, traces/ for 1.24.2, traces-1.49/);
- `captured`: this repository's fidelity/ (specs/, traces-1.24/, traces-1.49/), captured on this
  project's machine with fidelity/build_probe.sh and fidelity/capture.sh; their specs isolate the
  idle path (parks, notifies, steals).
Each spec is simulated under tokio 1.24 and 1.49 into DIR/SET/VERSION, scored with the shared
`figures.py` (the same function `figures.py --score` uses), and summarised: median error, the
share of figures within 25%, and on how many cases each idle-path figure (steals per poll, parks
per second, noops per park) is within 25%. `--md` writes that summary and every figure's row.
"""
import argparse
import glob
import importlib.util
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(REPO, "..", "shared", "fidelity")
SETS = {
    "public": (os.path.join(SHARED, "specs"), {"1.24": os.path.join(SHARED, "traces"),
                                              "1.49": os.path.join(SHARED, "traces-1.49")}),
    "captured": (os.path.join(REPO, "fidelity", "specs"), {"1.24": os.path.join(REPO, "fidelity", "traces-1.24"),
                                                          "1.49": os.path.join(REPO, "fidelity", "traces-1.49")}),
}
IDLE_FIGURES = ("steals_per_poll", "parks_per_s", "noop_per_park")


def load_file(name, path):
    """A script (../shared/fidelity/figures.py, fidelity/ktrace/schedfacts.py) as module `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def figures_module():
    return load_file("figures", os.path.join(SHARED, "figures.py"))


def simulate_to(job):
    path, version, dest, seed, measured, overrides = job
    from numasim.host.costs import default_host
    from numasim.simulate import simulate
    from numasim.spec import load_spec
    from numasim.tokio.profile import get_profile
    profile = get_profile(version)
    host = default_host(profile.version)
    if measured:
        if HERE not in sys.path:
            sys.path.insert(0, HERE)
        from hosts import measured_host
        host = measured_host(profile.version)
    host = host.with_values(overrides, "--host")
    res = simulate(load_spec(path), profile, host, seed=seed)
    with open(dest, "w") as f:
        res.write(f)
    return dest


# The public specs re-captured on this project's machine (fidelity/capture.sh with
# TRACES=fidelity/public-here): real tokio here, scored against the public traces as a simulation is.
PUBLIC_HERE = {v: os.path.join(REPO, "fidelity", f"public-here-{v}") for v in ("1.24", "1.49")}


def score_files(F, spec_dir, real_dir, trace_of):
    """(rows, summary) of the traces `trace_of(case)` against the real repetitions in real_dir, for
    every spec in spec_dir that has both; None if none has."""
    rows, errs, idle = [], [], {k: [] for k in IDLE_FIGURES}
    for p in sorted(glob.glob(os.path.join(spec_dir, "*.json"))):
        case = os.path.splitext(os.path.basename(p))[0]
        real = sorted(glob.glob(os.path.join(real_dir, f"{case}.r*.jsonl")))
        if not real or not os.path.exists(trace_of(case)):
            continue
        for k, (r, got, e) in F.case_errors(real, trace_of(case)).items():
            errs.append(e)
            rows.append((case, k, r, got, e))
            if k in idle:
                idle[k].append(e)
    if not errs:
        return None
    summary = {"figures": len(errs), "median": statistics.median(errs),
               "within": sum(e <= 0.25 for e in errs) / len(errs),
               "cases": len(idle[IDLE_FIGURES[0]]),
               **{k: sum(e <= 0.25 for e in es) for k, es in idle.items()}}
    return rows, summary


def score_set(F, name, sim_root):
    """{version: (rows, summary)} for one set, from simulated traces under sim_root/VERSION."""
    spec_dir, reals = SETS[name]
    out = {}
    for v, real_dir in reals.items():
        scored = score_files(F, spec_dir, real_dir, lambda case: os.path.join(sim_root, v, f"{case}.jsonl"))
        if scored:
            out[v] = scored
    return out


def real_here(F, here=None):
    """Real tokio on this machine against the public traces: each repetition of the public specs
    re-captured here (PUBLIC_HERE) scored exactly as a simulation is: how far real tokio on this
    machine lands from them. {version: [(repetition, rows, summary), ...]}."""
    here = PUBLIC_HERE if here is None else here
    spec_dir, reals = SETS["public"]
    out = {}
    for v, real_dir in reals.items():
        if v not in here:
            continue  # (a missing version must not glob the working directory)
        reps = sorted({os.path.basename(p).rsplit(".", 2)[1]
                       for p in glob.glob(os.path.join(here[v], "*.r*.jsonl"))})
        for r in reps:
            scored = score_files(F, spec_dir, real_dir, lambda case: os.path.join(here[v], f"{case}.{r}.jsonl"))
            if scored:
                out.setdefault(v, []).append((r,) + scored)
    return out


def noise(F, name):
    """How well the real runtime repeats itself: each repetition scored against the mean of the
    others, exactly as a simulation is scored. {version: (median error, share within 25%,
    {idle figure: share within 25%})}."""
    spec_dir, reals = SETS[name]
    out = {}
    for v, real_dir in reals.items():
        errs, idle = [], {k: [] for k in IDLE_FIGURES}
        for p in sorted(glob.glob(os.path.join(spec_dir, "*.json"))):
            case = os.path.splitext(os.path.basename(p))[0]
            reps = sorted(glob.glob(os.path.join(real_dir, f"{case}.r*.jsonl")))
            for i, rep in enumerate(reps if len(reps) > 1 else []):
                for k, (_, _, e) in F.case_errors(reps[:i] + reps[i + 1:], rep).items():
                    errs.append(e)
                    if k in idle:
                        idle[k].append(e)
        if errs:
            out[v] = (statistics.median(errs), sum(e <= 0.25 for e in errs) / len(errs),
                      {k: sum(e <= 0.25 for e in es) / len(es) for k, es in idle.items()})
    return out


def summary_line(name, v, s):
    idle = ", ".join(f"{k} {s[k]}/{s['cases']}" for k in IDLE_FIGURES)
    return (f"{name} tokio {v}: {s['figures']} figures, median error {s['median'] * 100:.1f}%, "
            f"within 25%: {s['within'] * 100:.0f}%; idle-path figures within 25%: {idle}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["public", "captured", "all"], default="all")
    ap.add_argument("--out", default="out/fidelity")
    ap.add_argument("--md", default=None, help="write the summary and the case-by-case table here")
    ap.add_argument("--seed", type=int, default=None, help="run seed (default: each spec's own)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--default-host", action="store_true",
                    help="simulate the captured set on the default host too (not the measured one)")
    ap.add_argument("--host", action="append", default=[], metavar="NAME=VALUE",
                    help="a host value replaced in every run, both sets (repeatable): what-if runs")
    args = ap.parse_args(argv)
    overrides = {}
    for a in args.host:
        k, _, v = a.partition("=")
        try:
            overrides[k] = float(v)
        except ValueError:
            ap.error(f"--host {a}: expected NAME=NUMBER")
    F = figures_module()
    sets = list(SETS) if args.set == "all" else [args.set]
    jobs = []
    for name in sets:
        spec_dir, reals = SETS[name]
        for v in reals:
            os.makedirs(os.path.join(args.out, name, v), exist_ok=True)
            for p in sorted(glob.glob(os.path.join(spec_dir, "*.json"))):
                case = os.path.splitext(os.path.basename(p))[0]
                # this repository's captures ran on the machine fidelity/measured-host.json describes
                jobs.append((p, v, os.path.join(args.out, name, v, f"{case}.jsonl"), args.seed,
                             name == "captured" and not args.default_host, overrides))
    from numasim.procs import map_ordered
    map_ordered(simulate_to, jobs, args.workers)  # workers that die with this script
    cmd = ("python experiments/fidelity.py" + (f" --set {args.set}" if args.set != "all" else "")
           + (" --default-host" if args.default_host else "") + "".join(f" --host {a}" for a in args.host)
           + " --md docs/fidelity.md")
    head = ["# Fidelity: simulated against real tokio traces", "",
            f"Generated by `{cmd}`; the error of a figure is",
            "`|sim - real| / max(|real|, floor)` exactly as `../shared/fidelity/figures.py --score` computes it,",
            "against the mean of the real repetitions. `public` is ../shared/fidelity; `captured` is fidelity/",
            "in this repository (idle-path specs captured on this project's 2-vCPU machine, with nothing else",
            "running, and simulated on the host measured there: fidelity/measured-host.json, from",
            "fidelity/wakeprobe; `--default-host` simulates them on the default host instead).", "",
            "| set | tokio | figures | median error | within 25% | steals/poll within 25% | parks/s within 25% | noops/park within 25% |",
            "|---|---|---|---|---|---|---|---|"]
    body = []
    noise_rows = ["", "Run-to-run noise of the real traces (each repetition scored against the mean of the others):", "",
                  "| set | tokio | median error | within 25% | steals/poll within 25% | parks/s within 25% | noops/park within 25% |",
                  "|---|---|---|---|---|---|---|"]
    for name in sets:
        for v, (med, within, idle) in noise(F, name).items():
            noise_rows.append(f"| {name} | {v} | {med * 100:.1f}% | {within * 100:.0f}% | "
                              + " | ".join(f"{idle[k] * 100:.0f}%" for k in IDLE_FIGURES) + " |")
    here_rows = ["", "Real tokio on this machine against the public traces: the public specs re-captured here",
                 "(fidelity/public-here-*, `TRACES=fidelity/public-here fidelity/capture.sh 3 ../shared/fidelity/specs/*.json`),",
                 "each repetition scored exactly as a simulation is: how far real tokio on this machine lands from",
                 "the public traces, which were captured on another host.", "",
                 "| tokio | repetition | median error | within 25% | steals/poll within 25% | parks/s within 25% | noops/park within 25% |",
                 "|---|---|---|---|---|---|---|"]
    here_head = len(here_rows)
    for v, reps in (real_here(F).items() if "public" in sets else ()):
        for r, _, s in reps:
            print(summary_line(f"real tokio here ({r})", v, s))
            here_rows.append(f"| {v} | {r} | {s['median'] * 100:.1f}% | {s['within'] * 100:.0f}% | "
                             + " | ".join(f"{s[k]}/{s['cases']}" for k in IDLE_FIGURES) + " |")
    if len(here_rows) == here_head:
        here_rows = []  # no re-captures scored: no section
    for name in sets:
        for v, (rows, s) in score_set(F, name, os.path.join(args.out, name)).items():
            print(summary_line(name, v, s))
            head.append(f"| {name} | {v} | {s['figures']} | {s['median'] * 100:.1f}% | {s['within'] * 100:.0f}% | "
                        + " | ".join(f"{s[k]}/{s['cases']}" for k in IDLE_FIGURES) + " |")
            body += ["", f"## {name}, tokio {v}", "", "| case | figure | real | sim | error |", "|---|---|---|---|---|"]
            body += [f"| {c} | {k} | {r:.4g} | {g:.4g} | {e * 100:.1f}% |" for c, k, r, g, e in rows]
    if args.md:
        # the layout section (experiments/layouts.py writes it) survives a rewrite of this table
        keep = ""
        if os.path.exists(args.md):
            with open(args.md) as f:
                old = f.read()
            if "<!-- layouts: begin -->" in old:
                keep = "\n" + old[old.index("<!-- layouts: begin -->"):]
        with open(args.md, "w") as f:
            f.write("\n".join(head + noise_rows + here_rows + body) + "\n" + keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
