#!/usr/bin/env bash
# The main job, on a fresh machine: install the grader, then grade every bundled example
# on the bundled data -- the example answer sheets, the reference MNIST notebook and the
# example student notebooks -- into out/: a text report and JSON result per answer sheet, and
# one batch per notebook assignment and one of the sheets (feedback pages, class report).
set -uo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check -e ".[notebooks]" || exit 1
mkdir -p out/quiz
status=0
for sheet in examples/quiz/*.yaml; do
    name=$(basename "$sheet" .yaml)
    echo "== quiz: $sheet"
    if grader quiz check "$sheet" --json > "out/quiz/$name.json"; then
        grader quiz check "$sheet" > "out/quiz/$name.txt"
        tail -n 3 "out/quiz/$name.txt"
    else
        status=1
    fi
done
# The example notebooks as two classes, one batch per assignment, each student a notebook
# (named by its file): a feedback page per student, a class report per class, resumable (a
# second run grades only what changed). `grader review out/mnist-batch` opens one.
notebook_batch() {  # ASSIGNMENT NOTEBOOK...
    local assignment=$1 class=out/classes/$1 batch_out=out/$1-batch
    shift
    rm -rf "$class" && mkdir -p "$class"
    for notebook in "$@"; do
        case $notebook in reference/*) cp "$notebook" "$class/reference.ipynb" ;; *) cp "$notebook" "$class/" ;; esac
    done
    echo "== notebooks ($assignment): batch of $# into $batch_out"
    if grader batch "$class" --assignment "$assignment" --out "$batch_out" -j 2 --pattern '^(?P<student>[^.]+)' \
            --cell-timeout 300 > "$batch_out.log" 2>&1; then
        python - "$batch_out/gradebook.csv" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    points = f"{float(row['points']):g}/{float(row['points_possible']):g}"
    first_line = (row['message'].splitlines() or [''])[0]
    print(f"{row['student']:<22} {row['status']:<16} {points:>6}  {first_line[:150]}")
PY
        echo "feedback pages: $batch_out/feedback/STUDENT/feedback.html  class report: $batch_out/report.html"
    else
        status=1; tail -n 3 "$batch_out.log"
    fi
}
notebook_batch mnist-cnn reference/mnist_cnn.ipynb examples/notebooks/mnist/*.ipynb
notebook_batch transfer-learning reference/transfer_learning.ipynb \
    examples/notebooks/transfer/{tf_data_pipeline,never_freezes,never_unfreezes,test_overlaps_train,too_few_images}.ipynb
# The example sheets as a class (one batch): its written answers are graded in the browser
# with `grader review out/quiz-batch` (README: the review workspace).
echo "== batch of answer sheets: examples/quiz -> out/quiz-batch"
if grader batch examples/quiz --assignment quiz --out out/quiz-batch > out/quiz-batch.log 2>&1; then
    head -n 2 out/quiz-batch/summary.txt
    echo "class report: out/quiz-batch/report.html"
    echo "grade the written answers: pip install -e '.[review]' && grader review out/quiz-batch"
else
    status=1; tail -n 3 out/quiz-batch.log
fi
echo "results in out/"
exit $status
