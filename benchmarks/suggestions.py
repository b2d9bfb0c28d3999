"""Benchmark: agreement of the suggested points for written answers with labels, for each
similarity model, and their speed.

Run: python benchmarks/suggestions.py [--calibrate] [--cross-validate]
Two labelled sets: tests/data/written_answers.yaml (85 short answers; the shipped thresholds in
grader/review/suggest.py are calibrated on it) and tests/data/student_style/answers.yaml (152
answers in students' styles, labelled by its RUBRIC.md; both sets were written for this project,
not collected from students). The student-style set is held out from the shipped thresholds.
Prints, per model: Pearson correlation with the labels, mean bias (suggested minus label),
agreement within half a point, exact agreement, Cohen's kappa, how many answers labelled 1.5 or
more were accused of a wrong statement or suggested 0, wrong-but-fluent answers at full marks,
and milliseconds per 100 answers (model loaded; loading is timed apart).
--calibrate searches the thresholds again on the short set; --cross-validate calibrates on three
quarters of the student-style set's questions and measures on the other quarter, four times.
Then, learning within the class (grader/review/learn.py): with k = 1..4 answers of each
student-style question graded, the rest suggested from their similarity to the graded ones
blended with coverage, and how much larger the error is on the less sure half.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from grader.quiz.bank import Catalog
from grader.review.calibration import AnswerKind, calibrate, cross_validate, evaluate, load_labelled, simulate_learning
from grader.review.suggest import MODELS, THRESHOLDS, Suggester, SuggestionError, make_similarity

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELS = DATA / "written_answers.yaml"
STUDENT_STYLE = DATA / "student_style" / "answers.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="search the thresholds again on the short set")
    parser.add_argument("--cross-validate", action="store_true", help="cross-validate by question (minutes)")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    catalog = Catalog.load()
    short, styled = load_labelled(LABELS, catalog), load_labelled(STUDENT_STYLE, catalog)
    for name, answers in (("short", short), ("student-style", styled)):
        kinds = {k.value: sum(a.kind is k for a in answers) for k in AnswerKind}
        print(
            f"{name}: {len(answers)} labelled answers to {len({a.question for a in answers})} questions: "
            + ", ".join(f"{n} {k.replace('_', '-')}" for k, n in kinds.items())
        )
    for name in args.models:
        started = time.perf_counter()
        try:
            similarity = make_similarity(name, catalog)
        except SuggestionError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        print(f"\n{name} (loaded in {time.perf_counter() - started:.2f} s), thresholds {THRESHOLDS[name]}")
        print(evaluate(Suggester(similarity), catalog, short).line("  short set"))
        print(evaluate(Suggester(similarity), catalog, styled).line("  student-style, held out"))
        print(evaluate(Suggester(similarity, use_wrong=False), catalog, styled).line("  ... negation cue only"))
        if args.calibrate:
            thresholds, agreement = calibrate(similarity, catalog, short)
            print(agreement.line(f"  calibrated {thresholds.cover}/{thresholds.wrong}/{thresholds.margin}"))
        if args.cross_validate:
            agreement, fitted = cross_validate(similarity, catalog, styled)
            print(agreement.line("  student-style, 4-fold by question"))
            print("    thresholds per fold: " + ", ".join(f"{t.cover}/{t.wrong}/{t.margin}" for t in fitted))
        print("  learning from the instructor's first grades (student-style set):")
        for graded in range(1, 5):
            print(simulate_learning(Suggester(similarity), catalog, styled, graded).line())


if __name__ == "__main__":
    main()
