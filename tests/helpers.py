"""Small builders shared by the scheduler tests."""
import simpy

from numasim.simulate import build_system, rng_streams, simulate
from numasim.spec import parse_spec
from numasim.host.costs import Host
from numasim.tokio.profile import get_profile


def spec(steps=None, workers=2, duration_s=0.05, sources=None, **kw):
    d = {"name": "t", "runtime": {"workers": workers}, "duration_s": duration_s, "sample_interval_ms": 10,
         "sources": sources or [{"kind": "root", "task": {"name": "root", "steps": steps}}]}
    d.update(kw)
    return parse_spec(d)


def bare_runtime(workers=2, version="1.49"):
    """A runtime whose workers are not started: for driving queue and idle rules by hand."""
    s = spec([{"spin_us": 1}], workers=workers)
    sys = build_system(simpy.Environment(), s, get_profile(version), Host(), rng_streams(1))
    return sys.runtimes[s.runtimes[0].name]


class Recorder:
    """An observer that records polls, parks and completions, and checks the invariants that
    must hold at every poll."""

    def __init__(self):
        self.polls = []  # (time, worker, task name, task id)
        self.parks = []
        self.completed = []
        self.polling = {}
        self.errors = []

    def poll_start(self, w, t):
        rt = w.rt
        if w.index in self.polling:
            self.errors.append(f"worker {w.index} polls two tasks at once")
        if t.id in self.polling.values():
            self.errors.append(f"task {t.id} polled by two workers at once")
        self.polling[w.index] = t.id
        # a task being polled sits in no queue
        for o in rt.workers:
            if o.lifo is t or t in o.queue:
                self.errors.append(f"task {t.id} polled while queued on worker {o.index}")
            if len(o.queue) > 256:
                self.errors.append(f"worker {o.index} queue holds {len(o.queue)}")
        if t in rt.inject:
            self.errors.append(f"task {t.id} polled while in the inject queue")
        self.polls.append((rt.env.now, w.index, t.name, t.id))

    def poll_end(self, w, t):
        self.polling.pop(w.index, None)

    def park(self, w):
        self.parks.append((w.rt.env.now, w.index))

    def complete(self, w, t):
        self.completed.append(t.id)


def run(s, version="1.49", host=None, seed=None):
    rec = Recorder()
    res = simulate(s, get_profile(version), host or Host(), seed=seed, observers=[rec])
    return res, rec


def middle(res):
    """Interval records inside the submission period, less the first (as figures.py keeps them)."""
    dur = res.header["spec"]["duration_s"] * 1e9
    return [r for r in res.intervals if r["t"] <= dur][1:]
