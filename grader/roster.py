"""A class roster: who the students are, read from a CSV file (Canvas's gradebook export, or any
table with a column of student ids).

``grader quiz handout`` writes one sheet per roster student, whose ``student:`` line is the
roster's id; a batch given the roster (``grader batch --roster``, ``grader export --roster``,
kept as ``OUT/roster.csv``) writes each student's Canvas ids into ``canvas.csv``.

Which column is the id: ``--id-column`` when given; in Canvas's export (a header with
"SIS Login ID"), the SIS Login ID, else the SIS User ID, else Canvas's own ID, the first one
a student has; in another table the first of the columns student, student id, id, login,
username or email (any case). Canvas's "Points Possible" row, rows without an id and empty
rows are skipped. The roster's cells are untrusted text: an id must be printable and at most
``MAX_ID_CHARS`` long, and file names are made from it by :func:`file_stem` alone.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.atomic import write_csv_atomically
from grader.errors import GraderError
from grader.quiz.variants import student_text

ROSTER_FILE = "roster.csv"  # a batch's copy of the roster it was given, in its OUT folder
KEPT_HEADER = ("student", "name", "ID", "SIS User ID", "SIS Login ID", "Section")  # that copy's columns
MAX_ID_CHARS = 200  # as on an answer sheet's student line
MAX_BYTES = 20 << 20
CANVAS_MARK = "SIS Login ID"  # a header with this column is Canvas's export
CANVAS_IDS = ("SIS Login ID", "SIS User ID", "ID")  # the sheet's id: the first a student has
PLAIN_IDS = ("student", "student id", "id", "login", "username", "email")
NAME_COLUMNS = ("Student", "name", "student name")
STEM_CHARS = 60
_WINDOWS_NAMES = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}


class RosterError(GraderError):
    """A roster that cannot be used: unreadable, no id column, a student listed twice."""


@dataclass(frozen=True)
class Student:
    """One roster row: the id its sheet carries, and what Canvas knows the student by."""

    id: str  # written on the sheet's student: line (the graded variant's id)
    line: int
    name: str = ""
    canvas_id: str = ""  # Canvas's "ID"
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    def keys(self) -> set[str]:
        """Every id this student is matched by (compared as ``variants.student_text``)."""
        ids = (self.id, self.canvas_id, self.sis_user_id, self.sis_login_id)
        return {student_text(i) for i in ids if i.strip()}

    def canvas_cells(self) -> list[str]:
        """The five identifying cells of a Canvas gradebook row."""
        login = self.sis_login_id or ("" if self.canvas_id or self.sis_user_id else self.id)
        return [self.name or self.id, self.canvas_id, self.sis_user_id, login, self.section]


@dataclass(frozen=True)
class Roster:
    source: str
    students: tuple[Student, ...]
    skipped: tuple[str, ...] = ()  # one message per row without an id

    def find(self, *ids: str | None) -> Student | None:
        """The student any of ``ids`` names (the first that matches), or None."""
        for given in ids:
            if given and given.strip():
                key = student_text(given)
                for student in self.students:
                    if key in student.keys():
                        return student
        return None


def read_roster(path: str | Path, id_column: str | None = None) -> Roster:
    """The roster in a CSV file; refused with the file and line when it cannot be used."""
    source = str(path)
    rows = _rows(Path(path))
    if not rows:
        raise RosterError(f"{source}: empty; a roster is a CSV table with a header row and one row per student")
    header_line, header = rows[0]
    header = [cell.strip() for cell in header]
    columns = {name: index for index, name in reversed(list(enumerate(header)))}
    ids = _id_columns(source, header, columns, id_column)
    students: list[Student] = []
    skipped: list[str] = []
    seen: dict[str, Student] = {}
    for line, row in rows[1:]:
        cells = {name: row[index].strip() if index < len(row) else "" for name, index in columns.items()}
        if not any(cells.values()) or cells.get(header[0], "") == "Points Possible":
            continue
        student = _student(source, line, cells, ids, header)
        if student is None:
            skipped.append(f"{source}:{line}: no {' or '.join(ids)}; skipped")
            continue
        key = student_text(student.id)
        if key in seen:
            raise RosterError(
                f"{source}:{line}: student {student.id!r} is listed twice (first at line {seen[key].line}); "
                "ids differing only in case or spacing are one student"
            )
        seen[key] = student
        students.append(student)
    if not students:
        raise RosterError(f"{source}: no student in it (no row with a {' or '.join(ids)})")
    return Roster(source, tuple(students), tuple(skipped))


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """The CSV's non-empty rows with their lines (a byte-order mark, as Excel and Canvas write, is dropped)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RosterError(f"{path}: {path.stat().st_size:,} bytes; a roster has at most {MAX_BYTES >> 20} MB")
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file (the roster)") from None
    except IsADirectoryError:
        raise RosterError(f"{path}: is a folder, not a roster CSV file") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text; save the roster as CSV UTF-8") from None
    except csv.Error as exc:
        raise RosterError(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror})") from None


def _id_columns(source: str, header: list[str], columns: dict[str, int], id_column: str | None) -> tuple[str, ...]:
    """The columns a student's id is read from, in order of preference."""
    if id_column is not None:
        if id_column not in columns:
            raise RosterError(f"{source}:1: no column {id_column!r} (--id-column); columns: {', '.join(header)}")
        return (id_column,)
    if CANVAS_MARK in columns:
        return tuple(name for name in CANVAS_IDS if name in columns)
    lowered = {name.casefold(): name for name in reversed(header)}
    for wanted in PLAIN_IDS:
        if wanted in lowered:
            return (lowered[wanted],)
    raise RosterError(
        f"{source}:1: no column of student ids (one of {', '.join(PLAIN_IDS)}, or Canvas's {CANVAS_MARK}); "
        f"columns: {', '.join(header)}; name the column with --id-column"
    )


def _student(source: str, line: int, cells: dict[str, str], ids: tuple[str, ...], header: list[str]) -> Student | None:
    chosen = next((cells[name] for name in ids if cells.get(name)), "")
    if not chosen:
        return None
    if len(chosen) > MAX_ID_CHARS or not chosen.isprintable():
        shown = chosen[:40].encode("unicode_escape").decode()
        raise RosterError(
            f"{source}:{line}: the student id {shown!r} is not usable on a sheet "
            f"(at most {MAX_ID_CHARS} printable characters)"
        )
    name = next((cells[n] for n in NAME_COLUMNS if cells.get(n) and n not in ids), "")
    return Student(
        chosen,
        line,
        name=name,
        canvas_id=cells.get("ID", "") if CANVAS_MARK in cells else "",
        sis_user_id=cells.get("SIS User ID", ""),
        sis_login_id=cells.get("SIS Login ID", ""),
        section=next((v for k, v in cells.items() if k.casefold() == "section" and v), ""),
    )


def file_stem(student: str) -> str:
    """A file name (without suffix) for ``student``'s sheet, safe whatever the id holds:
    ASCII letters, digits and ``-_.@+`` kept, anything else a ``-``, at most ``STEM_CHARS``
    characters; an id that had to change (or a name Windows reserves) gets a short hash of
    the id, so that two students never share a file."""
    ascii_id = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode()
    stem = "".join(c if c.isalnum() or c in "-_.@+" else "-" for c in ascii_id).strip(".-")[:STEM_CHARS]
    if stem == student and stem.split(".")[0].casefold() not in _WINDOWS_NAMES:
        return stem
    digest = hashlib.sha256(student_text(student).encode()).hexdigest()[:8]
    return f"{stem or 'student'}-{digest}"


def keep_roster(out: Path, path: str | Path, id_column: str | None = None) -> Roster:
    """Read the roster, then keep what it says of each student in the batch's OUT folder
    (``OUT/roster.csv``, one column per field of :class:`Student`) for every later export."""
    roster = read_roster(path, id_column)
    rows = [[s.id, s.name, s.canvas_id, s.sis_user_id, s.sis_login_id, s.section] for s in roster.students]
    write_csv_atomically(out / ROSTER_FILE, [list(KEPT_HEADER), *rows])
    return roster


def kept_roster(out: Path) -> Roster | None:
    """The roster a batch kept (``OUT/roster.csv``), or None."""
    path = out / ROSTER_FILE
    return read_roster(path, KEPT_HEADER[0]) if path.is_file() else None
