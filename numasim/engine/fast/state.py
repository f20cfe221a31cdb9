"""The compiled engine's state: struct-of-arrays field indices and their allocation.

Every object of the SimPy engine becomes a row of an int64 array; its attributes become the
column constants below (Numba folds module-level ints into the compiled code). `None` is -1.
Capacities that depend on the run (tasks alive at once, the inject queue, events pending,
completed-task latencies) start small; a run that outgrows one stops, and `engine.run` reruns it
from the start with that capacity doubled (same seed, same bytes).
"""
import numpy as np  # noqa: E402

# ---- worker row (tokio/worker.py Worker + host/thread.py Thread + metrics/batch.py WorkerStats)
(W_CPU, W_STALLED, W_HAS_STALL_EV, W_WAKE_CPU, W_CPU_UNTIL, W_PREEMPTED_AT, W_OWED, W_BLOCKED,
 W_TICK, W_LIFO, W_LIFO_EN, W_SEARCHING, W_IN_PARK, W_GQI, W_NOTIFIED, W_PARK_GEN, W_PARK_TRIG,
 W_WAKE_PENDING, W_POLLING, W_BUDGET, W_PARK_START, W_FR_ONE, W_FR_TWO, W_Q_HEAD, W_Q_LEN,
 W_DEFER_LEN,
 # the SimPy generator's position and locals (its frame), one label per yield point
 W_PC, W_WRET, W_RF_NS, W_RF_RET, W_TASK, W_PRE, W_START, W_COST, W_DONE, W_LIFO_POLLS,
 W_POLL_RET, W_ON_DRIVER, W_PARK_RET, W_SPIN,
 # WorkerStats: the nine counters in WORKER_FIELDS order, then their published copy
 S_PARK, S_NOOP, S_STEAL, S_STEAL_OPS, S_POLLS, S_BUSY, S_LOCAL_SCHED, S_OVERFLOW, S_PARK_UNPARK,
 P_PARK, P_NOOP, P_STEAL, P_STEAL_OPS, P_POLLS, P_BUSY, P_LOCAL_SCHED, P_OVERFLOW, P_PARK_UNPARK,
 W_PUB_MEAN, W_PC_LAST_PARK, W_PROC_START, W_BATCH_START, W_IN_BATCH, W_LAST_RESUME,
 W_RT,  # its runtime (workers are numbered over every runtime, in spec order)
 W_WOKEN_BY, W_WOKEN_GEN,  # a fast wake from a running worker under way: the waker, the park
 W_WAKES_OUT,  # how many workers' W_WOKEN_BY name this one (release scans only if any)
 W_WOKE_AT, W_LAST_RAN,  # when it last came back from a blocking park; how long it then ran
 NW) = range(71)
N_STATS = 9

# ---- task row (tokio/task.py Task; the program position of workload/program.py's generator)
(T_STATE, T_NOTIFIED, T_OPK, T_PC, T_SUB, T_SEND, T_YIELDED, T_TFIRED, T_TSET, T_WAITER, T_DEF,
 T_MON, T_CREATED, T_POLLED, T_LAST_END, T_WOKE, T_SPAWNED, T_GHEAD, T_GTAIL, T_JCUR, T_NEXT_SIB,
 T_HELD, T_OPA,
 # its place in the spawn tree (workload/program.py child_key), whether its stream is made yet,
 # then the stream: PCG64's 128-bit state and increment as four words (engine/fast/pcg.py)
 T_KEY, T_DRAWS, T_PCG, _T_PCG1, _T_PCG2, _T_PCG3,
 T_RT,  # the runtime it was spawned into
 T_CTR) = range(31)
MAX_DEPTH = 8  # repeat nesting levels a task body may have (deeper specs are refused)
MAX_KEPT = 4  # names of kept JoinHandles ("as") in one spec
T_KEPT = T_CTR + MAX_DEPTH  # (head, tail) of each name's kept handles
NT = T_KEPT + 2 * MAX_KEPT

# task states (tokio/task.py)
IDLE, SCHEDULED, RUNNING, COMPLETE = range(4)
BUDGET = 128
LOCAL_QUEUE_CAPACITY = 256

# ---- blocking-pool thread row (tokio/blocking.py BlockingPool._thread: its generator and the
# idle wait `ev | timeout(keep_alive)` it blocks on)
BT_ALIVE, BT_PC, BT_GEN, BT_EV_TRIG, BT_EV_DONE, BT_COND_TRIG, BT_TASK, NBT = range(8)
BT_CAP = 512  # max_blocking_threads

# ---- CPU row (host/cpus.py Cpu)
C_OWNER, C_IDLE_SINCE, C_NWAIT, NC = range(4)

# ---- system scalars (the clock, the event queue, the task slots, the samples, the draws)
(R_NOW, R_EID, R_EV_LEN, R_OVERFLOW, R_FREE_TOP, R_LIVE_MON, R_STACKED_WAKES,
 R_BALANCE_MOVES, R_NLAT, R_NSAMPLE, R_DONE, R_STOPPED, R_SAMPLER_NXT, R_SAMPLER_PHASE,
 R_ENDER_PHASE, R_ENDER_LIMIT, R_EVENTS, R_LAT_BASE, R_U_I, R_U_N,
 NR) = range(21)

# ---- runtime row (tokio/handle.py Runtime: its inject queue, idle state, driver, blocking pool,
# counters; `current` and `debt`), one per runtime at M[H_RT] + r * NQ
(Q_CURRENT, Q_DEBT, Q_INJ_HEAD, Q_INJ_LEN, Q_NUM_UNPARKED, Q_NUM_SEARCHING, Q_NSLEEP,
 Q_MAX_SEARCHING, Q_REMOTE, Q_BUDGET_FORCED, Q_SPAWNED, Q_ALIVE, Q_TM_LEN, Q_TM_SEQ, Q_HOLDER,
 Q_BLOCKED_HOLDER, Q_READY, Q_NEXT_WAKE, Q_WAKEUP_PENDING, Q_POLLS_RUN, Q_IO_LEN, Q_BQ_HEAD,
 Q_BQ_LEN, Q_BP_THREADS, Q_BP_IDLE, Q_NIDLE_EV,
 # its spec: worker count, first worker's number, event_interval, self-tuning global queue interval
 Q_NW, Q_W0, Q_EVI, Q_SELF_TUNING,
 NQ) = range(31)

# ---- parameters (host costs, profile flags, the spec's numbers)
(PR_POLL, PR_SPAWN, PR_READY, PR_RUN_TASK, PR_STEAL, PR_DRIVER_POLL, PR_PARK, PR_UNPARK_LAT,
 PR_IDLE_WAKE_LAT, PR_HALT_POLL, PR_CTX, PR_BALANCE, PR_UNPARK, PR_EVENTFD, PR_SLACK, PR_STARTUP,
 PR_NW, PR_NCPU, PR_NRT, PR_REMOTE_SCHED, PR_SEED, PR_END, PR_ORIGIN, PR_SAMPLE_NS, PR_SLOW, PR_LONG,
 PR_NSRC, PR_IO_WAKE_LAT, PR_THREAD_SPAWN, PR_SCHED_YIELD, PR_WORKER_UNPARK_LAT, PR_SHORT_RUN, F_PARK_SPIN,
 F_LIFO_CAP, F_PER_RUN_TASK, F_BATCH_PULL, F_NEWEST_HALF, F_BUSY_BY_PROC, F_START_AFTER_PARK,
 F_DEDUPE, F_NEEDS_TWO, F_FROM_PARKED_Q, F_SUBMIT_BEFORE_PARK, F_BUDGET_DEFERS, F_LIFO_STEALABLE,
 F_HAS_PARK_UNPARK, NPR) = range(47)

# ---- events (SimPy's queue: (time, priority, eid) then what the event does)
E_T, E_P, E_ID, E_K, E_A, E_B, NE = range(7)
URGENT, NORMAL = 0, 1
(EV_NOOP, EV_RESUME, EV_TWAKE, EV_STALL_SUCCEED, EV_BALANCE, EV_SRC_INIT, EV_SRC, EV_SAMPLER,
 EV_ENDER, EV_STOP, EV_IO_READY, EV_BT_RESUME, EV_BT_EV, EV_BT_KEEP, EV_BT_COND) = range(15)

# ---- program ops (workload/program.py's generator, flattened)
(K_END, K_SPIN, K_YIELD, K_SLEEP, K_SPAWN, K_REPEAT, K_REPEAT_END, K_LOOP, K_LOOP_END, K_IO,
 K_BLOCKING, K_JOIN) = range(12)
O_K, O_A, O_B, O_C, O_D, NO = range(6)  # O_D of a spawn: 1 + its "as" name's slot, or 0
# O_B of spin/sleep/io/spawn_blocking: 0 for the fixed duration in O_A, else 1 + the index of the
# distribution its duration is drawn from (its (kind, a, b) at F[H_FD + 3 * index])
# the operation a task is parked on (T_OPK), as workload/program.py's OP_* codes
OPK_NONE, OPK_SPIN, OPK_YIELD, OPK_SLEEP, OPK_IO, OPK_JOIN, OPK_NOW, OPK_SPAWN, OPK_BLOCKING = -1, 0, 1, 2, 3, 5, 7, 4, 6

# ---- samples: what RuntimeMonitor reads at each sample
(SR_T, SR_REMOTE, SR_BUDGET, SR_READY, SR_ALIVE, SR_INJ, SR_NLAT, SR_BQ, SR_BT, SR_BIDLE, NSR) = range(11)
N_MON = 19  # TaskMonitor's 17 counters, max_idle, (spare)
DEFS_MON_COL = 1
DEFS_RT_COL = 2  # the runtime a spawn of this def goes into (-1: the spawner's)
NDEFS = 3
NSRC_COLS = 5  # kind, def, first arrival, arrivals, runtime

# ---- the layout of the one int64 array M that holds all of it. A compiled function takes (M, F)
# only: Numba increfs every array of a tuple argument on each call, which at ~25 arrays cost more
# than the rules themselves. Each table starts at the offset stored in its header slot.
(H_W, H_T, H_LQ, H_DEF, H_FREE, H_INJ, H_EV, H_TM, H_C, H_CW, H_SL, H_MON, H_LAT, H_SR, H_SW, H_SD,
 H_SM, H_OPS, H_DEFS, H_SRC, H_ARRT, H_R, H_PR, H_NWK, H_DCAP, H_ECAP, H_TMCAP, H_SCAP, H_NMON,
 H_LCAP, H_ICAP, H_TCAP, H_FU0, H_UCAP, H_IO, H_BQ, H_BT, H_IDL, H_FD, H_RT, H_NRT, H_NNAMES,
 N_H) = range(43)
N_SW = N_STATS + 1
# F (float64): the stack-wake and stack-wait probabilities, each worker's poll-time EWMA, a window of the OS
# stream's uniform draws (refilled between events from the same numpy Generator), then the
# (kind, a, b) of each distribution drawn inside tasks
# F_SCALE: the party's factor on spin draws (host/network.py; workload/program.py TaskDraws.spin_scale)
# F_STACK_AGAIN, F_STACK_WAIT_SHORT: host.stack_again_prob, host.stack_wait_short_prob
F_STACK, F_SCALE, F_STACK_WAIT, F_STACK_AGAIN, F_STACK_WAIT_SHORT, F_EWMA = 0, 1, 2, 3, 4, 5
U_MARGIN = 64  # draws one event may take at most, with room to spare


def allocate(nw, ncpu, nrt, nnames, ops, defs, src, arrt, params, stack_probs, dists, caps, ucap=4096,
             numa=None):
    """(M, F, views): the arrays and numpy views of M's tables by name, for the Python side.
    `nw` counts the workers of every runtime; each runtime has its own inject queue, timer and
    I/O heaps, blocking pool and `nnames` TaskMonitors (rows r * nnames + name). `dists`: the
    (kind, a, b) of each distribution drawn inside tasks. `numa` (a machine): {name: (header slot,
    int64 array)} and "F" {name: (slot, float64 array)} of the NUMA block's tables, laid out after
    the others (their views are named too)."""
    tcap, icap, ecap, dcap, lcap, scap = caps
    nmon = nrt * nnames
    shapes = [("W", (nw, NW)), ("T", (tcap, NT)), ("LQ", (nw, LOCAL_QUEUE_CAPACITY)), ("DEF", (nw, dcap)),
              ("FREE", (tcap,)), ("INJ", (nrt, icap)), ("EV", (ecap, NE)), ("TM", (nrt, tcap, 3)),
              ("IO", (nrt, tcap, 4)), ("BQ", (nrt, tcap, 2)), ("BT", (nrt * BT_CAP, NBT)),
              ("IDL", (nrt, BT_CAP)), ("C", (ncpu, NC)), ("CW", (ncpu, nw)), ("SL", (nw,)), ("MON", (nmon, N_MON)),
              ("LAT", (lcap, 2)), ("SR", (scap, nrt, NSR)), ("SW", (scap, nw, N_SW)), ("SD", (scap, nw)),
              ("SM", (scap, nmon, N_MON)), ("OPS", ops.shape), ("DEFS", defs.shape), ("SRC", src.shape),
              ("ARRT", arrt.shape), ("R", (NR,)), ("RT", (nrt, NQ)), ("PR", (NPR,))]
    heads = {}
    if numa is not None:
        numa = dict(numa, STC=(H_STC, np.zeros((scap, nw), np.int64)))
        for name, v in numa.items():
            if name != "F":
                shapes.append((name, v[1].shape))
                heads[name] = v[0]
    off = N_HX
    offs = {}
    for name, shp in shapes:
        offs[name] = off
        off += int(np.prod(shp))
    M = np.zeros(off, np.int64)
    heads.update(W=H_W, T=H_T, LQ=H_LQ, DEF=H_DEF, FREE=H_FREE, INJ=H_INJ, EV=H_EV, TM=H_TM, IO=H_IO,
                 BQ=H_BQ, BT=H_BT, IDL=H_IDL, C=H_C, CW=H_CW, SL=H_SL, MON=H_MON, LAT=H_LAT, SR=H_SR, SW=H_SW,
                 SD=H_SD, SM=H_SM, OPS=H_OPS, DEFS=H_DEFS, SRC=H_SRC, ARRT=H_ARRT, R=H_R, RT=H_RT, PR=H_PR)
    views = {}
    for name, shp in shapes:
        M[heads[name]] = offs[name]
        views[name] = M[offs[name]:offs[name] + int(np.prod(shp))].reshape(shp)
    M[H_NWK] = nw
    M[H_DCAP] = dcap
    M[H_ECAP] = ecap
    M[H_TMCAP] = tcap
    M[H_SCAP] = scap
    M[H_NMON] = nmon
    M[H_NNAMES] = nnames
    M[H_NRT] = nrt
    M[H_LCAP] = lcap
    M[H_ICAP] = icap
    M[H_TCAP] = tcap
    M[H_FU0] = F_EWMA + nw
    M[H_UCAP] = ucap
    views["OPS"][:] = ops
    views["DEFS"][:] = defs
    views["SRC"][:] = src
    views["ARRT"][:] = arrt
    views["PR"][:] = params
    views["FREE"][:] = np.arange(tcap - 1, -1, -1)
    views["R"][R_FREE_TOP] = tcap
    views["R"][R_OTHER] = NEVER  # one party: no other event queue
    M[H_FD] = F_EWMA + nw + ucap
    fx = numa.get("F", {}) if numa is not None else {}
    F = np.zeros(F_EWMA + nw + ucap + 3 * len(dists) + sum(a.size for _s, a in fx.values()))
    # stack_probs: host.stack_wake_prob, stack_wait_prob, stack_again_prob, stack_wait_short_prob
    F[F_STACK], F[F_STACK_WAIT], F[F_STACK_AGAIN], F[F_STACK_WAIT_SHORT] = stack_probs
    F[F_SCALE] = 1.0
    for i, d in enumerate(dists):
        F[M[H_FD] + 3 * i:M[H_FD] + 3 * i + 3] = d
    if numa is not None:
        for name, v in numa.items():
            if name != "F":
                views[name][...] = v[1]
        o = F_EWMA + nw + ucap + 3 * len(dists)
        for name, (slot, a) in fx.items():
            M[slot] = o
            F[o:o + a.size] = a.ravel()
            views[name] = F[o:o + a.size].reshape(a.shape)
            o += a.size
    return M, F, views


# ==== a NUMA machine (host/cpus.py NodeAware, host/numa.py) ===================================
# Appended columns and tables, kept in this one block: a flat host leaves them unused.
# worker: its allowed-CPU mask (-1: pinned), the node of its previous poll (Thread.last_node)
W_MASK, W_LAST_NODE = NW, NW + 1
NW = NW + 2
# task: the CPU of its previous poll (-1: none yet) and the steal cost its next poll pays
T_LAST_CPU, T_NUMA_DEBT = NT, NT + 1
NT = NT + 2
# CPU: its node, when it last went idle in Mask.idle's order (the most recently idled wins),
# and its place in Cpus.stacked, the CPUs with waiting threads in insertion order
C_NODE, C_IDLE_SEQ, C_SPREV, C_SNEXT, C_IN_STACKED = NC, NC + 1, NC + 2, NC + 3, NC + 4
NC = NC + 5
# scalars
(X_NUMA, X_NNODES, X_IDLE_SEQ, X_SHEAD, X_STAIL, X_NFLOAT, X_MIG_I, X_MIG_N, X_MIGRATIONS,
 X_NREG, NX) = range(11)
# RuntimeNuma's counters (polls by node follow them)
(RN_TASK_MIG, RN_THREAD_MIG, RN_STEALS, RN_REMOTE_STEALS, RN_REMOTE_STEAL_NS, RN_REFILL_NS,
 RN_REMOTE_REFILL_NS, RN_WAKES, RN_REMOTE_WAKES, RN_REMOTE_WAKE_NS, RN_POLLS) = range(11)
# TaskNuma per task name: migrations, remote cost, then polls by node
TN_MIG, TN_REMOTE_NS, TN_POLLS = range(3)
# masks: per mask, its CPUs grouped by node (MK_START/MK_LEN per node into MCPU), the nodes in
# order from each node (MORD), which CPUs it holds (MSET), and its migration rule
MK_STAY, MK_NCPU, MK_ALL, NMK = range(4)
N_STEAL_COST = 257  # steal cost by tasks moved (at most half of 256, rounded up, in one steal)
# header slots of these tables
(H_X, H_RN, H_TN, H_MK, H_MKS, H_MKL, H_MCPU, H_MORD, H_MSET, H_MALL, H_WAKE, H_STEALC, H_REFILL,
 H_STC, H_FREG, H_FSTREAM, H_FLINE, H_FBYTES, H_FMIG, H_OBS, H_OBSCAP, H_MC, H_FMC, N_HX) = range(N_H, N_H + 24)
MIG_COLS = 4  # a migration's draws: its delay, the thread it moves, u_node, u_cpu
MIG_CAP = 1024  # migrations drawn ahead
# the migrator's draws are taken in the kernel (loop.py _mig_draws) from the "numa" stream, a
# PCG64 whose state is four words of X (engine/fast/pcg.py), over the floating threads (MIGFL)
# and the running sum of their rates (FMIGHZ, in F), as Cpus.add_floating keeps them
X_MIG_PCG = NX
NX = NX + 4
H_MIGFL, H_FMIGHZ = N_HX, N_HX + 1
N_HX = N_HX + 2
# the memory-load refresher (Numa.refresher, compiled): sizes, and its tables (MC in M: the fit
# batch's cpu nodes, patterns, costs out, node sockets, SLIT distances; FMC in F: the batch's page
# fractions, bytes, mlp, the machine arrays, core_gbps and the penalty, the load now, a new load,
# the bytes already seen)
X_NSOCK, X_MC_K, X_MC_K2, X_MC_ROWS = NX, NX + 1, NX + 2, NX + 3
NX = NX + 4
# the `mem` step: its op (O_A bytes, O_B 0 or 1 + the distribution they are drawn from, O_C
# pattern, O_D region) and await kind (workload OP_MEM)
K_MEM = 40
OPK_MEM = 8
# the OS's migrator and the memory-load refresher (processes started on a machine only)
EV_MIG_INIT, EV_MIGRATE, EV_REFRESH_INIT, EV_REFRESH = 40, 41, 42, 43


# ==== observers (simulate(observers=[...])): the events logged for a replay in Python ==========
# the reference's task id (Runtime.next_id, per runtime: tasks and blocking handles count), and
# the table of each runtime's last id
T_ID = NT
NT = NT + 1
H_NID = N_HX
N_HX = N_HX + 1
X_OBS, X_OBS_N = NX, NX + 1  # observers on; rows in the log
NX = NX + 2
# a row: (kind, time, worker, its CPU, a, b, c); a task is (id, TaskMonitor index, created). A
# steal is one OB_STEAL row (a: victim, b: victim's CPU, c: tasks moved) and then one OB_TASK
# row per task, in the order the observer's list has them.
OB_POLL_START, OB_POLL_END, OB_COMPLETE, OB_PARK, OB_STEAL, OB_TASK = range(6)
OB_COLS = 7
# An observer that keeps per-task facts only (the Hawk app metrics' HawkObserver: TaskRecord)
# takes them whole instead of every event: the kernel keeps them in the task's row from its
# first poll (a task row is polled for the observer once T_F_POLLS > 0) and logs one FA row per
# task when it completes, and one per poll of a handler task (hawk/appmetrics.py, side by side
# with observe.py facts_poll_start and facts_complete). Per runtime, whether the observer has
# seen one of its polls (1 + the order it was first seen in, 0: not yet).
(T_F_POLLS, T_F_FIRST, T_F_FNODE, T_F_LNODE, T_F_CHANGES, T_F_STEALS0, T_F_SEQ) = range(NT, NT + 7)
NT = NT + 7
Q_SEEN = NQ
NQ = NQ + 1
# on; FA rows logged; first polls and runtimes seen so far
X_FACTS, X_FA_N, X_FA_SEQ, X_FA_NSEEN = NX, NX + 1, NX + 2, NX + 3
NX = NX + 4
# the log (FA_COLS a row), its capacity, the node of each CPU (and of "no CPU" after them), the
# flags of each task name
H_FA, H_FACAP, H_FNODE, H_FFLAG = N_HX, N_HX + 1, N_HX + 2, N_HX + 3
N_HX = N_HX + 4
FF_KEEP, FF_HANDLER = 1, 2
FA_RECORD, FA_HANDLER = 1, 2
# a record: (FA_RECORD, id, TaskMonitor row, created, first poll, done, polls, first node, last
# node, node changes, steals at first poll, steals at done, first-poll order); a handler poll:
# (FA_HANDLER, time, node, ...)
FA_COLS = 13


# ==== offload pools (host/pools.py): pinned threads fed by a channel, on a machine ===========
# A pool thread is a row of S.W after every runtime's workers (PR_NW of them; H_NWK counts both):
# the CPU model's columns (W_CPU, W_STALLED, W_HAS_STALL_EV, W_BLOCKED, W_MASK = -1) are its
# Thread's, W_PC its generator's label, W_RT its pool, W_TASK and W_COST the job it works on.
# A pool: its channel (a ring of jobs in PQ), its idle threads (a ring in PI over its threads'
# places), its counters, then its jobs by node.
(PL_QHEAD, PL_QLEN, PL_IHEAD, PL_ILEN, PL_T0, PL_NT, PL_NODE, PL_JOBS, PL_BUSY, PL_QWAIT,
 PL_BY_NODE) = range(11)
PQ_H, PQ_DUR, PQ_REG, PQ_NB, PQ_PAT, PQ_QUEUED, NPQ = range(7)  # a job: handle, ns, mem, when sent
(H_PL, H_PQ, H_PI) = range(N_HX, N_HX + 3)
N_HX = N_HX + 3
X_NPL, X_OUTSIDE, X_PT0 = NX, NX + 1, NX + 2  # pools; the node of the pool thread waking tasks now
NX = NX + 3
# the offload step: (K_OFFLOAD, ns, 0 or 1 + its distribution, pool, count), then a row (1 + its
# "as" name's slot or 0, bytes, 0 or 1 + their distribution, pattern, 1 + region or 0: no mem)
K_OFFLOAD = 41
OPK_OFFLOAD = 9


# ==== connection multiplexers (workload/mux.py; engine/fast/mux.py) ===========================
# the `mpc_hop` step: two op rows, (K_HOP, wait ns, 0 or 1 + its distribution, send ns, its
# distribution), then (recv ns, its distribution, first, stride, slots); its await kind and the
# multiplexer's (workload OP_HOP, OP_MUX)
K_HOP = 43  # op kinds: K_MEM 40, K_OFFLOAD 41, K_MPC 42
OPK_HOP, OPK_MUX = 12, 13
# task: its place among the tasks of its name (Task.slot), the messages handed to it and not
# taken yet (Task.hop_in), and its one message in flight (a session has at most one): its wait,
# send and receive CPU, its connection, and the next message in the connection's queue or batch
# it is in. A multiplexer's T_OPA is 2 * its connection + its side.
T_SLOT, T_HOP_IN, T_HOP_W, T_HOP_S, T_HOP_R, T_HOP_C, T_HOP_NEXT = range(NT, NT + 7)
NT = NT + 7
# a connection (by index, made on first use): made?, its SEND and RECV multiplexer tasks, then
# per side (SEND, RECV) the head and tail of its queue and of its running poll's batch, and when
# the latest message written on it arrives
(CN_MADE, CN_TASK, _CN_TASK1, CN_Q, CN_B, CN_LAST) = (0, 1, 2, 3, 7, 11)
NCN = 12
# header slots: the connections, per task name the tasks of that name made so far (the
# system's `slots`, over every runtime), and the multiplexers' def (a value, not an offset)
H_CN, H_SLOT, H_MUXDEF = N_HX, N_HX + 1, N_HX + 2
N_HX = N_HX + 3
# an I/O readiness that is a connection's message (workload/mux.py _arrive), not a task's wait:
# the driver's heap row holds IO_MUX + the session
IO_MUX = 1 << 40

# ==== parties (host/network.py): several systems in one event loop, joined by mpc_round ======
# A multi-party run is one M per party (stacked: the same layout), each a whole system with its
# own event queue; the events' eids are one running count over all of them, so the loop
# (loop.py run_parties) pops the earliest of the queues' roots, which is SimPy's one queue. An
# event may be for another party than the queue it sits in (EV_NET_IO: a message's epoll event
# at the receiver, scheduled by the sender). R_OTHER: the earliest event time in the other
# parties' queues (Thread.ahead looks at them too); R_GSTEP: the events run so far, over all.
R_OTHER, R_GSTEP = NR, NR + 1
NR = NR + 2
NEVER = 1 << 62
EV_NET_IO, EV_ALLOF = 44, 45
# the mpc_round step: (K_MPC, ns, 0 or 1 + its distribution), await kind workload OP_MPC
K_MPC = 42
OPK_MPC = 11
# an endpoint (host/network.py Endpoint) of this party, one per task key, in creation order: its
# key, counts, the waiting task (-1), when its latest message arrives, the global step it was
# made at (the endpoints' order over all parties); EH: an open-addressing index key -> 1 + row
(EP_KEY, EP_SENT, EP_ARRIVED, EP_USED, EP_WAITED, EP_WAITER, EP_LAST_AT, EP_STAMP, NEP) = range(9)
# the outbox: messages sent during the current event, handed to the next party's driver by the
# loop right after it (only the sender's code runs in an event, so the receiver sees them at
# the same point of its own history): when it arrives, the task key, the runtime
# the runtime, and for an mpc_hop write (engine/fast/mux.py) its connection, receive CPU and
# when it was written (OB_CONN -1: an mpc_round message). An event may run on past its own time
# (thread.py ahead), so the write's time is its own.
OB_AT, OB_KEY, OB_RT, OB_CONN, OB_RECV, OB_NOW, NOB = range(7)
(H_EP, H_EH, H_OB, H_EPCAP, H_OBCAP) = range(N_HX, N_HX + 5)
N_HX = N_HX + 5
X_PARTY, X_NPARTIES, X_NEP, X_NOB = NX, NX + 1, NX + 2, NX + 3
NX = NX + 4
IO_MESSAGE = -2  # the "task" of a pending readiness that is a party's message (its key beside it)
# mpc_hop with parties: a message as a row of HM (free rows chained through HM_NEXT from
# X_HMFREE; X_HMTOP rows ever used), on both sides of a connection. Sending, from the session's
# `send` until its multiplexer writes it (workload/mux.py's (session, wait, send ns, recv ns)): a
# session that receives its reply before its last message is written sends again, so one session
# can have two messages queued and its own row cannot hold them. Receiving, from its arrival at
# this party's socket until the receiving multiplexer hands it over (_arrive's (key, recv ns)).
# The connection's queues and batches are then lists of these rows, and the pending readiness
# is IO_HOPMSG with its row beside it.
HM_KEY, HM_RECV, HM_CONN, HM_NEXT, HM_WAIT, HM_SEND, NHM = range(7)
H_HM, H_HMCAP = N_HX, N_HX + 1
N_HX = N_HX + 2
X_HMFREE, X_HMTOP = NX, NX + 1
NX = NX + 2
IO_HOPMSG = -3
