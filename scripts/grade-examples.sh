#!/usr/bin/env bash
# Grade the bundled examples on a fresh machine: installs the grader, then grades every
# example answer sheet into out/ (a text report and a JSON result per sheet).
set -uo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e . || exit 1
mkdir -p out/quiz
status=0
for sheet in examples/quiz/*.yaml; do
    name=$(basename "$sheet" .yaml)
    echo "== $sheet"
    if grader quiz check "$sheet" --json > "out/quiz/$name.json"; then
        grader quiz check "$sheet" | tee "out/quiz/$name.txt" | tail -3
    else
        status=1
    fi
done
echo "results in out/quiz/"
exit $status
