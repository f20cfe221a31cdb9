"""Rust `Duration` Debug text, and the other ways captures spell a duration, to and from int ns.

`std::time::Duration`'s Debug picks the largest unit that fits among s, ms, µs and ns, prints as
many fractional digits as needed and trims trailing zeros (tokio-metrics.md A.4): `0ns`, `1.5µs`,
`1.234ms`, `3s`. With a precision (`{:.3?}`) the digits are fixed and rounded, so `1.235ms` reads
back as 1 235 000 ns: what was printed, not what was measured.
"""
import re
from fractions import Fraction

from ..errors import TraceError

UNIT_NS = {"ns": 1, "µs": 1_000, "μs": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

# Digit runs are bounded: Duration::MAX has 20 integer digits, and Python refuses to turn a
# 5000-digit string into an int (ValueError), which must be a TraceError instead.
_DURATION = re.compile(r"(\d{1,25})(?:\.(\d{1,30}))?(ns|µs|μs|us|ms|s)")


def format_duration(ns: int) -> str:
    """Rust's `{:?}` of `Duration::from_nanos(ns)`, exactly."""
    if ns < 0:
        raise ValueError("a Duration is never negative")
    secs, nanos = divmod(ns, 1_000_000_000)
    if secs > 0:
        whole, frac, width, unit = secs, nanos, 9, "s"
    elif nanos >= 1_000_000:
        whole, frac, width, unit = divmod(nanos, 1_000_000) + (6, "ms")
    elif nanos >= 1_000:
        whole, frac, width, unit = divmod(nanos, 1_000) + (3, "µs")
    else:
        return f"{nanos}ns"
    digits = f"{frac:0{width}d}".rstrip("0")
    return f"{whole}.{digits}{unit}" if digits else f"{whole}{unit}"


def parse_duration(text: str, where: str) -> int:
    """Int ns from a Duration's Debug text (`1.234ms`); sub-ns digits round to the nearest ns."""
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise TraceError(where, f"expected a Duration like 1.234ms, got {text.strip()[:40]!r}")
    whole, frac, unit = m.groups()
    value = Fraction(int(whole)) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    return _check_u64(round(value * UNIT_NS[unit]), where, text)


def _check_u64(ns: int, where: str, text) -> int:
    # Duration::MAX is u64::MAX seconds; wider than any counter numasim keeps, so accept up to it.
    if ns < 0 or ns > (2**64 - 1) * 1_000_000_000 + 999_999_999:
        raise TraceError(where, f"value out of range: {str(text)[:40]!r}")
    return ns


def to_ns(value, unit: str | None, where: str) -> int:
    """Int ns from any capture's spelling of a duration.

    `{"secs", "nanos"}` (serde's Duration), a Debug string, or a number in `unit` (ns, µs, ms, s).
    """
    if isinstance(value, dict):
        if set(value) != {"secs", "nanos"}:
            raise TraceError(where, f"a Duration object has exactly secs and nanos, got {sorted(value)[:4]}")
        secs, nanos = value["secs"], value["nanos"]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (secs, nanos)) or nanos >= 10**9:
            raise TraceError(where, f"bad Duration object {value!r:.60}")
        return _check_u64(secs * 1_000_000_000 + nanos, where, value)
    if isinstance(value, str):
        s = value.strip()
        if _DURATION.fullmatch(s):
            return parse_duration(s, where)
        value = number(s, where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TraceError(where, f"expected a duration, got {value!r:.40}")
    return _check_u64(_scaled(value, UNIT_NS[unit or "ns"], where), where, value)


def to_count(value, where: str) -> int:
    """A non-negative int from a count cell; `12.0` is fine, `12.5` is not."""
    if isinstance(value, str):
        value = number(value.strip(), where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TraceError(where, f"expected a count, got {value!r:.40}")
    n = _scaled(value, 1, where)
    if n != value:
        raise TraceError(where, f"a count must be a whole number, got {value!r}")
    if n < 0 or n > 2**64 - 1:
        raise TraceError(where, f"count out of range: {value!r}")
    return n


def number(text: str, where: str):
    if len(text) > 60:
        raise TraceError(where, f"expected a number, got {text[:40]!r}...")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise TraceError(where, f"expected a number, got {text[:40]!r}") from None


def _scaled(value, factor: int, where: str) -> int:
    if isinstance(value, int):
        return value * factor
    if value != value or value in (float("inf"), float("-inf")):
        raise TraceError(where, f"expected a finite number, got {value!r}")
    # Fraction of the float's exact value: 1.5 µs -> 1500 ns without float rounding on the way.
    return round(Fraction(value) * factor)
