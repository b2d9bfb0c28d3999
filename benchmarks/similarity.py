"""Benchmark: `grader similarity` on a synthetic class of notebooks, and how the planted copies rank.

Run: python benchmarks/similarity.py [--students 200] [--output-kb 300] [--seed 0]
Writes the class of tests/similarity_class.py (own notebooks, notebooks written from the
public Keras tutorial, and disguised copies) to a temporary folder, each notebook padded with
an image output of --output-kb (real notebooks carry their plots: reading them is part of the
cost), then times discovery, comparison and the two files written, as the command does, and
prints where the copies rank and the highest honest score.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from similarity_class import notebook_class, write_starter  # noqa: E402

from grader.similarity.run import compare_folder, write_similarity  # noqa: E402


def pad_outputs(folder: Path, kilobytes: int) -> None:
    """Give each notebook's first code cell an image output of about ``kilobytes``."""
    image = base64.b64encode(os.urandom(kilobytes * 768)).decode()
    for path in folder.glob("*/*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        notebook["cells"][0]["outputs"] = [
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}
        ]
        path.write_text(json.dumps(notebook), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200, help="notebooks in all (4 of them planted copies)")
    parser.add_argument("--output-kb", type=int, default=300, help="size of the image output in each notebook")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tutorial = max(1, args.students // 8)
        planted = notebook_class(root / "class", honest=args.students - tutorial - 4, tutorial=tutorial, seed=args.seed)
        pad_outputs(planted.folder, args.output_kb)
        size = sum(p.stat().st_size for p in planted.folder.glob("*/*.ipynb"))
        starter = write_starter(root / "starter.ipynb")
        started = time.perf_counter()
        found = compare_folder(planted.folder, "mnist-cnn", root / "out", starter)
        compared = time.perf_counter() - started
        write_similarity(found, root / "out")
        total = time.perf_counter() - started
    ranks = [i + 1 for i, p in enumerate(found.pairs) if planted.is_copy(p.a, p.b)]
    honest = [p for p in found.pairs if not planted.is_copy(p.a, p.b)]
    print(
        f"{len(found.students)} notebooks ({size / 2**20:.0f} MB, {tutorial} from the tutorial), "
        f"{len(found.students) * (len(found.students) - 1) // 2:,} pairs: compared in {compared:.1f} s, "
        f"files written in {total - compared:.1f} s, {total:.1f} s in all"
    )
    print(
        f"planted copies: ranks {ranks}, scores {' '.join(f'{p.score:.2f}' for p in found.pairs if planted.is_copy(p.a, p.b))}; "
        f"highest honest pair {honest[0].score:.2f} ({honest[0].a}, {honest[0].b}); "
        f"flagged: {len(found.flagged)} pairs, {sum(p.flagged for p in honest)} of them honest"
    )


if __name__ == "__main__":
    main()
