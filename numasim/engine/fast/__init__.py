"""The compiled engine's kernels (Numba, cache=True); see docs/engine.md.

Numba keys a cached kernel on its own file's time stamp only, not on the module constants it
imports nor on the callees compiled into it: after a change to state.py's layout or to
interpret.py, a kernel cached from an unchanged worker.py would run the old code. So every kernel
here is cached in a directory named after a hash of this package's text, set while the kernels
are defined; another version of the files never shares it (and older directories are removed).
"""
import glob
import hashlib
import os
import shutil

import numba

_HERE = os.path.dirname(os.path.abspath(__file__))


def _digest() -> str:
    h = hashlib.sha256()
    # the memory-cost kernel is compiled into the refresher (numa.py) too
    for p in sorted(glob.glob(os.path.join(_HERE, "*.py"))) + [os.path.join(_HERE, "..", "..", "kernels", "memcost.py")]:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


_prev = numba.config.CACHE_DIR
_base = _prev or os.path.join(_HERE, "__pycache__")
CACHE_DIR = os.path.join(_base, f"numasim-engine-{_digest()}")
for _old in glob.glob(os.path.join(_base, "numasim-engine-*")):
    if _old != CACHE_DIR:
        shutil.rmtree(_old, ignore_errors=True)
numba.config.CACHE_DIR = CACHE_DIR
try:
    from . import arrivals, loop  # noqa: F401,E402  (every kernel is defined now, under CACHE_DIR)
finally:
    numba.config.CACHE_DIR = _prev
