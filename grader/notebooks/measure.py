"""Measuring a saved model on held-out images, in a process of its own.

Run as ``python -m grader.notebooks.measure MODEL HELDOUT TRANSFORM OUT``, or with
``--wait`` to import Keras first and then read those four paths as one JSON line on
standard input (the grader starts it while the notebook runs, so the import costs no
time at the end). The model is
loaded with Keras's safe mode (no arbitrary code from the file), the student's
transformation is applied to the raw held-out images, and the accuracy is written as
JSON. Running apart from the student's kernel means nothing the notebook did can
change the number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.notebooks.execute import kernel_env
from grader.notebooks.preprocessing import Transform
from grader.notebooks.trace import Measurement


class Measurer:
    """A ``grader.notebooks.measure --wait`` process, started early so that Keras is
    already imported when the notebook's model is ready to be measured."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.notebooks.measure", "--wait"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kernel_env())

    def measure(self, model: Path, heldout: Path, transform: Transform, timeout: float,
                workdir: Path, classes: tuple[int, ...] | None = None) -> Measurement:
        """Accuracy of the saved model on the held-out digits (only ``classes``, if given),
        or the reason it could not be measured."""
        spec, out = workdir / "transform.json", workdir / "measured.json"
        spec.write_text(json.dumps({**asdict(transform), "classes": list(classes) if classes else None}))
        job = json.dumps([str(model), str(heldout), str(spec), str(out)]) + "\n"
        try:
            _, stderr = self.process.communicate(job, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            return Measurement.failed(f"measuring the model took longer than {timeout:g} s")
        if not out.exists():
            return Measurement.failed(f"the measuring process failed (exit {self.process.returncode}): "
                                      f"{stderr.strip()[-300:]}")
        return Measurement.read(out)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


MISTAKES_SHOWN = 24


def errors_made(labels: Any, predicted: Any, confidence: Any, index: Any, images: Any) -> dict[str, Any]:
    """Confusion matrix (rows: true digit, columns: predicted digit) and the most confident
    mistakes, with their positions in the held-out file and their raw pixels (base64 of
    28×28 bytes), so the student's feedback page can show them without the held-out file."""
    import base64

    import numpy as np

    digits = sorted(set(labels.tolist()) | set(predicted.tolist()))
    position = {d: i for i, d in enumerate(digits)}
    confusion = np.zeros((len(digits), len(digits)), dtype=int)
    np.add.at(confusion, ([position[d] for d in labels.tolist()], [position[d] for d in predicted.tolist()]), 1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:MISTAKES_SHOWN]
    return {"labels": [int(d) for d in digits], "confusion": confusion.tolist(),
            "mistakes": [{"index": int(index[i]), "true": int(labels[i]), "predicted": int(predicted[i]),
                          "confidence": round(float(confidence[i]), 4),
                          "pixels": base64.b64encode(np.ascontiguousarray(images[i], dtype=np.uint8).tobytes()).decode()}
                         for i in wrong]}


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import keras

    if argv == ["--wait"]:
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # the grader had nothing to measure
        argv = json.loads(line)
    model_path, heldout_path, transform_path, out_path = argv

    spec = json.loads(open(transform_path).read())
    transform = Transform(spec["scale"], spec["offset"], tuple(spec["sample_shape"]), spec["verified"],
                          spec["observed_in"])
    with np.load(heldout_path) as data:
        images, labels = data["x"], data["y"].astype("int64")
    classes = spec.get("classes")
    index = np.arange(len(labels))  # positions in the held-out file, for the feedback page's thumbnails
    if classes:
        keep = np.isin(labels, classes)
        images, labels, index = images[keep], labels[keep], index[keep]
    result: dict[str, object] = {}
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
        x = transform.apply(images)
        scores = np.asarray(model.predict(x, batch_size=256, verbose=0))
        if classes and scores.ndim == 2 and scores.shape[1] == len(classes):
            predicted = np.asarray(classes)[scores.argmax(axis=1)]  # one output per listed digit, in order
        elif scores.ndim != 2 or scores.shape[1] <= int(labels.max()):
            raise ValueError(f"the model outputs shape {tuple(scores.shape[1:])}, not one score per class")
        else:
            predicted = scores.argmax(axis=1)
        result = {"accuracy": float((predicted == labels).mean()), "images": int(len(labels)),
                  **errors_made(labels, predicted, scores.max(axis=1), index, images)}
    except Exception as exc:  # reported to the grader, which turns it into a status
        result = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    with open(out_path, "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
