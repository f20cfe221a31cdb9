"""One runtime against several: the model's split/one latency ratios against real tokio's.

    python experiments/layouts.py [--md docs/fidelity.md] [--seeds N] [--reps K,...] [--versions 1.24,1.49]
                                  [--profile V=PROFILE.json ...]

Every case of fidelity/layouts/specs is one workload in two layouts (CASE-one: one runtime of 2
workers; CASE-split: two runtimes of 1 worker, sources split, spawns into the other runtime where
the case has them). For each case, version and top-level job (a source's task), the real ratio is
the median over the repetitions of the split layout's mean latency over the median of the one
layout's (fidelity/layouts/traces-V/NAME.rK.jsonl, as figures.py computes the mean latency: the
intervals inside the submission period less the first). The predicted ratio is the same ratio on
the simulator's traces (the median over `--seeds` seeds), on the host measured on the machine that
captured the traces (the version's default host with fidelity/measured-host.json's values, from
fidelity/wakeprobe; `--default-host` leaves them out), or a host profile from `numasim calibrate`
(`--profile 1.49=p.json`). Error = |pred - real| / real. With --md
the table replaces the layout section of that file (between its markers), leaving the rest.
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
LAYOUTS = os.path.join(ROOT, "fidelity", "layouts")
SHARED = os.path.join(ROOT, "..", "shared", "fidelity")
VERSIONS = ("1.24", "1.49")
BEGIN, END = "<!-- layouts: begin -->", "<!-- layouts: end -->"


def _figures_module():
    spec = importlib.util.spec_from_file_location("figures", os.path.join(SHARED, "figures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


F = _figures_module()


def jobs_of(spec_path):
    """The top-level jobs: the task names of the sources, in spec order."""
    with open(spec_path) as f:
        d = json.load(f)
    out = []
    for s in d["sources"]:
        if s["task"]["name"] not in out:
            out.append(s["task"]["name"])
    return out


def latency_ms(path, name):
    return F.figures(path).get(f"{name}.latency_mean_ms")


def p50_ms(path, name):
    """The body of the distribution: the completion-weighted mean of the intervals' p50s, over the
    intervals figures.py keeps (the mean latency also carries the tail)."""
    head, iv = F.load(path)
    dur_ns = head["spec"]["duration_s"] * 1e9
    keep = [r for r in iv if r["t"] <= dur_ns][1:] or iv
    n = s = 0
    for r in keep:
        c = r.get("tasks", {}).get(name, {}).get("completed")
        if c and c["count"]:
            n += c["count"]
            s += c["count"] * c["p50"]
    return s / n / 1e6 if n else None


def _simulate(job):
    spec_path, version, seed, out, host_path, measured = job
    from numasim.commands.predict import load_host
    from numasim.simulate import simulate
    from numasim.spec import load_spec
    from numasim.tokio.profile import get_profile
    spec = load_spec(spec_path)
    profile = get_profile(version)
    if host_path is None and measured:
        if HERE not in sys.path:
            sys.path.insert(0, HERE)
        from hosts import measured_host
        host = measured_host(profile.version)
    else:
        host = load_host(host_path, profile.version)
    res = simulate(spec, profile, host, seed=seed)
    with open(out, "w") as f:
        res.write(f)
    return out


def real_traces(version, name, reps):
    paths = sorted(glob.glob(os.path.join(LAYOUTS, f"traces-{version}", f"{name}.r*.jsonl")),
                   key=lambda p: int(re.search(r"\.r(\d+)\.jsonl$", p).group(1)))
    if reps:
        paths = [p for p in paths if int(re.search(r"\.r(\d+)\.jsonl$", p).group(1)) in reps]
    return paths


def median_latency(paths, name, stat=latency_ms):
    xs = [stat(p, name) for p in paths]
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None, xs


def table(versions, seeds, reps, out_dir, workers, hosts=None, only=None, measured=True):
    cases = sorted({os.path.basename(p)[:-len("-one.json")]
                    for p in glob.glob(os.path.join(LAYOUTS, "specs", "*-one.json"))})
    if only:
        cases = [c for c in cases if c in only]
    jobs = []
    for v in versions:
        os.makedirs(os.path.join(out_dir, v), exist_ok=True)
        for c in cases:
            for lay in ("one", "split"):
                for s in range(1, seeds + 1):
                    jobs.append((os.path.join(LAYOUTS, "specs", f"{c}-{lay}.json"), v, s,
                                 os.path.join(out_dir, v, f"{c}-{lay}.s{s}.jsonl"), (hosts or {}).get(v), measured))
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(_simulate, jobs))
    rows = []
    for v in versions:
        for c in cases:
            for name in jobs_of(os.path.join(LAYOUTS, "specs", f"{c}-one.json")):
                r_one, xs_one = median_latency(real_traces(v, f"{c}-one", reps), name)
                r_split, xs_split = median_latency(real_traces(v, f"{c}-split", reps), name)
                sims = [os.path.join(out_dir, v, f"{c}-{lay}.s{s}.jsonl") for lay in ("one", "split")
                        for s in range(1, seeds + 1)]
                p_one, _ = median_latency(sims[:seeds], name)
                p_split, _ = median_latency(sims[seeds:], name)
                real = r_split / r_one if r_one and r_split else None
                pred = p_split / p_one if p_one and p_split else None
                err = abs(pred - real) / real if real and pred else None
                q = [median_latency(ps, name, p50_ms)[0] for ps in
                     (real_traces(v, f"{c}-one", reps), real_traces(v, f"{c}-split", reps), sims[:seeds], sims[seeds:])]
                rows.append({"version": v, "case": c, "job": name, "real_one_ms": r_one, "real_split_ms": r_split,
                             "reps": (len(xs_one), len(xs_split)), "sim_one_ms": p_one, "sim_split_ms": p_split,
                             "real": real, "pred": pred, "error": err,
                             "real_p50": q[1] / q[0] if q[0] and q[1] else None,
                             "pred_p50": q[3] / q[2] if q[2] and q[3] else None})
    return rows


def direction_ok(row, clear=0.10):
    """Where the real change exceeds `clear`, the prediction must move the same way."""
    real, pred = row["real"], row["pred"]
    if real is None or pred is None or abs(real - 1) <= clear:
        return None
    return (pred > 1) == (real > 1)


def summary(rows):
    out = []
    for v in sorted({r["version"] for r in rows}):
        rs = [r for r in rows if r["version"] == v and r["error"] is not None]
        if not rs:
            continue
        med = statistics.median(r["error"] for r in rs)
        dirs = [direction_ok(r) for r in rs]
        clear = [d for d in dirs if d is not None]
        out.append(f"tokio {v}: {len(rs)} jobs, median error {100 * med:.1f}%, "
                   f"right direction {sum(clear)}/{len(clear)} clear changes (>10%)")
    return out


def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}g}"


def markdown(rows, cmd, default_host=False):
    lines = [BEGIN, "## Layouts: one runtime against two (real tokio against the model)", "",
             f"Generated by `{cmd}`. Each case is a workload run on one runtime of 2 workers (`one`)",
             "and on two runtimes of 1 worker with the sources split (`split`), both captured on real tokio",
             "(`fidelity/layouts/capture.sh`, specs and traces in `fidelity/layouts/`). The real ratio is the",
             "median over the repetitions of a job's mean latency split, over that of one; the predicted",
             "ratio the same on the simulator's traces" + (", on the version's default host" if default_host else
             ", on the host measured on the capture machine (fidelity/measured-host.json)") + ". Error = |pred - real| / real. Every repetition counts,",
             "the first of a batch included (`--reps 2,3,...` drops some); a job whose real ratio moves by",
             "more than 10% must be predicted in the same direction. On this 2-vCPU guest single repetitions",
             "of one layout vary by up to 3x (the guest stalls now and then), so read ratios near 1 loosely.", ""]
    lines += [f"- {s}" for s in summary(rows)]
    lines += ["", "The ratio is of mean latencies (figures.py's `latency_mean_ms`); the p50 columns give the same",
              "ratio for the body of the distribution (the completion-weighted mean of the intervals' p50s),",
              "which shows how much of a change is in the tail.", "",
              "| tokio | case | job | reps one/split | real one ms | real split ms | real ratio | predicted ratio | error "
              "| real p50 ratio | predicted p50 ratio |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = direction_ok(r)
        mark = "" if d is None or d else " (wrong direction)"
        err = "–" if r["error"] is None else f"{100 * r['error']:.1f}%"
        lines.append(f"| {r['version']} | {r['case']} | {r['job']} | {r['reps'][0]}/{r['reps'][1]} "
                     f"| {fmt(r['real_one_ms'])} | {fmt(r['real_split_ms'])} "
                     f"| {fmt(r['real'])} | {fmt(r['pred'])} | {err}{mark} | {fmt(r['real_p50'])} | {fmt(r['pred_p50'])} |")
    lines += ["", END]
    return "\n".join(lines)


def write_section(path, text):
    old = open(path).read() if os.path.exists(path) else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(new)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--md", default=None, help="write the layout table into this markdown file")
    ap.add_argument("--seeds", type=int, default=3, help="simulated runs per spec (median taken)")
    ap.add_argument("--reps", default="", help="only these real repetitions, e.g. 2,3,4,5,6 (default: all)")
    ap.add_argument("--versions", default=",".join(VERSIONS))
    ap.add_argument("--out", default="out/layouts")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    ap.add_argument("--profile", action="append", default=[], metavar="V=PATH",
                    help="simulate version V with this host profile (default: the measured host)")
    ap.add_argument("--default-host", action="store_true",
                    help="the version's default host, without fidelity/measured-host.json's values")
    ap.add_argument("--cases", default="", help="only these cases (comma-separated)")
    args = ap.parse_args(argv)
    reps = {int(x) for x in args.reps.split(",") if x}
    hosts = dict(p.split("=", 1) for p in args.profile)
    rows = table(args.versions.split(","), args.seeds, reps, args.out, args.workers, hosts,
                 [c for c in args.cases.split(",") if c], measured=not args.default_host)
    print(f"{'tokio':5} {'case':13} {'job':4} {'real':>7} {'pred':>7} {'error':>7}   p50: {'real':>6} {'pred':>6}")
    for r in rows:
        e = "-" if r["error"] is None else f"{100 * r['error']:.1f}%"
        d = direction_ok(r)
        print(f"{r['version']:5} {r['case']:13} {r['job']:4} {fmt(r['real']):>7} {fmt(r['pred']):>7} {e:>7}"
              f"        {fmt(r['real_p50']):>6} {fmt(r['pred_p50']):>6}"
              f"{'  WRONG DIRECTION' if d is False else ''}   reps {r['reps']}")
    for s in summary(rows):
        print(s)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.md:
        cmd = "python experiments/layouts.py --md " + args.md + (f" --reps {args.reps}" if args.reps else "")
        cmd += "".join(f" --profile {p}" for p in args.profile) + (" --default-host" if args.default_host else "")
        write_section(args.md, markdown(rows, cmd, args.default_host))


if __name__ == "__main__":
    sys.exit(main())
