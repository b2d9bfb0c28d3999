"""Which numbers a sheet is about: the default variant, a practice variant, or a graded one.

Students install the grader themselves, so any variant they can name they can print the
key of. Graded variants are therefore drawn from an HMAC-SHA256 of the student id under a
course secret that only the instructor holds; practice variants (any seed, for anyone) are
drawn from ``practice:SEED``, graded ones from ``graded:HMAC``, so no seed a student can
type reaches a graded variant. The default variant is the course's own printed numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from grader.errors import CourseSecretError
from grader.isolation.environment import SECRET_ENV, SECRET_FILE_ENV

MIN_SECRET_CHARS = 16  # a short secret could be guessed from one student's graded numbers
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))" > course-secret.txt'
HOW_TO_GIVE = f"--secret-file PATH, or the environment variable {SECRET_FILE_ENV} (a file) or {SECRET_ENV}"


class VariantKind(StrEnum):
    """Which numbers a sheet is graded on (the quiz result schema's variant kind)."""

    DEFAULT = "default"  # the numbers printed in the course
    PRACTICE = "practice"  # a practice seed's
    GRADED = "graded"  # the student's, drawn with the course secret
    SHEET = "sheet"  # a handed-out sheet's own numbers, checked without the secret (grader.quiz.handout)


def student_text(student: str) -> str:
    """A student id as the HMAC sees it: ids differing only in case, Unicode form or
    surrounding spaces are one student (as in ``grader batch``)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", student).casefold()).strip()


@dataclass(frozen=True)
class Variant:
    """A variant of the banks' numbers. ``stream`` is what they are drawn from (never shown)."""

    kind: VariantKind
    name: str | None = None  # the practice seed or the student id, as written
    stream: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", VariantKind(self.kind))

    @classmethod
    def practice(cls, seed: str) -> Variant:
        return cls(VariantKind.PRACTICE, seed, "practice:" + seed)

    @classmethod
    def graded(cls, student: str, secret: bytes | None) -> Variant:
        """The student's graded variant; refused with what to do when there is no secret."""
        if secret is None:
            raise CourseSecretError(
                f"the graded variant of student {student!r} needs the course secret, which only the "
                f"instructor has ({HOW_TO_GIVE}). To practise, use --seed {student} for a practice "
                "variant: the same kinds of questions with other numbers."
            )
        digest = hmac.new(secret, student_text(student).encode(), hashlib.sha256).hexdigest()
        return cls(VariantKind.GRADED, student, "graded:" + digest)

    @classmethod
    def on_sheet(cls, student: str) -> Variant:
        """The numbers written on a student's handed-out sheet, as a check without the secret
        takes them (no stream: they are read from the sheet, never drawn)."""
        return cls(VariantKind.SHEET, student)

    def describe(self) -> str:
        if self.kind is VariantKind.SHEET:
            return f"numbers written on the sheet of student {self.name!r}"
        if self.kind is VariantKind.GRADED:
            return f"graded variant of student {self.name!r}"
        if self.kind is VariantKind.PRACTICE:
            return f"practice variant {self.name!r}"
        return "default variant (the numbers printed in the course)"


DEFAULT_VARIANT = Variant(VariantKind.DEFAULT)


def as_variant(variant: Variant | str | None) -> Variant:
    """A variant from what library callers pass: a plain string is a practice seed, None the default."""
    if isinstance(variant, Variant):
        return variant
    return DEFAULT_VARIANT if variant is None else Variant.practice(variant)


def chosen(seed: str | None, student: str | None, secret: bytes | None) -> Variant:
    """The variant that ``--seed`` (practice) or ``--student`` (graded) names; the default without either."""
    if student is not None:
        return Variant.graded(student, secret)
    return Variant.practice(seed) if seed is not None else DEFAULT_VARIANT


def course_secret(secret_file: str | os.PathLike[str] | None = None) -> bytes | None:
    """The instructor's course secret: ``secret_file`` (``--secret-file``), else the file named
    by ``$GRADER_COURSE_SECRET_FILE``, else ``$GRADER_COURSE_SECRET``; None when none is set.
    It is text, so that ``grader batch`` can hand it to its children in their environment."""
    if secret_file is None:
        secret_file = os.environ.get(SECRET_FILE_ENV) or None
        given = f"named by {SECRET_FILE_ENV}"
    else:
        given = "given by --secret-file"
    if secret_file is not None:
        try:
            raw = Path(secret_file).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CourseSecretError(
                f"{secret_file}: not a text file (the course secret file {given}); make one with: {MAKE_SECRET}"
            ) from None
        except FileNotFoundError:
            raise CourseSecretError(f"{secret_file}: no such file (the course secret file {given})") from None
        except IsADirectoryError:
            raise CourseSecretError(f"{secret_file}: is a folder, not the course secret file {given}") from None
        except OSError as exc:
            raise CourseSecretError(
                f"{secret_file}: cannot be read ({exc.strerror}); it is the course secret file {given}"
            ) from None
        where = str(secret_file)
    else:
        value = os.environ.get(SECRET_ENV)
        if not value:
            return None
        raw, where = value, f"${SECRET_ENV}"
    secret = raw.strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise CourseSecretError(
            f"{where}: the course secret has {len(secret)} characters; use at least {MIN_SECRET_CHARS} random "
            f"ones, which students cannot guess from their own numbers. Make one with: {MAKE_SECRET}"
        )
    return secret.encode()
