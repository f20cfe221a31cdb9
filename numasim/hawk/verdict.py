"""The verdict on the dual runtime in words: one sign convention, three outcomes, and what the
plan's matrix and the simulation say when they disagree.

`numasim.stats` decides (numbers only); this module words it for the Hawk job:

    text = claim_text(claim_dict)          # one line per candidate layout
    why = disagreement(out)                # one line, or None when the matrix agrees
"""
from __future__ import annotations

SIGN = "+ = faster than today"
LEVEL_NAMES = ("skip", "pin", "dual")

# what `numasim run` says about the boundary until a payoff map over hop latency x remote
# penalty has been run on this model (issue 11); the sentence is only printed with that data
NOT_MAPPED = ("boundary not mapped yet: no payoff map over hop latency (25 us - 1 ms) x remote "
              "penalty (1-3x) has been run on this model, so no sentence 'dual pays off when ...' "
              "can be backed")


def _pct(d) -> str:
    if not d or d.get("mean") is None:
        return "n/a"
    if d.get("low") is None:
        return f"{d['mean']:+.1f}%"
    return f"{d['mean']:+.1f}% [{d['low']:+.1f}, {d['high']:+.1f}]"


def claim_text(c: dict) -> str:
    """One line for one candidate's claim against the baseline (a `stats.Claim` as a dict)."""
    cand, base, outcome = c["candidate"], c["baseline"], c["outcome"]
    if outcome == "not judged":
        return f"{cand} vs {base}: not judged (fewer than 2 paired seeds, or not run)"
    pct, ms = c["latency_improvement_pct"], c["latency_improvement_ms"]
    n = pct["n"]
    fig = (f"p50 job latency {_pct(pct)} ({SIGN.replace('today', base)}; 95% CI over {n} paired seeds"
           + (f"; {ms['mean']:+.1f} ms" if ms and ms.get("mean") is not None else "") + ")")
    m = c.get("margin_pct", 1.0)
    if outcome == "pays off":
        return f"{cand} pays off: {fig}"
    if outcome == "loses":
        return f"{cand} loses: {fig}"
    if outcome == "no difference":
        return f"no difference between {cand} and {base}: {fig} lies inside +-{m:g}% (equivalence)"
    if c.get("throughput_lower"):
        return (f"{cand} not resolved: {fig} is faster but its throughput is significantly lower "
                f"(a trade-off, not a payoff)")
    need = c.get("seeds_to_resolve")
    sd = pct.get("sd")
    more = (f"about {need} paired seeds would resolve it (observed paired SD {sd:.2f}%, if the mean holds)"
            if need else "no feasible number of seeds resolves it at this mean (it sits on the margin)")
    return f"{cand} vs {base} not resolved: {fig} neither excludes 0 nor lies inside +-{m:g}%; {more}"


def simulation_level(claims: dict) -> int:
    """What the simulation recommends in the matrix's terms: dual if dual pays off, else pin if
    pinned does, else skip."""
    if claims.get("dual", {}).get("outcome") == "pays off":
        return 2
    if claims.get("pinned", {}).get("outcome") == "pays off":
        return 1
    return 0


def _input(name: str, f: dict) -> str:
    if f.get("value") is None:
        return f"{name} not judged"
    v = f"rho={f['value']:.2f}" if name == "latency~steals" else f"{f['value']:.1%}"
    lvl = f.get("level")
    return f"{name} {v} ({f['band']}: {LEVEL_NAMES[lvl] if lvl is not None else '-'})"


def disagreement(matrix_row: dict, claims: dict, today_p50_ms: float | None, hops: dict) -> str | None:
    """One line saying why the plan's matrix and the simulation differ, or None when they agree
    (or the matrix could not decide)."""
    lvl = matrix_row["verdict"]["level"]
    if lvl is None:
        return None
    sim = simulation_level(claims)
    if sim == lvl:
        return None
    inp = matrix_row["inputs"]
    named = {"steal rate": inp["steal_rate"], "migration": inp["migration_rate"],
             "latency~steals": inp["latency_steal_correlation"]}
    judged = "; ".join(_input(k, f) for k, f in named.items())
    head = f"matrix says {LEVEL_NAMES[lvl]}, simulation says {LEVEL_NAMES[sim]}"
    if lvl < sim:
        # the matrix takes the lowest judged level: name the input that held it down
        low = [k for k, f in named.items() if f.get("level") == lvl]
        cand = "dual" if sim == 2 else "pinned"
        c = claims.get(cand, {})
        return (f"{head}: the matrix takes the lowest of its inputs ({judged}), so {', '.join(low)} "
                f"holds it at {LEVEL_NAMES[lvl]}; it reads rates and a per-interval correlation, not the "
                f"cost, which the simulation measures directly: {cand} {_pct(c.get('latency_improvement_pct'))}")
    cand = "dual" if lvl == 2 else "pinned"
    c = claims.get(cand, {})
    hop_ms = hops["critical_hop_wait_ms"]
    share = f" ({hop_ms / today_p50_ms:.0%} of today's {today_p50_ms:.0f} ms p50)" if today_p50_ms else ""
    return (f"{head}: the matrix reads {judged}, which any runtime spanning two nodes shows, but not what "
            f"they cost; here {cand}'s p50 change is {_pct(c.get('latency_improvement_pct'))}, and {hop_ms:.0f} ms "
            f"on the job's critical path{share} is MPC hop wait that no layout moves")


def scenario_key(sc) -> str:
    """The scenario without what a payoff map varies or a run chooses (hop latency, remote
    penalty, seeds, layouts, names): equal keys mean the map applies."""
    import hashlib
    import json
    d = sc.to_dict()
    for k in ("name", "description", "seeds", "layouts"):
        d.pop(k, None)
    d["mpc"].pop("hop_us", None)
    d["memory"].pop("remote_penalty", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def boundary_from_cells(cells: list, seeds: int) -> dict:
    """The sentence 'dual pays off when ...' from a map's cells (hop_us, remote_penalty, outcome,
    change_pct)."""
    pens = sorted({c["remote_penalty"] for c in cells})
    hops = sorted({c["hop_us"] for c in cells})
    by = {(c["hop_us"], c["remote_penalty"]): c for c in cells}
    yes, no = [], []
    for pen in pens:
        pays = [h for h in hops if by.get((h, pen), {}).get("outcome") == "pays off"]
        if not pays:
            no.append(f"{pen:g}x")
        elif pays == hops[:len(pays)]:
            yes.append(f"{pen:g}x local with hops up to {pays[-1]:g} us" if len(pays) < len(hops)
                       else f"{pen:g}x local at every hop latency mapped")
        else:
            yes.append(f"{pen:g}x local at hops of {', '.join(f'{h:g}' for h in pays)} us")
    half = max(((c["change_pct"]["high"] - c["change_pct"]["low"]) / 2 for c in cells), default=0.0)
    grid = f"{len(hops)} hop latencies ({hops[0]:g}-{hops[-1]:g} us) x {len(pens)} remote penalties"
    if yes:
        text = "dual pays off when remote memory costs " + "; ".join(yes)
        if no:
            text += f"; not at {', '.join(no)}"
    else:
        text = "dual pays off nowhere on the map"
    fine = "within" if half <= 1.0 else "coarser than"
    text += (f" (map of {grid}, {seeds} paired seeds per cell, CI half-widths up to {half:.2f}%: "
             f"{fine} the 1% a cell's outcome needs; docs/hop_map.md)")
    return {"mapped": True, "text": text, "seeds_per_cell": seeds}


def boundary(sc=None) -> dict:
    """The boundary sentence from the packaged map (numasim/data/hawk-boundary.json) when it was
    made for this scenario; otherwise 'not mapped' (see NOT_MAPPED)."""
    import json
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "hawk-boundary.json")
    if sc is None or not os.path.exists(path):
        return {"mapped": False, "text": NOT_MAPPED}
    with open(path, encoding="utf-8") as f:
        b = json.load(f)
    if b.get("scenario_key") != scenario_key(sc):
        return {"mapped": False, "text": NOT_MAPPED.replace("on this model", "for this scenario")}
    return {"mapped": True, "text": b["text"], "seeds_per_cell": b.get("seeds_per_cell")}
