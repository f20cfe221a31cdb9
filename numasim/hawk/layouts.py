"""Hawk's layouts run and compared: one simulated run of a layout, every layout over the same seeds,
and the report that puts them side by side with the decision matrix and the verdict.

    out = compare_layouts(scenario)      # plain data (the JSON of `numasim run --json`)
    print(format_report(out))

The statistics (intervals, paired differences, the rule) are `numasim.stats`'s; this module
feeds them the Hawk job's figures.
"""
from __future__ import annotations

from dataclasses import asdict

from ..decide import decide_intervals
from ..procs import map_ordered
from ..progress import Progress
from ..engine import simulate
from ..spec import parse_spec
from ..stats import Interval, judge, run_figures, summarise
from ..tokio.profile import get_profile
from .appmetrics import HawkObserver, app_metrics, merge_intervals
from .hops import iteration_messages
from .jobs import generate, job_hops, plan
from .scenario import Scenario, from_dict
from .verdict import SIGN, boundary, claim_text, disagreement


def run_layout(sc: Scenario, layout: str, seed: int, keep_intervals: bool = True) -> dict:
    """Simulate `layout` with `seed`: per-run figures, the plan's app metrics, and the interval
    records per runtime (trimmed to the jobs: the idle tail after the last job is dropped).
    Plain data only, so it can come back from a worker process."""
    spec_d = generate(sc, layout, seed)
    spec = parse_spec(spec_d, spec_d["name"])
    obs = HawkObserver()
    res = simulate(spec, get_profile(sc.runtime.tokio), seed=seed, observers=[obs])
    by_rt = getattr(res, "runtimes", None) or {"main": res.intervals}
    recs = obs.records()
    handler = next((r for r in recs if r.name == "request_handler"), None)
    jobs = [r for r in recs if r.name == "hawk_job" and r.done >= 0]
    origin = handler.created if handler else 0
    end = max((r.done for r in jobs), default=0)
    # keep the intervals up to the first one that covers the last job's end
    cut = {}
    for name, ivs in by_rt.items():
        k = next((i for i, r in enumerate(ivs) if r["t"] >= end - origin), len(ivs) - 1)
        cut[name] = ivs[:k + 1]
    merged = merge_intervals(cut)
    p = plan(sc)
    app = app_metrics(obs, merged, p["requests"])
    makespan = end - min((r.created for r in jobs), default=end)
    figs = run_figures([r.done - r.created for r in jobs], sc.job.batch_size * len(jobs), makespan)
    figs["jobs_expected"] = sc.job.batches
    n_jobs = max(len(jobs), 1)
    figs["polls_per_job"] = sum(iv["runtime"].get("total_polls_count", 0) for iv in merged) / n_jobs
    figs["steals_per_job"] = sum(iv["runtime"].get("total_steal_count", 0) for iv in merged) / n_jobs
    header = {k: res.header[k] for k in ("tokio_version", "cpus", "simulator") if k in res.header}
    header.update(scenario=sc.name, layout=layout)
    out = {"layout": layout, "seed": seed, "figures": figs, "app": app,
           "numa": getattr(res, "numa", None), "header": header}
    if keep_intervals:
        out["runtimes"] = cut
        out["intervals"] = merged
    return out


# ---------------------------------------------------------------------------------------------
# the whole comparison: every layout x every seed, the matrix, the counterfactual, the verdict

def _run(args):
    d, layout, seed = args
    return run_layout(from_dict(d), layout, seed)


def compare_layouts(sc, layouts=None, seeds=None, workers: int = 1, progress: bool = False) -> dict:
    """Run each layout with the same seeds (common random numbers) and judge.

    Returns plain data: per layout the per-seed figures, their intervals and paired improvement
    over today, the app metrics of the first seed, the decision matrix over all its seeds'
    intervals (migration rate = search tasks polled on more than one node / search tasks), and
    the claims for dual (the verdict) and pinned."""
    layouts = list(layouts or sc.layouts)
    seeds = list(seeds) if seeds is not None else list(range(1, sc.seeds + 1))
    tasks = [(sc.to_dict(), lay, s) for s in seeds for lay in layouts]
    # processes that die with this one; an interrupt stops them at once (numasim.procs)
    with Progress(len(tasks), "numasim", "run", quiet=not progress) as bar:
        results = map_ordered(_run, tasks, workers if len(tasks) > 1 else 1, on_result=bar.update)
    per_seed = {lay: {} for lay in layouts}
    by_layout = {lay: [] for lay in layouts}
    for r in results:
        per_seed[r["layout"]][r["seed"]] = r["figures"]
        by_layout[r["layout"]].append(r)
    baseline = "today" if "today" in layouts else layouts[0]
    summary = summarise(per_seed, baseline)
    out = {"scenario": sc.to_dict(), "layout_names": layouts, "seeds": seeds, "baseline": baseline,
           "per_seed": {lay: {str(s): f for s, f in per_seed[lay].items()} for lay in layouts},
           "summary": summary, "matrix": {}, "app": {}, "app_means": {}, "runtimes": {}, "headers": {}}
    for lay in layouts:
        runs = sorted(by_layout[lay], key=lambda r: r["seed"])
        ivs = [iv for r in runs for iv in r["intervals"]]
        n_tasks = sum(sum(r["app"]["search_tasks"].values()) for r in runs)
        n_mig = sum(sum(r["app"]["search_task_numa_migrations"].values()) for r in runs)
        mig = n_mig / n_tasks if n_tasks else None
        out["matrix"][lay] = decide_intervals(ivs, migration=mig)
        out["app"][lay] = runs[0]["app"]
        out["runtimes"][lay] = runs[0]["runtimes"]
        out["headers"][lay] = runs[0]["header"]
        out["app_means"][lay] = _app_means(runs)
    claims = {}
    for lay in layouts:
        if lay != baseline:
            c = asdict(judge(summary, baseline, lay))
            c["text"] = claim_text(c)
            claims[lay] = c
    out["claims"] = claims
    out["verdict"] = claims.get("dual")
    out["pinned"] = claims.get("pinned")
    out["sign"] = SIGN
    hops = job_hops(sc)
    out["hops"] = {**hops, "hop_us": sc.mpc.hop_us, "round_groups": sc.scale.round_groups,
                   "grouping": grouping_note(sc)}
    out["boundary"] = boundary(sc)
    today_p50 = summary.get(baseline, {}).get("figures", {}).get("job_p50_ms", {}).get("mean")
    out["disagreement"] = disagreement(out["matrix"][baseline], claims, today_p50, hops) \
        if baseline in out["matrix"] else None
    out["layouts"] = {lay: _layout_row(out, lay, hops) for lay in layouts}
    return out


def grouping_note(sc: Scenario) -> str:
    """What scale.round_groups does to each figure (printed with every run that groups)."""
    k = sc.scale.round_groups
    msgs = iteration_messages(sc.mpc.sort_levels_layer0)
    if k == 0 or k >= msgs:
        return "hops not grouped: every message of a layer-0 iteration is its own wait and poll"
    return (f"hops grouped (scale.round_groups = {k}): each MPC chain (a layer-0 iteration: distance batch, "
            f"filter, insert_batch_and_trim = {msgs:.0f} messages) is {k} waits of its summed hop latency, so "
            f"p50 and throughput carry every hop's latency and all the tokio CPU, while polls_per_job and "
            f"steals_per_job count {k} session wakes per chain instead of one per message and none of the "
            f"multiplexer tasks' (under-stated ~{msgs / k:.0f}x or more), and each poll is ~{msgs / k:.0f}x longer "
            f"(slow-poll ratio and mean poll time inflated)")


def _layout_row(out: dict, lay: str, hops: dict) -> dict:
    """The figures `numasim run --json` promises per layout (means over seeds)."""
    S = out["summary"][lay]
    runs = out["per_seed"][lay].values()

    def mean(k):
        xs = [r.get(k) for r in runs if r.get(k) is not None]
        return sum(xs) / len(xs) if xs else None
    row = {"p50_ms": S["figures"]["job_p50_ms"]["mean"], "p50_ms_ci": [S["figures"]["job_p50_ms"]["low"],
                                                                      S["figures"]["job_p50_ms"]["high"]],
           "p99_ms": S["figures"]["job_p99_ms"]["mean"], "throughput_qps": S["figures"]["throughput_qps"]["mean"],
           "polls_per_job": mean("polls_per_job"), "steals_per_job": mean("steals_per_job"),
           "mpc_hops_per_search": hops["hops_per_search"], "mpc_messages_per_search": hops["messages_per_search"]}
    vs = S["vs_baseline"].get("job_p50_ms")
    if vs:
        row["p50_change_pct"] = vs["improvement_pct"]
        row["outcome"] = out["claims"][lay]["outcome"]
    return row


def _app_means(runs) -> dict:
    def mean(xs):
        xs = [x for x in xs if x is not None]
        return sum(xs) / len(xs) if xs else None
    a = [r["app"] for r in runs]
    return {
        "search_duration_ms": mean([mean(x["search_duration_ms"]) for x in a]),
        "search_steals_per_job": mean([mean(x["search_steals_per_job"]) for x in a]),
        "job_migration_rate": mean([x["job_migration_rate"] for x in a]),
        "search_task_migration_rate": mean([x["search_task_migration_rate"] for x in a]),
        "tokio_steal_rate": mean([x["tokio_steal_rate"] for x in a]),
        "tokio_slow_poll_ratio": mean([x["tokio_slow_poll_ratio"] for x in a]),
        "tokio_steal_vs_slow_poll_correlation": mean([x["tokio_steal_vs_slow_poll_correlation"] for x in a]),
    }


def format_report(out: dict) -> str:
    """The layouts side by side, the decision-matrix row (today) and the verdict, as text."""
    lays = out["layout_names"]
    base = out["baseline"]
    w = max(12, max(len(x) for x in lays) + 2)
    lines = [f"scenario {out['scenario']['name']} on {out['scenario']['machine']}: "
             f"{len(out['seeds'])} seeds x {len(lays)} layouts (same seeds in every layout; 95% t-intervals over seeds)"]
    head = f"{'':34s}" + "".join(f"{x:>{w + 14}s}" for x in lays)
    lines.append(head)

    def row(label, cells):
        lines.append(f"{label:34s}" + "".join(f"{c:>{w + 14}s}" for c in cells))

    S = out["summary"]
    for f, label in (("job_p50_ms", "job latency p50 (ms)"), ("job_p99_ms", "job latency p99 (ms)"),
                     ("throughput_qps", "throughput (queries/s)")):
        row(label, [Interval(**S[x]["figures"][f]).fmt(1 if f != "throughput_qps" else 2) for x in lays])
    for f, label in (("job_p50_ms", f"p50 change vs {base} (%, + = faster)"),
                     ("throughput_qps", f"throughput change vs {base} (%)")):
        cells = []
        for x in lays:
            v = S[x]["vs_baseline"].get(f)
            cells.append("-" if v is None else Interval(**v["improvement_pct"]).fmt(1, pct=True))
        row(label, cells)
    L = out["layouts"]
    row("polls per job", [f"{L[x]['polls_per_job']:.0f}" if L[x]["polls_per_job"] is not None else "n/a" for x in lays])
    row("steals per job", [f"{L[x]['steals_per_job']:.0f}" if L[x]["steals_per_job"] is not None else "n/a" for x in lays])
    A = out["app_means"]
    for f, label, fmt in (("search_duration_ms", "search_duration_ms (mean)", "{:.1f}"),
                          ("search_steals_per_job", "search steals per job", "{:.0f}"),
                          ("tokio_steal_rate", "tokio_steal_rate", "{:.3f}"),
                          ("search_task_migration_rate", "search-task NUMA migration rate", "{:.3f}"),
                          ("job_migration_rate", "job NUMA migration rate", "{:.2f}"),
                          ("tokio_slow_poll_ratio", "tokio_slow_poll_ratio", "{:.3f}")):
        row(label, ["n/a" if A[x][f] is None else fmt.format(A[x][f]) for x in lays])
    M = out["matrix"]
    row("matrix decision", [("-" if M[x]["verdict"]["level"] is None else
                             ("skip", "pin", "dual")[M[x]["verdict"]["level"]]) for x in lays])
    lines.append("")
    if base in M:
        m = M[base]
        inp = m["inputs"]

        def fig(k, pct=True):
            f = inp[k]
            if f["value"] is None:
                return f"not judged ({f['why_not']})"
            v = f"{f['value']:.1%}" if pct else f"rho={f['value']:.2f}"
            return f"{v} ({f['band']})"
        lines.append(f"decision matrix ({base}, the plan's table): steal rate {fig('steal_rate')} | "
                     f"migration rate {fig('migration_rate')} | latency~steals "
                     f"{fig('latency_steal_correlation', False)} -> {m['verdict']['decision']}"
                     + (" (mixed)" if m["verdict"]["mixed"] else "") + (" (provisional)" if m["verdict"]["provisional"] else ""))
        lines.append(f"  rule: {m['verdict']['rule']}")
    h = out.get("hops")
    if h:
        lines.append(f"MPC chain: {h['messages_per_search']:.0f} messages, {h['hops_per_search']:.0f} one-way hops per "
                     f"search (source constants, numasim/hawk/hops.py) at {h['hop_us']:g} us per hop; "
                     f"{h['critical_hops_per_job']:.0f} hops on a job's critical path = {h['critical_hop_wait_ms']:.0f} ms")
        if h["grouping"]:
            lines.append(f"  {h['grouping']}")
    if out.get("verdict"):
        lines.append(f"verdict: {out['verdict']['text']}")
    for lay, c in out.get("claims", {}).items():
        if lay != "dual":
            lines.append(f"  beside it: {c['text']}")
    if out.get("disagreement"):
        lines.append(out["disagreement"])
    if out.get("boundary"):
        lines.append(out["boundary"]["text"])
    return "\n".join(lines)
