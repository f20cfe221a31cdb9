"""Progress of long work on stderr: a tqdm bar on a terminal, a plain line every few seconds
anywhere else (a log, a pipe, CI), nothing with -q.

A line is written by a timer thread, not on each update, so that one slow run still shows that
the command is alive; the main thread only bumps counters.
"""
from __future__ import annotations

import os
import sys
import threading
import time

EVERY_S = float(os.environ.get("NUMASIM_PROGRESS_EVERY", "5"))


def _fmt_s(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    def __init__(self, total: int | None, desc: str, unit: str = "run", quiet: bool = False,
                 initial: int = 0, every_s: float | None = None, stream=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.n = initial
        self.initial = initial
        self.note = ""
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self._bar = None
        self._stop = threading.Event()
        self._thread = None
        if quiet:
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        if tty:
            from tqdm import tqdm
            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream,
                             leave=False, dynamic_ncols=True)
        else:
            every = EVERY_S if every_s is None else every_s
            self._thread = threading.Thread(target=self._tick, args=(every,), name="numasim-progress", daemon=True)
            self._thread.start()

    def line(self) -> str:
        el = time.monotonic() - self.t0
        s = f"{self.desc}: {self.n}"
        if self.total:
            s += f"/{self.total}"
        s += f" {self.unit}s, {_fmt_s(el)} elapsed"
        done = self.n - self.initial
        if self.total and done > 0 and self.n < self.total:
            s += f", about {_fmt_s(el / done * (self.total - self.n))} left"
        if self.note:
            s += f" ({self.note})"
        return s

    def _tick(self, every):
        while not self._stop.wait(every):
            try:
                print(self.line(), file=self.stream, flush=True)
            except (OSError, ValueError):
                return

    def update(self, k: int = 1) -> None:
        self.n += k
        if self._bar is not None:
            self._bar.update(k)

    def set(self, n: int, note: str = "") -> None:
        self.n, self.note = n, note
        if self._bar is not None:
            self._bar.n = n
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
