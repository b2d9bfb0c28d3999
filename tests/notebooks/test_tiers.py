"""Scoring a measured accuracy against tiers with a margin for sampling noise (no TensorFlow)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from grader.notebooks.assignment import Assignment, CheckName, CheckSpec, Tier
from grader.notebooks.checks import Observed, near_tier_boundary, run_checks
from grader.notebooks.tiers import accuracy_needed, score_tiers, wilson_interval
from grader.notebooks.trace import KernelTrace

ROOT = Path(__file__).resolve().parents[2]
TIERS = (Tier(0.975, 1.0), Tier(0.965, 0.9), Tier(0.955, 0.8), Tier(0.93, 0.6))  # mnist-cnn's bundled tiers
NOTE = "1,000 held-out digits the notebook never received"


def closed_form(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson (1927), written out independently of the module under test."""
    p = k / n
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - spread) / (1 + z**2 / n), (centre + spread) / (1 + z**2 / n)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # a typical MNIST measurement: 96.5% of 1,000 digits
        (965, 1000, 0.9517, 0.9747),
    ],
)
def test_the_wilson_interval_matches_published_values(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=5e-5)
    assert wilson_interval(k, n) == pytest.approx(closed_form(k, n), abs=1e-5)


def test_the_wilson_interval_stays_inside_zero_and_one():
    assert wilson_interval(1000, 1000) == pytest.approx((0.99617, 1.0), abs=5e-6)
    assert wilson_interval(0, 1000)[0] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        wilson_interval(5, 0)


def test_just_under_a_boundary_is_given_the_tier_and_flagged():
    score = score_tiers(TIERS, 0.973, 1000)  # interval about 96.1%-98.1%: it reaches 97.5%
    assert score.fraction == 1.0 and score.tier == Tier(0.975, 1.0)
    assert score.by_margin
    assert score.interval == pytest.approx(closed_form(973, 1000), abs=1e-4)


def test_a_tier_reached_by_the_measurement_itself_is_not_by_margin():
    score = score_tiers(TIERS, 0.965, 1000)  # 96.5% reaches 96.5%; its interval (95.2%-97.47%) misses 97.5%
    assert score.fraction == 0.9 and not score.by_margin  # not flagged: no point was given by chance


def test_far_from_every_boundary_is_not_flagged():
    score = score_tiers((Tier(0.99, 1.0), Tier(0.9, 0.5)), 0.95, 1000)  # interval about 93.5%-96.2%
    assert score.fraction == 0.5 and score.tier == Tier(0.9, 0.5)
    assert not score.by_margin


@pytest.mark.parametrize("images", [None, 0])
@pytest.mark.parametrize("accuracy", [0.5, 0.93, 0.9549, 0.955, 0.964, 0.973, 0.975, 1.0])
def test_with_the_number_of_images_unknown_the_tiers_are_compared_as_before(accuracy, images):
    before = max((t.fraction for t in TIERS if accuracy >= t.min_accuracy), default=0.0)
    score = score_tiers(TIERS, accuracy, images)
    assert score.fraction == before
    assert score.interval is None and score.images is None and not score.by_margin


def test_the_accuracy_needed_is_the_lowest_that_reaches_the_tier():
    needed = accuracy_needed(0.975, 1000)
    assert needed == 0.966
    assert score_tiers(TIERS, needed, 1000).fraction == 1.0
    assert score_tiers(TIERS, needed - 0.001, 1000).fraction == 0.9


def assignment(*tiers: Tier) -> Assignment:
    return Assignment(
        name="t",
        title="t",
        source="t.yaml",
        checks=(CheckSpec(CheckName.ACCURACY, 10),),
        data="mnist",
        tiers_full=tiers or TIERS,
    )


def observe(accuracy: float, images: int | None, a: Assignment | None = None, leak: int = 0) -> Observed:
    return Observed(
        a or assignment(),
        KernelTrace.from_dict({"model": {"id": 1, "params": 5000}}),
        None,
        (),
        accuracy,
        NOTE,
        True,
        1 / 255,
        heldout_leak=leak,
        images_measured=images,
    )


def accuracy_check(seen: Observed):
    (result,) = run_checks(seen)
    return result


def test_the_message_names_the_interval_the_tier_given_and_what_full_marks_need():
    seen = observe(0.964, 1000)
    result = accuracy_check(seen)
    assert result.fraction == 0.9 and result.points == 9
    assert result.message == (
        f"Measured accuracy 96.40% on {NOTE} (95% interval 95.1%-97.3%). A different 1,000 images could give a "
        "slightly different result, so the doubt counts in your favour: the interval reaches 96.5%, and you are "
        "given that tier. Full marks need 97.5%; with the same margin, a measured 96.60% or more on these 1,000 "
        "images is enough."
    )
    assert near_tier_boundary(seen)


def test_the_interval_shown_never_seems_to_reach_a_tier_it_misses():
    result = accuracy_check(observe(0.965, 1000))  # upper end 97.47%: not 97.5%
    assert "(95% interval 95.2%-97.4%)." in result.message and result.fraction == 0.9
    assert "in your favour" not in result.message  # 96.5% was reached by the measurement itself


def test_full_marks_far_from_a_boundary_say_so_briefly():
    seen = observe(0.99, 1000)
    result = accuracy_check(seen)
    assert result.fraction == 1
    assert result.message == f"Measured accuracy 99.00% on {NOTE} (95% interval 98.2%-99.4%)."
    assert not near_tier_boundary(seen)


def test_without_the_number_of_images_the_message_is_as_before():
    seen = observe(0.964, None)
    result = accuracy_check(seen)
    assert result.fraction == 0.8
    assert result.message == f"Measured accuracy 96.40% on {NOTE}; full marks need 97.5%."
    assert not near_tier_boundary(seen)


def test_a_leaked_measurement_scores_nothing_and_is_not_flagged():
    seen = observe(0.974, 1000, leak=1000)
    assert accuracy_check(seen).fraction == 0
    assert not near_tier_boundary(seen)


def test_no_flag_without_an_accuracy_check():
    a = Assignment(name="t", title="t", source="t.yaml", checks=(), data="mnist", tiers_full=TIERS)
    assert not near_tier_boundary(observe(0.973, 1000, a))


def test_the_flag_is_one_the_result_schema_allows():
    schema = json.loads((ROOT / "grader" / "schemas" / "notebook-result.schema.json").read_text())
    assert "near_tier_boundary" in schema["properties"]["flags"]["items"]["enum"]
