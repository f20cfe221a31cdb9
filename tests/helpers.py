"""Small builders shared by the scheduler tests."""
import collections
import importlib.util

import simpy

from numasim.simulate import build_system, rng_streams, simulate
from numasim.spec import parse_spec
from numasim.host.costs import Host
from numasim.tokio.profile import get_profile


def load_file(name, path):
    """A script of this repository (fidelity/, experiments/) imported as module `name`."""
    spec = importlib.util.spec_from_file_location(name, str(path))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def spec(steps=None, workers=2, duration_s=0.05, sources=None, **kw):
    d = {"name": "t", "runtime": {"workers": workers}, "duration_s": duration_s, "sample_interval_ms": 10,
         "sources": sources or [{"kind": "root", "task": {"name": "root", "steps": steps}}]}
    d.update(kw)
    return parse_spec(d)


def bare_runtime(workers=2, version="1.49", host=None):
    """A runtime whose workers are not started: for driving queue and idle rules by hand."""
    s = spec([{"spin_us": 1}], workers=workers)
    sys = build_system(simpy.Environment(), s, get_profile(version), host or Host(), rng_streams(1))
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
        self.seq = []  # ("poll" | "park", worker index) in the order they happen
        self.stolen = collections.defaultdict(list)  # thief index -> tasks moved per steal
        self.run_next = {}  # thief index -> the stolen task it must poll next

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
        want = self.run_next.pop(w.index, None)
        if want is not None and want != t.id:
            self.errors.append(f"worker {w.index} stole task {want} but polled {t.id} first")
        self.polls.append((rt.env.now, w.index, t.name, t.id))
        self.seq.append(("poll", w.index))

    def poll_end(self, w, t):
        self.polling.pop(w.index, None)

    def steal(self, thief, victim, tasks):
        """`tasks` left `victim` for `thief`: the last runs now, the others sit in its queue."""
        for t in tasks:
            if t in victim.queue or victim.lifo is t:
                self.errors.append(f"stolen task {t.id} still on worker {victim.index}")
        for t in tasks[:-1]:
            if t not in thief.queue:
                self.errors.append(f"stolen task {t.id} not in worker {thief.index}'s queue")
        self.stolen[thief.index].append(len(tasks))
        self.run_next[thief.index] = tasks[-1].id

    def park(self, w):
        self.parks.append((w.rt.env.now, w.index))
        self.seq.append(("park", w.index))

    def complete(self, w, t):
        self.completed.append(t.id)


def noops_by_rule(events, workers):
    """noop_count as tokio's `about_to_park` defines it, from the order of polls and parks: a
    park with no poll on that worker since its previous park (a first park counts if the worker
    never polled)."""
    polled = [False] * workers
    noops = [0] * workers
    for kind, w in events:
        if kind == "poll":
            polled[w] = True
        else:
            noops[w] += not polled[w]
            polled[w] = False
    return noops


def run(s, version="1.49", host=None, seed=None):
    rec = Recorder()
    res = simulate(s, get_profile(version), host or Host(), seed=seed, observers=[rec])
    return res, rec


def middle(res):
    """Interval records inside the submission period, less the first (as figures.py keeps them)."""
    dur = res.header["spec"]["duration_s"] * 1e9
    return [r for r in res.intervals if r["t"] <= dur][1:]
