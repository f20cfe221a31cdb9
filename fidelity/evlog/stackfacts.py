"""Where a woken tokio worker runs, from the event logs of an instrumented probe (README.md).

    python fidelity/evlog/stackfacts.py LOG...    (fidelity/evlog/logs/*.ev.xz: this guest's)

For every unpark of a blocked worker by another worker (kind 7, the target parked on the condvar or
the driver), it finds the wakee's first event after the unpark and compares CPUs (sched_getcpu at
each event): *stacked* if the wakee first runs on the CPU the waker ran the unpark on; *again* if
the wakee had blocked on that CPU too; a stacked wakee *waited* if the waker's next blocking park
came before the wakee's first event (else it preempted the waker). A stacked wakee's run before it
blocked is the time from its previous return from park (kind 11) to that block (kind 10, arg 1 or
2). These are the measurements behind `stack_again_prob`, `stack_wait_short_prob`,
`stack_wait_prob` and `short_run_ns` in numasim/host/costs.py.
"""
import bisect
import collections
import lzma
import sys


def facts(path, short_run_ns=50_000):
    """Counters of one log: again, again stacked, first, first stacked, short, short wait, long,
    long wait (short: the wakee ran < 50 us before it blocked)."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt") as f:
        ev = [tuple(map(int, line.split())) for line in f if line.strip()]
    per = collections.defaultdict(list)
    for e in ev:
        per[e[1]].append(e)
    T = {w: [e[0] for e in s] for w, s in per.items()}
    blk = {w: [e[0] for e in s if e[2] == 10 and e[3] != 0] for w, s in per.items()}
    ret = {w: [e[0] for e in s if e[2] == 11] for w, s in per.items()}
    C = collections.Counter()
    for t, w, k, a, cpu in ev:
        if k != 7 or w == 255:
            continue
        st, tg = a >> 8, a & 255
        if st not in (1, 2) or tg == w or tg not in per:
            continue
        i = bisect.bisect_right(T[tg], t)
        if i >= len(T[tg]):
            continue
        fe = per[tg][i]
        q = bisect.bisect_right(blk[tg], t)
        if not q:
            continue
        tb = blk[tg][q - 1]
        prevcpu = per[tg][bisect.bisect_left(T[tg], tb)][4]
        rr = bisect.bisect_right(ret[tg], tb)
        ran = tb - ret[tg][rr - 1] if rr else 10**12
        nb = bisect.bisect_right(blk.get(w, []), t)
        wblock = blk[w][nb] if nb < len(blk[w]) else 10**18
        stacked = fe[4] == cpu
        again = prevcpu == cpu
        C["again" if again else "first"] += 1
        if stacked:
            C["again stacked" if again else "first stacked"] += 1
            s = "short" if ran < short_run_ns else "long"
            C[s] += 1
            if fe[0] >= wblock:
                C[s + " wait"] += 1
    return C


def fr(C, a, b):
    return f"{C[a] / C[b]:.3f} ({C[a]}/{C[b]})" if C[b] else "-"


ROWS = [("stacked | again", "again stacked", "again"), ("stacked | first", "first stacked", "first"),
        ("wait | stacked, ran<50us", "short wait", "short"), ("wait | stacked, ran>=50us", "long wait", "long")]


def means(paths, short_run_ns=50_000):
    """{row name: the per-spec mean} over the logs (specs with fewer than 20 wakes of a row left
    out of it), and the per-log counters."""
    per = {p.split("/")[-1]: facts(p, short_run_ns) for p in paths}
    out = {}
    for name, a, b in ROWS:
        each = [C[a] / C[b] for C in per.values() if C[b] >= 20]
        out[name] = sum(each) / len(each) if each else None
    return out, per


def main(paths):
    _, per = means(paths)
    tot = collections.Counter()
    for C in per.values():
        tot.update(C)
    for name, a, b in ROWS:
        # each spec weighs the same in the mean (one burst has 15k wakes, Hawk under 1k)
        each = [C[a] / C[b] for C in per.values() if C[b] >= 20]
        mean = f"{sum(each) / len(each):.3f}" if each else "-"
        print(f"{name:28s} per-spec mean {mean}  pooled {fr(tot, a, b)}  "
              + " ".join(f"{k.split('.')[0]}={fr(C, a, b)}" for k, C in per.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
