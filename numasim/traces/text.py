"""Reading a trace file as text, with the checks every reader relies on."""
from ..errors import TraceError

MAX_BYTES = 1 << 30  # a trace larger than this is not a metrics capture


def read_lines(path) -> list:
    """A trace file's lines, checked: readable, at most 1 GiB, UTF-8 (a BOM is dropped), no NUL."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise TraceError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise TraceError(path, "larger than 1 GiB; not a metrics capture")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise TraceError(f"{path}:{line}", "not UTF-8 text") from None
    if "\x00" in text:
        raise TraceError(f"{path}:{text[:text.index(chr(0))].count(chr(10)) + 1}", "binary data (NUL byte)")
    return text.splitlines()
