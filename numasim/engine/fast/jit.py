"""The decorators of the engine's kernels: `kernel` for every function, `alloc` for the few that
allocate (a list, `np.zeros`).

`kernel` is `njit(cache=True)` without Numba's reference counting (`_nrt=False`). The kernels take
the state arrays (M, F) from Python, never allocate and never keep an array beyond a call, so the
atomic increments and decrements Numba emits around an array passed into a call that LLVM does not
inline guard nothing; on the Hawk job they were a fifth of the kernel's time (perf: most samples
in two instructions of NRT_incref/NRT_decref). A callee compiles with its caller's setting unless
it sets its own, so a function that allocates says `alloc`, which keeps the counting on.
"""
from numba import njit

kernel = njit(cache=True, _nrt=False)
alloc = njit(cache=True, _nrt=True)
