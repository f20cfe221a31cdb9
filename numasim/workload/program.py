"""Task programs: each task is a Python generator that yields operations to the worker polling it.

The worker interprets the operations with tokio's semantics (an await point either completes at
once or returns Pending); the generator only describes what the task does, in spec order.
Durations are drawn here. Each task draws from its own stream, keyed by the run seed and the
task's place in the spawn tree (source, arrival, then the index of each spawn down the tree), so
the same task draws the same costs whatever the schedule: two layouts run with one seed see the
same work, and comparing them by seed cancels the workload's own noise.
"""
import numpy as np
from ..spec import (IoWait, Join, LoopUntilEnd, Mem, MpcHop, MpcRound, Offload, Repeat, Sleep, Spawn, SpawnBlocking, Spin,
                    Yield)

(OP_SPIN, OP_YIELD, OP_SLEEP, OP_IO, OP_SPAWN, OP_JOIN, OP_BLOCKING, OP_NOW, OP_MEM, OP_OFFLOAD, OP_SPAWN_RT,
 OP_MPC, OP_HOP, OP_MUX) = range(14)
# memcost.STREAM / RANDOM, as the engine's memory tables index them
_PATTERN = {"stream": 0, "random": 1}
YIELD_OP = (OP_YIELD,)
NOW_OP = (OP_NOW,)


class TaskDraws:
    """A task's random stream, made on its first draw (most tasks draw nothing random).
    `spin_scale` multiplies its spin_us draws (a party on a slower machine; 1 otherwise)."""
    __slots__ = ("seed", "key", "gen", "spin_scale")

    def __init__(self, seed: int, key: int, spin_scale: float = 1.0):
        self.seed = seed
        self.key = key
        self.gen = None
        self.spin_scale = spin_scale

    def sample(self, dist) -> int:
        if self.gen is None:
            self.gen = np.random.default_rng((self.seed, self.key & 0xFFFFFFFFFFFFFFFF))
        return dist.sample(self.gen)


def child_key(parent_key: int, index: int) -> int:
    """The key of a parent's `index`-th spawn (int tuples hash the same in every process)."""
    return hash((parent_key, index))


def _draw(dist, rng) -> int:
    return int(dist.mean_ns) if dist.kind == "fixed" else rng.sample(dist)


def _mem(m, rng):
    """(region, whole bytes, pattern index) of a mem step, its size drawn now."""
    return (m.region, _draw(m.nbytes, rng), _PATTERN[m.pattern])


def run_steps(steps, rng, end_ns: int, kept=None):
    """The generator of one task body. `send()` answers OP_SPAWN/OP_SPAWN_RT/OP_BLOCKING/
    OP_OFFLOAD with a handle and OP_NOW with the current time. `kept` holds the JoinHandles the
    task keeps by name (`"as"`) until a join step awaits them."""
    for s in steps:
        t = type(s)
        if t is Spin:
            ns = _draw(s.dur, rng)
            if rng.spin_scale != 1.0:
                ns = int(round(ns * rng.spin_scale))
            if ns > 0:
                yield (OP_SPIN, ns)
        elif t is Yield:
            yield YIELD_OP
        elif t is Sleep:
            yield (OP_SLEEP, _draw(s.dur, rng))
        elif t is Mem:
            yield (OP_MEM,) + _mem(s, rng)
        elif t is Spawn:
            handles = []
            op = (OP_SPAWN, s.task) if s.runtime is None else (OP_SPAWN_RT, s.task, s.runtime)
            for _ in range(s.count):
                handles.append((yield op))
            if s.join:
                for h in handles:
                    yield (OP_JOIN, h)
            elif s.name is not None:
                if kept is None:
                    kept = {}
                kept.setdefault(s.name, []).extend(handles)
        elif t is Join:
            for h in (kept or {}).pop(s.name, ()):
                yield (OP_JOIN, h)
        elif t is Repeat:
            if kept is None:
                kept = {}  # shared with the body, so that handles kept inside outlive an iteration
            for _ in range(s.n):
                yield from run_steps(s.steps, rng, end_ns, kept)
        elif t is LoopUntilEnd:
            # the probe checks Instant::now() < end at the top of each round
            if kept is None:
                kept = {}
            while (yield NOW_OP) < end_ns:
                yield from run_steps(s.steps, rng, end_ns, kept)
        elif t is IoWait:
            yield (OP_IO, _draw(s.dur, rng))
        elif t is MpcRound:
            yield (OP_MPC, _draw(s.dur, rng))
        elif t is MpcHop:
            # (op, connection index or the rule for it, wait, sender's CPU, receiver's CPU)
            yield (OP_HOP, s, _draw(s.dur, rng), _draw(s.send, rng), _draw(s.recv, rng))
        elif t is Offload:
            # `count` jobs down the channel, then their oneshots awaited in order (join_all),
            # unless kept by name for a later join_all
            handles = []
            for _ in range(s.count):
                dur = _draw(s.dur, rng)
                handles.append((yield (OP_OFFLOAD, s.pool, dur, _mem(s.mem, rng) if s.mem is not None else None)))
            if s.name is not None:
                if kept is None:
                    kept = {}
                kept.setdefault(s.name, []).extend(handles)
            else:
                for h in handles:
                    yield (OP_JOIN, h)
        elif t is SpawnBlocking:
            h = yield (OP_BLOCKING, _draw(s.dur, rng))
            if s.join:
                yield (OP_JOIN, h)
        else:  # pragma: no cover - the spec parser admits no other step
            raise TypeError(f"unknown step {s!r}")
