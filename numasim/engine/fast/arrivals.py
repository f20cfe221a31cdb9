"""simulate.py's sources, their arrival times only: the small event loop of the sources alone
that engine/run.py runs before the kernel (their relative order decides who draws next from the
shared "arrivals" stream), compiled for the common case of fixed mean intervals.

With a fixed mean, a Poisson gap is `round(mean * z)` for the stream's next standard exponential
z (numpy's `exponential(scale)` is `scale * standard_exponential()`, draw for draw; tested), so
the caller draws the z's in bulk and this loop consumes them in the order the sources would; a
bulk draw that turns out too short is extended from the same stream and the loop run again.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def merge(kind, mean, poisson, origin, end, z, out_src, out_t):
    """Arrivals in processing order: (source, time) rows of out_src/out_t; returns how many, or
    -1 when the draws in z ran out, -2 when the output did. kind 0: a root (one arrival at the
    origin), 1: external."""
    n = len(kind)
    # the pending timeouts: (time, eid) per source, -1 when none (each source has at most one)
    at = np.full(n, -1, np.int64)
    eid = np.zeros(n, np.int64)
    for si in range(n):
        at[si] = origin
        eid[si] = si
    nxt_eid = n
    used = 0
    k = 0
    while True:
        si = -1
        for j in range(n):
            if at[j] >= 0 and (si < 0 or at[j] < at[si] or (at[j] == at[si] and eid[j] < eid[si])):
                si = j
        if si < 0:
            return k
        now = at[si]
        at[si] = -1
        if kind[si] == 0 or now < end:
            if k >= len(out_t):
                return -2
            out_src[k] = si
            out_t[k] = now
            k += 1
        if kind[si] == 0 or now >= end:
            continue
        if poisson[si]:
            if used >= len(z):
                return -1
            gap = np.int64(np.rint(np.float64(mean[si]) * z[used]))
            used += 1
        else:
            gap = mean[si]
        nxt = now + max(gap, 1)
        if nxt < end:
            at[si] = nxt
            eid[si] = nxt_eid
            nxt_eid += 1
