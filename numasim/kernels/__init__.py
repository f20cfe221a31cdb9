"""Numba kernels: pure functions over preallocated arrays that do a batch of work per call.

Each module pairs a checked public Python function with a private jitted kernel (`cache=True`), in
the style of QuantEcon's `markov`: `memcost` (memory cost of a batch of accesses) and `hnsw`
(build and search a real HNSW graph, recording per-query hops, distance evaluations and bytes).
"""
