"""The `numasim` command line.

Each subcommand lives in its own module under `numasim.commands` and exposes
`register(subparsers)`, which adds its parser and sets `func`. Keeping one file per command lets
the pieces grow independently. A `UserError` becomes one line on stderr and exit status 2.
"""
import argparse
import importlib
import os
import pkgutil
import signal
import sys

from . import __version__, commands
from .errors import UserError
from .procs import Terminated, raise_on_sigterm


def one_line(text: str) -> str:
    """A message as one printable line: control characters (a newline inside a quoted bad
    value, say) are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="numasim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"numasim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}").register(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    # SIGTERM stops a command the way Ctrl-C does: workers stopped, finished rows kept
    previous = raise_on_sigterm()
    engine_before = os.environ.get("NUMASIM_ENGINE")
    try:
        if getattr(args, "engine", None):
            from .engine import set_default
            set_default(args.engine)
        return args.func(args) or 0
    except UserError as e:
        print(one_line(f"numasim {args.command}: {e}"), file=sys.stderr)
        return 2
    except Terminated:
        print(f"numasim {args.command}: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"numasim {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        # --engine holds for this command only (main may be called again in one process)
        if engine_before is None:
            os.environ.pop("NUMASIM_ENGINE", None)
        else:
            os.environ["NUMASIM_ENGINE"] = engine_before


def entry():
    """The console script. After an interrupt or SIGTERM the command has already kept what it
    keeps and said so in one line; it leaves at once, so that no thread of an executor can add
    to stderr while the interpreter shuts down."""
    code = main()
    if code in (130, 143):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(entry())
