"""Every refusal names what the student handed in or did and what to change (issue #14, part 5).

A JSON file that is not a notebook used to be refused with "TypeError: 'int' object is not
iterable"; models that hold Python code must get advice, end to end, and no message may
ever tell a student to switch Keras's safe mode off.
"""

from __future__ import annotations

import json

import pytest

from grader.notebooks.flags import Flag
from grader.notebooks.measure import MeasureErrorKind, MeasurementError
from grader.notebooks.sentences import measure_failure
from tests.conftest import ROOT

NOTEBOOKS = ROOT / "tests" / "data" / "notebooks"
FAST = ROOT / "tests" / "data" / "mnist-fast.yaml"

NOT_NOTEBOOKS = [
    ({"cells": 1}, "'cells' is a number, not a list"),
    ({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1]}, "cell 1 is a number, not an object"),
    (3, "the file holds a number"),
    ([1, 2], "the file holds a list"),
    ({"a": 1}, "an object without 'cells'"),
    (None, "the file holds null"),
]


@pytest.mark.parametrize("content, found", NOT_NOTEBOOKS, ids=[f[1] for f in NOT_NOTEBOOKS])
def test_a_json_file_that_is_not_a_notebook_is_named_and_explained(grader, tmp_path, content, found):
    path = tmp_path / "homework.ipynb"
    path.write_text(json.dumps(content))
    doc = grader.json("grade", path, "--assignment", FAST, "--out", tmp_path / "out")
    assert doc["status"] == "invalid_notebook"
    message = doc["messages"][0]
    assert message.startswith("homework.ipynb is not a notebook: expected a JSON object with cells"), message
    assert found in message and "Error" not in message, message
    assert "save" in message, "it says what to do"


def test_a_file_that_is_not_json_or_not_text(grader, tmp_path):
    path = tmp_path / "homework.ipynb"
    path.write_text("print('hello')\n")
    message = grader.json("grade", path, "--assignment", FAST, "--out", tmp_path / "out")["messages"][0]
    assert message.startswith("homework.ipynb is not a notebook: it is not JSON (line 1, column 1")
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    message = grader.json("grade", path, "--assignment", FAST, "--out", tmp_path / "out")["messages"][0]
    assert message.startswith("homework.ipynb is not a notebook: it is not text")
    path.write_text("")
    message = grader.json("grade", path, "--assignment", FAST, "--out", tmp_path / "out")["messages"][0]
    assert message.startswith("homework.ipynb is not a notebook: the file is empty")


def test_a_notebook_that_breaks_the_format_says_where(grader, tmp_path):
    path = tmp_path / "homework.ipynb"
    cell = {"cell_type": "code", "source": 5, "metadata": {}, "outputs": [], "execution_count": None, "id": "a"}
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    message = grader.json("grade", path, "--assignment", FAST, "--out", tmp_path / "out")["messages"][0]
    assert message.startswith("homework.ipynb is not a valid notebook: cell 1, field 'source'"), message


@pytest.mark.notebooks
def test_a_subclassed_model_gets_advice_end_to_end(grader_env, tmp_path):
    result = grader_env(
        "grade", NOTEBOOKS / "subclassed_model.ipynb", "--assignment", FAST, "--out", tmp_path, "--json"
    )
    doc = json.loads(result.stdout)
    assert doc["status"] == "measure_failed" and Flag.CUSTOM_OBJECT in doc["flags"], doc["messages"]
    assert any(
        "'DigitNet', a class defined in the notebook" in m and "register_keras_serializable" in m
        for m in doc["messages"]
    ), doc["messages"]
    assert not any("safe_mode" in m for m in doc["messages"])


@pytest.mark.notebooks
def test_a_lambda_activation_gets_advice_end_to_end(grader_env, tmp_path):
    result = grader_env(
        "grade", NOTEBOOKS / "lambda_activation.ipynb", "--assignment", FAST, "--out", tmp_path, "--json"
    )
    doc = json.loads(result.stdout)
    assert doc["status"] == "measure_failed" and Flag.UNSAFE_LAYER in doc["flags"], doc["messages"]
    assert any("activation='relu'" in m for m in doc["messages"]), doc["messages"]
    assert not any("safe_mode" in m or "config=" in m for m in doc["messages"])


def test_no_message_ever_advises_switching_safe_mode_off():
    lambda_function = (
        "ValueError: Requested the deserialization of a Python lambda. This carries a potential risk "
        "of arbitrary code execution and thus it is disallowed by default. If you trust the source of "
        "the artifact, you can override this error by passing `safe_mode=False` to the loading "
        "function, or calling `keras.config.enable_unsafe_deserialization()."
    )
    error = MeasurementError.read(lambda_function)
    assert error.kind is MeasureErrorKind.UNSAFE_CODE
    flag, advice = measure_failure(error)
    assert flag is Flag.UNSAFE_LAYER and "safe_mode" not in advice
    unknown = (
        "TypeError: <class 'Sequential'> could not be deserialized properly. config={'a': 1}.\n"
        "Exception encountered: Something odd. Pass `safe_mode=False` to load it anyway."
    )
    assert MeasurementError.read(unknown).readable() == (
        "TypeError: <class 'Sequential'> could not be deserialized properly. Exception encountered: Something odd."
    )
