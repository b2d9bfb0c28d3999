"""The training budget: how much a notebook may train, counted in work, not in seconds.

A budget in seconds of the grading machine gave a faster or idler machine higher grades.
This one counts what the notebook did: training examples processed (every batch of every
``fit``, ``train_on_batch`` and custom training step), and optionally training
compute, the examples times the model's multiply-adds per example (so that a model a
hundred times costlier per image cannot take a hundred times longer). Both are the same
on every machine, so the same notebook stops at the same batch everywhere. Wall-clock
time remains only as a generous safety limit; reaching it depends on the machine, so it is
flagged for the instructor and said plainly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grader.notebooks.flags import Flag


class BudgetStop(StrEnum):
    """Why training was stopped before the notebook asked it to end."""

    EXAMPLES = "examples"  # the budget of training examples was used
    COMPUTE = "compute"  # the budget of training compute was used
    EPOCHS = "epochs"  # the cap on epochs per fit call
    TIME_LIMIT = "time_limit"  # the safety limit on training time (depends on the machine)


@dataclass(frozen=True)
class TrainingBudget:
    """An assignment's ``training_budget``; every field None means no budget."""

    examples: int | None = None  # training examples, all training calls together
    giga_multiply_adds: float | None = None  # examples x the model's multiply-adds per example, in billions
    epochs: int | None = None  # a cap per fit call
    time_limit: float | None = None  # seconds of training: a safety limit, never the budget itself

    @classmethod
    def read(cls, doc: dict[str, Any]) -> TrainingBudget:
        return cls(
            examples=doc.get("examples"),
            giga_multiply_adds=doc.get("giga_multiply_adds"),
            epochs=doc.get("epochs"),
            time_limit=doc.get("time_limit"),
        )

    def kernel_config(self) -> dict[str, Any]:
        """What the callback in the kernel reads (``kernel_trace.CONFIG``)."""
        return {
            "budget_examples": self.examples,
            "budget_multiply_adds": self.giga_multiply_adds * 1e9 if self.giga_multiply_adds else None,
            "budget_epochs": self.epochs,
            "time_limit": self.time_limit,
        }

    def describe(self) -> str:
        """The budget in a student's words, e.g. '600,000 training examples or 4,000 billion
        multiply-adds of training, whichever comes first'."""
        parts = []
        if self.examples:
            parts.append(f"{self.examples:,} training examples")
        if self.giga_multiply_adds:
            parts.append(f"{self.giga_multiply_adds:,g} billion multiply-adds of training")
        if self.epochs:
            parts.append(f"{self.epochs} epoch(s) per fit call")
        text = " or ".join(parts) + (", whichever comes first" if len(parts) > 1 else "")
        return text or "no budget of work"


@dataclass(frozen=True)
class BudgetOutcome:
    """What the budget did to one notebook's training: a flag and a sentence, or nothing."""

    flag: Flag
    message: str


def _progress(training: dict[str, Any]) -> str:
    """'300,000 examples (5.0 of 10 epochs)': how far training got, in the student's terms."""
    requested = training.get("epochs_requested")
    of = f" of {requested}" if requested else ""
    epochs = f"{training.get('epochs_done') or 0:.1f}{of} epochs"
    if not training.get("fit_calls") and training.get("steps_outside_fit"):
        epochs = f"{training['steps_outside_fit']:,} training steps outside fit"
    examples = training.get("examples")
    return f"{examples:,} examples ({epochs})" if examples is not None else epochs


def budget_outcome(training: dict[str, Any] | None, budget: TrainingBudget) -> BudgetOutcome | None:
    """What the training budget did, in the student's terms; None when it did nothing."""
    stop = training.get("stopped_by_budget") if training else None
    if not stop or training is None:
        return None
    progress = _progress(training)
    if stop == BudgetStop.TIME_LIMIT:
        return BudgetOutcome(
            Flag.TRAINING_TIME_LIMIT,
            f"Training reached the grader's safety time limit ({budget.time_limit:g} s of training on the grading "
            f"machine) after {progress}, before the assignment's budget ({budget.describe()}); the model was "
            "measured as it was then. This depends on the machine, so it is flagged for your instructor, who can "
            "grade it again on a faster machine: the budget gives the same points on any machine. A smaller model "
            "or fewer epochs train within the time limit.",
        )
    if stop == BudgetStop.COMPUTE:
        per_example = training.get("multiply_adds_per_example") or 0
        why = (
            f"the assignment allows {budget.describe()}; your model costs {per_example / 1e6:,.1f} million "
            "multiply-adds per image, so a smaller model trains on more examples within it"
        )
    elif stop == BudgetStop.EPOCHS:
        why = f"the assignment allows {budget.epochs} epoch(s) per fit call"
    else:
        why = f"the assignment allows {budget.describe()}"
    return BudgetOutcome(
        Flag.TRAINING_BUDGET_USED,
        f"Training stopped after {progress}: {why}, the same on every machine. The model was measured as it "
        "was then; this costs no points by itself: the accuracy reached counts.",
    )


def below_claim_message(claimed: float, measured: float, budget: TrainingBudget, source: str) -> str:
    """When the budget left a model far below what the notebook printed: said, and how an
    instructor grades it with a larger budget (the same on any machine, only faster on a
    faster one)."""
    return (
        f"The notebook printed an accuracy of {claimed:.2%}, but trained within the assignment's budget "
        f"({budget.describe()}) its model measured {measured:.2%}; points come from the measured value. "
        "Flagged for your instructor, who can grade it with a larger budget: copy the assignment file "
        f"({source}), raise training_budget, and run grader grade NOTEBOOK --assignment THE_COPY.yaml "
        "(the same budget gives the same points on any machine; a faster one only finishes sooner)."
    )
