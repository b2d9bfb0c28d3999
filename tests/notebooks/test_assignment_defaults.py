"""An assignment file that leaves its options out gets the Assignment's defaults, and one that
writes them gets what it wrote."""

from __future__ import annotations

from dataclasses import fields

import yaml

from grader.notebooks.assignment import OPTIONS, Assignment, load_assignment

MINIMAL = "assignment: minimal\ntitle: Minimal\nchecks:\n  - {check: images_per_class, points: 1}\n"
WRITTEN = {
    "model_variable": "net",
    "data": "none",
    "npz": "digits.npz",
    "private_test": "private.npz",
    "heldout_per_class": 50,
    "heldout_per_class_full": 60,
    "mnist_sizes": False,
    "classes": (1, 2),
    "cell_timeout": 10,
    "notebook_timeout": 20,
    "memory_mb": 512,
    "disk_mb": 64,
    "measure_timeout": 30,
    "claimed_gap": 0.5,
    "kernel_seed": 7,
}


def test_options_left_out_take_the_dataclass_defaults(tmp_path):
    path = tmp_path / "minimal.yaml"
    path.write_text(MINIMAL)
    loaded = load_assignment(str(path))
    defaults = {f.name: f.default for f in fields(Assignment) if f.name in OPTIONS.values()}
    assert {name: getattr(loaded, name) for name in defaults} == defaults


def test_options_written_are_read(tmp_path):
    assert set(WRITTEN) == set(OPTIONS.values())
    document: dict = {}
    for where, name in OPTIONS.items():
        section = document
        for key in where[:-1]:
            section = section.setdefault(key, {})
        section[where[-1]] = list(WRITTEN[name]) if isinstance(WRITTEN[name], tuple) else WRITTEN[name]
    path = tmp_path / "written.yaml"
    path.write_text(MINIMAL + yaml.safe_dump(document))
    loaded = load_assignment(str(path))
    assert {name: getattr(loaded, name) for name in WRITTEN} == WRITTEN
