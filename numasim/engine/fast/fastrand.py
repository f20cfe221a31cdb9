"""tokio/fastrand.py, compiled: FastRand's step on the worker's two state words (seeding stays
in the reference: `core_generators` runs once in Python and hands the words over)."""
from .jit import kernel

from .state import (H_W, NW, W_FR_ONE, W_FR_TWO)

M32 = 0xFFFFFFFF


@kernel
def fastrand_n(M, F, w, n):
    s1 = M[M[H_W] + (w) * NW + (W_FR_ONE)]
    s0 = M[M[H_W] + (w) * NW + (W_FR_TWO)]
    s1 ^= (s1 << 17) & M32
    s1 = s1 ^ s0 ^ (s1 >> 7) ^ (s0 >> 16)
    M[M[H_W] + (w) * NW + (W_FR_ONE)] = s0
    M[M[H_W] + (w) * NW + (W_FR_TWO)] = s1
    r = (s0 + s1) & M32
    return (r * n) >> 32
