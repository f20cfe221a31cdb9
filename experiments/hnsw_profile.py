"""HNSW search length at prod size: a measured grid at ef 480, the scaling laws fitted on it, and
their extrapolation to prod (20 M vectors, M 320, ef 480) with a range.

    python experiments/hnsw_profile.py [--quick] [--out experiments/out/hnsw_profile.json]
                                       [--fit-only] [--md FILE]

Each grid point builds a real HNSW graph (numasim.kernels.hnsw: clustered 32-d vectors, seed 0)
and searches 200 held-out queries at ef 64, 128, 240 and 480 (one build, several beams), recording
per query distance evaluations and hops (all layers and layer 0), recall@10 against brute force,
the mean layer-0 degree and the build time. Two neighbour rules:
  heuristic  Malkov's Algorithm 4, ef_construction 100: the kernel's default and the rule of the
             committed base profile (numasim/data/hnsw_profile.json, 20k, M 16, ef 64)
  nearest    keep the nearest M of an ef_construction 480 beam: iris-mpc's rule and beam
             (docs/hawk-source.md section 2)
Finished points are kept in the JSON file and not redone (kill it and run it again). Then:
  - n-law   evaluations = a + b ln n at fixed M, ef (scaled()'s form; a / b is NDC_LOGN_A_OVER_B)
  - M-law   evaluations ~ M^alpha at fixed n, ef (scaled() assumes alpha = 1)
  - ef-law  evaluations ~ ef + c, hops ~ ef + h at fixed graph (NDC_EF_OFFSET, HOPS_EF_OFFSET)
  - scaled()'s prediction of every grid point from the 20k / M 16 point, measured / predicted
  - prod: the nearest rule's measured point nearest to prod, scaled by the fitted n-law and
    M-law; the range is the spread of the leave-one-out fits and of the alternative forms
    (ln n vs power law in n; alpha from all M vs the two largest), carried into layer-0
    iterations (evaluations / 8000), messages and hops per search (numasim.hawk.hops).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from numasim.kernels import hnsw  # noqa: E402

DIM, QUERIES, SEED = 32, 200, 0
EFS = (64, 128, 240, 480)
EF_C = {"heuristic": 100, "nearest": 480}
PROD_N, PROD_M, PROD_EF = 20_000_000, 320, 480
BATCH_FLOOR = 8000  # ids per layer-0 distance batch (prod's min_layer_search_batch)
FLOORS = (2000, 3000, 5000, 8000)  # batch floors for the batched search (see iterations_at_prod)
BATCHED_QUERIES = 100

# (rule, n, M), cheapest first. At ef 480 a search on 20k points evaluates 17-37% of them (M 16-64),
# so the M-law is measured at 160k too, where the beam reaches a few percent as it does in prod
# (0.5%). heuristic: the n-law at M 16, the M-law at 20k. nearest (prod's rule): the M-law at 20k
# (and 160k), the n-law at M 64 up to 320k; and at 128-d, M 16 and 64 at 20k (does the M-law
# depend on the data's dimension? iris codes have far more degrees of freedom than 32).
GRID = [("heuristic", n, 16) for n in (10_000, 20_000, 40_000, 80_000, 160_000, 320_000)] \
    + [("heuristic", 20_000, m) for m in (32, 64, 128)] \
    + [("nearest", 20_000, m) for m in (16, 32, 64, 128)] + [("nearest", 20_000, m, 128) for m in (16, 64)] \
    + [("nearest", n, 64) for n in (80_000, 160_000)] + [("nearest", 160_000, m) for m in (16, 128)] \
    + [("nearest", 40_000, 64), ("nearest", 320_000, 64)]
QUICK = [("heuristic", n, 16) for n in (5_000, 10_000, 20_000)] + [("heuristic", 10_000, m) for m in (32, 64)] \
    + [("nearest", 10_000, m) for m in (16, 32, 64)] + [("nearest", 5_000, 32), ("nearest", 20_000, 32)]


def key(rule, n, m, dim=DIM):
    return f"{rule}/{n}/{m}" + (f"/d{dim}" if dim != DIM else "")


def measure_point(rule, n, m, queries=QUERIES, seed=SEED, dim=DIM):
    """Build once, search at every ef in EFS; per-ef means and the cv of evaluations, and at ef
    480 the per-query hops and evaluations (a SearchProfile)."""
    rng = np.random.default_rng(seed)
    X = hnsw.clustered_vectors(n + queries, dim, rng)
    X, Q = X[:n], X[n:]
    idx = hnsw.build(X, m, EF_C[rule], level_draws=1.0 - rng.random(n), select=rule)
    truth = hnsw.brute_force(X, Q, 10)
    out = {"rule": rule, "n": n, "m": m, "ef_construction": EF_C[rule], "dim": dim, "queries": queries,
           "seed": seed, "build_s": round(idx.build_s, 2), "layer0_degree": float(idx.counts[0].mean()),
           "levels": idx.top + 1, "ef": {}}
    for ef in EFS:
        t0 = time.perf_counter()
        ids, st = hnsw.search(idx, Q, ef)
        ndc = st[:, hnsw.NDC].astype(float)
        out["ef"][str(ef)] = {
            "ndc": float(ndc.mean()), "ndc_cv": float(ndc.std() / ndc.mean()),
            "ndc0": float(st[:, hnsw.NDC0].mean()), "hops": float(st[:, hnsw.HOPS].mean()),
            "hops0": float(st[:, hnsw.HOPS0].mean()), "recall": hnsw.recall_at_k(ids, truth),
            "search_s": round(time.perf_counter() - t0, 3)}
        if ef == 480:
            out["hops_480"] = st[:, hnsw.HOPS].tolist()
            out["ndc_480"] = st[:, hnsw.NDC].tolist()
    if rule == "nearest":
        out["batched"] = {}
        for fl in FLOORS:
            b = hnsw.search_batched(idx, Q[:BATCHED_QUERIES], 480, fl).astype(float)
            out["batched"][str(fl)] = {"iterations": float(b[:, 0].mean()), "opened": float(b[:, 1].mean()),
                                       "evals": float(b[:, 2].mean()), "iterations_sd": float(b[:, 0].std())}
    return out


def load(path):
    """Every finished point: the JSON file and its per-rule siblings (PATH with .RULE before .json)."""
    done = {}
    for p in [path] + [path[:-5] + f".{r}{x}.json" for r in hnsw.SELECT_RULES for x in ("", "-only")]:
        if os.path.exists(p):
            with open(p) as f:
                done.update(json.load(f))
    return done


def run_grid(grid, path, rule=None, only=False):
    """Measure the grid's points not yet in `path` (or its siblings); with `rule`, only that rule's,
    written to its sibling file (`only`: another) so that two processes can run side by side."""
    done = load(path)
    if rule:
        grid = [g for g in grid if g[0] == rule]
        path = path[:-5] + f".{rule}{'-only' if only else ''}.json"
    for rule_, n, m, *d in grid:
        k = key(rule_, n, m, *d)
        if k in done and (rule_ != "nearest" or d or "batched" in done[k]):
            continue
        t0 = time.perf_counter()
        done[k] = measure_point(rule_, n, m, dim=d[0] if d else DIM)
        done[k]["wall_s"] = round(time.perf_counter() - t0, 1)
        r = done[k]["ef"]["480"]
        print(f"{k}: build {done[k]['build_s']} s, degree {done[k]['layer0_degree']:.1f}, ef 480: "
              f"{r['ndc']:.0f} evals, {r['hops']:.0f} hops, recall {r['recall']:.3f}", flush=True)
        with open(path + ".tmp", "w") as f:
            json.dump(done, f, indent=1)
        os.replace(path + ".tmp", path)
    return done


# --- fits ------------------------------------------------------------------------------------
def _pts(done, rule, n=None, m=None):
    return sorted((p for p in done.values() if p["rule"] == rule and (n is None or p["n"] == n)
                   and (m is None or p["m"] == m)), key=lambda p: (p["n"], p["m"]))


def fit_logn(ns, ys):
    """y = a + b ln n; returns (a, b)."""
    b, a = np.polyfit(np.log(ns), ys, 1)
    return float(a), float(b)


def fit_power(xs, ys):
    """y = c x^alpha; returns (c, alpha)."""
    alpha, lc = np.polyfit(np.log(xs), np.log(ys), 1)
    return float(math.exp(lc)), float(alpha)


def fit_offset(efs, ys):
    """y = s (ef + c); returns c."""
    s, i = np.polyfit(efs, ys, 1)
    return float(i / s)


def n_factor_log(a, b, n_from, n_to):
    return (a + b * math.log(n_to)) / (a + b * math.log(n_from))


def _rule_points(done, rule, dim=DIM):
    return [p for p in done.values() if p["rule"] == rule and p.get("dim", DIM) == dim]


def m_law(points, ef="480", stat="ndc"):
    """M-law at the largest n with at least two M values: (n, [(M, y)], alpha, leave-one-out
    alphas, alpha of the two largest M)."""
    by_n = {}
    for p in points:
        by_n.setdefault(p["n"], []).append(p)
    n_m = max((n for n in by_n if len(by_n[n]) > 1), key=lambda n: (len(by_n[n]) > 2, n))
    ml = sorted(by_n[n_m], key=lambda p: p["m"])
    ms = np.array([p["m"] for p in ml], float)
    zs = np.array([p["ef"][ef][stat] for p in ml])
    alpha = fit_power(ms, zs)[1]
    loo = [fit_power(np.delete(ms, i), np.delete(zs, i))[1] for i in range(len(ms))] if len(ms) > 2 else []
    return n_m, [(int(m), float(z)) for m, z in zip(ms, zs)], alpha, loo, fit_power(ms[-2:], zs[-2:])[1]


def laws(done, rule, ef="480", stat="ndc"):
    """The n-law, M-law and ef-law of one rule (32-d points), with leave-one-out variants."""
    pts = _rule_points(done, rule)
    by_m = {}
    for p in pts:
        by_m.setdefault(p["m"], []).append(p)
    m_n = max(by_m, key=lambda m: (len(by_m[m]), m))  # the M with the most n points
    nl = sorted(by_m[m_n], key=lambda p: p["n"])
    ns = np.array([p["n"] for p in nl], float)
    ys = np.array([p["ef"][ef][stat] for p in nl])
    a, b = fit_logn(ns, ys) if len(ns) > 1 else (float(ys[0]), 0.0)
    loo_n = [fit_logn(np.delete(ns, i), np.delete(ys, i)) for i in range(len(ns))] if len(ns) > 2 else []
    n_m, mpts, alpha, loo_m, alpha_top = m_law(pts, ef, stat)
    offs = [fit_offset(np.array(EFS, float), np.array([p["ef"][str(e)][stat] for e in EFS])) for p in pts]
    return {"rule": rule, "stat": stat, "n_law_m": m_n, "n_law_points": [(int(n), float(y)) for n, y in zip(ns, ys)],
            "a": a, "b": b, "a_over_b": a / b if b else math.inf, "loo_ab": loo_n,
            "n_power": fit_power(ns, ys)[1] if len(ns) > 1 else 0.0, "m_law_n": n_m, "m_law_points": mpts,
            "alpha": alpha, "loo_alpha": loo_m, "alpha_top": alpha_top,
            "ef_offset_median": float(np.median(offs)), "ef_offset_range": (float(min(offs)), float(max(offs)))}


def scaled_predictions(done, base_key):
    """scaled()'s prediction of each grid point at ef 480 from the base point's ef-480 queries
    (the base measured at ef 480, so only the n and M rules are tested)."""
    b = done[base_key]
    prof = hnsw.SearchProfile(b["n"], b["m"], 480, np.array([b["ef"]["480"]["hops"]]),
                              np.array([b["ef"]["480"]["ndc"]]))
    rows = []
    for k, p in sorted(done.items(), key=lambda kv: (kv[1]["rule"], kv[1]["m"], kv[1]["n"])):
        if p["rule"] != b["rule"] or p.get("dim", DIM) != DIM:
            continue
        s = prof.scaled(p["n"], p["m"], 480)
        # the rule before this grid: evaluations linear in M, hops with the evaluations' n-law
        f_n = (1 / 0.09 + math.log(p["n"])) / (1 / 0.09 + math.log(b["n"]))
        old = (b["ef"]["480"]["ndc"] * f_n * p["m"] / b["m"], b["ef"]["480"]["hops"] * f_n)
        rows.append((k, p["ef"]["480"]["ndc"], float(s.ndc[0]), old[0], p["ef"]["480"]["hops"], float(s.hops[0]),
                     old[1]))
    return rows


def base_point(done, rule):
    """The measured point nearest prod: the largest M, then the largest n (32-d)."""
    return max(_rule_points(done, rule), key=lambda p: (p["m"], p["n"]))


def extrapolate(done, rule):
    """Prod's evaluations and hops per search at ef 480: the base point scaled in n by the log
    law (a / b) and in M by M^alpha; variants from leave-one-out fits, the power law in n, the
    two largest M and (if measured) the M-law at 128-d."""
    L, Lh = laws(done, rule), laws(done, rule, stat="hops")
    p0 = base_point(done, rule)
    y0, h0 = p0["ef"]["480"]["ndc"], p0["ef"]["480"]["hops"]

    def ndc(ab, alpha, npow=None):
        f_n = (PROD_N / p0["n"]) ** npow if npow is not None else \
            (ab[0] + ab[1] * math.log(PROD_N)) / (ab[0] + ab[1] * math.log(p0["n"]))
        return y0 * f_n * (PROD_M / p0["m"]) ** alpha
    # central: scaled()'s n-law (b / a = 1 / NDC_LOGN_A_OVER_B), the upper side of the grid's fits
    ab0 = (hnsw.NDC_LOGN_A_OVER_B, 1.0)
    variants = {"central": ndc(ab0, L["alpha"])}
    variants[f"n-law fitted here (b / a = {L['b'] / L['a']:.3f})"] = ndc((L["a"], L["b"]), L["alpha"])
    for (n, _), ab in zip(L["n_law_points"], L["loo_ab"]):
        variants[f"n-law fitted here without n {n:,}"] = ndc(ab, L["alpha"])
    variants["flat in n"] = ndc((1.0, 0.0), L["alpha"])
    variants[f"n-law n^{L['n_power']:.3f}"] = ndc(None, L["alpha"], L["n_power"])
    for (m, _), al in zip(L["m_law_points"], L["loo_alpha"]):
        variants[f"M-law without M {m}"] = ndc(ab0, al)
    variants[f"M-law two largest M (M^{L['alpha_top']:.2f})"] = ndc(ab0, L["alpha_top"])
    hi = _rule_points(done, rule, 128)
    if len({p["m"] for p in hi}) > 1:
        n_hi, _, a_hi, _, _ = m_law(hi)
        lo = [p for p in _rule_points(done, rule) if p["n"] == n_hi and p["m"] in {q["m"] for q in hi}]
        a_lo = m_law(lo)[2] if len(lo) > 1 else L["alpha"]
        # the 128-d points say how much steeper the M-law gets with the dimension at the same n
        variants[f"M-law at 128-d (M^{L['alpha'] + a_hi - a_lo:.2f})"] = ndc(ab0, L["alpha"] + a_hi - a_lo)
    f_hn = (Lh["a"] + Lh["b"] * math.log(PROD_N)) / (Lh["a"] + Lh["b"] * math.log(p0["n"]))
    hops = h0 * f_hn * (PROD_M / p0["m"]) ** Lh["alpha"]
    return {"base": key(rule, p0["n"], p0["m"]), "ndc0": y0, "hops0": h0, "laws": L, "hops_laws": Lh,
            "variants": variants, "ndc": variants["central"], "low": min(variants.values()),
            "high": max(variants.values()), "hops": hops}


def depth_at(p, floor):
    """Batched-search iterations (and evaluations) of point p at a batch floor, interpolated in
    log floor between the measured floors (clamped at the ends)."""
    fl = np.array(sorted(int(f) for f in p["batched"]), float)
    it = np.array([p["batched"][str(int(f))]["iterations"] for f in fl])
    ev = np.array([p["batched"][str(int(f))]["evals"] for f in fl])
    x = math.log(min(max(floor, fl[0]), fl[-1]))
    return float(np.interp(x, np.log(fl), it)), float(np.interp(x, np.log(fl), ev))


def iterations_n_law(done, rule, m, floor):
    """Batched-search iterations against ln n at fixed M and floor: (d, leave-one-out d's, points)
    for iterations = c + d ln n."""
    pts = sorted((p for p in _rule_points(done, rule) if p["m"] == m and "batched" in p), key=lambda p: p["n"])
    if len(pts) < 2:
        return 0.0, [], []
    ns = np.array([p["n"] for p in pts], float)
    it = np.array([depth_at(p, floor)[0] for p in pts])
    d = float(np.polyfit(np.log(ns), it, 1)[0])
    loo = [float(np.polyfit(np.log(np.delete(ns, i)), np.delete(it, i), 1)[0]) for i in range(len(ns))] \
        if len(ns) > 2 else []
    return d, loo, [(int(n), float(y)) for n, y in zip(ns, it)]


def iterations_at_prod(done, rule, ex):
    """Prod's layer-0 iterations from the batched search on the base point (M0, n0). An opened
    node yields ~ M^alpha new neighbours (hops do not depend on M), so prod's 8000-id floor is met
    after as many openings as a floor of 8000 (M0 / 320)^alpha on the base graph; iterations are
    read there, and grow with the database as c + d ln n (d from the n-series at the n-law's M, at
    the same effective floor). Evaluations scale by (320 / M0)^alpha and the evaluations' n-law.
    One value per variant of alpha and d."""
    p0 = base_point(done, rule)
    if "batched" not in p0:
        return None
    L = ex["laws"]
    f_n = (hnsw.NDC_LOGN_A_OVER_B + math.log(PROD_N)) / (hnsw.NDC_LOGN_A_OVER_B + math.log(p0["n"]))

    def one(al, d=None):
        f_eff = BATCH_FLOOR * (p0["m"] / PROD_M) ** al
        it, ev = depth_at(p0, f_eff)
        if d is None:
            d = iterations_n_law(done, rule, L["n_law_m"], BATCH_FLOOR * (L["n_law_m"] / PROD_M) ** al)[0]
        return {"alpha": al, "d": d, "floor_on_base": f_eff, "iterations": it + d * math.log(PROD_N / p0["n"]),
                "evals": ev * (PROD_M / p0["m"]) ** al * f_n}
    out = {"central": one(L["alpha"])}
    out[f"M^{L['alpha_top']:.2f} (two largest M)"] = one(L["alpha_top"])
    for (m, _), a in zip(L["m_law_points"], L["loo_alpha"]):
        out[f"M-law without M {m}"] = one(a)
    d, loo, pts = iterations_n_law(done, rule, L["n_law_m"], BATCH_FLOOR * (L["n_law_m"] / PROD_M) ** L["alpha"])
    for (n, _), dd in zip(pts, loo):
        out[f"iterations' n-law without n {n:,}"] = one(L["alpha"], dd)
    out["iterations flat in n"] = one(L["alpha"], 0.0)
    out["_n_series"] = pts
    return out


def similarity_check(done, rule, alpha):
    """The rule behind iterations_at_prod, tested on the grid: iterations of (n, M2) at floor F
    against those of (n, M1) at F (M1 / M2)^alpha, for every pair at the same n."""
    rows = []
    pts = [p for p in _rule_points(done, rule) if "batched" in p]
    for p1 in pts:
        for p2 in pts:
            if p1["n"] == p2["n"] and p1["m"] < p2["m"]:
                for f in (5000, 8000):
                    it2 = depth_at(p2, f)[0]
                    it1 = depth_at(p1, f * (p1["m"] / p2["m"]) ** alpha)[0]
                    rows.append((p1["n"], p1["m"], p2["m"], f, it1, it2))
    return rows


def hawk_inputs(ndc, i0=None):
    """Layer-0 iterations and the messages / hops per search they give (the default scenario)."""
    from numasim.hawk import hops as H
    from numasim.hawk.scenario import default_scenario
    sc = default_scenario()
    m = sc.mpc
    i0 = max(1, round(ndc / BATCH_FLOOR)) if i0 is None else i0
    c = H.search_counts(sc.job.db_size, i0, m.layer1_iterations, m.sort_levels_layer0, m.sort_levels_layer0_init,
                        m.sort_levels_layer1, m.sort_levels_layer1_init)
    return i0, c


def report(done, md=None):
    lines = []
    w = lines.append
    w("| rule | dim | n | M | layer-0 degree | build s | evals @ ef 480 | cv | hops @ ef 480 | layer-0 hops "
      "| recall@10 |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, p in sorted(done.items(), key=lambda kv: (kv[1]["rule"], kv[1]["dim"], kv[1]["m"], kv[1]["n"])):
        r = p["ef"]["480"]
        w(f"| {p['rule']} | {p['dim']} | {p['n']:,} | {p['m']} | {p['layer0_degree']:.1f} | {p['build_s']:.1f} | {r['ndc']:,.0f} "
          f"| {r['ndc_cv']:.2f} | {r['hops']:.0f} | {r['hops0']:.0f} | {r['recall']:.3f} |")
    w("")
    out = {}
    for rule in ("heuristic", "nearest"):
        if not any(p["rule"] == rule for p in done.values()):
            continue
        L = laws(done, rule)
        Lh = laws(done, rule, stat="hops")
        w(f"**{rule}**: n-law at M {L['n_law_m']} (n = {', '.join(f'{n:,}' for n, _ in L['n_law_points'])}): "
          f"evals = a + b ln n with b / a = {L['b'] / L['a']:.4f} (leave-one-out "
          f"{min((b / a for a, b in L['loo_ab']), default=float('nan')):.4f} to "
          f"{max((b / a for a, b in L['loo_ab']), default=float('nan')):.4f}; power law n^{L['n_power']:.3f}); M-law at n {L['m_law_n']:,} (M = "
          f"{', '.join(str(m) for m, _ in L['m_law_points'])}): evals ~ M^{L['alpha']:.2f} (leave-one-out "
          f"{min(L['loo_alpha'], default=float('nan')):.2f} to {max(L['loo_alpha'], default=float('nan')):.2f}; two "
          f"largest M: {L['alpha_top']:.2f}); ef offset c in evals ~ ef + c: median {L['ef_offset_median']:.0f} "
          f"({L['ef_offset_range'][0]:.0f} to {L['ef_offset_range'][1]:.0f}); hops: b / a = {Lh['b'] / Lh['a']:.4f}, "
          f"~ M^{Lh['alpha']:.2f}, ef offset {Lh['ef_offset_median']:.1f}.")
        w("")
        base = key(rule, 20_000, 16) if key(rule, 20_000, 16) in done else None
        if base:
            w(f"scaled() from {base} (ef 480) vs measured, {rule}:")
            w("")
            w("| point | evals measured | scaled() | measured / scaled() | old rule (x M) | measured / old "
              "| hops measured | scaled() | old rule | measured / old |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            for k, y, s, yo, h, sh, ho in scaled_predictions(done, base):
                w(f"| {k} | {y:,.0f} | {s:,.0f} | {y / s:.2f} | {yo:,.0f} | {y / yo:.2f} | {h:.0f} | {sh:.0f} "
                  f"| {ho:.0f} | {h / ho:.2f} |")
            w("")
        ex = extrapolate(done, rule)
        out[rule] = ex
        w(f"prod (20 M, M 320, ef 480) from {ex['base']} ({ex['ndc0']:,.0f} evals), {rule}: "
          f"**{ex['ndc']:,.0f} evaluations** (range {ex['low']:,.0f} to {ex['high']:,.0f}); "
          f"{ex['hops']:,.0f} node openings.")
        w("")
        w("| variant | evaluations per search | layer-0 iterations (/ 8000) | messages per search |")
        w("|---|---|---|---|")
        for name, v in ex["variants"].items():
            i0, c = hawk_inputs(v)
            w(f"| {name} | {v:,.0f} | {i0} | {c['messages']:,.0f} |")
        w("")
        bp = [p for p in _rule_points(done, rule) if "batched" in p]
        if bp:
            w(f"batched search (iris-mpc's layer_search_batched_v2, ef 480, {BATCHED_QUERIES} queries), {rule}: "
              "iterations / nodes opened / evaluations per floor")
            w("")
            w("| point | " + " | ".join(f"floor {f}" for f in FLOORS) + " |")
            w("|---|" + "---|" * len(FLOORS))
            for p in sorted(bp, key=lambda p: (p["m"], p["n"])):
                cells = [f"{p['batched'][str(f)]['iterations']:.1f} / {p['batched'][str(f)]['opened']:.0f} / "
                         f"{p['batched'][str(f)]['evals']:,.0f}" for f in FLOORS]
                w(f"| {key(rule, p['n'], p['m'])} | " + " | ".join(cells) + " |")
            w("")
            sim = similarity_check(done, rule, ex["laws"]["alpha"])
            if sim:
                w("similarity check (iterations of M2 at floor F vs M1 at F (M1/M2)^alpha): " + "; ".join(
                    f"{n // 1000}k M{m1}->M{m2} F{f}: {a:.1f} vs {b:.1f}" for n, m1, m2, f, a, b in sim))
                w("")
            ip = iterations_at_prod(done, rule, ex)
            if ip:
                out[rule]["iterations"] = ip
                series = ip.pop("_n_series")
                w(f"iterations against n at M {ex['laws']['n_law_m']} (effective floor): "
                  + ", ".join(f"{n:,}: {y:.2f}" for n, y in series) + ".")
                w("")
                w("| variant | alpha | d (iterations per ln n) | floor on the base graph | layer-0 iterations at prod "
                  "| evaluations at prod | messages per search |")
                w("|---|---|---|---|---|---|---|")
                for name, r in ip.items():
                    _, c = hawk_inputs(r["evals"], round(r["iterations"]))
                    w(f"| {name} | {r['alpha']:.2f} | {r['d']:.2f} | {r['floor_on_base']:,.0f} | {r['iterations']:.1f} "
                      f"| {r['evals']:,.0f} | {c['messages']:,.0f} |")
                w("")
    text = "\n".join(lines)
    print(text)
    if md:
        with open(md, "w") as f:
            f.write(text + "\n")
    return out


def write_profile(done, k, path):
    """The base profile numasim.hawk.jobs scales to prod: a grid point's per-query hops and
    evaluations at ef 480."""
    p = done[k]
    d = {"source": f"experiments/hnsw_profile.py, point {k}: numasim.kernels.hnsw, clustered {p['dim']}-d, "
                   f"select={p['rule']}, ef_construction={p['ef_construction']}, seed {p['seed']}, "
                   f"{p['queries']} held-out queries at ef 480",
         "n": p["n"], "m": p["m"], "ef": 480, "hops": p["hops_480"], "ndc": p["ndc_480"]}
    with open(path, "w") as f:
        json.dump(d, f)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small grid (n <= 20k, M <= 64), a few minutes")
    ap.add_argument("--out", default=None, help="results JSON (default experiments/out/hnsw_profile[_quick].json)")
    ap.add_argument("--fit-only", action="store_true", help="fit what the JSON holds, measure nothing")
    ap.add_argument("--md", default=None, help="also write the tables to this file")
    ap.add_argument("--write-profile", metavar="KEY", help="write this point (e.g. nearest/160000/128) as "
                    "numasim/data/hnsw_profile.json")
    ap.add_argument("--only", metavar="KEY", help="measure only this grid point (e.g. nearest/320000/64), written to "
                    "the rule's sibling file, to run a long point on the other core")
    ap.add_argument("--rule", choices=hnsw.SELECT_RULES, help="measure only this rule's points (run one per core)")
    a = ap.parse_args(argv)
    path = a.out or os.path.join(HERE, "out", "hnsw_profile_quick.json" if a.quick else "hnsw_profile.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    grid = QUICK if a.quick else GRID
    if a.only:
        grid = [g for g in grid if key(*g) == a.only]
        a.rule = a.only.split("/")[0]
    done = load(path) if a.fit_only else run_grid(grid, path, a.rule, bool(a.only))
    if a.rule and not a.fit_only:
        done = load(path)
    report(done, a.md)
    if a.write_profile:
        write_profile(done, a.write_profile, os.path.join(HERE, "..", "numasim", "data", "hnsw_profile.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
