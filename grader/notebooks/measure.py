"""Measuring a saved model on held-out images, in a process of its own.

Run as ``python -m grader.notebooks.measure MODEL HELDOUT TRANSFORM OUT``, or with
``--wait`` to import Keras first and then read those four paths as one JSON line on
standard input (the grader starts it while the notebook runs, so the import costs no
time at the end). The model is
loaded with Keras's safe mode (no arbitrary code from the file), the student's
transformation is applied to the raw held-out images, and the accuracy is written as
JSON. Running apart from the student's kernel means nothing the notebook did can
change the number; and the held-out file is checked against the SHA-256 the grader
recorded when it prepared it (the bytes read are the bytes checked), so a file changed
in the meantime is refused, never measured with.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Any

from grader.errors import DataIntegrityError, GraderError
from grader.isolation.environment import kernel_env
from grader.notebooks.preprocessing import Transform
from grader.notebooks.trace import Measurement


class MeasureErrorKind(StrEnum):
    """Why a saved model was not measured, as the grader acts on it."""

    HELDOUT_CHANGED = "heldout_changed"  # the held-out file is not the one the grader prepared
    LAMBDA_LAYER = "lambda_layer"  # a Lambda layer: Python code that safe mode does not run
    UNSAFE_CODE = "unsafe_code"  # another Python function stored in the model (a lambda activation)
    CUSTOM_OBJECT = "custom_object"  # a class defined in the notebook, which Keras cannot rebuild
    NOT_MEASURED = "not_measured"  # anything else: a load error, a wrong output shape, a crash, a timeout


class MeasurementError(GraderError):
    """A saved model the grader could not measure: the kind decides the status, flag and advice;
    ``detail`` is the measuring process's own text; ``name`` the class Keras could not locate."""

    def __init__(self, kind: MeasureErrorKind, detail: str, name: str | None = None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.name = kind, detail, name

    @classmethod
    def read(cls, error: str, config: Any = None) -> MeasurementError:
        """The kind of the measuring process's error. Keras names no type for the reasons it
        refuses a model, so its text is read here, once, where it crosses into the grader.
        ``config`` is the saved model's config.json, where a stored Python function shows even
        when Keras's error does not name it (a lambda given as an activation)."""
        refused = "safe_mode" in error
        if error.startswith(_HELDOUT_CHANGED):
            return cls(MeasureErrorKind.HELDOUT_CHANGED, error)
        if "Lambda" in error and refused:
            return cls(MeasureErrorKind.LAMBDA_LAYER, error)
        if _stores_python_function(config) or ("lambda" in error and refused):
            return cls(MeasureErrorKind.UNSAFE_CODE, error)
        unknown = _UNKNOWN_CLASS.search(error)
        if unknown:
            return cls(MeasureErrorKind.CUSTOM_OBJECT, error, unknown.group(1))
        return cls(MeasureErrorKind.NOT_MEASURED, error)

    def readable(self) -> str:
        """Keras's load error as a student can use it: its first sentence and its cause, without
        dumped configurations, and never the advice to switch safe mode off."""
        first = self.detail.split("\n", 1)[0]
        cause = (
            self.detail[self.detail.find("Exception encountered:") :] if "Exception encountered:" in self.detail else ""
        )
        text = re.sub(r"\s*config=\{.*", "", first)[:300] + (" " + cause[:300] if cause else "")
        return " ".join(
            sentence
            for sentence in re.split(r"(?<=\.)\s+", text)
            if "safe_mode" not in sentence and "unsafe_deserialization" not in sentence
        )


_UNKNOWN_CLASS = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def _stores_python_function(config: Any) -> bool:
    """Whether a saved model's config holds Python code: a Lambda layer's function, or a
    function Keras dumped as bytecode (``{"value": [code, defaults, closure]}``)."""
    if isinstance(config, dict):
        value = config.get("value")
        if config.get("class_name") == "__lambda__" or (
            isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and len(config) == 1
        ):
            return True
        return any(_stores_python_function(v) for v in config.values())
    if isinstance(config, list):
        return any(_stores_python_function(v) for v in config)
    return False


def _saved_config(model_path: Path) -> Any:
    """The saved model's config.json, or None when it cannot be read."""
    import zipfile

    try:
        with zipfile.ZipFile(model_path) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


class Measurer:
    """A ``grader.notebooks.measure --wait`` process, started early so that Keras is
    already imported when the notebook's model is ready to be measured."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.notebooks.measure", "--wait"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=kernel_env(),
        )

    def measure(
        self,
        model: Path,
        heldout: Path,
        transform: Transform,
        timeout: float,
        workdir: Path,
        classes: tuple[int, ...] | None = None,
        heldout_sha256: str = "",
    ) -> Measurement:
        """Accuracy of the saved model on the held-out digits (only ``classes``, if given).
        ``workdir`` must be out of the notebook's reach: the measurement is written there.
        Raises MeasurementError, with its kind, when the model could not be measured."""
        spec, out = workdir / "transform.json", workdir / "measured.json"
        spec.write_text(
            json.dumps(
                {**asdict(transform), "classes": list(classes) if classes else None, "heldout_sha256": heldout_sha256}
            )
        )
        job = json.dumps([str(model), str(heldout), str(spec), str(out)]) + "\n"
        try:
            _, stderr = self.process.communicate(job, timeout=timeout)
            measured = Measurement.read(out) if out.exists() else None
        except subprocess.TimeoutExpired:
            self.close()
            measured = Measurement.failed(f"measuring the model took longer than {timeout:g} s")
        if measured is None:
            measured = Measurement.failed(
                f"the measuring process failed (exit {self.process.returncode}): {stderr.strip()[-300:]}"
            )
        if measured.error is not None:  # a stored Python function shows in the config whatever the error
            raise MeasurementError.read(measured.error, _saved_config(model))
        return measured

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
    return {
        "labels": [int(d) for d in digits],
        "confusion": confusion.tolist(),
        "mistakes": [
            {
                "index": int(index[i]),
                "true": int(labels[i]),
                "predicted": int(predicted[i]),
                "confidence": round(float(confidence[i]), 4),
                "pixels": base64.b64encode(np.ascontiguousarray(images[i], dtype=np.uint8).tobytes()).decode(),
            }
            for i in wrong
        ],
    }


_HELDOUT_CHANGED = DataIntegrityError.__name__  # the error's prefix when the held-out file is not the prepared one


def _read_heldout(path: str, sha256: str) -> tuple[Any, Any]:
    """(images, labels) from the held-out file, refusing a file that is not the one the
    grader prepared (checked on the very bytes that are then read)."""
    import io

    import numpy as np

    from grader.digest import read_unchanged

    refusal = f"{path} is not the held-out file the grader prepared"
    content = read_unchanged(path, sha256, refusal) if sha256 else Path(path).read_bytes()
    with np.load(io.BytesIO(content)) as data:
        return data["x"], data["y"].astype("int64")


def model_facts(model: Any, model_path: str) -> dict[str, Any]:
    """What the saved model itself says, to check the kernel's record against: parameters,
    top-level layers, and how many steps its optimizer took (saved in ``model.weights.h5``
    as the optimizer's first variable; None when it was saved without one)."""
    import zipfile

    facts: dict[str, Any] = {
        "params": int(model.count_params()),
        "layers": [[layer.name, type(layer).__name__] for layer in model.layers],
        "optimizer": None,
        "optimizer_iterations": None,
    }
    try:
        import io

        import h5py

        with zipfile.ZipFile(model_path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as f:
            optimizer = (json.loads(archive.read("config.json")).get("compile_config") or {}).get("optimizer")
            facts["optimizer"] = str(optimizer.get("class_name") if isinstance(optimizer, dict) else optimizer)
            steps = f.get("optimizer/vars/0")
            if steps is not None and steps.shape == () and steps.dtype.kind in "iu":
                facts["optimizer_iterations"] = int(steps[()])
    except Exception:  # no weights file or no optimizer: nothing to compare
        pass
    return facts


def predictions(model: Any, transform: Transform, images: Any, labels: Any, classes: Any) -> tuple[Any, Any]:
    """(predicted labels, scores) of a model on raw images given the student's transform: one
    output per digit, or one per listed class in order when the assignment lists classes. The
    grader's measurement and the student's self-check both predict with this."""
    import numpy as np

    scores = np.asarray(model.predict(transform.apply(images), batch_size=256, verbose=0))
    if classes and scores.ndim == 2 and scores.shape[1] == len(classes):
        return np.asarray(classes)[scores.argmax(axis=1)], scores  # one output per listed digit, in order
    if scores.ndim != 2 or scores.shape[1] <= int(labels.max()):
        raise ValueError(f"the model outputs shape {tuple(scores.shape[1:])}, not one score per class")
    return scores.argmax(axis=1), scores


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    if argv == ["--wait"]:
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # the grader had nothing to measure
        argv = json.loads(line)
    model_path, heldout_path, transform_path, out_path = argv

    spec = json.loads(open(transform_path).read())
    transform = Transform(
        spec["scale"], spec["offset"], tuple(spec["sample_shape"]), spec["verified"], spec["observed_in"]
    )
    result: dict[str, object] = {}
    try:
        images, labels = _read_heldout(heldout_path, spec.get("heldout_sha256") or "")
    except (DataIntegrityError, ValueError) as exc:
        with open(out_path, "w") as handle:
            json.dump({"error": f"{type(exc).__name__}: {exc}"}, handle)
        return 0
    classes = spec.get("classes")
    index = np.arange(len(labels))  # positions in the held-out file, for the feedback page's thumbnails
    if classes:
        keep = np.isin(labels, classes)
        images, labels, index = images[keep], labels[keep], index[keep]
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
        result["model"] = model_facts(model, model_path)
        predicted, scores = predictions(model, transform, images, labels, classes)
        result.update(
            {
                "accuracy": float((predicted == labels).mean()),
                "images": int(len(labels)),
                **errors_made(labels, predicted, scores.max(axis=1), index, images),
            }
        )
    except Exception as exc:  # reported to the grader, which turns it into a status
        text = str(exc)
        cause = text.rfind("Exception encountered:")  # Keras puts the reason a model failed to load last
        result = {
            "error": f"{type(exc).__name__}: {text[:500]}" + (f"\n{text[cause : cause + 500]}" if cause > 500 else "")
        }
    with open(out_path, "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
