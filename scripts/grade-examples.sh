#!/usr/bin/env bash
# The main job, on a fresh machine: install the grader, then grade every bundled example
# on the bundled data -- the example answer sheets, the reference MNIST notebook and the
# example student notebooks -- into out/ (text report and JSON result for each).
set -uo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check -e ".[notebooks]" || exit 1
mkdir -p out/quiz out/notebooks
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
grade_notebook() {  # NOTEBOOK ASSIGNMENT
    local name
    name=$(basename "$1" .ipynb)-$2
    echo "== notebook: $1 ($2)"
    grader grade "$1" --assignment "$2" --cell-timeout 300 --out "out/notebooks/$name" --json \
        --html "out/notebooks/$name/feedback.html" > "out/notebooks/$name.json" 2> "out/notebooks/$name.log" || status=1
    python -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{d['status']:<18} {d['points']:>5g}/{d['points_possible']:g}  \" + '; '.join(m.rstrip('.') for m in d['messages'][:1] + [c['message'] for c in d['checks'] if c['fraction'] < 1][:2]))" "out/notebooks/$name.json" || status=1
}
for notebook in reference/mnist_cnn.ipynb examples/notebooks/mnist/*.ipynb; do
    grade_notebook "$notebook" mnist-cnn
done
for notebook in reference/transfer_learning.ipynb examples/notebooks/transfer/{tf_data_pipeline,never_freezes,never_unfreezes,test_overlaps_train,too_few_images}.ipynb; do
    grade_notebook "$notebook" transfer-learning
done
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
