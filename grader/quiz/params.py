"""Per-student variants: parameters, their ranges, and how a seed picks one.

A bank or question declares ``params`` (the default values, which make the version
printed in the course) and ``variants`` (the ranges a variant may draw from). A variant's
stream (``variants.Variant``: a practice seed or a student's HMAC) picks the numbers
reproducibly: the same stream always gives the same numbers, on any machine and Python
version. Setups refer to parameters as ``$name``; prompts as ``{name}``.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from grader.errors import BankError

_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def rng_for(stream: str, *scope: str) -> random.Random:
    """A random generator determined by the variant's stream and a scope (bank, question)."""
    digest = hashlib.sha256("\x1f".join((str(stream),) + scope).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def draw(spec: dict[str, Any], rng: random.Random) -> Any:
    """One value from a variant spec: ``choices``, an integer ``range`` or a random ``grid``."""
    if "choices" in spec:
        return rng.choice(spec["choices"])
    if "range" in spec:
        low, high = spec["range"]
        return rng.randrange(low, high + 1, spec.get("step", 1))
    grid = spec["grid"]
    return [[rng.randint(grid["low"], grid["high"]) for _ in range(grid["cols"])] for _ in range(grid["rows"])]


def choose(defaults: dict[str, Any], variants: dict[str, Any], stream: str | None, *scope: str) -> dict[str, Any]:
    """Parameter values for a variant's ``stream``: the defaults when there is none."""
    values = dict(defaults)
    if stream is None:
        return values
    rng = rng_for(stream, *scope)
    for name in sorted(variants):
        values[name] = draw(variants[name], rng)
    return values


def resolve(value: Any, params: dict[str, Any], where: str) -> Any:
    """Replace every ``$name`` string inside ``value`` by the parameter's value."""
    if isinstance(value, str):
        match = _REF.match(value)
        if not match:
            return value
        name = match.group(1)
        if name not in params:
            known = ", ".join(sorted(params)) or "none"
            raise BankError(f"{where}: unknown parameter ${name} (parameters: {known})")
        return params[name]
    if isinstance(value, list):
        return [resolve(v, params, where) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, params, where) for k, v in value.items()}
    return value


def names_used(spec: dict[str, Any]) -> set[str]:
    """The parameters a question uses: ``{name}`` in its prompt and ``$name`` in its setup
    (nothing else of a question is filled in)."""
    names = set(_PLACEHOLDER.findall(spec.get("prompt", "")))

    def walk(value: Any) -> None:
        if isinstance(value, str) and (match := _REF.match(value)):
            names.add(match.group(1))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(spec.get("setup"))
    return names


def drawable(spec: dict[str, Any], value: Any) -> bool:
    """Whether ``draw`` could give ``value`` from this variant spec (a number written on a
    handed-out sheet that no variant holds was edited)."""
    if "choices" in spec:
        return any(type(value) is type(choice) and value == choice for choice in spec["choices"])
    if "range" in spec:
        low, high = spec["range"]
        return _whole(value) and low <= value <= high and (value - low) % spec.get("step", 1) == 0
    grid = spec["grid"]
    return (
        isinstance(value, list)
        and len(value) == grid["rows"]
        and all(isinstance(row, list) and len(row) == grid["cols"] for row in value)
        and all(_whole(x) and grid["low"] <= x <= grid["high"] for row in value for x in row)
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def format_value(value: Any) -> str:
    """Show a parameter in a prompt: grids as aligned rows, others as written."""
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        width = max(len(str(x)) for row in value for x in row)
        return "\n".join("  " + " ".join(str(x).rjust(width) for x in row) for row in value)
    return str(value)


def fill(text: str, params: dict[str, Any]) -> str:
    """Put parameter values into ``{name}`` placeholders; other braces stay as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return format_value(params[name]) if name in params else match.group(0)

    return _PLACEHOLDER.sub(replace, text)
