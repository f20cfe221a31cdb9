"""fidelity/evlog/stackfacts.py on a hand-made log whose answers are known."""
import pathlib

from helpers import load_file

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load():
    return load_file("stackfacts", ROOT / "fidelity" / "evlog" / "stackfacts.py")


def test_stackfacts_sorts_wakes_by_where_the_wakee_blocked_and_ran(tmp_path):
    # t, worker, kind, arg, cpu. w1 comes back from a park on cpu 0 and runs 10 us there before it
    # blocks on the condvar; w0, on cpu 0, unparks it and w1 runs first on cpu 0 before w0 blocks:
    # stacked, again, preempting, after a short run. w1 then runs 175.9 us and blocks on cpu 0;
    # w0, now on cpu 1, unparks it and blocks; w1 runs first on cpu 1 after that: stacked where it
    # had not blocked (first), waiting, after a long run. An unpark from outside (255) is ignored.
    log = [(1000, 1, 11, 0, 0), (11000, 1, 10, 2, 0),
           (20000, 0, 7, 1 * 256 + 1, 0), (24000, 1, 11, 9, 0), (24100, 1, 2, 0, 0),
           (100000, 0, 10, 2, 0), (150000, 0, 11, 0, 1),
           (200000, 1, 10, 1, 0),
           (300000, 0, 7, 2 * 256 + 1, 1), (305000, 0, 10, 2, 1), (310000, 1, 11, 2, 1),
           (320000, 255, 7, 1 * 256 + 0, 1)]
    p = tmp_path / "x.ev"
    p.write_text("".join(" ".join(map(str, e)) + "\n" for e in log))
    c = load().facts(str(p))
    assert (c["again"], c["again stacked"], c["first"], c["first stacked"]) == (1, 1, 1, 1)
    assert (c["short"], c["short wait"], c["long"], c["long wait"]) == (1, 0, 1, 1)


def test_stackfacts_a_wakee_that_runs_on_the_other_cpu_is_not_stacked(tmp_path):
    log = [(1000, 1, 11, 0, 1), (5000, 1, 10, 2, 1), (20000, 0, 7, 1 * 256 + 1, 0), (24000, 1, 11, 9, 1)]
    p = tmp_path / "y.ev"
    p.write_text("".join(" ".join(map(str, e)) + "\n" for e in log))
    c = load().facts(str(p))
    assert c["first"] == 1 and c["first stacked"] == 0 and c["short"] == c["long"] == 0


def test_the_hosts_stacking_values_are_what_the_captured_event_logs_measure():
    """numasim/host/costs.py's stack_again_prob, stack_wait_short_prob and stack_wait_prob are the
    per-spec means of fidelity/evlog/logs (five instrumented tokio 1.49 captures on this project's
    guest), at the host's own short_run_ns: a change to either side fails here."""
    from numasim.host.costs import Host
    host = Host()
    logs = sorted(str(p) for p in (ROOT / "fidelity" / "evlog" / "logs").glob("*.ev.xz"))
    assert len(logs) == 5
    m, per = load().means(logs, host.short_run_ns)
    assert round(m["stacked | again"], 3) == host.stack_again_prob
    assert round(m["wait | stacked, ran<50us"], 3) == host.stack_wait_short_prob
    assert round(m["wait | stacked, ran>=50us"], 3) == host.stack_wait_prob
    assert sum(C["again"] + C["first"] for C in per.values()) > 20_000
