"""numpy's per-task stream, compiled: `default_rng((seed, key))` and the draws `Dist.sample`
makes from it (workload/program.py TaskDraws), value for value.

* SeedSequence: the entropy (seed, key) as little-endian 32-bit words, mixed into a pool of four
  words and expanded into four 64-bit words (numpy's `mix_entropy` and `generate_state`);
* PCG64 (XSL-RR 128/64) seeded from them: state and increment are 128-bit, kept as (hi, lo)
  pairs of 64-bit words; `next_double` takes the top 53 bits;
* the distributions: uniform as `low + (high - low) * u`; exponential and normal by numpy's
  256-layer ziggurats, whose tables are read from numba's copy of numpy's (`numba.np.random.
  _constants`, the same tables numba's own `Generator` support uses), lognormal as exp(normal).

`tests/test_engine_equivalence.py` holds every function here to numpy's values over many seeds,
keys and parameters (the rare ziggurat paths included).
"""
import numpy as np
from numba import uint64
from numba.np.random import _constants as _zig

from .jit import alloc, kernel

KI = np.asarray(_zig.ki_double, np.uint64)
WI = np.asarray(_zig.wi_double, np.float64)
FI = np.asarray(_zig.fi_double, np.float64)
KE = np.asarray(_zig.ke_double, np.uint64)
WE = np.asarray(_zig.we_double, np.float64)
FE = np.asarray(_zig.fe_double, np.float64)
NOR_R = float(_zig.ziggurat_nor_r)
NOR_INV_R = float(_zig.ziggurat_nor_inv_r)
EXP_R = float(_zig.ziggurat_exp_r)

# every constant unsigned: Numba turns mixed signed/unsigned 64-bit arithmetic into floats
U = np.uint64
M32 = U(0xFFFFFFFF)
INIT_A, MULT_A, INIT_B, MULT_B = U(0x43B0D7E5), U(0x931E8875), U(0x8B51F9DD), U(0x58F38DED)
MIX_L, MIX_R = U(0xCA01F9DD), U(0x4973F715)
MUL_HI, MUL_LO = U(2549297995355413924), U(4865540595714422341)  # PCG's 128-bit multiplier
S1, S3, S8, S11, S16, S32, S58, S63, S64 = U(1), U(3), U(8), U(11), U(16), U(32), U(58), U(63), U(64)
ZERO, ONE, FF, MANT = U(0), U(1), U(0xFF), U(0x000FFFFFFFFFFFFF)


@kernel
def _hashmix(value, hc):
    value = (value ^ hc[0]) & M32
    hc[0] = (hc[0] * MULT_A) & M32
    value = (value * hc[0]) & M32
    return value ^ (value >> S16)


@kernel
def _mix(x, y):
    r = (MIX_L * x - MIX_R * y) & M32
    return r ^ (r >> S16)


@kernel
def _words(x, out, n):
    """Append a non-negative int's 32-bit words (at least one) to out[n:]; the new length."""
    out[n] = x & M32
    n += 1
    x = x >> S32
    while x > 0:
        out[n] = x & M32
        n += 1
        x = x >> S32
    return n


@alloc
def seed_words(seed, key):
    """SeedSequence((seed, key)).generate_state(4, uint64), both ints taken as unsigned 64-bit."""
    ent = np.zeros(4, np.uint64)
    n = _words(uint64(seed), ent, 0)
    n = _words(uint64(key), ent, n)
    pool = np.zeros(4, np.uint64)
    hc = np.zeros(1, np.uint64)
    hc[0] = INIT_A
    for i in range(4):
        pool[i] = _hashmix(ent[i] if i < n else ZERO, hc)
    for s in range(4):
        for d in range(4):
            if s != d:
                pool[d] = _mix(pool[d], _hashmix(pool[s], hc))
    # (entropy longer than the pool is not possible here: at most four words)
    out = np.zeros(4, np.uint64)
    h = INIT_B
    for i in range(8):
        v = (pool[i % 4] ^ h) & M32
        h = (h * MULT_B) & M32
        v = (v * h) & M32
        v = v ^ (v >> S16)
        if i % 2 == 0:
            out[i // 2] = v
        else:
            out[i // 2] |= v << S32
    return out


@kernel
def _mul64(a, b):
    """(hi, lo) of the 128-bit product of two 64-bit words."""
    a_lo = a & M32
    a_hi = a >> S32
    b_lo = b & M32
    b_hi = b >> S32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> S32) + (p1 & M32) + (p2 & M32)
    lo = (p0 & M32) | (mid << S32)
    hi = p3 + (p1 >> S32) + (p2 >> S32) + (mid >> S32)
    return hi, lo


@kernel
def _step(A, o):
    """state = state * MUL + inc (mod 2**128); A[o:o+4] = state hi, state lo, inc hi, inc lo
    (an int64 or uint64 array: the words are read and written as their bits)."""
    s0, s1, s2, s3 = uint64(A[o]), uint64(A[o + 1]), uint64(A[o + 2]), uint64(A[o + 3])
    hi, lo = _mul64(s1, MUL_LO)
    hi = hi + s1 * MUL_HI + s0 * MUL_LO
    lo2 = lo + s3
    carry = ONE if lo2 < lo else ZERO
    A[o] = hi + s2 + carry
    A[o + 1] = lo2


@alloc
def seed_state(A, o, seed, key):
    """A[o:o+4] := PCG64 seeded by SeedSequence((seed, key)), both read as unsigned 64-bit."""
    v = seed_words(seed, key)
    A[o] = ZERO
    A[o + 1] = ZERO
    # inc = (initseq << 1) | 1
    A[o + 2] = (v[2] << ONE) | (v[3] >> S63)
    A[o + 3] = (v[3] << ONE) | ONE
    _step(A, o)
    s0, s1 = uint64(A[o]), uint64(A[o + 1])
    lo = s1 + v[1]
    carry = ONE if lo < s1 else ZERO
    A[o] = s0 + v[0] + carry
    A[o + 1] = lo
    _step(A, o)


@kernel
def next_u64(A, o):
    _step(A, o)
    s0 = uint64(A[o])
    x = s0 ^ uint64(A[o + 1])
    r = s0 >> S58
    return (x >> r) | (x << ((S64 - r) & S63))


@kernel
def next_double(A, o):
    return np.float64(next_u64(A, o) >> S11) * (1.0 / 9007199254740992.0)


@kernel
def standard_exponential(A, o):
    while True:
        ri = next_u64(A, o) >> S3
        idx = np.int64(ri & FF)
        ri = ri >> S8
        x = np.float64(ri) * WE[idx]
        if ri < KE[idx]:
            return x
        if idx == 0:
            return EXP_R - np.log1p(-next_double(A, o))
        if (FE[idx - 1] - FE[idx]) * next_double(A, o) + FE[idx] < np.exp(-x):
            return x


@kernel
def standard_normal(A, o):
    while True:
        r = next_u64(A, o)
        idx = np.int64(r & FF)
        r = r >> S8
        sign = r & ONE
        rabs = (r >> ONE) & MANT
        x = np.float64(rabs) * WI[idx]
        if sign:
            x = -x
        if rabs < KI[idx]:
            return x
        if idx == 0:
            while True:
                xx = -NOR_INV_R * np.log1p(-next_double(A, o))
                yy = -np.log1p(-next_double(A, o))
                if yy + yy > xx * xx:
                    return -(NOR_R + xx) if (rabs >> S8) & ONE else NOR_R + xx
        else:
            if (FI[idx - 1] - FI[idx]) * next_double(A, o) + FI[idx] < np.exp(-0.5 * x * x):
                return x


# distribution kinds as `dist_params` lays them out
D_ZERO, D_LOGNORMAL, D_EXPONENTIAL, D_UNIFORM = 0, 1, 2, 3


def dist_params(dist):
    """(kind, a, b) of a spec Dist drawn inside a task: lognormal (mu, sigma) from its own rule
    (`Dist.lognormal_params`), exponential (mean, -), uniform (low, high); a lognormal of mean <= 0
    is 0 without a draw, as `Dist.sample` has it."""
    if dist.kind == "lognormal":
        if dist.mean_ns <= 0:
            return D_ZERO, 0.0, 0.0
        mu, sigma = dist.lognormal_params()
        return D_LOGNORMAL, mu, sigma
    if dist.kind == "exponential":
        return D_EXPONENTIAL, float(dist.mean_ns), 0.0
    if dist.kind == "uniform":
        return D_UNIFORM, float(dist.low_ns), float(dist.high_ns)
    raise ValueError(dist.kind)


@kernel
def sample(A, o, kind, a, b):
    """Dist.sample from the stream at A[o:o+4]: numpy's Generator.lognormal(a, b) (exp of
    a + b * a standard normal), .exponential(a) (a times a standard exponential), .uniform(a, b)
    (a + (b - a) * u), rounded half to even as round() is."""
    if kind == D_LOGNORMAL:
        x = np.exp(a + b * standard_normal(A, o))
    elif kind == D_EXPONENTIAL:
        x = a * standard_exponential(A, o)
    elif kind == D_UNIFORM:
        x = a + (b - a) * next_double(A, o)
    else:
        return np.int64(0)
    return np.int64(np.rint(x))
