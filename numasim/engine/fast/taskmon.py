"""metrics/task.py, compiled: TaskMonitor's poll_start / poll_end on the per-name counter rows.

Completed tasks' latencies go to one log (name, latency) in completion order; engine/run.py cuts
it per sample and hands it to the reference's RuntimeMonitor."""
from .jit import kernel

from .state import (H_LAT, H_LCAP, H_MON, H_PR, H_R, H_T, NT, N_MON, PR_LONG, PR_SLOW, R_LIVE_MON,
                    R_NLAT, R_OVERFLOW, T_CREATED, T_LAST_END, T_MON, T_POLLED, T_WOKE)

(I_INSTR, I_DROP, I_FIRST, I_FIRST_DELAY, I_IDLED, I_IDLE_DUR, I_SCHED, I_SCHED_DUR, I_POLL,
 I_FAST, I_FAST_DUR, I_SLOW, I_SLOW_DUR, I_SHORT, I_LONG, I_SHORT_DUR, I_LONG_DUR, I_MAX_IDLE) = range(18)


@kernel
def poll_start(M, F, t, now):
    T = M[H_T]
    c = (M[H_MON] + (M[T + (t) * NT + (T_MON)]) * N_MON)
    if not M[T + (t) * NT + (T_POLLED)]:
        M[T + (t) * NT + (T_POLLED)] = 1
        M[c + (I_FIRST)] += 1
        M[c + (I_FIRST_DELAY)] += now - M[T + (t) * NT + (T_CREATED)]
    else:
        woke = M[T + (t) * NT + (T_WOKE)]
        if woke:
            M[T + (t) * NT + (T_WOKE)] = 0
            idle = woke - M[T + (t) * NT + (T_LAST_END)]
            if idle < 0:
                idle = 0
            M[c + (I_IDLED)] += 1
            M[c + (I_IDLE_DUR)] += idle
            if idle > M[c + (I_MAX_IDLE)]:
                M[c + (I_MAX_IDLE)] = idle
            delay = now - woke
            if delay < 0:
                delay = 0
            M[c + (I_SCHED)] += 1
            M[c + (I_SCHED_DUR)] += delay
            if delay >= M[M[H_PR] + (PR_LONG)]:
                M[c + (I_LONG)] += 1
                M[c + (I_LONG_DUR)] += delay
            else:
                M[c + (I_SHORT)] += 1
                M[c + (I_SHORT_DUR)] += delay
    M[T + (t) * NT + (T_WOKE)] = 0


@kernel
def poll_end(M, F, t, start, end, done):
    T = M[H_T]
    m = M[T + (t) * NT + (T_MON)]
    c = (M[H_MON] + (m) * N_MON)
    dur = end - start
    M[T + (t) * NT + (T_LAST_END)] = end
    M[c + (I_POLL)] += 1
    if dur >= M[M[H_PR] + (PR_SLOW)]:
        M[c + (I_SLOW)] += 1
        M[c + (I_SLOW_DUR)] += dur
    else:
        M[c + (I_FAST)] += 1
        M[c + (I_FAST_DUR)] += dur
    if done:
        R = M[H_R]
        n = M[R + (R_NLAT)]
        if n >= M[H_LCAP]:
            M[R + (R_OVERFLOW)] = 5
        else:
            M[M[H_LAT] + (n) * 2 + (0)] = m
            M[M[H_LAT] + (n) * 2 + (1)] = end - M[T + (t) * NT + (T_CREATED)]
            M[R + (R_NLAT)] = n + 1
        M[c + (I_DROP)] += 1
        M[R + (R_LIVE_MON)] -= 1
