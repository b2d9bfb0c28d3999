"""Reading the numbers students write: ``903,400``, ``12.6 MB``, ``0.53 GiB``, ``1e6``.

Byte units follow the course: kB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024;
both are accepted and converted. Anything else is refused with a message that says
which part could not be read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

BYTE_UNITS: dict[str, int] = {
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
UNIT_NAMES = {
    "b": "B",
    "kb": "kB",
    "mb": "MB",
    "gb": "GB",
    "tb": "TB",
    "kib": "KiB",
    "mib": "MiB",
    "gib": "GiB",
    "tib": "TiB",
}
COUNT_WORDS = {"", "parameters", "params", "weights", "values"}
LARGEST = 1e18  # no answer in these banks comes near; larger is a typo or a test of the grader
MAX_DIGITS = 40  # a written number longer than this is no answer (and is never echoed whole)
SHOWN_CHARS = 60  # how much of an unreadable answer a message repeats
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d{1,2}(?!\d)")  # 12,6 or 0,53: a comma where a point belongs
_BITS = re.compile(r"^[KkMGT]i?b$")  # Mb, Gb, Kib: b is a bit, B a byte (lower-case mb and kb read as bytes)

_NUMBER = re.compile(
    r"^\s*(?P<num>[-+]?(?:\d{1,3}(?:[,_ ]\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?)"
    r"\s*(?P<unit>[A-Za-z]*)\s*$"
)


class QuantityError(ValueError):
    """An answer that is not a number this question can use; the message says why."""


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # as written, '' when none


def parse_quantity(text: str) -> Quantity:
    """Split ``'12.6 MB'`` into 12.6 and ``'MB'``; thousands separators are allowed."""
    if _DECIMAL_COMMA.match(text):
        raise QuantityError(
            f"{_shown(text)} has a decimal comma: write the decimal separator as a point (e.g. '12.6 MB'); "
            "commas may only separate thousands (903,400)"
        )
    match = _NUMBER.match(text)
    if not match:
        raise QuantityError(f"{_shown(text)} is not a number with an optional unit (e.g. '12.6 MB')")
    number = re.sub(r"[,_ ]", "", match.group("num"))
    digits = sum(c.isdigit() for c in number.split("e")[0].split("E")[0])
    if digits > MAX_DIGITS:
        raise QuantityError(f"a number with {digits:,} digits is not an answer (at most {MAX_DIGITS})")
    return Quantity(checked_number(float(number)), match.group("unit"))


def _shown(text: str) -> str:
    """An unreadable answer as a message repeats it: its start only when it is long."""
    return repr(text) if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]!r}... ({len(text):,} characters)"


def checked_number(value: float) -> float:
    """Refuse NaN, infinities and absurdly large values."""
    if math.isnan(value):
        raise QuantityError("NaN is not an answer")
    if math.isinf(value):
        raise QuantityError("an infinite value is not an answer")
    if abs(value) > LARGEST:
        raise QuantityError(f"{value:g} is implausibly large (more than {LARGEST:g})")
    return value


def to_bytes(quantity: Quantity, default_unit: str) -> float:
    """Bytes from a quantity; a bare number is read in the question's unit."""
    unit = quantity.unit or default_unit
    if _BITS.match(unit):
        raise QuantityError(
            f"unit {unit!r} counts bits (b is a bit, B a byte): give the memory in bytes, e.g. '12.6 MB'"
        )
    factor = BYTE_UNITS.get(unit.lower())
    if factor is None:
        known = "B, kB, MB, GB, KiB, MiB, GiB"
        if unit.lower() in ("bit", "bits", "kbit", "mbit", "gbit"):
            raise QuantityError(f"unit {unit!r} counts bits; give the memory in bytes ({known})")
        raise QuantityError(f"unit {unit!r} is not a unit of memory (use {known})")
    return quantity.value * factor


def show_bytes(value: float, unit: str = "MB") -> str:
    """``12613600`` -> ``'12.61 MB (12,613,600 bytes)'``."""
    factor = BYTE_UNITS.get(unit.lower(), 1)
    return f"{value / factor:,.4g} {unit} ({value:,.0f} bytes)"
