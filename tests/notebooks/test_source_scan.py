"""Code that reaches into the grader is found in the notebook's source, read outside the kernel;
what homework needs is never taken for it."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader.notebooks.flags import Flag
from grader.notebooks.source_scan import Reach, scan
from tests.conftest import ROOT
from tests.notebooks.test_notebook_grading import FAST


def notebook(*cells: str, markdown_first: bool = True):
    nb = nbformat.v4.new_notebook()
    nb.cells = ([nbformat.v4.new_markdown_cell("# Homework")] if markdown_first else []) + [
        nbformat.v4.new_code_cell(c) for c in cells
    ]
    return nb


HONEST = """
import gc, os, re, sys, importlib
import numpy as np
from tensorflow import keras
model.compile("adam", "sparse_categorical_crossentropy")
gc.collect()
pattern = re.compile(r"\\d+")
layer = getattr(keras.layers, "Conv2D")
print(sys.version, os.getcwd(), os.path.join("a", "b"))
with open("notes.txt", "w") as f:
    f.write("done")
history.history["accuracy"]
"""


def test_homework_code_is_not_taken_for_reaching_into_the_grader():
    assert scan(notebook(HONEST, "!pip list\n%matplotlib inline")) == []


@pytest.mark.parametrize(
    ("code", "reach"),
    [
        ('send = keras.Model.fit.__globals__["_send"]', Reach.FUNCTION_INTERNALS),
        ('g = getattr(keras.Model.fit, "__glo" + "bals__")', Reach.FUNCTION_INTERNALS),
        ("import sys\nhidden = [m for m in sys.modules.values() if hasattr(m, 'FITS')]", Reach.MODULE_TABLE),
        ("import gc\nobjs = gc.get_objects()", Reach.OBJECT_GRAPH),
        ("import os\nos.write(7, b'{}')", Reach.FILE_DESCRIPTORS),
        ("fds = os.listdir('/proc/self/fd')", Reach.FILE_DESCRIPTORS),
        ("!ls /proc/self/fd", Reach.FILE_DESCRIPTORS),
        ("import base64\nexec(base64.b64decode('cHJpbnQoMSk='))", Reach.HIDDEN_CODE),
        ("frame = sys._getframe(1)", Reach.FUNCTION_INTERNALS),
    ],
)
def test_each_means_of_reaching_in_is_found_with_its_cell_and_line(code, reach):
    findings = scan(notebook("x = 1", "y = 2\n" + code))
    assert findings, code
    assert findings[0].reach is reach
    assert findings[0].cell == 3, "cells are counted as the feedback counts them (markdown included)"
    assert findings[0].line >= 2
    assert findings[0].describe().startswith(f"cell 3, line {findings[0].line} uses {reach}")


@pytest.mark.notebooks
def test_a_notebook_that_sends_made_up_records_earns_nothing_until_reviewed(grader_env, tmp_path):
    path = ROOT / "tests" / "data" / "notebooks" / "sends_forged_records.ipynb"
    result = grader_env("grade", path, "--assignment", FAST, "--out", tmp_path, "--json")
    doc = json.loads(result.stdout)
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.REACHES_INTO_GRADER in doc["flags"]
    assert doc["points"] == 0, doc["checks"]
    held = [c for c in doc["checks"] if c["message"].startswith("Held for your instructor's review")]
    assert held, "what the checks would give is kept for the instructor"
    assert any("cell 3, line 1 uses function internals" in m for m in doc["messages"]), doc["messages"]
    assert doc["training"] is None and doc["fits"] == []
