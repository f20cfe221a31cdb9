"""A binary min-heap of int64 rows in M, ordered lexicographically on each row's first `nkey`
columns: SimPy's event queue (time, priority, eid; events.py) and the driver's timer and pending-I/O
heaps (key, sequence; driver.py) are both this heap with other row widths."""
from .jit import kernel


@kernel
def _less(M, base, width, nkey, i, j):
    a = base + i * width
    b = base + j * width
    for c in range(nkey):
        if M[a + c] != M[b + c]:
            return M[a + c] < M[b + c]
    return False


@kernel
def _swap(M, base, width, i, j):
    a = base + i * width
    b = base + j * width
    for c in range(width):
        x = M[a + c]
        M[a + c] = M[b + c]
        M[b + c] = x


@kernel
def sift_up(M, base, width, nkey, i):
    """Row i was just written at the end of the heap: move it up to its place."""
    while i > 0:
        p = (i - 1) >> 1
        if _less(M, base, width, nkey, i, p):
            _swap(M, base, width, i, p)
            i = p
        else:
            break


@kernel
def remove_root(M, base, width, nkey, n):
    """Drop row 0 of a heap of n + 1 rows: the last row (n) takes its place and moves down."""
    if n <= 0:
        return
    for c in range(width):
        M[base + c] = M[base + n * width + c]
    i = 0
    while True:
        l = 2 * i + 1
        if l >= n:
            break
        m = l
        if l + 1 < n and _less(M, base, width, nkey, l + 1, l):
            m = l + 1
        if _less(M, base, width, nkey, m, i):
            _swap(M, base, width, m, i)
            i = m
        else:
            break
