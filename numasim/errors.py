"""The one family of exceptions for what a user can get wrong.

The CLI turns any `UserError` into one line on stderr and exit status 2. Anything else is a bug
and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: a spec, a trace, a topology, a scenario or a flag."""

    def __init__(self, where: str, what: str):
        self.where = where
        self.what = what
        super().__init__(f"{where}: {what}" if where else what)


class SpecError(UserError):
    """A workload spec or scenario is malformed; `where` is the file and field path."""


class TraceError(UserError):
    """A trace cannot be read; `where` is the file and line."""


class TopologyError(UserError):
    """A machine description cannot be read; `where` is the file and line."""
