"""The instructor's decisions, saved beside the batch output the moment they are made.

``OUT/review/grades/STUDENT.yaml`` holds the points and comments in the grades format that
``grader quiz check --grades`` reads (``question id: {points, comment}``; for a notebook, the
check's name instead of a question id). ``OUT/review/decisions/STUDENT.json`` says who decided
each one, when, and how (for a whole group or for one answer), and which notebooks were
looked at. Both are written to a temporary file and moved into place, so a server stopped at
any moment leaves either the old file or the new one, never half of one. Each read-change-write
holds the folder's decisions lock (:func:`grader.review.lock.exclusive`), so two writers, in
threads or in processes, never lose each other's decisions.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from grader.atomic import write_atomically
from grader.errors import InputFileError
from grader.quiz.answers import Grade
from grader.review.lock import DECISIONS_LOCK, exclusive

NOTEBOOK_REVIEWED = "_notebook"  # the sidecar's entry for "the instructor looked at this notebook"
HEADER = (
    "# Written by `grader review`: the instructor's points and comments, in the format of\n"
    "# `grader quiz check SHEET --grades THIS_FILE`. Who decided and when: ../decisions/.\n"
)


class Via(StrEnum):
    """How a decision was made: for a whole group of answers, for one answer, for a notebook's check."""

    GROUP = "group"
    ANSWER = "answer"
    CHECK = "check"


@dataclass(frozen=True)
class Decided:
    """Who made a decision, when, and how (the sidecar's entry), as the pages show it."""

    by: str
    at: str
    via: Via | None = None  # None: a notebook marked as reviewed

    @property
    def for_group(self) -> bool:
        return self.via is Via.GROUP


class Decisions:
    """Read and record decisions; a lock across threads and processes makes each
    read-change-write whole."""

    def __init__(self, out: Path, who: str) -> None:
        self.grades_dir = out / "review" / "grades"
        self.meta_dir = out / "review" / "decisions"
        self.lock_path = out / DECISIONS_LOCK
        self.who = who
        self.lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int, int], dict[str, Grade]]] = {}

    def grades_path(self, student: str) -> Path:
        return self.grades_dir / f"{student}.yaml"

    def grades(self, student: str, fresh: bool = False) -> dict[str, Grade]:
        """The student's decisions, read again only when the file changed (pages ask often) or
        when ``fresh`` (before a change: never trust a time stamp with another writer's work)."""
        path = self.grades_path(student)
        try:
            status = path.stat()
        except FileNotFoundError:
            return {}
        stamp = (status.st_mtime_ns, status.st_ino, status.st_size)  # a replaced file is a new inode
        cached = self._cache.get(student)
        if cached and cached[0] == stamp and not fresh:
            return dict(cached[1])
        grades = self._read(path)
        self._cache[student] = (stamp, grades)
        return dict(grades)

    def _read(self, path: Path) -> dict[str, Grade]:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputFileError(f"{path}: not readable YAML ({exc}); fix or remove it") from None
        if not isinstance(data, dict):
            raise InputFileError(f"{path}: expected a mapping from question id to points")
        grades = {}
        for key, value in data.items():
            try:
                grades[str(key)] = Grade.from_entry(value)
            except ValueError as exc:
                raise InputFileError(f"{path}: {key}: points must be a number, got {exc}") from None
        return grades

    def meta(self, student: str) -> dict[str, dict[str, Any]]:
        path = self.meta_dir / f"{student}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise InputFileError(f"{path}: not readable JSON ({exc}); fix or remove it") from None

    def decided(self, student: str) -> dict[str, Decided]:
        """Who decided each of the student's entries, and when and how (the sidecar, typed)."""
        path = self.meta_dir / f"{student}.json"
        try:
            return {
                key: Decided(str(entry["by"]), str(entry["at"]), Via(entry["via"]) if entry.get("via") else None)
                for key, entry in self.meta(student).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(f"{path}: not a decisions record ({exc.__class__.__name__}: {exc})") from None

    def record(self, student: str, key: str, grade: Grade, via: Via, suggested: float | None = None) -> None:
        """Save one decision: points and comment in the grades file, who/when/how in the sidecar."""
        with self.lock, exclusive(self.lock_path):
            grades = self.grades(student, fresh=True)
            grades[key] = grade
            document = {k: g.entry() for k, g in sorted(grades.items())}
            write_atomically(
                self.grades_path(student),
                HEADER + yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=100),
            )
            self._note(student, key, {"via": via, "suggested": suggested})

    def mark_reviewed(self, student: str) -> None:
        with self.lock, exclusive(self.lock_path):
            self._note(student, NOTEBOOK_REVIEWED, {})

    def _note(self, student: str, key: str, extra: dict[str, Any]) -> None:
        meta = self.meta(student)
        meta[key] = {"by": self.who, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **extra}
        write_atomically(self.meta_dir / f"{student}.json", json.dumps(meta, indent=1, sort_keys=True))

    def reviewed_students(self) -> list[str]:
        """Students with a grades file or a sidecar: those ``regenerate`` recomputes."""
        names = {p.stem for p in self.grades_dir.glob("*.yaml")} | {p.stem for p in self.meta_dir.glob("*.json")}
        return sorted(names)
