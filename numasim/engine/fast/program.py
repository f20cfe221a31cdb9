"""workload/program.py, compiled: a task body flattened once into an op table, and the step of
the generator (`fetch`) that produces the next await point from a task's position in it.

Each TaskDef occurrence gets a code segment; a task is its row in S.T (program counter, the
repeat counters of its nesting levels, its current spawn group of JoinHandles as a linked list).

A duration drawn from a distribution comes from the task's own stream, numpy's
`default_rng((seed, key))` in program order (workload/program.py TaskDraws), made on its first
draw: engine/fast/pcg.py is that stream and those draws, value for value. The key of the stream
is `child_key`, Python's hash of an int pair, computed here.
"""
import numpy as np
from numba import int64, uint64

from ...spec import (MULTIPLEXER, IoWait, Join, LoopUntilEnd, Mem, MpcHop, MpcRound, Offload, Repeat, Sleep, Spawn,
                     SpawnBlocking, Spin, TaskDef, Yield)

from .jit import kernel
from .pcg import sample, seed_state
from .state import (H_FD, H_OPS, H_PR, H_T, K_BLOCKING, K_END, K_IO, K_JOIN, K_LOOP, K_LOOP_END,
                    K_REPEAT, K_REPEAT_END, K_SLEEP, K_SPAWN, K_SPIN, K_YIELD, MAX_DEPTH, MAX_KEPT,
                    NDEFS, NO, NT, O_D, OPK_BLOCKING, OPK_IO, OPK_JOIN, OPK_NOW, OPK_SLEEP, OPK_SPAWN,
                    OPK_SPIN, OPK_YIELD, O_A, O_B, O_C, O_K, PR_END, PR_SEED, T_CTR, T_DRAWS,
                    T_GHEAD, T_GTAIL, T_JCUR, T_KEPT, T_KEY, T_OPA, T_PC, T_PCG, T_SEND, T_SUB)
from .state import K_MEM, OPK_MEM
from .state import K_OFFLOAD, OPK_OFFLOAD
from .state import K_HOP, OPK_HOP, T_HOP_C, T_HOP_R, T_HOP_S, T_HOP_W
from .state import F_SCALE, K_MPC, OPK_MPC

DONE = -2
# the spec language's names of the steps not compiled yet
_STEP_NAMES = {}
# workload/program.py _PATTERN
_PATTERN = {"stream": 0, "random": 1}


class Unsupported(Exception):
    """A spec feature the compiled engine does not run yet (engine/run.py names it)."""


def compile_program(spec, names, ws=None):
    """(ops, defs, def id of each source's task): the op table and, per TaskDef occurrence, its
    entry pc and TaskMonitor index (position in `names`). `ws`, a list, gets each occurrence's
    working_set_bytes (a machine's refill cost)."""
    ops = []
    defs = []

    def emit(k, a=0, b=0, c=0, d=0):
        ops.append([k, a, b, c, d])
        return len(ops) - 1

    dists = {}

    def dur(dist):
        """(fixed ns, 0) or (0, 1 + the distribution's index): O_A, O_B of a timed op."""
        if dist.is_fixed:
            return int(dist.mean_ns), 0  # workload/program.py _draw: int(mean), not rounded
        if dist not in dists:
            dists[dist] = len(dists)
        return 0, 1 + dists[dist]

    pending = []
    kept = {}
    regions = [r.name for r in spec.regions]
    pools = [p.name for p in spec.pools]

    def slot(name):
        if name not in kept:
            if len(kept) >= MAX_KEPT:
                raise Unsupported(f'more than {MAX_KEPT} names of kept JoinHandles ("as")')
            kept[name] = len(kept)
        return kept[name]

    rts = [rs.name for rs in spec.runtimes]
    nconn = [0]  # connection indices an mpc_hop can reach (0: no mpc_hop)

    def task(td, runtime=None):
        """A def occurrence; `runtime`: the runtime a spawn of it goes into (None: the spawner's)."""
        i = len(defs)
        defs.append([0, names.index(td.name), -1 if runtime is None else rts.index(runtime)])
        if ws is not None:
            ws.append(td.working_set_bytes)
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
            elif t is MpcRound:
                emit(K_MPC, *dur(s.dur))
            elif t is Spawn:
                emit(K_SPAWN, task(s.task, s.runtime), s.count, int(s.join), 0 if s.join or s.name is None else 1 + slot(s.name))
            elif t is Join:
                emit(K_JOIN, slot(s.name))
            elif t is Mem:
                # workload/program.py _draw: a fixed size is int(mean), not rounded
                nb, d = (int(s.nbytes.mean_ns), 0) if s.nbytes.is_fixed else (0, dur(s.nbytes)[1])
                emit(K_MEM, nb, d, _PATTERN[s.pattern], regions.index(s.region))
            elif t is Offload:
                emit(K_OFFLOAD, *dur(s.dur), pools.index(s.pool), s.count)
                kslot = 0 if s.name is None else 1 + slot(s.name)
                if s.mem is None:
                    emit(kslot)
                else:
                    m = s.mem
                    nb, d = (int(m.nbytes.mean_ns), 0) if m.nbytes.is_fixed else (0, dur(m.nbytes)[1])
                    emit(kslot, nb, d, _PATTERN[m.pattern], 1 + regions.index(m.region))
            elif t is MpcHop:
                # draws in the generator's order (wait, send, recv); the connection's rule after them
                emit(K_HOP, *dur(s.dur), *dur(s.send))
                ops.append([*dur(s.recv), s.first, s.stride, s.slots])
                nconn[0] = max(nconn[0], s.first + s.stride * (s.slots - 1) + 1)
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
    mux = -1
    while pending:
        i, td = pending.pop(0)
        defs[i][0] = len(ops)
        body(td.steps, 0)
        emit(K_END)
        if not pending and nconn[0] and mux < 0:
            # the connections' multiplexer tasks (workload/mux.py mux_task): a def of their own,
            # whose body is never fetched (their one await point is set when they are made)
            mux = task(TaskDef(MULTIPLEXER, (), spec.multiplexer_working_set_bytes))
    return Program(np.array(ops, np.int64).reshape(-1, NO), np.array(defs, np.int64).reshape(-1, NDEFS), roots,
                   list(dists), mux, nconn[0])


class Program:
    """The op table, per TaskDef occurrence its entry pc, TaskMonitor index and target runtime,
    each source's def, the distributions drawn inside tasks (by index), the multiplexers' def (-1:
    no mpc_hop) and the number of connection indices."""

    def __init__(self, ops, defs, roots, dists, mux=-1, nconn=0):
        self.ops, self.defs, self.roots, self.dists = ops, defs, roots, dists
        self.mux, self.nconn = mux, nconn


@kernel
def int_hash(x):
    """Python's hash of an int that fits in 64 bits: its value modulo 2**61 - 1, signed."""
    p = uint64(2305843009213693951)
    if x >= 0:
        return int64(uint64(x) % p)
    h = int64((uint64(0) - uint64(x)) % p)
    h = -h
    return -2 if h == -1 else h


@kernel
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


@kernel
def _draw(M, F, t, d):
    """TaskDraws.sample: task t's next draw from distribution d-1, its stream made on its first
    draw."""
    T = M[H_T]
    o = T + (t) * NT + (T_PCG)
    if not M[T + (t) * NT + (T_DRAWS)]:
        M[T + (t) * NT + (T_DRAWS)] = 1
        seed_state(M, o, uint64(M[M[H_PR] + (PR_SEED)]), uint64(M[T + (t) * NT + (T_KEY)]))
    f = M[H_FD] + 3 * (d - 1)
    return sample(M, o, np.int64(F[f]), F[f + 1], F[f + 2])


@kernel
def _await_handles(M, T, t, n, sub, awaited, next_pc):
    """After a spawn or offload row's `n` sends: True while its handles are still to be awaited
    (in send order; T_OPA is the next one); else the row's state is reset, the task moves on to
    `next_pc`, and False."""
    if awaited and sub < 2 * n:
        if sub == n:
            M[T + (t) * NT + (T_JCUR)] = M[T + (t) * NT + (T_GHEAD)]
        M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
        return True
    M[T + (t) * NT + (T_SUB)] = 0
    M[T + (t) * NT + (T_GHEAD)] = -1
    M[T + (t) * NT + (T_GTAIL)] = -1
    M[T + (t) * NT + (T_PC)] = next_pc
    return False


@kernel
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
                ns = _draw(M, F, t, d)
            if F[F_SCALE] != 1.0:  # a party's spin_scale (TaskDraws.spin_scale)
                ns = np.int64(np.rint(ns * F[F_SCALE]))
            M[T + (t) * NT + (T_PC)] = pc + 1
            if ns <= 0:
                continue
            M[T + (t) * NT + (T_OPA)] = ns
            return OPK_SPIN
        if k == K_YIELD:
            M[T + (t) * NT + (T_PC)] = pc + 1
            return OPK_YIELD
        if k == K_SLEEP or k == K_IO or k == K_MPC:
            ns = M[OPS + (pc) * NO + (O_A)]
            d = M[OPS + (pc) * NO + (O_B)]
            if d:
                ns = _draw(M, F, t, d)
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = ns
            return OPK_SLEEP if k == K_SLEEP else (OPK_IO if k == K_IO else OPK_MPC)
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
                    ns = _draw(M, F, t, d)
                M[T + (t) * NT + (T_OPA)] = ns
                return OPK_BLOCKING
            if M[OPS + (pc) * NO + (O_C)] and sub == 1:
                M[T + (t) * NT + (T_OPA)] = M[T + (t) * NT + (T_JCUR)]
                return OPK_JOIN
            M[T + (t) * NT + (T_SUB)] = 0
            M[T + (t) * NT + (T_JCUR)] = -1
            M[T + (t) * NT + (T_PC)] = pc + 1
            continue
        if k == K_MEM:
            nb = M[OPS + (pc) * NO + (O_A)]
            d = M[OPS + (pc) * NO + (O_B)]
            if d:
                nb = _draw(M, F, t, d)
            M[T + (t) * NT + (T_PC)] = pc + 1
            M[T + (t) * NT + (T_OPA)] = nb  # its region and pattern: the op row before T_PC
            return OPK_MEM
        if k == K_SPAWN:
            n = M[OPS + (pc) * NO + (O_B)]
            sub = M[T + (t) * NT + (T_SUB)]
            if sub < n:
                M[T + (t) * NT + (T_OPA)] = M[OPS + (pc) * NO + (O_A)]
                return OPK_SPAWN
            if _await_handles(M, T, t, n, sub, M[OPS + (pc) * NO + (O_C)] != 0, pc + 1):
                return OPK_JOIN
            continue
        if k == K_HOP:
            # (OP_HOP, wait, send, recv): the message's three draws, kept on the session's row
            d = M[OPS + (pc) * NO + (O_B)]
            M[T + (t) * NT + (T_HOP_W)] = _draw(M, F, t, d) if d else M[OPS + (pc) * NO + (O_A)]
            d = M[OPS + (pc) * NO + (O_D)]
            M[T + (t) * NT + (T_HOP_S)] = _draw(M, F, t, d) if d else M[OPS + (pc) * NO + (O_C)]
            d = M[OPS + (pc + 1) * NO + (O_A)]
            M[T + (t) * NT + (T_HOP_R)] = _draw(M, F, t, d) if d else M[OPS + (pc + 1) * NO + (O_K)]
            M[T + (t) * NT + (T_HOP_C)] = -1
            M[T + (t) * NT + (T_PC)] = pc + 2  # the connection's rule: the row before T_PC
            return OPK_HOP
        if k == K_OFFLOAD:
            # `count` channel sends (interpret.py draws each job's size and sends it), then their
            # oneshots awaited in order, unless kept under a name (the next op row's O_K)
            n = M[OPS + (pc) * NO + (O_D)]
            sub = M[T + (t) * NT + (T_SUB)]
            if sub < n:
                return OPK_OFFLOAD
            if _await_handles(M, T, t, n, sub, M[OPS + (pc + 1) * NO + (O_K)] == 0, pc + 2):
                return OPK_JOIN
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
