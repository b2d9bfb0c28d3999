"""Benchmark: agreement of the suggested points for written answers with an instructor's labels
(tests/data/written_answers.yaml), for each similarity model, and their speed.

Run: python benchmarks/suggestions.py [--calibrate]
Prints, per model: exact agreement, agreement within half a point, Cohen's kappa, how many
wrong-but-fluent answers were suggested full marks, and milliseconds per 100 answers (model
loaded; loading is timed apart). Figures use the thresholds in grader/review/suggest.py;
--calibrate searches them again on all labels and also reports a two-fold cross-validation by
question (calibrated on one half of the questions, measured on the other), the honest figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from grader.quiz.bank import Catalog
from grader.review.calibration import calibrate, evaluate, load_labelled
from grader.review.suggest import MODELS, THRESHOLDS, Suggester, SuggestionError, make_similarity

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "written_answers.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="search the thresholds again")
    parser.add_argument("--labels", default=str(LABELS))
    args = parser.parse_args()
    catalog = Catalog.load()
    answers = load_labelled(args.labels, catalog)
    questions = sorted({a.question for a in answers})
    kinds = {k: sum(a.kind == k for a in answers) for k in ("correct", "partial", "fluent_wrong", "off_topic")}
    print(
        f"{len(answers)} labelled answers to {len(questions)} questions: "
        + ", ".join(f"{n} {k.replace('_', '-')}" for k, n in kinds.items())
    )
    for name in MODELS:
        started = time.perf_counter()
        try:
            similarity = make_similarity(name, catalog)
        except SuggestionError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        print(f"\n{name} (loaded in {time.perf_counter() - started:.2f} s), thresholds {THRESHOLDS[name]}")
        print(evaluate(Suggester(similarity), catalog, answers).line("  with wrong statements"))
        print(evaluate(Suggester(similarity, use_wrong=False), catalog, answers).line("  negation cue only"))
        if args.calibrate:
            thresholds, agreement = calibrate(similarity, catalog, answers)
            print(agreement.line(f"  calibrated {thresholds.cover}/{thresholds.wrong}/{thresholds.margin}"))
            halves = (questions[0::2], questions[1::2])
            for train, test in (halves, halves[::-1]):
                fitted, _ = calibrate(similarity, catalog, [a for a in answers if a.question in train])
                held_out = [a for a in answers if a.question in test]
                print(
                    evaluate(Suggester(similarity, fitted), catalog, held_out).line(
                        f"  cross-validated {fitted.cover}/{fitted.wrong}/{fitted.margin}"
                    )
                )


if __name__ == "__main__":
    main()
