"""workload/program.py, compiled: a task body flattened once into an op table, and the step of
the generator (`fetch`) that produces the next await point from a task's position in it.

Each TaskDef occurrence gets a code segment; a task is its row in S.T (program counter, the
repeat counters of its nesting levels, its current spawn group of JoinHandles as a linked list).

A duration drawn from a distribution is read from the task's draw window, which the Python side
fills through the reference's own `TaskDraws` (engine/run.py): when the window is dry, `fetch`
returns NEED_DRAW without moving, the worker stops where it stands, and the kernel returns to
Python, which draws and resumes it (no event passes in between). A task's draws come from its
own stream in program order, so when they are made does not matter, only their order. The key
of that stream is `child_key`, Python's hash of an int pair, computed here.
"""
import numpy as np
from numba import int64, njit, uint64

from ...spec import IoWait, Join, LoopUntilEnd, Repeat, Sleep, Spawn, SpawnBlocking, Spin, Yield

from .state import (DW_K, H_DW, H_OPS, H_PR, H_R, H_T, K_BLOCKING, K_END, K_IO, K_JOIN, K_LOOP,
                    K_LOOP_END, K_REPEAT, K_REPEAT_END, K_SLEEP, K_SPAWN, K_SPIN, K_YIELD,
                    MAX_DEPTH, MAX_KEPT, NDEFS, NO, NT, OPK_BLOCKING, OPK_IO, OPK_JOIN, OPK_NOW,
                    OPK_SLEEP, OPK_SPAWN, OPK_SPIN, OPK_YIELD, O_A, O_B, O_C, O_K, PR_END, R_NEED_D,
                    R_NEED_T, R_OVERFLOW, T_CTR, T_DW_I, T_DW_N, T_GHEAD, T_GTAIL, T_JCUR, T_KEPT,
                    T_OPA, T_PC, T_SEND, T_SUB)

DONE = -2
NEED_DRAW = -3
# the spec language's names of the steps not compiled yet
_STEP_NAMES = {"Mem": "mem", "Offload": "offload"}


class Unsupported(Exception):
    """A spec feature the compiled engine does not run yet (engine/run.py names it)."""


def compile_program(spec, names):
    """(ops, defs, def id of each source's task): the op table and, per TaskDef occurrence, its
    entry pc and TaskMonitor index (position in `names`)."""
    ops = []
    defs = []

    def emit(k, a=0, b=0, c=0, d=0):
        ops.append([k, a, b, c, d])
        return len(ops) - 1

    dists = {}

    def dur(dist):
        """(fixed ns, 0) or (0, 1 + the distribution's index): O_A, O_B of a timed op."""
        if dist.is_fixed:
            return int(round(dist.mean_ns)), 0
        if dist not in dists:
            dists[dist] = len(dists)
        return 0, 1 + dists[dist]

    pending = []
    kept = {}

    def slot(name):
        if name not in kept:
            if len(kept) >= MAX_KEPT:
                raise Unsupported(f'more than {MAX_KEPT} names of kept JoinHandles ("as")')
            kept[name] = len(kept)
        return kept[name]

    rts = [rs.name for rs in spec.runtimes]

    def task(td, runtime=None):
        """A def occurrence; `runtime`: the runtime a spawn of it goes into (None: the spawner's)."""
        i = len(defs)
        defs.append([0, names.index(td.name), -1 if runtime is None else rts.index(runtime)])
        pending.append((i, td))
        return i

    def body(steps, depth):
        for s in steps:
            t = type(s)
            if t is Spin:
                ns, d = dur(s.dur)
                if ns > 0 or d:  # a drawn spin of 0 ns still draws (and yields nothing)
                    emit(K_SPIN, ns, d)
            elif t is Yield:
                emit(K_YIELD)
            elif t is Sleep:
                emit(K_SLEEP, *dur(s.dur))
            elif t is SpawnBlocking:
                emit(K_BLOCKING, *dur(s.dur), int(s.join))
            elif t is IoWait:
                emit(K_IO, *dur(s.dur))
            elif t is Spawn:
                emit(K_SPAWN, task(s.task, s.runtime), s.count, int(s.join), 0 if s.join or s.name is None else 1 + slot(s.name))
            elif t is Join:
                emit(K_JOIN, slot(s.name))
            elif t is Repeat:
                if depth >= MAX_DEPTH:
                    raise Unsupported(f"repeat nested deeper than {MAX_DEPTH}")
                r = emit(K_REPEAT, s.n, 0, depth)
                body(s.steps, depth + 1)
                emit(K_REPEAT_END, r + 1, 0, depth)
                ops[r][2] = len(ops)
            elif t is LoopUntilEnd:
                lp = emit(K_LOOP)
                body(s.steps, depth)
                emit(K_LOOP_END, lp)
                ops[lp][2] = len(ops)
            else:
                raise Unsupported(f"the {_STEP_NAMES.get(t.__name__, t.__name__)} step")

    roots = [task(src.task) for src in spec.sources]
    plans = []
    while pending:
        i, td = pending.pop(0)
        defs[i][0] = len(ops)
        body(td.steps, 0)
        emit(K_END)
        plans.append((i, draw_plan(td.steps, dists)))
    plan = [None] * len(defs)
    for i, p in plans:
        plan[i] = p
    prog = Program(np.array(ops, np.int64).reshape(-1, NO), np.array(defs, np.int64).reshape(-1, NDEFS), roots,
                   list(dists), plan)
    return prog


class Program:
    """The op table, per TaskDef occurrence its entry pc and TaskMonitor index, each source's
    def, the distributions drawn inside tasks (by index) and each def's draw plan."""

    def __init__(self, ops, defs, roots, dists, plan):
        self.ops, self.defs, self.roots, self.dists, self.plan = ops, defs, roots, dists, plan


SEQ_MAX = 4096


def draw_plan(steps, dists):
    """Which distributions a task of this body draws from, in order, as far as that is known
    before it runs: ("iid", d, n) when it draws from one distribution only (n draws in all, None
    if that depends on the time);
    ("seq", [d, ...]) the whole sequence when no `loop_until_end` makes it depend on the time;
    ("one",) else (one draw at a time, the distribution the task asks for). None: no draws."""
    def kinds_of(ss):
        out = set()
        for s in ss:
            t = type(s)
            if t in (Spin, Sleep, IoWait, SpawnBlocking):
                if not s.dur.is_fixed:
                    out.add(dists[s.dur])
            elif t is Repeat or t is LoopUntilEnd:
                out |= kinds_of(s.steps)
        return out

    kinds = kinds_of(steps)
    if not kinds:
        return None
    seq = []

    def walk(ss):
        """False once the sequence is open-ended or too long to write out."""
        for s in ss:
            t = type(s)
            if t in (Spin, Sleep, IoWait, SpawnBlocking):
                if not s.dur.is_fixed:
                    seq.append(dists[s.dur])
                    if len(seq) > SEQ_MAX:
                        return False
            elif t is Repeat and kinds_of(s.steps):
                for _ in range(s.n):
                    if not walk(s.steps):
                        return False
            elif t is LoopUntilEnd and kinds_of(s.steps):
                return False
        return True
    known = walk(steps)
    if len(kinds) == 1:
        return ("iid", next(iter(kinds)), len(seq) if known else None)
    if not known:
        return ("one",)
    return ("seq", seq)


@njit(cache=True)
def int_hash(x):
    """Python's hash of an int that fits in 64 bits: its value modulo 2**61 - 1, signed."""
    p = uint64(2305843009213693951)
    if x >= 0:
        return int64(uint64(x) % p)
    h = int64((uint64(0) - uint64(x)) % p)
    h = -h
    return -2 if h == -1 else h


@njit(cache=True)
def child_key(parent_key, index):
    """workload/program.py child_key: hash((parent_key, index)), CPython's tuple hash (xxHash's
    round over the items' hashes) of a pair of ints."""
    acc = uint64(2870177450012600261)
    for x in (parent_key, index):
        lane = uint64(int_hash(int64(x)))
        acc = acc + lane * uint64(14029467366897019727)
        acc = (acc << uint64(31)) | (acc >> uint64(33))
        acc = acc * uint64(11400714785074694791)
    acc = acc + (uint64(2) ^ (uint64(2870177450012600261) ^ uint64(3527539)))
    if acc == uint64(18446744073709551615):
        return int64(1546275796)
    return int64(acc)


@njit(cache=True)
def _draw(M, t, d):
    """The next value of task t's draw window, which must be of distribution d-1; False (and
    the run pauses for the Python side to fill the window) when it is dry."""
    T = M[H_T]
    i = M[T + (t) * NT + (T_DW_I)]
    if i >= M[T + (t) * NT + (T_DW_N)]:
        M[M[H_R] + (R_NEED_T)] = t
        M[M[H_R] + (R_NEED_D)] = d - 1
        return False, 0
    M[T + (t) * NT + (T_DW_I)] = i + 1
    c = M[H_DW] + ((t) * DW_K + (i)) * 2
    if M[c + 1] != d - 1:
        M[M[H_R] + (R_OVERFLOW)] = 9  # the window's plan disagrees with the program: a bug
    return True, M[c]


@njit(cache=True)
def fetch(M, F, t):
    """Run task t's generator to its next yield: the op kind (OPK_*), its argument in T_OPA; or
    DONE when the body has returned."""
    T = M[H_T]
    OPS = M[H_OPS]
    while True:
        pc = M[T + (t) * NT + (T_PC)]
        k = M[OPS + (pc) * NO + (O_K)]
        if k == K_END:
            return DONE
        if k == K_SPIN:
            ns = M[OPS + (pc) * NO + (O_A)]
            d = M[OPS + (pc) * NO + (O_B)]
            if d:
                ok, ns = _draw(M, t, d)
                if not ok:
                    return NEED_DRAW
            M[T + (t) * NT + (T_PC)] = pc + 1
            if ns <= 0:
                continue
            M[T + (t) * NT + (T_OPA)] = ns
            return OPK_SPIN
        if k == K_YIELD:
            M[T + (t) * NT + (T_PC)] = pc + 1
            return OPK_YIELD
        if k == K_SLEEP or k == K_IO:
            ns = M[OPS + (pc) * NO + (O_A)]
            d = M[OPS + (pc) * NO + (O_B)]
            if d:
                ok, ns = _draw(M, t, d)
                if not ok:
                    return NEED_DRAW
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = ns
            return OPK_SLEEP if k == K_SLEEP else OPK_IO
        if k == K_JOIN:
            # join_all: the handles kept under the name, taken off it, awaited in spawn order
            if M[T + (t) * NT + (T_SUB)] == 0:
                c = T_KEPT + 2 * M[OPS + (pc) * NO + (O_A)]
                M[T + (t) * NT + (T_JCUR)] = M[T + (t) * NT + (c)]
                M[T + (t) * NT + (c)] = -1
                M[T + (t) * NT + (c + 1)] = -1
                M[T + (t) * NT + (T_SUB)] = 1
            if M[T + (t) * NT + (T_JCUR)] >= 0:
                M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
                return OPK_JOIN
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_BLOCKING:
            sub = M[T + (t) * NT + (T_SUB)]
            if sub == 0:
                ns = M[OPS + (pc) * NO + (O_A)]
                d = M[OPS + (pc) * NO + (O_B)]
                if d:
                    ok, ns = _draw(M, t, d)
                    if not ok:
                        return NEED_DRAW
                M[T + (t) * NT + (T_OPA)] = ns
                return OPK_BLOCKING
            if M[OPS + (pc) * NO + (O_C)] and sub == 1:
                M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
                return OPK_JOIN
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_JCUR)] = -1
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_SPAWN:
            n = M[OPS + (pc) * NO + (O_B)]
            sub = M[T + (t) * NT + (T_SUB)]
            if sub < n:
                M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
                return OPK_SPAWN
            if M[OPS + (pc) * NO + (O_C)] and sub < 2 * n:
                # the handles, awaited in spawn order
                if sub == n:
                    M[T + (t) * NT + (T_JCUR)] = M[T + (t) * NT + (T_GHEAD)]
                M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
                return OPK_JOIN
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_GHEAD)] = -1
            M[T + (t) * NT + (T_GTAIL)] = -1
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_REPEAT:
            n = M[OPS + (pc) * NO + (O_A)]
            if n <= 0:
                M[T + (t) * NT + (T_PC)] = M[OPS + (pc) * NO + (O_B)]
                continue
            M[T + (t) * NT + (T_CTR + M[OPS + (pc) * NO + (O_C)])] = n
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_REPEAT_END:
            c = T_CTR + M[OPS + (pc) * NO + (O_C)]
            M[T + (t) * NT + (c)] -= 1
            M[T + (t) * NT + (T_PC)] = M[OPS + (pc) * NO + (O_A)] if M[T + (t) * NT + (c)] > 0 else pc + 1
            continue
        if k == K_LOOP:
            # `while (yield NOW) < end`: first ask for the time, then compare the answer
            if M[T + (t) * NT + (T_SUB)] == 0:
                M[T + (t) * NT + (T_SUB)] = 1
                return OPK_NOW
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_PC)] = pc + 1 if M[T + (t) * NT + (T_SEND)] < M[M[H_PR] + (PR_END)] else M[OPS + (pc) * NO + (O_B)]
            continue
        # K_LOOP_END
        M[T + (t) * NT + (T_PC)] = M[OPS + (pc) * NO + (O_A)]
