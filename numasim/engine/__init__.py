"""The two engines and the choice between them.

`numasim.simulate` is the SimPy engine, the readable reference where every rule is written and
tested first. `numasim.engine.fast` is the compiled (Numba) engine: the same rules over arrays,
file for file beside the reference (docs/engine.md has the table), writing the same bytes for the
same spec, profile, host and seed. `simulate` here picks one:

* ``fast``: the compiled engine; an input it does not cover yet is refused with one line naming
  the feature (never a silent fallback).
* ``simpy``: the reference.
* ``auto`` (the default): ``fast`` where it covers the input, else ``simpy``. The result is the
  same bytes either way; only the run time differs.

The command line's ``--engine`` sets the process default (and the environment variable
NUMASIM_ENGINE, so that local worker processes of a sweep or a calibration follow it).
"""
import os

from ..errors import UserError

ENGINES = ("auto", "fast", "simpy")
_ENV = "NUMASIM_ENGINE"



def default() -> str:
    e = os.environ.get(_ENV, "auto")
    return e if e in ENGINES else "auto"


def set_default(engine: str):
    if engine not in ENGINES:
        raise UserError("--engine", f"expected one of {', '.join(ENGINES)}, got {engine!r}")
    os.environ[_ENV] = engine


def which(spec, profile, observers=(), engine=None) -> str:
    """The engine a run of this input uses: "fast" or "simpy" (raises if "fast" cannot run it)."""
    engine = engine or default()
    if engine == "simpy":
        return "simpy"
    # the compiled engine (and numba) load only when a run may use them
    from .run import check, unsupported
    if engine == "fast":
        check(spec, profile, observers)
        return "fast"
    return "fast" if unsupported(spec, profile, observers) is None else "simpy"


def simulate(spec, profile, host=None, seed=None, observers=(), engine=None):
    """Run `spec` on the chosen engine (see the module docstring); same arguments and result as
    `numasim.simulate.simulate`."""
    if which(spec, profile, observers, engine) == "fast":
        from .run import simulate_fast
        return simulate_fast(spec, profile, host, seed, observers)
    from ..simulate import simulate as simulate_simpy
    return simulate_simpy(spec, profile, host, seed=seed, observers=observers)


def add_argument(p):
    p.add_argument("--engine", choices=ENGINES, default=None,
                   help="simulation engine: fast (compiled; refuses what it does not cover yet), simpy (the "
                        "reference), or auto, the default: fast where it covers the input, else simpy. Both "
                        "write the same bytes. Covered now: every step, offload pools; one or several "
                        "runtimes, on the flat host or a machine (the Hawk scenarios too); several parties "
                        "(mpc_round); see docs/engine.md")
