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
    match = _NUMBER.match(text)
    if not match:
        raise QuantityError(f"{text!r} is not a number with an optional unit (e.g. '12.6 MB')")
    number = re.sub(r"[,_ ]", "", match.group("num"))
    return Quantity(checked_number(float(number)), match.group("unit"))


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
