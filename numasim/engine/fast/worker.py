"""tokio/worker.py (with the generator parts of tokio/park.py, host/thread.py and
workload/interpret.py), compiled: the worker's run loop as a state machine.

The SimPy worker is a generator; here its position is a label (W_PC) and its locals are columns
of its row. `step` resumes the worker at its label and runs until the next yield: it schedules
the event the generator would have yielded and returns. Each label says which line of the
reference it stands for. `run_for` and `wait_cpu` are subroutines with a return label.

It is long because it is one state machine: the labels of run, run_task, poll, poll_future's
loop, park and park_blocking jump to each other; split across files they would hide the control
flow that mirrors the generators line for line.
"""
from .jit import kernel

from .batch import about_to_park, end_processing, start_processing, submit, tuned_global_queue_interval, unparked
from .cpus import acquire, own_cpu, release, yield_cpu
from .driver import next_expiration, next_io_ns, park_timeout_ns, pop_expired, pop_io_ready
from .events import call_at, timeout
from .handle import complete, free_task, notify_if_work_pending, notify_parked, schedule_local, take_debt, wake
from .idle import (is_parked, transition_worker_from_searching, transition_worker_to_parked,
                   transition_worker_to_searching, unpark_worker_by_id)
from .fastrand import fastrand_n
from .interpret import await_point, consume_budget
from .network import arrive, has_message, take
from .numa import mem_ns, poll_start as numa_poll_start
from .observe import facts, facts_poll_start, observing, task_event, worker_event
from .park import should_notify_others
from .program import DONE, fetch
from .queue import (LOCAL_QUEUE_CAPACITY, has_tasks, inj_popleft, next_local_task, push_back_or_overflow,
                    q_append, steal_into)
from .taskmon import poll_end, poll_start
from .thread import ahead
from .mux import arrive as mux_arrive, arrive_hop as mux_arrive_hop, queued as mux_queued, take as mux_take
from .state import IO_HOPMSG, IO_MUX, OPK_HOP, OPK_MUX, T_HOP_IN, X_NPARTIES
from .state import H_OPS, H_X, IO_MESSAGE, NO, OPK_MEM, OPK_MPC, O_C, O_D, T_PC, W_CPU, X_NUMA
from .state import OB_PARK, OB_POLL_END, OB_POLL_START
from .state import (BUDGET, COMPLETE, EV_RESUME, EV_TWAKE, F_BATCH_PULL, F_BUSY_BY_PROC, F_DEDUPE,
                    F_FROM_PARKED_Q, F_HAS_PARK_UNPARK, F_LIFO_CAP, F_PARK_SPIN, F_PER_RUN_TASK,
                    F_START_AFTER_PARK, F_SUBMIT_BEFORE_PARK, H_DCAP, H_DEF, H_PR, H_R, H_RT, H_T,
                    H_W, IDLE, LOCAL_QUEUE_CAPACITY, NQ, NT, NW, OPK_IO, OPK_JOIN, OPK_NOW,
                    OPK_SLEEP, OPK_SPIN, OPK_YIELD, PR_DRIVER_POLL, PR_HALT_POLL, PR_IDLE_WAKE_LAT,
                    PR_PARK, PR_POLL, PR_READY, PR_RUN_TASK, PR_SCHED_YIELD, PR_SLACK, PR_STEAL,
                    PR_UNPARK_LAT, Q_BLOCKED_HOLDER, Q_CURRENT, Q_DEBT, Q_EVI, Q_HOLDER, Q_INJ_LEN,
                    Q_NEXT_WAKE, Q_NW, Q_POLLS_RUN, Q_READY, Q_SELF_TUNING, Q_W0, Q_WAKEUP_PENDING,
                    RUNNING, R_NOW, SCHEDULED, S_POLLS, T_JCUR, T_NEXT_SIB, T_NOTIFIED, T_OPA,
                    T_OPK, T_SEND, T_STATE, T_SUB, T_TFIRED, T_TSET, T_YIELDED, W_BLOCKED, W_BUDGET,
                    W_COST, W_CPU_UNTIL, W_DEFER_LEN, W_DONE, W_GQI, W_HAS_STALL_EV, W_IN_BATCH,
                    W_IN_PARK, W_LAST_RESUME, W_LIFO, W_LIFO_EN, W_LIFO_POLLS, W_NOTIFIED,
                    W_ON_DRIVER, W_OWED, W_PARK_GEN, W_PARK_START, W_PARK_TRIG, W_PC, W_POLLING, W_LAST_RAN, W_WOKE_AT,
                    W_POLL_RET, W_PRE, W_PREEMPTED_AT, W_Q_LEN, W_RF_NS, W_RF_RET, W_RT,
                    W_SEARCHING, W_SPIN, W_STALLED, W_START, W_TASK, W_TICK, W_WAKE_CPU,
                    W_WAKE_PENDING, W_WRET)

# labels (where the generator stands)
(L_START, L_RF, L_RF2, L_RF3, L_WC, L_WC2, L_WC3, L_STARTED, L_LOOP, L_MAINT, L_NEXT,
 L_AFTER_STEAL, L_DEFER_NB, L_AFTER_PARK, L_RT, L_RT_FIRST_DONE, L_RT_LIFO, L_POLL, L_P1, L_PF,
 L_PF_A, L_PF_B, L_PF_C, L_PEND, L_P2, L_P3, L_P4, L_PARK, L_PK_LOOP, L_PB0, L_PB1, L_PB2,
 L_PB_END, L_PK_C, L_PB_SPIN, L_PB_BLOCK) = range(36)


# ---------------------------------------------------------------- park.py's task-waking parts
@kernel
def drain_defer(M, F, w):
    n = M[M[H_W] + (w) * NW + (W_DEFER_LEN)]
    if n == 0:
        return
    M[M[H_W] + (w) * NW + (W_DEFER_LEN)] = 0
    if M[M[H_PR] + (F_DEDUPE)]:
        for i in range(n - 1, -1, -1):  # 1.29+ pops from the end
            wake(M, F, M[M[H_DEF] + (w) * M[H_DCAP] + (i)], w)
    else:
        for i in range(n):
            wake(M, F, M[M[H_DEF] + (w) * M[H_DCAP] + (i)], w)


@kernel
def poll_driver(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    Q = M[H_RT] + (r) * NQ
    now = M[M[H_R] + (R_NOW)]
    # wakes add no timers, so dispatching while popping is Driver.poll's order
    while True:
        t = pop_expired(M, F, r, now)
        if t < 0:
            break
        M[M[H_T] + (t) * NT + (T_TFIRED)] = 1
        wake(M, F, t, w)
    # max_io_events_per_tick: one epoll_wait returns at most 1024 events
    n = 0
    while n < 1024:
        t, key = pop_io_ready(M, F, r, now)
        if t == -1:
            break
        n += 1
        if t >= IO_MUX:
            mux_arrive(M, F, t - IO_MUX, w)  # a connection's message (tokio/driver.py Readiness)
            continue
        if t == IO_MESSAGE:
            arrive(M, F, key, w)  # a party's message (host/network.py)
            continue
        if t == IO_HOPMSG:
            mux_arrive_hop(M, F, key, w)  # the previous party's write on a connection (mpc_hop)
            continue
        M[M[H_T] + (t) * NT + (T_TFIRED)] = 1
        wake(M, F, t, w)
    M[Q + (Q_READY)] += n
    M[Q + (Q_NEXT_WAKE)] = next_expiration(M, F, r)


@kernel
def park_internal_nonblocking(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    Q = M[H_RT] + (r) * NQ
    M[M[H_W] + (w) * NW + (W_IN_PARK)] = 1
    if M[Q + (Q_HOLDER)] < 0:
        M[Q + (Q_HOLDER)] = w
        M[Q + (Q_WAKEUP_PENDING)] = 0
        poll_driver(M, F, w)
        M[Q + (Q_HOLDER)] = -1
    drain_defer(M, F, w)
    M[M[H_W] + (w) * NW + (W_IN_PARK)] = 0
    if should_notify_others(M, F, w):
        notify_parked(M, F, r)


@kernel
def transition_to_parked(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    if has_tasks(M, F, w):
        return False
    last = transition_worker_to_parked(M, F, r, w, M[M[H_W] + (w) * NW + (W_SEARCHING)] != 0)
    M[M[H_W] + (w) * NW + (W_SEARCHING)] = 0
    if last:
        notify_if_work_pending(M, F, r)
    return True


@kernel
def transition_from_parked(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    W = M[H_W]
    if M[W + (w) * NW + (W_LIFO)] >= 0 or (M[M[H_PR] + (F_FROM_PARKED_Q)] and M[W + (w) * NW + (W_Q_LEN)] > 0):
        M[W + (w) * NW + (W_SEARCHING)] = 0 if unpark_worker_by_id(M, F, r, w) else 1
        return True
    if is_parked(M, F, r, w):
        return False
    M[W + (w) * NW + (W_SEARCHING)] = 1
    return True


# ---------------------------------------------------------------- next_task, steal_work
@kernel
def next_task(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    Q = M[H_RT] + (r) * NQ
    W = M[H_W]
    if M[W + (w) * NW + (W_TICK)] % M[W + (w) * NW + (W_GQI)] == 0:
        if M[Q + (Q_SELF_TUNING)]:
            M[W + (w) * NW + (W_GQI)] = tuned_global_queue_interval(M, F, w, M[W + (w) * NW + (W_GQI)])
        if M[Q + (Q_INJ_LEN)] > 0:
            return inj_popleft(M, F, r)
        return next_local_task(M, F, w)
    t = next_local_task(M, F, w)
    if t >= 0 or M[Q + (Q_INJ_LEN)] == 0:
        return t
    if not M[M[H_PR] + (F_BATCH_PULL)]:
        return inj_popleft(M, F, r)
    n = M[Q + (Q_INJ_LEN)] // M[Q + (Q_NW)] + 1
    n = min(n, LOCAL_QUEUE_CAPACITY - M[W + (w) * NW + (W_Q_LEN)], LOCAL_QUEUE_CAPACITY // 2)
    n = max(1, min(n, M[Q + (Q_INJ_LEN)]))
    first = inj_popleft(M, F, r)
    for _ in range(n - 1):
        q_append(M, F, w, inj_popleft(M, F, r))
    return first


@kernel
def steal_work(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    Q = M[H_RT] + (r) * NQ
    W = M[H_W]
    if not M[W + (w) * NW + (W_SEARCHING)]:
        if not transition_worker_to_searching(M, F, r):
            return -1
        M[W + (w) * NW + (W_SEARCHING)] = 1
    n = M[Q + (Q_NW)]
    w0 = M[Q + (Q_W0)]
    start = fastrand_n(M, F, w, n)
    for i in range(n):
        v = (start + i) % n  # the runtime's own workers, by their index in it
        if w0 + v == w:
            continue
        if M[W + (w) * NW + (W_Q_LEN)] > LOCAL_QUEUE_CAPACITY // 2:
            break
        t = steal_into(M, F, w0 + v, w)
        if t >= 0:
            return t
    if M[Q + (Q_INJ_LEN)] > 0:
        return inj_popleft(M, F, r)
    return -1


@kernel
def transition_from_searching(M, F, w):
    r = M[M[H_W] + (w) * NW + (W_RT)]
    M[M[H_W] + (w) * NW + (W_SEARCHING)] = 0
    if transition_worker_from_searching(M, F, r):
        notify_parked(M, F, r)


@kernel
def wake_latency_ns(M, F, idle_ns):
    return M[M[H_PR] + (PR_UNPARK_LAT)] if idle_ns < M[M[H_PR] + (PR_HALT_POLL)] else M[M[H_PR] + (PR_IDLE_WAKE_LAT)]


# ---------------------------------------------------------------- the state machine
@kernel
def step(M, F, w):
    W = M[H_W]
    r = M[W + (w) * NW + (W_RT)]
    Q = M[H_RT] + (r) * NQ
    R = M[H_R]
    T = M[H_T]
    PR = M[H_PR]
    pc = M[W + (w) * NW + (W_PC)]
    while True:
        # ---------------- Thread.run_for(ns)
        if pc == L_RF:
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                M[W + (w) * NW + (W_WRET)] = L_RF2
                pc = L_WC
                continue
            pc = L_RF2
        if pc == L_RF2:
            ns = M[W + (w) * NW + (W_RF_NS)]
            if ns and not ahead(M, F, ns):
                M[W + (w) * NW + (W_CPU_UNTIL)] = M[R + (R_NOW)] + ns
                timeout(M, F, ns, EV_RESUME, w, 0)
                M[W + (w) * NW + (W_PC)] = L_RF3
                return
            pc = L_RF3
        if pc == L_RF3:
            M[Q + (Q_CURRENT)] = w
            pc = M[W + (w) * NW + (W_RF_RET)]
            continue
        # ---------------- Thread.wait_cpu()
        if pc == L_WC:
            if M[W + (w) * NW + (W_STALLED)]:
                M[W + (w) * NW + (W_HAS_STALL_EV)] = 1
                M[W + (w) * NW + (W_OWED)] += max(0, M[W + (w) * NW + (W_CPU_UNTIL)] - M[W + (w) * NW + (W_PREEMPTED_AT)])
                M[W + (w) * NW + (W_PC)] = L_WC2
                return
            pc = L_WC2
        if pc == L_WC2:
            owed = M[W + (w) * NW + (W_OWED)]
            M[W + (w) * NW + (W_OWED)] = 0
            if owed > 0:
                M[W + (w) * NW + (W_CPU_UNTIL)] = 0
                timeout(M, F, owed, EV_RESUME, w, 0)
                M[W + (w) * NW + (W_PC)] = L_WC3
                return
            pc = L_WC3
        if pc == L_WC3:
            M[Q + (Q_CURRENT)] = w
            pc = M[W + (w) * NW + (W_WRET)]
            continue
        # ---------------- Worker.run
        if pc == L_START:
            M[W + (w) * NW + (W_RF_NS)] = 0
            M[W + (w) * NW + (W_RF_RET)] = L_STARTED
            pc = L_RF
            continue
        if pc == L_STARTED:
            start_processing(M, F, w, M[R + (R_NOW)])
            M[W + (w) * NW + (W_LAST_RESUME)] = M[R + (R_NOW)]
            pc = L_LOOP
        if pc == L_LOOP:
            M[W + (w) * NW + (W_TICK)] += 1
            if M[W + (w) * NW + (W_TICK)] % M[Q + (Q_EVI)] == 0:
                if M[PR + (F_BUSY_BY_PROC)]:
                    end_processing(M, F, w, M[R + (R_NOW)])
                M[W + (w) * NW + (W_RF_NS)] = M[PR + (PR_DRIVER_POLL)] + take_debt(M, F, r)
                M[W + (w) * NW + (W_RF_RET)] = L_MAINT
                pc = L_RF
                continue
            pc = L_NEXT
        if pc == L_MAINT:
            park_internal_nonblocking(M, F, w)
            submit(M, F, w)
            if M[PR + (F_BUSY_BY_PROC)]:
                start_processing(M, F, w, M[R + (R_NOW)])
            pc = L_NEXT
        if pc == L_NEXT:
            t = next_task(M, F, w)
            if t >= 0:
                M[W + (w) * NW + (W_TASK)] = t
                M[W + (w) * NW + (W_PRE)] = M[PR + (PR_RUN_TASK)] + take_debt(M, F, r)
                pc = L_RT
                continue
            if M[PR + (F_BUSY_BY_PROC)]:
                end_processing(M, F, w, M[R + (R_NOW)])
            t = steal_work(M, F, w)
            if t >= 0:
                if M[PR + (F_BUSY_BY_PROC)]:
                    start_processing(M, F, w, M[R + (R_NOW)])
                M[W + (w) * NW + (W_TASK)] = t
                M[W + (w) * NW + (W_PRE)] = M[PR + (PR_RUN_TASK)] + M[PR + (PR_STEAL)] + take_debt(M, F, r)
                pc = L_RT
                continue
            M[W + (w) * NW + (W_RF_NS)] = M[PR + (PR_STEAL)] + take_debt(M, F, r)
            M[W + (w) * NW + (W_RF_RET)] = L_AFTER_STEAL
            pc = L_RF
            continue
        if pc == L_AFTER_STEAL:
            if M[W + (w) * NW + (W_DEFER_LEN)] > 0:
                M[W + (w) * NW + (W_RF_NS)] = M[PR + (PR_DRIVER_POLL)]
                M[W + (w) * NW + (W_RF_RET)] = L_DEFER_NB
                pc = L_RF
                continue
            pc = L_PARK
            continue
        if pc == L_DEFER_NB:
            park_internal_nonblocking(M, F, w)
            pc = L_AFTER_PARK
        if pc == L_AFTER_PARK:
            if M[PR + (F_BUSY_BY_PROC)] and M[PR + (F_START_AFTER_PARK)]:
                start_processing(M, F, w, M[R + (R_NOW)])
            pc = L_LOOP
            continue
        # ---------------- Worker.run_task
        if pc == L_RT:
            if M[W + (w) * NW + (W_SEARCHING)]:
                transition_from_searching(M, F, w)
                # the last searcher's notify is paid before the poll begins (Worker.run_task)
                M[W + (w) * NW + (W_PRE)] += take_debt(M, F, r)
            M[W + (w) * NW + (S_POLLS)] += 1
            M[W + (w) * NW + (W_IN_BATCH)] += 1
            M[W + (w) * NW + (W_BUDGET)] = BUDGET
            M[W + (w) * NW + (W_POLL_RET)] = L_RT_FIRST_DONE
            pc = L_POLL
            continue
        if pc == L_RT_FIRST_DONE:
            M[W + (w) * NW + (W_LIFO_POLLS)] = 0
            pc = L_RT_LIFO
        if pc == L_RT_LIFO:
            t = M[W + (w) * NW + (W_LIFO)]
            if t < 0:
                M[W + (w) * NW + (W_LIFO_EN)] = 1
                pc = L_LOOP
                continue
            if M[W + (w) * NW + (W_BUDGET)] == 0:
                M[W + (w) * NW + (W_LIFO)] = -1
                push_back_or_overflow(M, F, w, t)
                pc = L_LOOP
                continue
            cap = M[PR + (F_LIFO_CAP)]
            if cap > 0:
                M[W + (w) * NW + (W_LIFO_POLLS)] += 1
                if M[W + (w) * NW + (W_LIFO_POLLS)] >= cap:
                    M[W + (w) * NW + (W_LIFO_EN)] = 0
            M[W + (w) * NW + (W_LIFO)] = -1
            if not M[PR + (F_PER_RUN_TASK)]:
                M[W + (w) * NW + (S_POLLS)] += 1
            M[W + (w) * NW + (W_TASK)] = t
            M[W + (w) * NW + (W_PRE)] = 0
            M[W + (w) * NW + (W_POLL_RET)] = L_RT_LIFO
            pc = L_POLL
            continue
        # ---------------- Worker.poll
        if pc == L_POLL:
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                M[W + (w) * NW + (W_WRET)] = L_P1
                pc = L_WC
                continue
            pc = L_P1
        if pc == L_P1:
            t = M[W + (w) * NW + (W_TASK)]
            M[Q + (Q_POLLS_RUN)] += 1
            M[T + (t) * NT + (T_STATE)] = RUNNING
            M[W + (w) * NW + (W_POLLING)] = t
            if observing(M):
                task_event(M, OB_POLL_START, w, t)
            if facts(M):
                facts_poll_start(M, w, t)
            start = M[R + (R_NOW)] + M[W + (w) * NW + (W_PRE)]
            M[W + (w) * NW + (W_START)] = start
            poll_start(M, F, t, start)
            M[W + (w) * NW + (W_COST)] = M[W + (w) * NW + (W_PRE)] + M[PR + (PR_POLL)]
            if M[M[H_X] + X_NUMA]:
                M[W + (w) * NW + (W_COST)] += numa_poll_start(M, F, w, t)
            pc = L_PF
        # ---------------- poll_future's loop
        if pc == L_PF:
            t = M[W + (w) * NW + (W_TASK)]
            cost = M[W + (w) * NW + (W_COST)]
            while True:
                k = M[T + (t) * NT + (T_OPK)]
                if k == -1:
                    k = fetch(M, F, t)
                    if k == DONE:
                        break
                    M[T + (t) * NT + (T_OPK)] = k
                if M[Q + (Q_DEBT)]:
                    cost += M[Q + (Q_DEBT)]
                    M[Q + (Q_DEBT)] = 0
                if k == OPK_SPIN:
                    cost += M[T + (t) * NT + (T_OPA)]
                    M[T + (t) * NT + (T_OPK)] = -1
                    continue
                if k == OPK_MEM:
                    # memory work inside the poll, priced from the CPU this thread runs on now
                    o = M[H_OPS] + (M[T + (t) * NT + (T_PC)] - 1) * NO
                    cost += mem_ns(M, F, M[W + (w) * NW + (W_CPU)], M[o + O_D], M[T + (t) * NT + (T_OPA)], M[o + O_C])
                    M[T + (t) * NT + (T_OPK)] = -1
                    continue
                if k == OPK_NOW:
                    M[T + (t) * NT + (T_SEND)] = M[R + (R_NOW)] + cost
                    M[T + (t) * NT + (T_OPK)] = -1
                    continue
                if k == OPK_YIELD and M[T + (t) * NT + (T_YIELDED)]:
                    M[T + (t) * NT + (T_YIELDED)] = 0
                    M[T + (t) * NT + (T_OPK)] = -1
                    continue
                if k == OPK_JOIN:
                    h = M[T + (t) * NT + (T_OPA)]
                    if M[T + (h) * NT + (T_STATE)] == COMPLETE and M[W + (w) * NW + (W_BUDGET)]:
                        consume_budget(M, F, w)
                        cost += M[PR + (PR_READY)]
                        M[T + (t) * NT + (T_OPK)] = -1
                        # the handle is passed and dropped: its slot is free
                        M[T + (t) * NT + (T_JCUR)] = M[T + (h) * NT + (T_NEXT_SIB)]
                        M[T + (t) * NT + (T_SUB)] += 1
                        free_task(M, F, h)
                        continue
                elif k == OPK_SLEEP or k == OPK_IO:
                    if M[T + (t) * NT + (T_TSET)] and M[T + (t) * NT + (T_TFIRED)] and M[W + (w) * NW + (W_BUDGET)]:
                        consume_budget(M, F, w)
                        cost += M[PR + (PR_READY)]
                        M[T + (t) * NT + (T_TSET)] = 0
                        M[T + (t) * NT + (T_TFIRED)] = 0
                        M[T + (t) * NT + (T_OPK)] = -1
                        continue
                elif k == OPK_HOP:
                    # sent, and the receiving multiplexer has handed the message over: Ready
                    # (with parties the message is the network's: host/network.py)
                    net = M[M[H_X] + X_NPARTIES] > 1
                    if M[T + (t) * NT + (T_TSET)] and M[W + (w) * NW + (W_BUDGET)] and (
                            has_message(M, t) if net else M[T + (t) * NT + (T_HOP_IN)] > 0):
                        consume_budget(M, F, w)
                        cost += M[PR + (PR_READY)]
                        if net:
                            take(M, t)
                        else:
                            M[T + (t) * NT + (T_HOP_IN)] -= 1
                        M[T + (t) * NT + (T_TSET)] = 0
                        M[T + (t) * NT + (T_OPK)] = -1
                        continue
                elif k == OPK_MUX:
                    # a multiplexer takes every queued message while it has budget (mux.py)
                    if mux_queued(M, t) and M[W + (w) * NW + (W_BUDGET)]:
                        consume_budget(M, F, w)
                        cost += mux_take(M, F, t)
                        continue
                elif k == OPK_MPC:
                    # the round's message was sent (T_TSET) and the previous party's is here: the
                    # channel's recv is Ready and spends budget, as a ready socket does
                    if M[T + (t) * NT + (T_TSET)] and M[W + (w) * NW + (W_BUDGET)] and has_message(M, t):
                        consume_budget(M, F, w)
                        cost += M[PR + (PR_READY)]
                        take(M, t)
                        M[T + (t) * NT + (T_TSET)] = 0
                        M[T + (t) * NT + (T_OPK)] = -1
                        continue
                break
            M[W + (w) * NW + (W_COST)] = cost
            if k == DONE:
                M[W + (w) * NW + (W_DONE)] = 1
                pc = L_PEND
                continue
            if cost:
                if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                    M[W + (w) * NW + (W_WRET)] = L_PF_A
                    pc = L_WC
                    continue
                pc = L_PF_A
            else:
                pc = L_PF_C
        if pc == L_PF_A:
            cost = M[W + (w) * NW + (W_COST)]
            if not ahead(M, F, cost):
                M[W + (w) * NW + (W_CPU_UNTIL)] = M[R + (R_NOW)] + cost
                timeout(M, F, cost, EV_RESUME, w, 0)
                M[W + (w) * NW + (W_PC)] = L_PF_B
                return
            pc = L_PF_C
        if pc == L_PF_B:
            M[Q + (Q_CURRENT)] = w
            pc = L_PF_C
        if pc == L_PF_C:
            t = M[W + (w) * NW + (W_TASK)]
            pending, c = await_point(M, F, w, t, M[T + (t) * NT + (T_OPK)])
            M[W + (w) * NW + (W_COST)] = c
            if pending:
                M[W + (w) * NW + (W_DONE)] = 0
                pc = L_PEND
            else:
                pc = L_PF
                continue
        # ---------------- the rest of Worker.poll
        if pc == L_PEND:
            M[W + (w) * NW + (W_COST)] += M[Q + (Q_DEBT)]
            M[Q + (Q_DEBT)] = 0
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                M[W + (w) * NW + (W_WRET)] = L_P2
                pc = L_WC
                continue
            pc = L_P2
        if pc == L_P2:
            cost = M[W + (w) * NW + (W_COST)]
            if cost and not ahead(M, F, cost):
                M[W + (w) * NW + (W_CPU_UNTIL)] = M[R + (R_NOW)] + cost
                timeout(M, F, cost, EV_RESUME, w, 0)
                M[W + (w) * NW + (W_PC)] = L_P3
                return
            pc = L_P4
        if pc == L_P3:
            M[Q + (Q_CURRENT)] = w
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                M[W + (w) * NW + (W_WRET)] = L_P4
                pc = L_WC
                continue
            pc = L_P4
        if pc == L_P4:
            t = M[W + (w) * NW + (W_TASK)]
            poll_end(M, F, t, M[W + (w) * NW + (W_START)], M[R + (R_NOW)], M[W + (w) * NW + (W_DONE)] != 0)
            M[W + (w) * NW + (W_POLLING)] = -1
            if observing(M):
                task_event(M, OB_POLL_END, w, t)
            if M[W + (w) * NW + (W_DONE)]:
                complete(M, F, t, w)
            elif M[T + (t) * NT + (T_NOTIFIED)]:
                M[T + (t) * NT + (T_NOTIFIED)] = 0
                M[T + (t) * NT + (T_STATE)] = SCHEDULED
                schedule_local(M, F, w, t, True)
            else:
                M[T + (t) * NT + (T_STATE)] = IDLE
            pc = M[W + (w) * NW + (W_POLL_RET)]
            continue
        # ---------------- Parker.park
        if pc == L_PARK:
            if not transition_to_parked(M, F, w):
                pc = L_AFTER_PARK
                continue
            pc = L_PK_LOOP
        if pc == L_PK_LOOP:
            about_to_park(M, F, w, M[R + (R_NOW)])
            if M[PR + (F_SUBMIT_BEFORE_PARK)]:
                submit(M, F, w)
            if observing(M):
                worker_event(M, OB_PARK, w)
            M[W + (w) * NW + (W_RF_NS)] = M[PR + (PR_PARK)] + take_debt(M, F, r)
            M[W + (w) * NW + (W_RF_RET)] = L_PB0
            pc = L_RF
            continue
        # ---------------- Parker.park_blocking
        if pc == L_PB0:
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                M[W + (w) * NW + (W_WRET)] = L_PB1  # run_for(0): wait_cpu, then nothing to spend
                pc = L_WC
                continue
            pc = L_PB1
        if pc == L_PB1:
            M[W + (w) * NW + (W_IN_PARK)] = 1
            M[W + (w) * NW + (W_SPIN)] = 0
            pc = L_PB_SPIN
        if pc == L_PB_SPIN:
            # 1.24's park.rs: up to three times, take a pending NOTIFIED, else sched_yield; a
            # yield hands the CPU to a thread waiting for it and queues this one behind it
            if M[W + (w) * NW + (W_SPIN)] < M[PR + (F_PARK_SPIN)] and not M[W + (w) * NW + (W_NOTIFIED)]:
                M[W + (w) * NW + (W_SPIN)] += 1
                if yield_cpu(M, F, w):
                    M[W + (w) * NW + (W_WRET)] = L_PB_SPIN
                    pc = L_WC
                    continue
                M[W + (w) * NW + (W_RF_NS)] = M[PR + (PR_SCHED_YIELD)]
                M[W + (w) * NW + (W_RF_RET)] = L_PB_SPIN
                pc = L_RF
                continue
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                # preempted during the spin's last yield: the CPU back before blocking
                M[W + (w) * NW + (W_WRET)] = L_PB_BLOCK
                pc = L_WC
                continue
            pc = L_PB_BLOCK
        if pc == L_PB_BLOCK:
            if M[W + (w) * NW + (W_NOTIFIED)]:
                M[W + (w) * NW + (W_NOTIFIED)] = 0
                M[W + (w) * NW + (W_ON_DRIVER)] = 0
                pc = L_PB_END
            elif M[Q + (Q_HOLDER)] < 0 and M[Q + (Q_WAKEUP_PENDING)]:
                M[Q + (Q_WAKEUP_PENDING)] = 0
                M[Q + (Q_HOLDER)] = w
                poll_driver(M, F, w)
                M[Q + (Q_HOLDER)] = -1
                M[W + (w) * NW + (W_ON_DRIVER)] = 0
                pc = L_PB_END
            else:
                M[W + (w) * NW + (W_PARK_GEN)] += 1
                gen = M[W + (w) * NW + (W_PARK_GEN)]
                M[W + (w) * NW + (W_PARK_TRIG)] = 0
                M[W + (w) * NW + (W_BLOCKED)] = 1
                now = M[R + (R_NOW)]
                M[W + (w) * NW + (W_PARK_START)] = now
                M[W + (w) * NW + (W_LAST_RAN)] = now - M[W + (w) * NW + (W_WOKE_AT)]
                M[W + (w) * NW + (W_WAKE_PENDING)] = 0
                on_driver = M[Q + (Q_HOLDER)] < 0
                M[W + (w) * NW + (W_ON_DRIVER)] = 1 if on_driver else 0
                if on_driver:
                    M[Q + (Q_HOLDER)] = w
                    M[Q + (Q_BLOCKED_HOLDER)] = w
                    to = park_timeout_ns(M, F, r, now)
                    M[Q + (Q_NEXT_WAKE)] = next_expiration(M, F, r)
                    nio = next_io_ns(M, F, r)
                    if to >= 0:
                        lat = M[PR + (PR_SLACK)] + wake_latency_ns(M, F, now + to - now)
                        call_at(M, F, now + to + lat, EV_TWAKE, w, gen)
                    if nio >= 0 and nio <= now:
                        # readiness already pending: epoll_wait returns at once
                        call_at(M, F, now, EV_TWAKE, w, gen)
                M[W + (w) * NW + (W_WAKE_CPU)] = -1
                release(M, F, w)
                M[W + (w) * NW + (W_PC)] = L_PB2
                return
        if pc == L_PB2:
            M[W + (w) * NW + (W_BLOCKED)] = 0
            M[W + (w) * NW + (W_WOKE_AT)] = M[R + (R_NOW)]
            wc = M[W + (w) * NW + (W_WAKE_CPU)]
            acquire(M, F, w, wc if wc >= 0 else own_cpu(M, F, w))
            M[Q + (Q_CURRENT)] = w
            M[W + (w) * NW + (W_NOTIFIED)] = 0
            if M[W + (w) * NW + (W_ON_DRIVER)]:
                M[Q + (Q_BLOCKED_HOLDER)] = -1
                poll_driver(M, F, w)
                M[Q + (Q_HOLDER)] = -1
            pc = L_PB_END
        if pc == L_PB_END:
            drain_defer(M, F, w)
            M[W + (w) * NW + (W_IN_PARK)] = 0
            if should_notify_others(M, F, w):
                notify_parked(M, F, r)
            if M[W + (w) * NW + (W_STALLED)] or M[W + (w) * NW + (W_OWED)]:
                # preempted by the sibling it just woke, still in park_internal (tokio/park.py)
                M[W + (w) * NW + (W_WRET)] = L_PK_C
                pc = L_WC
                continue
            pc = L_PK_C
        if pc == L_PK_C:
            if M[PR + (F_HAS_PARK_UNPARK)]:
                unparked(M, F, w, M[R + (R_NOW)])
            else:
                M[W + (w) * NW + (W_LAST_RESUME)] = M[R + (R_NOW)]
            submit(M, F, w)
            if transition_from_parked(M, F, w):
                pc = L_AFTER_PARK
            else:
                pc = L_PK_LOOP
            continue
