"""Worker processes that live and die with the command that started them.

    for item, result in imap_unordered(fn, items, workers=2):   # at most 2 x workers in flight
        ...

A killed parent must not leave its workers running (an orphaned worker keeps burning a CPU on a
run nobody will read). Each worker asks the kernel for SIGKILL when its parent dies (Linux
`prctl(PR_SET_PDEATHSIG)`, through ctypes); where that call is missing a thread in the worker
polls its parent instead. Workers ignore SIGINT: a Ctrl-C reaches the whole process group, and the
parent decides what to keep. On any exit of the consumer (an interrupt, SIGTERM turned into
`Terminated` by the CLI, an exception, or the loop stopping early) the parent terminates its
workers at once instead of waiting for runs in flight whose results would be thrown away.

Items are pulled lazily from `items`, so a long design is never materialized as futures.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import itertools
import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.2


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like a Ctrl-C so that the same clean-up runs."""


def raise_on_sigterm():
    """Turn SIGTERM into `Terminated` in this process; returns the previous handler (None off the
    main thread, where Python cannot set one)."""
    def handler(signum, frame):
        raise Terminated()
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _die_with_parent(ppid: int) -> None:
    ok = False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        ok = False
    if not ok:
        def watch():
            while os.getppid() == ppid:
                time.sleep(PARENT_POLL_S)
            os._exit(1)
        threading.Thread(target=watch, name="numasim-parent-watch", daemon=True).start()
    # the parent may have died between fork and prctl: then nobody would send the signal
    if os.getppid() != ppid:
        os._exit(1)


def init_worker(ppid: int) -> None:
    """Pool initializer: die with the parent, leave SIGINT to it, and forget any SIGTERM handler
    inherited through fork (a worker told to stop stops, without a traceback)."""
    _die_with_parent(ppid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool whose workers die with this process (see `init_worker`)."""
    return cf.ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(os.getpid(),))


def stop(ex: cf.ProcessPoolExecutor, grace_s: float = 0.5) -> None:
    """Stop a pool now: terminate its workers (runs in flight are lost), then reap them."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(0.5)
    # the workers are gone, so the executor's management thread ends at once; joining it here
    # keeps it from racing the shutdown of its pipes (an EBADF it would print on stderr)
    ex.shutdown(wait=True, cancel_futures=True)


def imap_unordered(fn, items, workers: int, in_flight: int | None = None):
    """Yield (item, fn(item)) as runs finish, on `workers` processes (in this process for 1).

    At most `in_flight` (default 2 x workers) items are submitted at a time; the rest stay in the
    iterator until a slot frees."""
    items = iter(items)
    if workers <= 1:
        for it in items:
            yield it, fn(it)
        return
    window = in_flight or 2 * workers
    ex = pool(workers)
    pending: dict = {}
    try:
        for it in itertools.islice(items, window):
            pending[ex.submit(fn, it)] = it
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fu in done:
                it = pending.pop(fu)
                res = fu.result()
                for nxt in itertools.islice(items, 1):
                    pending[ex.submit(fn, nxt)] = nxt
                yield it, res
    except BaseException:
        stop(ex)
        raise
    ex.shutdown(wait=True)


def map_ordered(fn, items, workers: int, on_result=None) -> list:
    """[fn(x) for x in items] on `workers` processes, results in the items' order;
    `on_result()` is called as each run finishes (a progress bar)."""
    items = list(items)
    out = [None] * len(items)
    for (i, _), res in imap_unordered(_Indexed(fn), list(enumerate(items)), workers):
        out[i] = res
        if on_result is not None:
            on_result()
    return out


class _Indexed:
    """fn over (index, item) pairs; a class so that it pickles by reference to `fn`."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, pair):
        return self.fn(pair[1])
