"""tokio/idle.py, compiled: num_unparked, num_searching and the sleepers stack."""
from numba import njit

from .state import (H_PR, H_R, H_SL, PR_NW, R_MAX_SEARCHING, R_NSLEEP, R_NUM_SEARCHING,
                    R_NUM_UNPARKED)


@njit(cache=True)
def worker_to_notify(M, F):
    R = M[H_R]
    if M[R + (R_NUM_SEARCHING)] != 0 or M[R + (R_NUM_UNPARKED)] >= M[M[H_PR] + (PR_NW)] or M[R + (R_NSLEEP)] == 0:
        return -1
    M[R + (R_NUM_SEARCHING)] += 1
    M[R + (R_NUM_UNPARKED)] += 1
    if M[R + (R_NUM_SEARCHING)] > M[R + (R_MAX_SEARCHING)]:
        M[R + (R_MAX_SEARCHING)] = M[R + (R_NUM_SEARCHING)]
    M[R + (R_NSLEEP)] -= 1
    return M[M[H_SL] + (M[R + (R_NSLEEP)])]


@njit(cache=True)
def transition_worker_to_searching(M, F):
    R = M[H_R]
    if 2 * M[R + (R_NUM_SEARCHING)] >= M[M[H_PR] + (PR_NW)]:
        return False
    M[R + (R_NUM_SEARCHING)] += 1
    if M[R + (R_NUM_SEARCHING)] > M[R + (R_MAX_SEARCHING)]:
        M[R + (R_MAX_SEARCHING)] = M[R + (R_NUM_SEARCHING)]
    return True


@njit(cache=True)
def transition_worker_from_searching(M, F):
    M[M[H_R] + (R_NUM_SEARCHING)] -= 1
    return M[M[H_R] + (R_NUM_SEARCHING)] == 0


@njit(cache=True)
def transition_worker_to_parked(M, F, index, is_searching):
    R = M[H_R]
    M[R + (R_NUM_UNPARKED)] -= 1
    last = False
    if is_searching:
        M[R + (R_NUM_SEARCHING)] -= 1
        last = M[R + (R_NUM_SEARCHING)] == 0
    M[M[H_SL] + (M[R + (R_NSLEEP)])] = index
    M[R + (R_NSLEEP)] += 1
    return last


@njit(cache=True)
def unpark_worker_by_id(M, F, index):
    R = M[H_R]
    n = M[R + (R_NSLEEP)]
    for i in range(n):
        if M[M[H_SL] + (i)] == index:
            for j in range(i, n - 1):
                M[M[H_SL] + (j)] = M[M[H_SL] + (j + 1)]
            M[R + (R_NSLEEP)] = n - 1
            M[R + (R_NUM_UNPARKED)] += 1
            return True
    return False


@njit(cache=True)
def is_parked(M, F, index):
    for i in range(M[M[H_R] + (R_NSLEEP)]):
        if M[M[H_SL] + (i)] == index:
            return True
    return False
