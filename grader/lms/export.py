"""``grader quiz export``: a bank described once (``model``), written in the chosen format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.atomic import write_bytes_atomically
from grader.lms import gift, moodle, qti
from grader.lms.model import BankExport, LmsExportError, describe_bank
from grader.quiz.bank import Bank

WRITERS: dict[str, tuple[str, Callable[[BankExport], bytes]]] = {
    "moodle": ("Moodle XML", moodle.write),
    "qti": ("Canvas QTI 1.2 zip", qti.write),
    "gift": ("GIFT", gift.write),
}


@dataclass(frozen=True)
class Written:
    path: Path
    format: str
    export: BankExport

    def lines(self) -> list[str]:
        """What the command tells the instructor: what was written, left out and varied."""
        export = self.export
        label = WRITERS[self.format][0]
        lines = [f"wrote {self.path} ({label}): {len(export.items)} questions of {export.bank}"]
        for entry in export.left_out:
            lines.append(f"left out {entry.question_id}: {entry.reason}")
        if self.format == "gift":
            for item in export.items:
                if not gift.carried(item):
                    lines.append(f"left out {item.question_id}: {gift.FIELDS_LEFT_OUT}")
        for group in export.groups:
            if self.format == "gift" and not all(map(gift.carried, group.items)):
                continue
            few = len(group.items) < export.variants_asked
            note = f" (only {len(group.items)} distinct numbers)" if few else ""
            lines.append(f"{group.question_id}: {len(group.items)} practice variants{note}")
        return lines


def export_bank(bank: Bank, fmt: str, out: Path, variants: int = 0) -> Written:
    """Write ``bank`` to ``out`` in ``fmt`` (moodle, qti or gift), with ``variants`` practice
    variants of each numeric question."""
    export = describe_bank(bank, variants)
    data = WRITERS[fmt][1](export)
    try:
        write_bytes_atomically(out, data)
    except OSError as exc:
        raise LmsExportError(f"{out}: cannot be written ({exc.strerror or exc})") from None
    return Written(out, fmt, export)
