"""host/cpus.py, compiled: threads on CPUs. The ownership rules are shared; where a woken thread
runs and which waiting thread an idle CPU takes are the placement policy's: `VcpuStacking` on the
flat host, `NodeAware` on a machine (X_NUMA set), each function below taking its policy's branch.

A mask's idle CPUs per node (`Mask.idle`, dicts used as ordered sets, most recently idled last)
are not kept as sets here: a CPU is idle when it has no owner, and C_IDLE_SEQ orders the idle
ones as the dicts do (a CPU gets the next number each time it goes idle; at the start the CPU
numbers, the order the masks were filled in). `Cpus.stacked` is a list through the CPU rows.
"""
from .jit import alloc, kernel

from .events import call_at
from .thread import uniform
from .state import (C_IDLE_SEQ, C_IDLE_SINCE, C_IN_STACKED, C_NODE, C_NWAIT, C_OWNER, C_SNEXT,
                    C_SPREV, EV_BALANCE, F_STACK, F_STACK_AGAIN, F_STACK_WAIT, F_STACK_WAIT_SHORT, H_C, H_CW, H_MALL, H_MCPU, H_MK, H_MKL, H_MKS,
                    H_MORD, H_MSET, H_NWK, H_PR, H_R, H_W, H_X, MK_ALL, MK_NCPU, MK_STAY, NC, NMK,
                    NW, PR_BALANCE, PR_SHORT_RUN, PR_CTX, PR_HALT_POLL, PR_IDLE_WAKE_LAT, PR_NCPU,
                    PR_NW, PR_UNPARK_LAT, PR_WORKER_UNPARK_LAT, R_BALANCE_MOVES, R_NOW, R_STACKED_WAKES,
                    W_BLOCKED, W_CPU, W_LAST_RAN, W_PARK_GEN, W_PARK_TRIG, W_WAKE_CPU, W_WAKES_OUT, W_WOKEN_BY, W_WOKEN_GEN,
                    EV_TWAKE,
                    W_MASK, W_STALLED, X_IDLE_SEQ, X_MIGRATIONS, X_NNODES, X_NUMA, X_SHEAD,
                    X_STAIL)
from .thread import preempt, resume


@kernel
def _take(M, F, c, w):
    M[M[H_C] + (c) * NC + (C_OWNER)] = w
    M[M[H_W] + (w) * NW + (W_CPU)] = c


@kernel
def _free(M, F, c):
    M[M[H_C] + (c) * NC + (C_OWNER)] = -1
    M[M[H_C] + (c) * NC + (C_IDLE_SINCE)] = M[M[H_R] + (R_NOW)]
    X = M[H_X]
    M[M[H_C] + (c) * NC + (C_IDLE_SEQ)] = M[X + X_IDLE_SEQ]
    M[X + X_IDLE_SEQ] += 1


# ---- Cpus.stacked: the CPUs with waiting threads, in the order they got their first one
@kernel
def _stack(M, F, c):
    C = M[H_C]
    if M[C + (c) * NC + (C_IN_STACKED)]:
        return
    X = M[H_X]
    M[C + (c) * NC + (C_IN_STACKED)] = 1
    tail = M[X + X_STAIL]
    M[C + (c) * NC + (C_SPREV)] = tail
    M[C + (c) * NC + (C_SNEXT)] = -1
    if tail >= 0:
        M[C + (tail) * NC + (C_SNEXT)] = c
    else:
        M[X + X_SHEAD] = c
    M[X + X_STAIL] = c


@kernel
def _unstack(M, F, c):
    C = M[H_C]
    X = M[H_X]
    M[C + (c) * NC + (C_IN_STACKED)] = 0
    p = M[C + (c) * NC + (C_SPREV)]
    n = M[C + (c) * NC + (C_SNEXT)]
    if p >= 0:
        M[C + (p) * NC + (C_SNEXT)] = n
    else:
        M[X + X_SHEAD] = n
    if n >= 0:
        M[C + (n) * NC + (C_SPREV)] = p
    else:
        M[X + X_STAIL] = p


@kernel
def _wait(M, F, c, w, front):
    preempt(M, F, w, M[M[H_R] + (R_NOW)])
    n = M[M[H_C] + (c) * NC + (C_NWAIT)]
    if front:
        for i in range(n, 0, -1):
            M[M[H_CW] + (c) * M[H_NWK] + (i)] = M[M[H_CW] + (c) * M[H_NWK] + (i - 1)]
        M[M[H_CW] + (c) * M[H_NWK] + (0)] = w
    else:
        M[M[H_CW] + (c) * M[H_NWK] + (n)] = w
    M[M[H_C] + (c) * NC + (C_NWAIT)] = n + 1
    _stack(M, F, c)


@kernel
def _shift(M, F, c, i):
    """Take the i-th waiting thread off CPU c's queue (c stays in Cpus.stacked)."""
    n = M[M[H_C] + (c) * NC + (C_NWAIT)]
    w = M[M[H_CW] + (c) * M[H_NWK] + (i)]
    for j in range(i, n - 1):
        M[M[H_CW] + (c) * M[H_NWK] + (j)] = M[M[H_CW] + (c) * M[H_NWK] + (j + 1)]
    M[M[H_C] + (c) * NC + (C_NWAIT)] = n - 1
    return w


@kernel
def _unwait_at(M, F, c, i):
    """Cpus._unwait of the i-th waiting thread: c leaves Cpus.stacked with its last one."""
    w = _shift(M, F, c, i)
    if M[M[H_C] + (c) * NC + (C_NWAIT)] == 0:
        _unstack(M, F, c)
    return w


@kernel
def _pop_front(M, F, c):
    return _unwait_at(M, F, c, 0)


@kernel
def _waiting_index(M, F, c, w):
    for i in range(M[M[H_C] + (c) * NC + (C_NWAIT)]):
        if M[M[H_CW] + (c) * M[H_NWK] + (i)] == w:
            return i
    return -1


@kernel
def _move(M, F, c, w):
    _take(M, F, c, w)
    if M[M[H_W] + (w) * NW + (W_BLOCKED)]:
        M[M[H_W] + (w) * NW + (W_WAKE_CPU)] = c  # a wake-up that waited for a CPU runs here
    M[M[H_R] + (R_BALANCE_MOVES)] += 1
    resume(M, F, w, M[M[H_PR] + (PR_CTX)])


@kernel
def _stacked(M, F):
    return M[M[H_X] + X_SHEAD] >= 0


@kernel
def _numa(M):
    return M[M[H_X] + X_NUMA] != 0


@kernel
def start(M, F, nthreads):
    """Cpus.start: each thread on the CPU it was given, or on a free CPU of its mask when another
    thread already runs there; else it waits for that CPU. NodeAware then balances at once."""
    for w in range(nthreads):
        c = M[M[H_W] + (w) * NW + (W_CPU)]
        if M[M[H_C] + (c) * NC + (C_OWNER)] != -1:
            i = idle_in_mask(M, F, w, M[M[H_C] + (c) * NC + (C_NODE)])
            if i >= 0:
                c = i
        if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
            _take(M, F, c, w)
        else:
            M[M[H_W] + (w) * NW + (W_CPU)] = c
            _wait(M, F, c, w, False)
    if _numa(M):
        call_at(M, F, 0, EV_BALANCE, 0, 0)


@kernel
def next_tick(M, now):
    """Cpus.next_tick: the next scheduler tick (every balance_ns), when a thread that starts
    waiting now is first balanced."""
    b = M[M[H_PR] + (PR_BALANCE)]
    return (now // b + 1) * b if b > 0 else now


@kernel
def acquire(M, F, w, c):
    o = M[M[H_C] + (c) * NC + (C_OWNER)]
    if o == -1:
        _take(M, F, c, w)
        return
    M[M[H_W] + (w) * NW + (W_CPU)] = c
    if o == w:
        return
    M[M[H_C] + (c) * NC + (C_OWNER)] = w
    if not (M[M[H_W] + (o) * NW + (W_BLOCKED)] or M[M[H_W] + (o) * NW + (W_STALLED)]):
        _wait(M, F, c, o, True)
        call_at(M, F, next_tick(M, M[M[H_R] + (R_NOW)]), EV_BALANCE, 0, 0)


@kernel
def _woke(M, x, by):
    """Cpus._woke: worker x's fast wake-up under way is by worker `by` (-1: none), W_WAKES_OUT
    kept in step."""
    W = M[H_W]
    old = M[W + (x) * NW + (W_WOKEN_BY)]
    if old >= 0:
        M[W + (old) * NW + (W_WAKES_OUT)] -= 1
    M[W + (x) * NW + (W_WOKEN_BY)] = by
    if by >= 0:
        M[W + (by) * NW + (W_WAKES_OUT)] += 1


@kernel
def release(M, F, w):
    """Cpus.release: a fast wake-up w made that is still under way completes unpark_latency_ns
    from now; then the next waiting thread on w's CPU resumes, or the CPU goes idle."""
    W = M[H_W]
    for x in range(M[M[H_PR] + (PR_NW)] if M[W + (w) * NW + (W_WAKES_OUT)] else 0):
        if M[W + (x) * NW + (W_WOKEN_BY)] == w:
            _woke(M, x, -1)
            gen = M[W + (x) * NW + (W_WOKEN_GEN)]
            if (M[W + (x) * NW + (W_BLOCKED)] and M[W + (x) * NW + (W_PARK_GEN)] == gen
                    and not M[W + (x) * NW + (W_PARK_TRIG)]):
                call_at(M, F, M[M[H_R] + (R_NOW)] + M[M[H_PR] + (PR_UNPARK_LAT)], EV_TWAKE, x, gen)
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] != w:
        return
    if _vacate(M, F, c) and _stacked(M, F):
        pull_to(M, F, c)


@kernel
def _vacate(M, F, c):
    """c's owner leaves it: the first waiting thread resumes (False), or c goes idle (True)."""
    if M[M[H_C] + (c) * NC + (C_NWAIT)] > 0:
        nxt = _pop_front(M, F, c)
        M[M[H_C] + (c) * NC + (C_OWNER)] = nxt
        resume(M, F, nxt, M[M[H_PR] + (PR_CTX)])
        return False
    _free(M, F, c)
    return True


@kernel
def polling(M, F, c, now):
    return M[M[H_C] + (c) * NC + (C_OWNER)] == -1 and now - M[M[H_C] + (c) * NC + (C_IDLE_SINCE)] < M[M[H_PR] + (PR_HALT_POLL)]


@kernel
def place(M, F, wakee, waker, now):
    """Cpus.place: (cpu, latency) of a parked thread unparked by `waker` (-1: none); latency
    -1: it waits for that CPU (the wake-up completes in thread.resume)."""
    if _numa(M):
        return _na_place(M, F, wakee, now)
    W = M[H_W]
    prev = M[W + (wakee) * NW + (W_CPU)]
    lat = M[M[H_PR] + (PR_UNPARK_LAT)]
    if waker >= 0:
        # the waker keeps its vCPU: worker_unpark_latency_ns, or sooner if it blocks (release)
        lat = M[M[H_PR] + (PR_WORKER_UNPARK_LAT)]
        _woke(M, wakee, waker)
        M[W + (wakee) * NW + (W_WOKEN_GEN)] = M[W + (wakee) * NW + (W_PARK_GEN)]
    if polling(M, F, prev, now):
        return prev, lat
    n = M[M[H_PR] + (PR_NCPU)]
    for c in range(n):
        if polling(M, F, c, now):
            return c, lat
    _woke(M, wakee, -1)
    if waker >= 0 and n > 1 and uniform(M, F) < (F[F_STACK_AGAIN] if prev == M[W + (waker) * NW + (W_CPU)]
                                                 else F[F_STACK]):
        # every idle vCPU has halted: the wake-up lands on the waker's CPU (surely so if the
        # wakee blocked there) and preempts it, or waits behind it (likelier if it ran long)
        M[M[H_R] + (R_STACKED_WAKES)] += 1
        c = M[M[H_W] + (waker) * NW + (W_CPU)]
        pw = (F[F_STACK_WAIT_SHORT] if M[W + (wakee) * NW + (W_LAST_RAN)] < M[M[H_PR] + (PR_SHORT_RUN)]
              else F[F_STACK_WAIT])
        if (M[M[H_C] + (c) * NC + (C_OWNER)] == waker and pw > 0
                and uniform(M, F) < pw):
            # no wake-up preemption: the woken thread queues behind the waker
            M[M[H_W] + (wakee) * NW + (W_CPU)] = c
            _wait(M, F, c, wakee, False)
            call_at(M, F, next_tick(M, now), EV_BALANCE, 0, 0)
            return c, -1
        if M[M[H_C] + (c) * NC + (C_OWNER)] == waker:
            _wait(M, F, c, waker, True)
            M[M[H_C] + (c) * NC + (C_OWNER)] = wakee
            call_at(M, F, next_tick(M, now), EV_BALANCE, 0, 0)
        return M[M[H_W] + (waker) * NW + (W_CPU)], M[M[H_PR] + (PR_CTX)]
    return own_cpu(M, F, wakee), M[M[H_PR] + (PR_IDLE_WAKE_LAT)]


@kernel
def own_cpu(M, F, w):
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
        return c
    if _numa(M):
        i = idle_in_mask(M, F, w, M[M[H_C] + (c) * NC + (C_NODE)])
        return i if i >= 0 else c
    for i in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (i) * NC + (C_OWNER)] == -1:
            return i
    return c


@kernel
def pull_to(M, F, c):
    if _numa(M):
        _na_pull_to(M, F, c)
        return
    for o in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (o) * NC + (C_NWAIT)] > 0:
            w = _pop_front(M, F, o)
            _move(M, F, c, w)
            return


@kernel
def balance(M, F):
    if _numa(M):
        _na_balance(M, F)
        return
    for c in range(M[M[H_PR] + (PR_NCPU)]):
        if M[M[H_C] + (c) * NC + (C_OWNER)] == -1:
            pull_to(M, F, c)


@kernel
def yield_cpu(M, F, w):
    """Cpus.yield_cpu: sched_yield from running thread w; a thread waiting for this CPU runs and
    w queues behind it (True: w must wait for its CPU); nobody waiting: False."""
    c = M[M[H_W] + (w) * NW + (W_CPU)]
    if M[M[H_C] + (c) * NC + (C_OWNER)] != w or M[M[H_C] + (c) * NC + (C_NWAIT)] == 0:
        return False
    nxt = _shift(M, F, c, 0)  # waiting.pop(0): c stays in Cpus.stacked, w queues next
    _wait(M, F, c, w, False)
    M[M[H_C] + (c) * NC + (C_OWNER)] = nxt
    resume(M, F, nxt, M[M[H_PR] + (PR_CTX)])
    call_at(M, F, next_tick(M, M[M[H_R] + (R_NOW)]), EV_BALANCE, 0, 0)
    return True


# ---------------------------------------------------------------- NodeAware (a machine)
@kernel
def idle_in_mask(M, F, w, near):
    """Cpus.idle_in_mask: a free CPU of w's mask, on node `near` first, then the nearest nodes;
    the most recently idled first; -1 if none is free or w is pinned."""
    m = M[M[H_W] + (w) * NW + (W_MASK)]
    if m < 0:
        return -1
    nn = M[M[H_X] + X_NNODES]
    C = M[H_C]
    for j in range(nn):
        n = M[M[H_MORD] + (m * nn + near) * nn + j]
        if n < 0:
            break
        s = M[M[H_MKS] + m * nn + n]
        best = -1
        seq = -1
        for i in range(s, s + M[M[H_MKL] + m * nn + n]):
            c = M[M[H_MCPU] + i]
            if M[C + (c) * NC + (C_OWNER)] == -1 and M[C + (c) * NC + (C_IDLE_SEQ)] > seq:
                best = c
                seq = M[C + (c) * NC + (C_IDLE_SEQ)]
        if best >= 0:
            return best
    return -1


@kernel
def _wake_latency(M, F, c, now):
    """Cpus.wake_latency: from a wake-up to the thread running on CPU c, idle or busy."""
    PR = M[H_PR]
    if M[M[H_C] + (c) * NC + (C_OWNER)] != -1:
        return M[PR + (PR_IDLE_WAKE_LAT)]
    if now - M[M[H_C] + (c) * NC + (C_IDLE_SINCE)] < M[PR + (PR_HALT_POLL)]:
        return M[PR + (PR_UNPARK_LAT)]
    return M[PR + (PR_IDLE_WAKE_LAT)]


@kernel
def _na_place(M, F, wakee, now):
    prev = M[M[H_W] + (wakee) * NW + (W_CPU)]
    if M[M[H_C] + (prev) * NC + (C_OWNER)] == -1:
        return prev, _wake_latency(M, F, prev, now)
    c = idle_in_mask(M, F, wakee, M[M[H_C] + (prev) * NC + (C_NODE)])
    if c >= 0:
        return c, _wake_latency(M, F, c, now)
    # every allowed CPU is busy: back on the previous one, preempting its thread
    M[M[H_R] + (R_STACKED_WAKES)] += 1
    return prev, M[M[H_PR] + (PR_CTX)]


@kernel
def _in_mask(M, m, c):
    return m >= 0 and M[M[H_MSET] + m * M[M[H_PR] + (PR_NCPU)] + c] != 0


@kernel
def _na_pull_to(M, F, c):
    # newidle balancing: a CPU going idle pulls a waiting thread allowed to run on it
    o = M[M[H_X] + X_SHEAD]
    while o >= 0:
        for i in range(M[M[H_C] + (o) * NC + (C_NWAIT)]):
            w = M[M[H_CW] + (o) * M[H_NWK] + (i)]
            if _in_mask(M, M[M[H_W] + (w) * NW + (W_MASK)], c):
                _unwait_at(M, F, o, i)
                _move(M, F, c, w)
                return
        o = M[M[H_C] + (o) * NC + (C_SNEXT)]


@alloc
def _na_balance(M, F):
    o = M[M[H_X] + X_SHEAD]
    while o >= 0:
        # Cpus.stacked is iterated over a copy, each CPU's waiting threads too: nothing taken off
        # here adds a CPU to it, and a CPU taken off it is the one being looked at
        nxt = M[M[H_C] + (o) * NC + (C_SNEXT)]
        n = M[M[H_C] + (o) * NC + (C_NWAIT)]
        ws = [M[M[H_CW] + (o) * M[H_NWK] + (i)] for i in range(n)]
        node = M[M[H_C] + (o) * NC + (C_NODE)]
        for w in ws:
            c = idle_in_mask(M, F, w, node)
            if c >= 0:
                _unwait_at(M, F, o, _waiting_index(M, F, o, w))
                _move(M, F, c, w)
        o = nxt


@kernel
def next_cpu(M, F, w, u_node, u_cpu):
    """placement.next_cpu for a migration the OS does now (u_move = 0, dt = forever): a CPU of
    w's mask other than its own, on its node if the mask's rule says so."""
    m = M[M[H_W] + (w) * NW + (W_MASK)]
    cpu = M[M[H_W] + (w) * NW + (W_CPU)]
    C = M[H_C]
    here = M[C + (cpu) * NC + (C_NODE)]
    s = M[M[H_MK] + m * NMK + MK_ALL]
    k = M[M[H_MK] + m * NMK + MK_NCPU]
    n_all = 0
    n_same = 0
    for i in range(s, s + k):
        c = M[M[H_MALL] + i]
        if c != cpu:
            n_all += 1
            if M[C + (c) * NC + (C_NODE)] == here:
                n_same += 1
    if n_all == 0:
        return cpu
    want = 0  # 0: any CPU of the mask, 1: same node, 2: another node
    n = n_all
    if M[M[H_MK] + m * NMK + MK_STAY]:
        # stay_on_node is 1.0 (a per-node runtime): u_node < 1 always holds
        if n_same > 0:
            want, n = 1, n_same
        elif n_all - n_same > 0:
            want, n = 2, n_all - n_same
    j = min(int(u_cpu * n), n - 1)
    for i in range(s, s + k):
        c = M[M[H_MALL] + i]
        if c == cpu:
            continue
        same = M[C + (c) * NC + (C_NODE)] == here
        if want == 0 or (want == 1 and same) or (want == 2 and not same):
            if j == 0:
                return c
            j -= 1
    return cpu


@kernel
def migrate(M, F, w, new):
    """Cpus.migrate: a parked thread just changes its previous CPU; a running or waiting one
    moves only onto a free CPU."""
    W = M[H_W]
    C = M[H_C]
    old = M[W + (w) * NW + (W_CPU)]
    if new == old:
        return
    if M[W + (w) * NW + (W_BLOCKED)]:
        M[W + (w) * NW + (W_CPU)] = new
        M[M[H_X] + X_MIGRATIONS] += 1
        return
    if M[C + (new) * NC + (C_OWNER)] != -1:
        return
    if M[C + (old) * NC + (C_OWNER)] == w:
        _take(M, F, new, w)
        _vacate(M, F, old)
    else:
        i = _waiting_index(M, F, old, w)
        if i < 0:
            return
        _unwait_at(M, F, old, i)
        _take(M, F, new, w)
        resume(M, F, w, M[M[H_PR] + (PR_CTX)])
    M[M[H_X] + X_MIGRATIONS] += 1
