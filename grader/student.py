"""A student's self-check inside their own notebook: what the grader will look at, on public data.

Two lines in the notebook::

    import grader.student as gs
    gs.start("mnist-cnn")   # first cell: records each fit as the grader does
    ...
    result = gs.check()     # last cell

``start`` installs the grader's own recording code (``kernel_trace``) in the student's kernel,
with the assignment's seed and training budget, so training stops where the grader would stop
it. ``check`` runs the assignment's own checks on that record and the model, and measures the
accuracy on MNIST's *public* test digits with the preprocessing the grader recognises; the
grader measures on digits the student never sees, so this is a prediction, never a grade. It
needs no course secret and no held-out data, and reads nothing of the grader's cache.

Under the grader both calls print one line and do nothing else (the hidden setup cell puts a
stand-in in their place: see ``kernel_trace._stand_in_for_self_check``).
"""

from __future__ import annotations

import sys
from typing import Any

from grader.notebooks import kernel_trace
from grader.notebooks.assignment import Assignment, load_assignment
from grader.notebooks.self_check import SelfCheck, self_check

STATE: dict[str, Any] = {}  # the assignment start() was given


def start(assignment: str = "mnist-cnn") -> None:
    """Record every fit from here on as the grader does, with the assignment's seed and budget."""
    spec = load_assignment(assignment)
    kernel_trace.install({"seed": spec.kernel_seed, "variable": spec.model_variable, **spec.budget.kernel_config()})
    STATE["assignment"] = spec
    print(f"grader.student: recording training for '{spec.name}' as the grader does (its seed and training budget).")


def check(model: Any = None, *, show: bool = True) -> SelfCheck | None:
    """The assignment's checks on this notebook's model and record, with the accuracy on public
    test digits; prints what to change for each shortfall and returns the result."""
    spec: Assignment | None = STATE.get("assignment")
    if spec is None:
        print("grader.student: call gs.start('ASSIGNMENT') in the notebook's first cell, then run it again.")
        return None
    result = self_check(spec, model, _notebook_namespace())
    if show:
        print(result.report())
    return result


def _notebook_namespace() -> dict[str, Any]:
    """The notebook's variables (IPython's user namespace), for finding the model to grade."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return dict(getattr(shell, "user_ns", {}) or {})
