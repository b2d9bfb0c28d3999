"""From a question's setup to its answer key, through the calculators.

A numeric question names a ``compute`` and gives a ``setup``: the keyword arguments
of that calculator, written as in the bank (layers as mappings). ``arguments`` turns
the setup into calculator arguments and ``evaluate`` runs the calculator; misconception
feedback reruns ``evaluate`` on altered arguments (see ``slips``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.calc import grids, layers, memory
from grader.errors import CalculationError
from grader.quiz.question_type import QuestionType


@dataclass(frozen=True)
class Compute:
    """A calculator as a bank names it, and the answer type its key has."""

    function: Callable[..., Any]
    answer_type: QuestionType
    network: bool  # takes input_shape and a list of layers


COMPUTES: dict[str, Compute] = {
    "parameter_count": Compute(layers.parameter_count, QuestionType.INTEGER, True),
    "output_shape": Compute(layers.final_shape, QuestionType.SHAPE, True),
    "prediction_memory": Compute(memory.prediction_memory, QuestionType.NUMBER, True),
    "training_memory": Compute(memory.training_memory, QuestionType.NUMBER, True),
    "convolution": Compute(grids.convolve, QuestionType.GRID, False),
    "pooling": Compute(grids.pool, QuestionType.GRID, False),
}


def arguments(compute: str, setup: dict[str, Any]) -> dict[str, Any]:
    """Calculator keyword arguments from a (parameter-resolved) bank setup."""
    args = dict(setup)
    if COMPUTES[compute].network:
        if "input_shape" not in args or "layers" not in args:
            raise CalculationError("the setup needs 'input_shape' and 'layers'")
        args["input_shape"] = tuple(args["input_shape"])
        if not isinstance(args["layers"], list) or not args["layers"]:
            raise CalculationError("'layers' must be a non-empty list of layer mappings")
        built = []
        for index, spec in enumerate(args["layers"], start=1):
            if not isinstance(spec, dict):
                raise CalculationError(f"layer {index} must be a mapping, not {spec!r}")
            try:
                built.append(layers.layer_from_spec(spec))
            except CalculationError as exc:
                raise CalculationError(f"layer {index}: {exc}") from None
        args["layers"] = built
    return args


def evaluate(compute: str, args: dict[str, Any]) -> Any:
    """Run the calculator; shapes come back as lists so they compare with answers."""
    try:
        value = COMPUTES[compute].function(**args)
    except TypeError as exc:
        raise CalculationError(f"{compute}: {exc}") from None
    return list(value) if isinstance(value, tuple) else value
