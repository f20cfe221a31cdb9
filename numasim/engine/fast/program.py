"""workload/program.py, compiled: a task body flattened once into an op table, and the step of
the generator (`fetch`) that produces the next await point from a task's position in it.

Each TaskDef occurrence gets a code segment; a task is its row in S.T (program counter, the
repeat counters of its nesting levels, its current spawn group of JoinHandles as a linked list).
Only fixed durations are compiled: a task with no random draw needs no stream (its key and
`TaskDraws` never matter), and engine/run.py refuses the rest.
"""
import numpy as np
from numba import njit

from ...spec import IoWait, Join, LoopUntilEnd, Repeat, Sleep, Spawn, SpawnBlocking, Spin, Yield

from .state import (H_OPS, H_PR, H_T, K_BLOCKING, K_END, K_IO, K_JOIN, K_LOOP, K_LOOP_END, K_REPEAT,
                    K_REPEAT_END, K_SLEEP, K_SPAWN, K_SPIN, K_YIELD, MAX_DEPTH, MAX_KEPT, NO, NT,
                    OPK_BLOCKING, OPK_IO, OPK_JOIN, OPK_NOW, OPK_SLEEP, OPK_SPAWN, OPK_SPIN,
                    OPK_YIELD, O_A, O_B, O_C, O_K, PR_END, T_CTR, T_GHEAD, T_GTAIL, T_JCUR, T_KEPT,
                    T_OPA, T_PC, T_SEND, T_SUB)

DONE = -2
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

    def fixed(dist, what):
        if dist.kind != "fixed":
            raise Unsupported(f"{what} with a {dist.kind} distribution")
        return int(round(dist.mean_ns))

    pending = []
    kept = {}

    def slot(name):
        if name not in kept:
            if len(kept) >= MAX_KEPT:
                raise Unsupported(f'more than {MAX_KEPT} names of kept JoinHandles ("as")')
            kept[name] = len(kept)
        return kept[name]

    def task(td):
        i = len(defs)
        defs.append([0, names.index(td.name)])
        pending.append((i, td))
        return i

    def body(steps, depth):
        for s in steps:
            t = type(s)
            if t is Spin:
                ns = fixed(s.dur, "spin")
                if ns > 0:
                    emit(K_SPIN, ns)
            elif t is Yield:
                emit(K_YIELD)
            elif t is Sleep:
                emit(K_SLEEP, fixed(s.dur, "sleep"))
            elif t is SpawnBlocking:
                emit(K_BLOCKING, fixed(s.dur, "spawn_blocking"), 0, int(s.join))
            elif t is IoWait:
                emit(K_IO, fixed(s.dur, "io"))
            elif t is Spawn:
                if s.runtime is not None:
                    raise Unsupported("spawn into another runtime")
                emit(K_SPAWN, task(s.task), s.count, int(s.join), 0 if s.join or s.name is None else 1 + slot(s.name))
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
    while pending:
        i, td = pending.pop(0)
        defs[i][0] = len(ops)
        body(td.steps, 0)
        emit(K_END)
    return np.array(ops, np.int64).reshape(-1, NO), np.array(defs, np.int64).reshape(-1, 2), roots


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
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
            return OPK_SPIN
        if k == K_YIELD:
            M[T + (t) * NT + (T_PC)] = pc + 1
            return OPK_YIELD
        if k == K_SLEEP:
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
            return OPK_SLEEP
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
                M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
                return OPK_BLOCKING
            if M[OPS + (pc) * NO + (O_C)] and sub == 1:
                M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
                return OPK_JOIN
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_JCUR)] = -1
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_IO:
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
            return OPK_IO
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
