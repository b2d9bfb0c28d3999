"""Finding each student's submission in a folder: the student id from each file or folder
name, the file graded in a student's folder (by a documented rule), ids compared ignoring
case and Unicode form, and each file's content hash (a changed submission is graded again).
File names come from the students: they are escaped wherever they are shown."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from grader.digest import sha256_of
from grader.errors import BatchError, UnknownAssignmentError

QUIZ = "quiz"  # the assignment of answer sheets, graded against the question banks
DEFAULT_PATTERN = r"^(?P<student>[^_.]+)"
NOTEBOOK_SUFFIXES = (".ipynb",)
SHEET_SUFFIXES = (".yaml", ".yml")
SUBMISSION_SUFFIXES = NOTEBOOK_SUFFIXES + SHEET_SUFFIXES
SHOWN_FILES = 5  # file names listed in a message before "and N more"


class SubmissionKind(StrEnum):
    """How a submission is graded: an answer sheet (YAML, or a notebook of answer(...) cells in a
    quiz batch) against the banks, or a notebook by running it."""

    SHEET = "sheet"
    NOTEBOOK = "notebook"


def kind_of(path: Path, assignment: AssignmentKey | None) -> SubmissionKind:
    """Decided once, when the submission is found: in a quiz batch every file is an answer sheet
    (a notebook there is a notebook sheet); otherwise a notebook is run and a YAML file is a sheet."""
    if assignment is not None and not assignment.notebook:
        return SubmissionKind.SHEET
    return SubmissionKind.NOTEBOOK if path.suffix.lower() in NOTEBOOK_SUFFIXES else SubmissionKind.SHEET


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the notebook or answer sheet to grade (for a rejected one: the refused zip entry)
    digest: str  # sha256 of its content: a changed submission is graded again
    duplicates: tuple[str, ...] = ()  # other files that named the same student (older ones)
    notes: tuple[str, ...] = ()  # for its row: which file of a folder was graded, other forms of the id
    refused: tuple[str, ...] = ()  # why entries of the student's were not extracted: not graded
    class_folder: Path | None = None  # the folder of the whole class's submissions, hidden from every kernel
    kind: SubmissionKind | None = None  # decided once when found (kind_of); None: from the file's suffix

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", kind_of(self.path, None))

    @property
    def alone(self) -> bool:
        """A single file among the class's files: graded without the folder around it."""
        return self.class_folder is not None and self.path.parent == self.class_folder


@dataclass(frozen=True)
class AssignmentKey:
    """What a result was graded against besides the submission: a result stored under another
    name or another version of the assignment file is not reused."""

    name: str  # as given (mnist-cnn, quiz), or the file's stem for an assignment file
    sha256: str | None  # of the assignment file; None for answer sheets (graded against the banks)
    notebook: bool  # a notebook assignment: a student's notebooks are preferred to other files


def shown(text: str) -> str:
    """A name from a student's files as it may be printed: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def listed(names: Iterable[str]) -> str:
    names = list(names)
    extra = f" and {len(names) - SHOWN_FILES} more" if len(names) > SHOWN_FILES else ""
    return ", ".join(shown(n) for n in names[:SHOWN_FILES]) + extra


def is_hidden(name: str) -> bool:
    """Files no student handed in: dot files (.ipynb_checkpoints) and macOS zip metadata."""
    return name.startswith(".") or name == "__MACOSX"


def student_key(student: str) -> str:
    """What identifies a student: ids differing only in case or Unicode form (NFC/NFKC) are one."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", student).casefold())


def is_quiz(assignment: str) -> bool:
    """``quiz``, or ``quiz:NAME`` for a quiz with its own name (``quiz:midterm``): answer sheets."""
    name, colon, rest = assignment.partition(":")
    return name == QUIZ and (not colon or bool(rest.strip()))


def assignment_key(assignment: str) -> AssignmentKey:
    """The assignment's name and file hash, which every stored result records; an assignment
    that is neither known nor a file is refused, naming the known ones."""
    given = Path(assignment)
    if given.is_file():
        return AssignmentKey(given.stem, sha256_of(given), True)
    try:
        from grader.notebooks.assignment import packaged_assignments
    except ImportError:  # answer sheets only: the notebook extra is not installed
        packaged_assignments = dict
    shipped = packaged_assignments()
    if assignment in shipped:
        return AssignmentKey(assignment, sha256_of(shipped[assignment]), True)
    if is_quiz(assignment):
        return AssignmentKey(assignment, None, False)
    raise UnknownAssignmentError.naming(assignment, [f"{QUIZ} (answer sheets; {QUIZ}:NAME names one)", *shipped])


def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise BatchError(f"--pattern {pattern!r} is not a regular expression: {exc}") from None
    if "student" not in regex.groupindex:
        raise BatchError(f"--pattern {pattern!r} needs a named group (?P<student>...)")
    return regex


def _student(regex: re.Pattern[str], name: str) -> str | None:
    match = regex.search(name)
    return (match.group("student") or None) if match else None


def _plain(name: str) -> str:
    return re.sub(r"[\W_]+", "", student_key(name))


def _choose(entry: Path, assignment: AssignmentKey | None) -> tuple[Path, tuple[Path, ...]] | None:
    """The file to grade in one student's entry, and the other candidates (not graded). The
    rule (README, "Which file is graded"): files of the assignment's kind first (notebooks for a
    notebook assignment, answer sheets otherwise), then one named like the assignment, then the
    one nearest the top of the folder, then the newest; the name last, so that the choice never
    depends on the order the disk lists files in."""
    if entry.is_file():
        return (entry, ()) if entry.suffix.lower() in SUBMISSION_SUFFIXES else None
    candidates = [
        p
        for p in entry.rglob("*")
        if p.suffix.lower() in SUBMISSION_SUFFIXES
        and p.is_file()
        and not any(is_hidden(part) for part in p.relative_to(entry).parts)
    ]
    if not candidates:
        return None
    kind = (NOTEBOOK_SUFFIXES if assignment.notebook else SHEET_SUFFIXES) if assignment else SUBMISSION_SUFFIXES
    # (in a quiz batch a notebook of answer(...) cells is a sheet too, ranked after the YAML sheets)
    like = _plain(assignment.name) if assignment else ""

    def rank(path: Path) -> tuple:
        return (
            path.suffix.lower() not in kind,
            not (like and like in _plain(path.stem)),
            len(path.relative_to(entry).parts),
            -path.stat().st_mtime,
            str(path),
        )

    ordered = sorted(candidates, key=rank)
    return ordered[0], tuple(ordered[1:])


def discover(
    folder: Path,
    pattern: str = DEFAULT_PATTERN,
    refused: Iterable[tuple[str, str]] = (),
    assignment: AssignmentKey | None = None,
) -> tuple[list[Submission], list[str]]:
    """Submissions by student (id from each file or folder name), and entries that were skipped.

    ``refused`` are zip entries that were not extracted (name, message): the student named by an
    entry's first folder is not graded and gets a row saying why; an entry naming no student is
    a skipped entry. Ids that differ only in case or Unicode form are one student."""
    regex = compile_pattern(pattern)
    rejected: dict[str, list[tuple[str, str, str]]] = {}  # key -> (id, entry, message)
    skipped = []
    for name, message in refused:
        student = _student(regex, name.split("/", 1)[0])
        if student:
            rejected.setdefault(student_key(student), []).append((student, name, message))
        else:
            skipped.append(message)
    found: dict[str, list[tuple[str, Path, tuple[Path, ...]]]] = {}  # key -> (id, file, other files)
    for entry in sorted(folder.iterdir()):
        if is_hidden(entry.name):
            continue
        student = _student(regex, entry.name)
        if student and student_key(student) in rejected:
            continue
        chosen = _choose(entry, assignment) if student else None
        if not student or chosen is None:
            skipped.append(
                f"{shown(entry.name)}: "
                + ("no student id in the name" if not student else "no notebook or answer sheet in it")
            )
            continue
        found.setdefault(student_key(student), []).append((student, *chosen))
    submissions = []
    for key in sorted(set(found) | set(rejected)):
        if key in rejected:
            student, entry, _ = rejected[key][0]
            messages = tuple(m for _, _, m in rejected[key])
            digest = hashlib.sha256("\n".join(messages).encode()).hexdigest()
            submissions.append(Submission(student, Path(shown(entry)), digest, refused=messages))
            continue
        student, newest, ignored = max(found[key], key=lambda f: (f[1].stat().st_mtime, f[1].name))
        others = tuple(str(f[1].relative_to(folder)) for f in found[key] if f[1] != newest)
        notes = []
        if ignored:
            notes.append(
                f"graded {shown(str(newest.relative_to(folder)))}; not graded: "
                f"{listed(str(p.relative_to(folder)) for p in ignored)} (the file is chosen by kind, "
                "then a name like the assignment's, then nearest the top of the folder, then newest)"
            )
        forms = sorted({f[0] for f in found[key]} - {student})
        if forms:
            notes.append(
                f"also submitted as {listed(forms)}: the same student (ids are compared ignoring case and Unicode form)"
            )
        submissions.append(
            Submission(
                student,
                newest,
                sha256_of(newest),
                tuple(map(shown, others)),
                tuple(notes),
                class_folder=folder,
                kind=kind_of(newest, assignment),
            )
        )
    return submissions, skipped
