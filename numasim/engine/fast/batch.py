"""metrics/batch.py, compiled: the worker's metrics batch, its publish rule and busy time."""
import math

from .jit import kernel

from .state import (F_BUSY_BY_PROC, F_EWMA, H_PR, H_W, NW, N_STATS, P_PARK, S_BUSY, S_NOOP, S_PARK,
                    S_PARK_UNPARK, S_POLLS, W_BATCH_START, W_IN_BATCH, W_LAST_RESUME,
                    W_PC_LAST_PARK, W_PROC_START, W_PUB_MEAN)


@kernel
def submit(M, F, w):
    W = M[H_W]
    for i in range(N_STATS):
        M[W + (w) * NW + (P_PARK + i)] = M[W + (w) * NW + (S_PARK + i)]
    M[W + (w) * NW + (W_PUB_MEAN)] = int(F[F_EWMA + w])


@kernel
def start_processing(M, F, w, now):
    M[M[H_W] + (w) * NW + (W_PROC_START)] = now
    M[M[H_W] + (w) * NW + (W_BATCH_START)] = now
    M[M[H_W] + (w) * NW + (W_IN_BATCH)] = 0


@kernel
def end_processing(M, F, w, now):
    W = M[H_W]
    k = M[W + (w) * NW + (W_IN_BATCH)]
    if k > 0:
        mean = (now - M[W + (w) * NW + (W_BATCH_START)]) / k
        # float ** int in Python is C pow() on doubles: the same call here
        a = 1.0 - math.pow(0.9, float(k))
        F[F_EWMA + w] = a * mean + (1.0 - a) * F[F_EWMA + w]
    if M[M[H_PR] + (F_BUSY_BY_PROC)]:
        M[W + (w) * NW + (S_BUSY)] += now - M[W + (w) * NW + (W_PROC_START)]


@kernel
def tuned_global_queue_interval(M, F, w, current):
    e = F[F_EWMA + w]
    new = int(200_000 / e) if e > 0 else 127
    new = min(max(new, 2), 127)
    return new if abs(new - current) > 2 else current


@kernel
def about_to_park(M, F, w, now):
    W = M[H_W]
    M[W + (w) * NW + (S_PARK)] += 1
    M[W + (w) * NW + (S_PARK_UNPARK)] += 1
    if M[W + (w) * NW + (S_POLLS)] == M[W + (w) * NW + (W_PC_LAST_PARK)]:
        M[W + (w) * NW + (S_NOOP)] += 1
    else:
        M[W + (w) * NW + (W_PC_LAST_PARK)] = M[W + (w) * NW + (S_POLLS)]
    if not M[M[H_PR] + (F_BUSY_BY_PROC)]:
        M[W + (w) * NW + (S_BUSY)] += now - M[W + (w) * NW + (W_LAST_RESUME)]


@kernel
def unparked(M, F, w, now):
    M[M[H_W] + (w) * NW + (S_PARK_UNPARK)] += 1
    M[M[H_W] + (w) * NW + (W_LAST_RESUME)] = now
