"""The flags a notebook result can carry, and which ask for the instructor's look.

One vocabulary for the grader that sets them, the schema that stores them and the class report
that lists the students to look at (``tests/test_types.py`` holds the schema equal to it)."""

from __future__ import annotations

from enum import StrEnum


class Flag(StrEnum):
    NEVER_TRAINED = "never_trained"
    CLAIMED_ACCURACY_GAP = "claimed_accuracy_gap"
    PREPROCESSING_NOT_RECOGNISED = "preprocessing_not_recognised"
    TRAINING_BUDGET_USED = "training_budget_used"
    TRAINING_TIME_LIMIT = "training_time_limit"
    BUDGET_BELOW_CLAIMED = "budget_below_claimed"
    TRAINED_ON_HELDOUT = "trained_on_heldout"
    UNSAFE_LAYER = "unsafe_layer"
    CUSTOM_OBJECT = "custom_object"
    GRADER_DATA_CHANGED = "grader_data_changed"
    TRACE_CONTRADICTED = "trace_contradicted"
    NEAR_TIER_BOUNDARY = "near_tier_boundary"
    REACHES_INTO_GRADER = "reaches_into_grader"

    @property
    def for_instructor(self) -> bool:
        """Whether the class report lists the student among those to look at: everything but
        the budget's plain report that training stopped where it should, and the grader's own
        data trouble (not the student's doing)."""
        return self not in (Flag.TRAINING_BUDGET_USED, Flag.GRADER_DATA_CHANGED)
