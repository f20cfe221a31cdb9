"""Where a round's time goes with the multiplexers: the one-party scheme against three parties.

    python experiments/hop_decomposition.py [--scenario default] [--jobs 1] [--layout today]
                                            [--seed 1] [--tokio 1.49] [--json FILE]

Runs the scenario (`--jobs` jobs; the other scenarios of experiments/three_parties.py by name) once
per scheme on the SimPy engine (the compiled engine has no Python to wrap; both write the same
bytes) and follows every `mpc_hop` message by wrapping numasim.workload.mux's send, deliver and
arrival and the runtimes' I/O readiness from outside the engine. Per message of a session key,
round r (party q receives from p = q - 1; one party: p = q):

    sending multiplexer    write - p's session send (split: p's session parked after its send /
                           went on because its own receive of round r was already there)
    wire                   the drawn one-way latency
    ordering clamp         arrival - (write + drawn latency): the connection's no-overtaking rule
    driver                 dispatch - arrival (split: a worker was blocked in epoll / none was)
    receiving multiplexer  handover - dispatch (split: the multiplexer was parked on its socket /
                           already queued or running)
    = hop path             handover at q - p's send
    max slack              max(handover, q's own send) - handover - (q's send - p's send): the
                           round waits for the later of the two; over the ring the send offsets
                           average to 0, so this is what the max adds to the mean round
    ready -> next send     q's next send - max(handover, q's send): the wake (if q waited), the
                           receive, the session's CPU of the round
    = round period         q's send of round r + 1 - q's send of round r

Means in µs over every (party, session, round) but each session's last. Job p50 as
experiments/three_parties.py gives it.
"""
import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numasim.workload.mux as mux  # noqa: E402
from numasim.hawk.parties import run_scheme  # noqa: E402
from numasim.tokio.handle import Runtime  # noqa: E402
from numasim.tokio.task import IDLE  # noqa: E402
from three_parties import SCENARIOS  # noqa: E402

ROWS = ["sending multiplexer", "  of which: sender parked after its send", "  of which: sender went on",
        "wire", "ordering clamp", "driver", "  of which: a worker blocked in epoll", "  of which: none blocked",
        "receiving multiplexer", "  of which: it was parked on its socket", "  of which: it was queued or running",
        "= hop path", "max slack", "ready -> next send", "= round period"]


class Recorder:
    """The instants of every mpc_hop message, by (party, session key), in round order."""

    def __init__(self):
        self.send = collections.defaultdict(list)  # session's send (party, key) -> [ns]
        self.write = collections.defaultdict(list)  # sending multiplexer -> [(write, drawn, arrival)]
        self.dispatch = collections.defaultdict(list)  # at the receiving party
        self.handover = collections.defaultdict(list)
        self.epoll = {}  # (party, ns) -> a worker was blocked in epoll when the readiness came

    def install(self):
        """Wrap the module functions the engine calls (restored by `uninstall`)."""
        self._saved = (mux.send, mux.deliver, mux._arrive, Runtime._io_ready)
        o_send, o_deliver, o_arrive, o_ready = self._saved
        rec = self

        def send(rt, worker, task, op):
            rec.send[(rt.party, task.key)].append(rt.env.now)
            return o_send(rt, worker, task, op)

        def deliver(rt, worker, c, side):
            now = rt.env.now
            if side == mux.SEND:
                last = c.last_at  # as deliver computes each arrival, in batch order
                for session, wait_ns, _s, _r in c.batch[side]:
                    drawn = now + max(0, wait_ns)
                    last = max(drawn, last)
                    rec.write[(rt.party, session.key)].append((now, drawn, last))
            else:
                for session, _r in c.batch[side]:
                    rec.handover[(rt.party, _key(session))].append(now)
            return o_deliver(rt, worker, c, side)

        def arrive(arg, worker):
            # whether the receiving multiplexer was parked on its socket (IDLE) or already queued
            # or running when the driver handed it this message
            idle = arg[0].tasks[mux.RECV].state == IDLE
            rec.dispatch[(worker.rt.party, _key(arg[1]))].append((worker.rt.env.now, idle))
            return o_arrive(arg, worker)

        def io_ready(self_rt, arg):
            rec.epoll[(self_rt.party, self_rt.env.now)] = self_rt.driver.blocked_holder is not None
            return o_ready(self_rt, arg)

        mux.send, mux.deliver, mux._arrive, Runtime._io_ready = send, deliver, arrive, io_ready

    def uninstall(self):
        mux.send, mux.deliver, mux._arrive, Runtime._io_ready = self._saved

    def decompose(self, n_parties: int) -> dict:
        acc = collections.defaultdict(lambda: [0.0, 0])

        def add(row, ns):
            acc[row][0] += ns
            acc[row][1] += 1

        went_on = parked = none_blocked = busy = n = 0
        for (q, key), hand in self.handover.items():
            p = (q - 1) % n_parties
            s_prev, w_prev, disp = self.send[(p, key)], self.write[(p, key)], self.dispatch[(q, key)]
            s_own, h_prev_own = self.send[(q, key)], self.handover.get((p, key), [])
            # the rounds with a next send, so that every row covers the same messages and the
            # rows add up: hop path + max slack + ready -> next send = round period
            for r, h in enumerate(hand[:len(s_own) - 1]):
                write, drawn, at = w_prev[r]
                d, idle = disp[r]
                n += 1
                add("sending multiplexer", write - s_prev[r])
                # p's session went on after its send when its own receive of round r was already there
                if r < len(h_prev_own) and h_prev_own[r] <= s_prev[r] and n_parties > 1:
                    went_on += 1
                    add("  of which: sender went on", write - s_prev[r])
                else:
                    parked += 1
                    add("  of which: sender parked after its send", write - s_prev[r])
                add("wire", drawn - write)
                add("ordering clamp", at - drawn)
                add("driver", d - at)
                if self.epoll.get((q, at)):
                    add("  of which: a worker blocked in epoll", d - at)
                else:
                    none_blocked += 1
                    add("  of which: none blocked", d - at)
                add("receiving multiplexer", h - d)
                add("  of which: it was parked on its socket" if idle else "  of which: it was queued or running",
                    h - d)
                busy += not idle
                add("= hop path", h - s_prev[r])
                ready = max(h, s_own[r])
                add("max slack", ready - h - (s_own[r] - s_prev[r]))
                add("ready -> next send", s_own[r + 1] - ready)
                add("= round period", s_own[r + 1] - s_own[r])
        out = {row: (acc[row][0] / acc[row][1] / 1000.0 if acc[row][1] else None) for row in ROWS}
        out["messages"] = n
        out["share: sender went on"] = went_on / n if n else None
        out["share: no worker blocked in epoll"] = none_blocked / n if n else None
        out["share: receiving multiplexer queued or running"] = busy / n if n else None
        return out


def _key(session) -> int:
    return session if isinstance(session, int) else session.key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=list(SCENARIOS), default="default")
    ap.add_argument("--jobs", type=int, default=1, help="job.batches (jobs run one after another)")
    ap.add_argument("--layout", default="today")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokio", default=None, help="runtime.tokio profile (1.51: a stealable LIFO slot)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    ov = {"job.batches": a.jobs}
    if a.tokio:
        ov["runtime.tokio"] = a.tokio
    sc = SCENARIOS[a.scenario]().replace(**ov)
    res = {}
    for parties in (1, 3):
        rec = Recorder()
        rec.install()
        try:
            r = run_scheme(sc, a.layout, a.seed, parties, engine="simpy")
        finally:
            rec.uninstall()
        res[parties] = dict(rec.decompose(parties), job_p50_ms=r["job_p50_ms"])
    print(f"# {a.scenario}, {a.jobs} job(s), {a.layout}, seed {a.seed}, tokio {sc.runtime.tokio}: "
          f"job p50 {res[1]['job_p50_ms']:.1f} ms (one party) against {res[3]['job_p50_ms']:.1f} ms (three)\n")
    print("| per message / round, mean µs | one party | three parties | three minus one |")
    print("|---|---|---|---|")
    for row in ROWS:
        one, three = res[1][row], res[3][row]
        f = lambda x: "" if x is None else f"{x:.1f}"  # noqa: E731
        diff = "" if one is None or three is None else f"{three - one:+.1f}"
        print(f"| {row} | {f(one)} | {f(three)} | {diff} |")
    for k in ("share: sender went on", "share: no worker blocked in epoll",
              "share: receiving multiplexer queued or running"):
        print(f"| {k} | {100 * res[1][k]:.0f}% | {100 * res[3][k]:.0f}% | |")
    print(f"| messages | {res[1]['messages']} | {res[3]['messages']} | |")
    if a.json:
        json.dump({"args": vars(a), "one": res[1], "three": res[3]}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
