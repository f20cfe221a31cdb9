"""Where the guest kernel runs tokio's worker threads, read from its scheduler events.

    python fidelity/ktrace/schedfacts.py fidelity/ktrace/logs/*.trace.xz [--md]

Reads the ftrace text that fidelity/ktrace/capture.sh writes (sched_switch, sched_waking,
sched_wakeup, sched_migrate_task; .xz, .gz or plain) and counts, for the probe's worker threads
(comm `tokio-runtime-w`):

- wakes of one worker by the other (the waker is the task running where sched_waking fires),
  by where the wakee blocked (the waker's vCPU or the other) and how long it slept: how often it
  lands on the waker's vCPU (`target_cpu` of sched_wakeup);
- of those that land there (stacked), how often the wakee runs before the waker blocks
  (preempt: the next switch away from the waker is to the wakee with the waker still runnable)
  or only once the waker blocks (wait), by how long the wakee ran in its last awake period;
- a worker waiting for a vCPU (switched out runnable, or woken onto a busy vCPU): how the wait
  ends, on the same vCPU or moved to another (load balancing), and per scheduler tick (4 ms, HZ
  250) spent waiting while another vCPU was idle, how often it was moved;
- the share of the time both workers sit on one vCPU (the last vCPU each ran on or was placed
  on), and how often they split and join.

Everything is in integer nanoseconds from the trace's own clock.
"""
import collections
import gzip
import lzma
import re
import sys

WORKER_COMM = "tokio-runtime-w"
SHORT_SLEEP_NS = 50_000
RUN_BINS_NS = (20_000, 50_000, 200_000)  # last-run bins: <20 us, 20-50, 50-200, >=200
TICK_NS = 4_000_000

_LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\(\s*[\d-]+\)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+):\s+(\w+):\s+(.*)$")
_FIELD = re.compile(r"(\w+)=(\S+)")


def _open(path):
    if path.endswith(".xz"):
        return lzma.open(path, "rt")
    if path.endswith(".gz"):
        return gzip.open(path, "rt")
    return open(path)


def parse(path):
    """[(t_ns, cpu, pid, event, fields)] of the scheduler events in an ftrace text file."""
    out = []
    with _open(path) as f:
        for line in f:
            m = _LINE.match(line)
            if not m:
                continue
            _, pid, cpu, sec, frac, event, rest = m.groups()
            t = int(sec) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])
            out.append((t, int(cpu), int(pid), event, dict(_FIELD.findall(rest))))
    return out


def run_bin(ns):
    for i, b in enumerate(RUN_BINS_NS):
        if ns < b:
            return i
    return len(RUN_BINS_NS)


def facts(events):
    """Counters (see the module docstring) over one trace's events."""
    workers = []
    for _, _, _, ev, f in events:
        if ev == "sched_switch" and f.get("next_comm") == WORKER_COMM and int(f["next_pid"]) not in workers:
            workers.append(int(f["next_pid"]))
    W = set(workers)
    c = collections.Counter()
    cur = {}                      # cpu -> running pid (0: idle)
    state = {}                    # worker -> ("run" | "wait" | "sleep", since)
    awake_run = collections.Counter()
    last_run = {}                 # worker -> ns it ran in its last awake period
    slept = {}                    # worker -> (t, cpu) it blocked at
    waiting = {}                  # worker -> cpu it waits on
    pending = {}                  # wakee -> (waker, waker's cpu)
    stacked = collections.defaultdict(list)  # cpu -> [(wakee, waker, short sleep, run bin)]
    loc = {}                      # worker -> vCPU it is on or was last placed on
    last_t = None
    together = None

    def end_run(p, t):
        s = state.get(p)
        if s and s[0] == "run":
            awake_run[p] += t - s[1]

    for t, cpu, pid, ev, f in events:
        if last_t is not None and t > last_t:
            dt = t - last_t
            if len(loc) == 2:
                c["observed_ns"] += dt
                if together:
                    c["together_ns"] += dt
            for w, wc in waiting.items():
                if any(cc != wc and p == 0 for cc, p in cur.items()):
                    c["wait_exposed_ns"] += dt
        last_t = t
        moved = False
        if ev == "sched_switch":
            prev, nxt, st = int(f["prev_pid"]), int(f["next_pid"]), f["prev_state"]
            runnable = st.startswith("R")
            if prev in W:
                end_run(prev, t)
                if runnable:
                    state[prev] = ("wait", t)
                    waiting[prev] = cpu
                else:
                    state[prev] = ("sleep", t)
                    slept[prev] = (t, cpu)
                    last_run[prev] = awake_run.pop(prev, 0)
            if nxt in W:
                wc = waiting.pop(nxt, None)
                if wc is not None:
                    c["waits ended here" if wc == cpu else "waits ended moved"] += 1
                state[nxt] = ("run", t)
                if loc.get(nxt) != cpu:
                    loc[nxt] = cpu
                    moved = True
            for item in list(stacked[cpu]):
                wakee, waker, short, b = item
                if prev == waker:
                    if nxt == wakee:
                        kind = "preempt" if runnable else "wait"
                        c[f"stacked {kind}"] += 1
                        c[f"stacked {kind} run{b}"] += 1
                        if short:
                            c[f"stacked {kind} run{b} short sleep"] += 1
                    stacked[cpu].remove(item)
                elif nxt == wakee:
                    stacked[cpu].remove(item)  # a third task was in between: neither
            cur[cpu] = nxt
        elif ev == "sched_waking":
            wakee = int(f["pid"])
            if wakee in W and pid in W and cur.get(cpu) == pid:
                pending[wakee] = (pid, cpu)
        elif ev == "sched_wakeup":
            wakee, tc = int(f["pid"]), int(f["target_cpu"])
            if wakee not in W:
                continue
            if loc.get(wakee) != tc:
                loc[wakee] = tc
                moved = True
            if cur.get(tc, 0) not in (0, wakee):
                waiting[wakee] = tc
            if wakee in pending:
                waker, wc = pending.pop(wakee)
                ts, sc = slept.get(wakee, (None, None))
                if ts is not None:
                    short = t - ts < SHORT_SLEEP_NS
                    where = ("again" if sc == wc else "other") + (" short" if short else " long")
                    c[f"wakes {where}"] += 1
                    if tc == wc:
                        c[f"wakes {where} stacked"] += 1
                        stacked[wc].append((wakee, waker, short, run_bin(last_run.get(wakee, 0))))
        elif ev == "sched_migrate_task":
            p = int(f["pid"])
            if p in W:
                if p in waiting:
                    del waiting[p]
                    c["waits ended moved"] += 1
                loc[p] = int(f["dest_cpu"])
                moved = True
        if moved and len(loc) == 2:
            now_together = len(set(loc.values())) == 1
            if together is not None and now_together != together:
                c["joins" if now_together else "splits"] += 1
            together = now_together
    return c


def share(c, num, den):
    return c[num] / c[den] if c[den] else float("nan")


def summary(c):
    """The headline figures of one trace's counters."""
    s = {
        "again, slept <50us": (c["wakes again short stacked"], c["wakes again short"]),
        "again, slept >=50us": (c["wakes again long stacked"], c["wakes again long"]),
        "other vCPU, stacked": (c["wakes other short stacked"] + c["wakes other long stacked"],
                                c["wakes other short"] + c["wakes other long"]),
    }
    s["stacked: waits"] = (c["stacked wait"], c["stacked wait"] + c["stacked preempt"])
    for b, name in enumerate(("<20us", "20-50us", "50-200us", ">=200us")):
        p, w = c[f"stacked preempt run{b}"], c[f"stacked wait run{b}"]
        s[f"stacked, ran {name}: waits"] = (w, p + w)
    s["waits moved"] = (c["waits ended moved"], c["waits ended moved"] + c["waits ended here"])
    s["moved per tick exposed"] = (c["waits ended moved"], c["wait_exposed_ns"] / TICK_NS)
    s["time on one vCPU"] = (c["together_ns"], c["observed_ns"])
    s["splits per s"] = (c["splits"], c["observed_ns"] / 1e9)
    return s


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    md = "--md" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if not paths:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    names, cols = [], []
    for p in paths:
        try:
            events = parse(p)
        except OSError as e:
            print(f"{p}: {e.strerror or e}", file=sys.stderr)
            return 2
        names.append(p.rsplit("/", 1)[-1].split(".trace")[0])
        cols.append(summary(facts(events)))
    keys = list(cols[0])
    if md:
        print("| | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
    for k in keys:
        cells = []
        for s in cols:
            num, den = s[k]
            if not den:
                cells.append("-")
            elif isinstance(den, float):
                cells.append(f"{num / den:.3f} ({num} / {den:.1f})")
            else:
                cells.append(f"{num / den:.3f} of {den}")
        print(("| " + k + " | " + " | ".join(cells) + " |") if md else f"{k:32s} " + "  ".join(f"{x:>22s}" for x in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
