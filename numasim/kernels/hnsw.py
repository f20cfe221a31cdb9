"""A real HNSW (Malkov & Yashunin, arXiv:1603.09320), built and searched in Numba, with counters.

Build: each element draws a level l = floor(-ln(U) / ln(M)) (U passed in); it is inserted by a
greedy descent on the layers above l, then an `ef_construction` beam on each layer from l down to
0, linking to neighbours chosen by the paper's heuristic (Algorithm 4: keep a candidate only if it
is closer to the new element than to any neighbour already kept; this keeps clustered data
connected). Layer 0 holds up to 2M links, upper layers M, as in hnswlib.

Search: greedy (ef = 1) on the upper layers, then a best-first beam of size ef on layer 0. Per
query we count node expansions ("hops", every layer), distance evaluations (every layer: hnswlib's
own counter skips layer 0 by default, hardware notes §4), and bytes touched (link lists read plus
one vector per distance evaluation) - the figures the workload model turns into memory cost.

Kernels work on preallocated arrays and a whole batch per call; `cache=True` keeps start-up short.
Public functions check their inputs and call the private jitted ones.

Why one file of ~400 lines: the build, the searches and the counters share the graph arrays and
the jitted helpers; split, each half would need the other's private kernels.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

# Per-query stats columns.
HOPS, NDC, BYTES, HOPS0, NDC0 = 0, 1, 2, 3, 4
N_STATS = 5
LINK_BYTES = 4  # one u32 neighbour id


# --- heaps over parallel (key, id) arrays; min-heap on key -----------------------------------
@njit(cache=True, inline="always")
def _push(keys, ids, size, k, i):
    j = size
    keys[j] = k
    ids[j] = i
    while j > 0:
        p = (j - 1) >> 1
        if keys[p] <= keys[j]:
            break
        keys[p], keys[j] = keys[j], keys[p]
        ids[p], ids[j] = ids[j], ids[p]
        j = p
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys, ids, size):
    k, i = keys[0], ids[0]
    size -= 1
    keys[0], ids[0] = keys[size], ids[size]
    j = 0
    while True:
        l = 2 * j + 1
        if l >= size:
            break
        c = l
        if l + 1 < size and keys[l + 1] < keys[l]:
            c = l + 1
        if keys[j] <= keys[c]:
            break
        keys[c], keys[j] = keys[j], keys[c]
        ids[c], ids[j] = ids[j], ids[c]
        j = c
    return k, i, size


@njit(cache=True, inline="always")
def _dist(X, i, q):
    s = 0.0
    for t in range(q.shape[0]):
        d = X[i, t] - q[t]
        s += d * d
    return s


@njit(cache=True, inline="always")
def _dist2(X, i, j):
    s = 0.0
    for t in range(X.shape[1]):
        d = X[i, t] - X[j, t]
        s += d * d
    return s


@njit(cache=True)
def _search_layer(X, q, ep, ep_d, ef, links, counts, layer, visited, tag, ck, ci, rk, ri, stats):
    """Best-first search on one layer from one entry point. Leaves the `ef` best in the max-heap
    (rk = -distance, ri) and returns its size. Adds to stats[HOPS], stats[NDC], stats[BYTES]."""
    dim = X.shape[1]
    nc = _push(ck, ci, 0, ep_d, ep)
    nr = _push(rk, ri, 0, -ep_d, ep)
    visited[ep] = tag
    while nc > 0:
        d_c, c, nc = _pop(ck, ci, nc)
        if d_c > -rk[0]:
            break  # nearest unexpanded candidate is farther than the worst result: converged
        cnt = counts[layer, c]
        stats[HOPS] += 1
        stats[BYTES] += cnt * LINK_BYTES
        for j in range(cnt):
            e = links[layer, c, j]
            if visited[e] == tag:
                continue
            visited[e] = tag
            d = _dist(X, e, q)
            stats[NDC] += 1
            stats[BYTES] += dim * 4
            if nr < ef or d < -rk[0]:
                nc = _push(ck, ci, nc, d, e)
                nr = _push(rk, ri, nr, -d, e)
                if nr > ef:
                    _, _, nr = _pop(rk, ri, nr)
    return nr


@njit(cache=True)
def _sorted_results(rk, ri, nr, out_d, out_i):
    """Drain the result max-heap into ascending order."""
    for j in range(nr - 1, -1, -1):
        k, i, nr = _pop(rk, ri, nr)
        out_d[j] = -k
        out_i[j] = i


@njit(cache=True)
def _select_heuristic(X, base, cand_d, cand_i, n, m, out, heuristic=True):
    """Malkov's Algorithm 4: walk candidates nearest first; keep one only if it is closer to
    `base` than to every neighbour already kept. Returns how many were kept in `out`. With
    `heuristic` false, keep the nearest m (iris-mpc's rule: trim the sorted beam to M)."""
    k = 0
    for a in range(n):
        e = cand_i[a]
        if e == base:
            continue
        good = True
        for b in range(k if heuristic else 0):
            if _dist2(X, e, out[b]) < cand_d[a]:
                good = False
                break
        if good:
            out[k] = e
            k += 1
            if k == m:
                break
    return k


@njit(cache=True)
def _build(X, levels, m, ef_c, links, counts, heuristic):
    """Insert every element in order. Returns (entry point, top level)."""
    n, dim = X.shape
    m0 = 2 * m
    cap = max(ef_c, m0) + 1
    ck = np.empty(n, np.float64)
    ci = np.empty(n, np.int64)
    rk = np.empty(cap + 1, np.float64)
    ri = np.empty(cap + 1, np.int64)
    wd = np.empty(cap + 1, np.float64)
    wi = np.empty(cap + 1, np.int64)
    sel = np.empty(m0 + 1, np.int64)
    sd = np.empty(m0 + 1, np.float64)
    si = np.empty(m0 + 1, np.int64)
    visited = np.zeros(n, np.int64)
    stats = np.zeros(N_STATS, np.int64)
    tag = 0
    entry = 0
    top = levels[0]
    for i in range(1, n):
        q = X[i]
        lvl = levels[i]
        ep = entry
        ep_d = _dist(X, ep, q)
        for layer in range(top, lvl, -1):
            tag += 1
            nr = _search_layer(X, q, ep, ep_d, 1, links, counts, layer, visited, tag, ck, ci, rk, ri, stats)
            ep_d, ep = -rk[0], ri[0]
        for layer in range(min(top, lvl), -1, -1):
            tag += 1
            nr = _search_layer(X, q, ep, ep_d, ef_c, links, counts, layer, visited, tag, ck, ci, rk, ri, stats)
            _sorted_results(rk, ri, nr, wd, wi)
            k = _select_heuristic(X, i, wd, wi, nr, m, sel, heuristic)
            mmax = m0 if layer == 0 else m
            for a in range(k):
                e = sel[a]
                links[layer, i, a] = e
                c = counts[layer, e]
                if c < mmax:
                    links[layer, e, c] = i
                    counts[layer, e] = c + 1
                else:
                    # e is full: re-choose its links among the old ones plus i, by the heuristic.
                    nn = 0
                    for b in range(c):
                        x = links[layer, e, b]
                        nn = _push(sd, si, nn, _dist2(X, e, x), x)
                    nn = _push(sd, si, nn, _dist2(X, e, i), i)
                    tot = nn
                    for b in range(tot):
                        dd, x, nn = _pop(sd, si, nn)
                        wd[b] = dd
                        wi[b] = x
                    kk = _select_heuristic(X, e, wd, wi, tot, mmax, si, heuristic)  # si is free again
                    for b in range(kk):
                        links[layer, e, b] = si[b]
                    counts[layer, e] = kk
            counts[layer, i] = k
            # Next layer starts from the nearest found here (the heuristic always keeps it first;
            # wd/wi were reused for the neighbours' re-selection, sel was not).
            ep = sel[0] if k > 0 else ep
            ep_d = _dist(X, ep, q)
        if lvl > top:
            top = lvl
            entry = i
    return entry, top


@njit(cache=True)
def _search_batch(X, Q, entry, top, ef, k, links, counts, out_ids, out_stats):
    n = X.shape[0]
    cap = max(ef, k) + 2
    ck = np.empty(n, np.float64)
    ci = np.empty(n, np.int64)
    rk = np.empty(cap, np.float64)
    ri = np.empty(cap, np.int64)
    wd = np.empty(cap, np.float64)
    wi = np.empty(cap, np.int64)
    visited = np.zeros(n, np.int64)
    tag = 0
    efk = max(ef, k)
    for qi in range(Q.shape[0]):
        q = Q[qi]
        st = out_stats[qi]
        ep = entry
        ep_d = _dist(X, ep, q)
        st[NDC] += 1
        st[BYTES] += X.shape[1] * 4
        for layer in range(top, 0, -1):
            tag += 1
            _search_layer(X, q, ep, ep_d, 1, links, counts, layer, visited, tag, ck, ci, rk, ri, st)
            ep_d, ep = -rk[0], ri[0]
        h, d = st[HOPS], st[NDC]
        tag += 1
        nr = _search_layer(X, q, ep, ep_d, efk, links, counts, 0, visited, tag, ck, ci, rk, ri, st)
        st[HOPS0] = st[HOPS] - h
        st[NDC0] = st[NDC] - d
        _sorted_results(rk, ri, nr, wd, wi)
        for j in range(k):
            out_ids[qi, j] = wi[j] if j < nr else -1


# --- public API ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    X: np.ndarray
    links: np.ndarray   # [levels, n, 2M] int64
    counts: np.ndarray  # [levels, n]
    entry: int
    top: int
    m: int
    ef_construction: int
    build_s: float
    select: str = "heuristic"

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]


def draw_levels(u, m: int) -> np.ndarray:
    """Levels from uniforms in (0, 1]: floor(-ln(U) * mL) with mL = 1 / ln(M)."""
    u = np.asarray(u, dtype=np.float64)
    if np.any(u <= 0) or np.any(u > 1):
        raise ValueError("level draws must be in (0, 1]")
    return np.floor(-np.log(u) / math.log(m)).astype(np.int64)


def clustered_vectors(n: int, dim: int, rng: np.random.Generator, n_clusters: int = 64, spread: float = 1.0):
    """Synthetic clustered data: Gaussian blobs around N(0, 1) centres (float32)."""
    centres = rng.standard_normal((n_clusters, dim))
    lab = rng.integers(0, n_clusters, n)
    return (centres[lab] + spread * rng.standard_normal((n, dim))).astype(np.float32)


SELECT_RULES = ("heuristic", "nearest")


def build(X, m: int = 16, ef_construction: int = 100, level_draws=None, seed: int = 0,
          select: str = "heuristic") -> Index:
    """Build an HNSW index over rows of X. `level_draws`: uniforms in (0, 1], one per row (default:
    drawn from `seed`). `select`: "heuristic" (Malkov's Algorithm 4, hnswlib) or "nearest" (keep
    the nearest M, as iris-mpc trims its sorted beam; docs/hawk-source.md section 2)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError("X must be a 2-D array with at least two rows")
    if m < 2 or ef_construction < 1:
        raise ValueError("need M >= 2 and ef_construction >= 1")
    if select not in SELECT_RULES:
        raise ValueError(f"select must be one of {SELECT_RULES}")
    if level_draws is None:
        level_draws = 1.0 - np.random.default_rng(seed).random(X.shape[0])
    levels = draw_levels(level_draws, m)
    if levels.shape != (X.shape[0],):
        raise ValueError("one level draw per row")
    nl = int(levels.max()) + 1
    links = np.full((nl, X.shape[0], 2 * m), -1, dtype=np.int64)
    counts = np.zeros((nl, X.shape[0]), dtype=np.int64)
    t0 = time.perf_counter()
    entry, top = _build(X, levels, m, ef_construction, links, counts, select == "heuristic")
    return Index(X, links, counts, int(entry), int(top), m, ef_construction, time.perf_counter() - t0, select)


def search(index: Index, Q, ef: int, k: int = 10):
    """Search a batch of queries. Returns (ids [q, k], stats [q, 5]) with stats columns
    HOPS, NDC, BYTES (all layers) and HOPS0, NDC0 (layer 0 only)."""
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    if Q.ndim != 2 or Q.shape[1] != index.dim:
        raise ValueError(f"queries must be [q, {index.dim}]")
    if ef < 1 or k < 1 or k > index.n:
        raise ValueError("need ef >= 1 and 1 <= k <= n")
    ids = np.empty((Q.shape[0], k), dtype=np.int64)
    stats = np.zeros((Q.shape[0], N_STATS), dtype=np.int64)
    _search_batch(index.X, Q, index.entry, index.top, ef, k, index.links, index.counts, ids, stats)
    return ids, stats


def brute_force(X, Q, k: int = 10) -> np.ndarray:
    """Exact k nearest neighbours (squared L2), in blocks to bound memory."""
    X = np.asarray(X, dtype=np.float32)
    xx = (X.astype(np.float64) ** 2).sum(1)
    out = np.empty((Q.shape[0], k), dtype=np.int64)
    for s in range(0, Q.shape[0], 256):
        q = np.asarray(Q[s:s + 256], dtype=np.float64)
        d = xx[None, :] - 2 * q @ X.T.astype(np.float64)
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, 1).argsort(1)
        out[s:s + 256] = np.take_along_axis(part, order, 1)
    return out


def recall_at_k(found, truth) -> float:
    k = truth.shape[1]
    hits = sum(len(set(f[:k]) & set(t)) for f, t in zip(found, truth))
    return hits / truth.size


def run(n: int, dim: int, m: int, ef: int, queries: int, seed: int = 0, ef_construction: int = 100, k: int = 10,
        select: str = "heuristic") -> dict:
    """Build over clustered data, search held-out queries, compare with brute force: the figures
    `numasim kernels hnsw` prints."""
    rng = np.random.default_rng(seed)
    X = clustered_vectors(n + queries, dim, rng)
    X, Q = X[:n], X[n:]
    index = build(X, m, ef_construction, level_draws=1.0 - rng.random(n), select=select)
    search(index, Q[:1], ef, k)  # compile outside the timing
    t0 = time.perf_counter()
    ids, stats = search(index, Q, ef, k)
    dt = time.perf_counter() - t0
    truth = brute_force(X, Q, k)
    return {
        "n": n, "dim": dim, "m": m, "ef": ef, "ef_construction": ef_construction, "queries": queries, "seed": seed,
        "select": select,
        "recall_at_10": recall_at_k(ids, truth[:, :10]) if k >= 10 else None,
        "mean_distance_evals": float(stats[:, NDC].mean()),
        "mean_hops": float(stats[:, HOPS].mean()),
        "mean_distance_evals_per_hop": float(stats[:, NDC].sum() / max(stats[:, HOPS].sum(), 1)),
        "mean_layer0_distance_evals": float(stats[:, NDC0].mean()),
        "mean_layer0_hops": float(stats[:, HOPS0].mean()),
        "mean_layer0_degree": float(index.counts[0].mean()),
        "mean_bytes": float(stats[:, BYTES].mean()),
        "levels": int(index.top) + 1,
        "build_s": index.build_s,
        "search_qps": queries / dt if dt > 0 else float("inf"),
    }


# --- search profiles -------------------------------------------------------------------------
# Scaling constants. The ef-law from benchmarks/bench_kernels.py (clustered 32-d, M = 16,
# ef_construction = 100; docs/machine.md has the table):
# - hops on layer 0 ~ ef + 7.5 (24.7 @ 16 ... 263 @ 256): the beam expands about ef nodes.
# - distance evaluations ~ 7.3 x (ef + 28) at N = 20k (334 @ 16 ... 2109 @ 256); the ef-480 grid
#   below fits offsets of 5-180 (median ~60) per graph, so 28 stays.
# The n-law and M-law from experiments/hnsw_profile.py's grid at ef 480 (n 10k-320k, M 16-128,
# both neighbour rules; docs/hawk.md, "HNSW search length at prod size"):
# - distance evaluations ~ a + b ln N with b / a ~ 0.09 (ef 64: 622 @ 1.25k ... 947 @ 80k; ef 480:
#   b / a = 0.084 over 10k-320k at M 16 with the heuristic and 0.084 over 20k-320k at M 64 with the
#   nearest rule; both wobble: leave-one-out fits span -0.85 to 0.34, so the range is wide).
# - distance evaluations ~ M^0.53 at fixed N (nearest rule, the one iris-mpc uses: 0.53 over
#   M 16-128 at 160k, leave-one-out 0.52-0.57; 0.54 over 16-128 at 20k). Not linear: a node's 2M
#   links overlap its neighbours' more as M grows, so fewer are new (the heuristic rule saturates
#   its lists on 32-d data and gives ~M^0.15).
# - hops do not follow the evaluations' n-law: flat at ef 480 (487-490 over 10k-320k, b / a ~ 0.002).
HOPS_EF_OFFSET = 7.5
NDC_EF_OFFSET = 28.0
NDC_LOGN_A_OVER_B = 1.0 / 0.09
NDC_M_EXPONENT = 0.53
HOPS_LOGN_A_OVER_B = 1.0 / 0.002


@dataclass(frozen=True)
class SearchProfile:
    """Per-query (hops, distance evaluations) sampled from a real search, and rules to scale them
    to another database size, M or ef. Bytes are computed for the caller's vector and link sizes
    (an iris share is 38,400 B per eye, far more than the 128 B of a 32-d float vector)."""

    n: int
    m: int
    ef: int
    hops: np.ndarray  # [q] int64, all layers
    ndc: np.ndarray   # [q] int64, all layers

    @staticmethod
    def measure(n: int = 20000, dim: int = 32, m: int = 16, ef: int = 64, queries: int = 500, seed: int = 0,
                ef_construction: int = 100, select: str = "heuristic") -> "SearchProfile":
        rng = np.random.default_rng(seed)
        X = clustered_vectors(n + queries, dim, rng)
        index = build(X[:n], m, ef_construction, level_draws=1.0 - rng.random(n), select=select)
        _, st = search(index, X[n:], ef)
        return SearchProfile(n, m, ef, st[:, HOPS].copy(), st[:, NDC].copy())

    def scaled(self, n: int | None = None, m: int | None = None, ef: int | None = None) -> "SearchProfile":
        """The same queries as if run on N = n, M = m, beam ef (rules in the constants above)."""
        n, m, ef = n or self.n, m or self.m, ef or self.ef
        if n < 2 or m < 2 or ef < 1:
            raise ValueError("need n >= 2, m >= 2, ef >= 1")
        f_n = (NDC_LOGN_A_OVER_B + math.log(n)) / (NDC_LOGN_A_OVER_B + math.log(self.n))
        f_ef = (NDC_EF_OFFSET + ef) / (NDC_EF_OFFSET + self.ef)
        f_h = (HOPS_EF_OFFSET + ef) / (HOPS_EF_OFFSET + self.ef)
        f_hn = (HOPS_LOGN_A_OVER_B + math.log(n)) / (HOPS_LOGN_A_OVER_B + math.log(self.n))
        ndc = np.rint(self.ndc * f_n * f_ef * (m / self.m) ** NDC_M_EXPONENT).astype(np.int64)
        hops = np.rint(self.hops * f_h * f_hn).astype(np.int64)
        return SearchProfile(n, m, ef, np.maximum(hops, 1), np.maximum(ndc, 1))

    def sample(self, u):
        """Rows for uniform draws u in [0, 1): (hops, ndc) arrays, bootstrapped from the queries."""
        u = np.asarray(u, dtype=np.float64)
        if np.any(u < 0) or np.any(u >= 1):
            raise ValueError("draws must be in [0, 1)")
        i = (u * self.hops.shape[0]).astype(np.int64)
        return self.hops[i], self.ndc[i]

    def bytes(self, hops, ndc, vector_bytes: int, link_bytes_per_hop: int | None = None):
        """Bytes a query touches: one vector per distance evaluation plus one link list per hop."""
        lb = 2 * self.m * LINK_BYTES if link_bytes_per_hop is None else link_bytes_per_hop
        return np.asarray(ndc, dtype=np.int64) * vector_bytes + np.asarray(hops, dtype=np.int64) * lb


# --- iris-mpc's batched layer search ---------------------------------------------------------
def search_batched(index: Index, Q, ef: int, floor: int = 8000):
    """Layer 0 searched as iris-mpc's `layer_search_batched_v2` does it (docs/hawk-source.md
    section 2), on this graph: W starts at the greedy entry point; the start opens W's nodes
    breadth first until ef candidates are listed; then each iteration opens W's unopened nodes,
    nearest first, until at least max(ef/2 x rate, floor) unvisited neighbours are collected
    (the rate estimate grows x7/5 when fewer than its harmonic mean with the next were inserted),
    evaluates them as one batch, keeps those closer than W's furthest and trims W to ef; it stops
    when W has no unopened node. Returns [q, 3] int64: iterations (prod's `search_depth`),
    nodes opened, neighbours evaluated (all in layer 0, the start included)."""
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    if Q.ndim != 2 or Q.shape[1] != index.dim:
        raise ValueError(f"queries must be [q, {index.dim}]")
    if ef < 1 or floor < 0:
        raise ValueError("need ef >= 1 and floor >= 0")
    X, links, counts = index.X, index.links, index.counts
    ins_num, max_denom = 64, 64 * 1000
    out = np.zeros((Q.shape[0], 3), dtype=np.int64)
    for qi in range(Q.shape[0]):
        q = Q[qi].astype(np.float64)
        dist = lambda ids: ((X[ids].astype(np.float64) - q) ** 2).sum(1)  # noqa: E731
        ep = index.entry
        for layer in range(index.top, 0, -1):  # greedy descent, as the kernel's search
            d_ep, moved = dist([ep])[0], True
            while moved:
                moved = False
                nb = links[layer, ep, :counts[layer, ep]]
                if nb.size:
                    dn = dist(nb)
                    j = int(dn.argmin())
                    if dn[j] < d_ep:
                        ep, d_ep, moved = int(nb[j]), dn[j], True
        visited = np.zeros(index.n, dtype=bool)
        opened = np.zeros(index.n, dtype=bool)
        w_ids, w_d = np.array([ep]), dist([ep])
        visited[ep] = True
        # start: breadth first from W until ef candidates are listed; open those walked
        init, k = [ep], 0
        seen = {ep}
        while k < len(init) and len(init) < ef:
            for e in links[0, init[k], :counts[0, init[k]]]:
                if int(e) not in seen:
                    seen.add(int(e))
                    init.append(int(e))
            k += 1
        n_open, n_eval = 0, 0
        new = []
        for v in init[:k]:
            nb = links[0, v, :counts[0, v]]
            nb = nb[~visited[nb]]
            visited[nb] = True
            new.append(nb)
            opened[v] = True
            n_open += 1
        new = np.concatenate(new) if new else np.empty(0, np.int64)
        n_eval += new.size
        w_ids, w_d = _merge_trim(w_ids, w_d, new, dist(new), ef)
        denom, depth = ins_num, 0
        nxt = denom * 7 // 5
        unopened = w_ids[~opened[w_ids]]
        while unopened.size:
            depth += 1
            target = max((ef // 2) * denom // ins_num, floor)
            batch, got = [], 0
            for v in unopened:
                nb = links[0, v, :counts[0, v]]
                nb = nb[~visited[nb]]
                visited[nb] = True
                batch.append(nb)
                got += nb.size
                opened[v] = True
                n_open += 1
                if got >= target:
                    break
            batch = np.concatenate(batch)
            n_eval += batch.size
            db = dist(batch)
            keep = db < w_d[-1]
            w_ids, w_d = _merge_trim(w_ids, w_d, batch[keep], db[keep], ef)
            if (denom + nxt) * int(keep.sum()) < 2 * ins_num * batch.size and nxt < max_denom:
                denom, nxt = nxt, nxt * 7 // 5
            unopened = w_ids[~opened[w_ids]]
        out[qi] = depth, n_open, n_eval
    return out


def _merge_trim(ids, d, new_ids, new_d, ef):
    """W plus new candidates, sorted by distance, trimmed to ef."""
    ids, d = np.concatenate([ids, new_ids]), np.concatenate([d, new_d])
    o = np.argsort(d, kind="stable")[:ef]
    return ids[o], d[o]
