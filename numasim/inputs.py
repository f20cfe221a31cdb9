"""Reading a user's file: bytes first, then text, never trusting the encoding.

Whatever the bytes are (a binary file given by mistake, a truncated copy, another encoding), the
result is the text or a one-line `UserError` naming the file and line: never a
UnicodeDecodeError traceback. JSON and TOML parse errors, and nesting deep enough to exhaust the
parser, become the same kind of line.
"""
from __future__ import annotations

import json

from .errors import SpecError, UserError

MAX_BYTES = 1 << 30  # no spec, scenario or machine description is this large


def read_bytes(path, error=UserError, limit: int = MAX_BYTES) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error(str(path), f"cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise error(str(path), f"larger than {limit >> 20} MiB; not an input numasim reads")
    return data


def decode(data: bytes, path, error=UserError, what: str = "text") -> str:
    """UTF-8 (a BOM is dropped); undecodable bytes or a NUL are a one-line error at their line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise error(f"{path}:{line}", f"not UTF-8 text (byte 0x{data[e.start]:02x}); expected {what}") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise error(f"{path}:{line}", f"binary data (a NUL byte); expected {what}")
    return text


def read_text(path, error=UserError, what: str = "text") -> str:
    return decode(read_bytes(path, error), path, error, what)


def read_json(path, error=SpecError, what: str = "a JSON document"):
    text = read_text(path, error, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}:{e.lineno}", f"not valid JSON: {e.msg}") from None
    except RecursionError:
        raise error(str(path), "not valid JSON: nested too deeply") from None


def read_toml(path, error=SpecError, what: str = "a TOML document") -> dict:
    import tomllib
    text = read_text(path, error, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(str(path), f"not valid TOML: {e}") from None
    except RecursionError:
        raise error(str(path), "not valid TOML: nested too deeply") from None
