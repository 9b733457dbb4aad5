"""Fill Moodle's grading worksheet ("Download grading worksheet" of an assignment) with the kit's grades.

The worksheet has one row per participant: `Identifier` ("Participant 123456", the participant id a Moodle
download names folders with), `Full name`, identity fields, `Status`, `Grade`, `Maximum Grade`, `Grade can be
changed`, `Last modified (submission)`, one column per submission plugin with text (`Online text`), `Last modified
(grade)`, and one per feedback plugin with text (`Feedback comments`). Moodle's "Upload grading worksheet" takes
the filled file back. Only `Grade` and `Feedback comments` of students with a result change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assignkit.export import CsvSheet, ExportError, StudentGrade, grader_failed, one_line_comment, scaled
from assignkit.i18n import DEFAULT_LANGUAGE

IDENTIFIER = "Identifier"
GRADE = "Grade"
MAXIMUM_GRADE = "Maximum Grade"
FEEDBACK_COMMENTS = "Feedback comments"
_PARTICIPANT_ID = re.compile(r"(\d+)\s*$")  # "Participant 123456" (or the site language's word for it)


@dataclass(frozen=True)
class Filled:
    """What an export did: students whose row was filled, results with no row, rows left without a result."""

    filled: list[str]
    unmatched: list[str]  # results of students the sheet does not list
    without_result: list[str]  # rows of the sheet nobody's result fills (left as they were)
    grader_failed: list[str]  # results that are the grader's failure: their rows are left as they were


@dataclass(frozen=True)
class MoodleColumns:
    """Header names, for a worksheet downloaded in another language than English."""

    identifier: str = IDENTIFIER
    grade: str = GRADE
    maximum_grade: str = MAXIMUM_GRADE
    comments: str = FEEDBACK_COMMENTS


def fill_worksheet(sheet: CsvSheet, grades: list[StudentGrade], columns: MoodleColumns = MoodleColumns(),
                   with_comments: bool = True, lang: str = DEFAULT_LANGUAGE) -> Filled:
    """Put each grade (scaled to the row's Maximum Grade) and a one-line comment in `lang` into its participant's
    row."""
    identifier = _require(sheet, columns.identifier)
    grade_column = _require(sheet, columns.grade)
    maximum = _require(sheet, columns.maximum_grade)
    comments = sheet.column([columns.comments]) if with_comments else None
    if with_comments and comments is None:
        raise ExportError(f"{sheet.path}: no {columns.comments!r} column; turn on the 'Feedback comments' "
                          "feedback type of the assignment, or pass --no-comments")
    failed = sorted(grade.student for grade in grades if grader_failed(grade))
    by_student = {grade.student: grade for grade in grades if not grader_failed(grade)}
    filled, without_result = [], []
    for index, row in enumerate(sheet.rows[1:], start=1):
        if not row or len(row) <= max(identifier, grade_column, maximum):
            continue
        match = _PARTICIPANT_ID.search(row[identifier])
        if match is None:
            raise ExportError(f"{sheet.path}, row {index + 1}: {columns.identifier} {row[identifier]!r} is not "
                              "'Participant <number>'")
        grade = by_student.get(match.group(1))
        if grade is None:
            if match.group(1) not in failed:
                without_result.append(match.group(1))
            continue
        value = f"{scaled(grade, _number(sheet, index, maximum, row[maximum])):.2f}"
        sheet.set(index, grade_column, value.replace(".", ",") if "," in row[maximum] else value)
        if comments is not None:
            comment = one_line_comment(grade, lang)  # a character the sheet's encoding lacks becomes "?"
            sheet.set(index, comments, comment.encode(sheet.encoding, "replace").decode(sheet.encoding))
        filled.append(grade.student)
    unmatched = sorted(set(by_student) - set(filled))
    return Filled(filled, unmatched, without_result, failed)


def export_moodle(grades: list[StudentGrade], worksheet: Path, out: Path,
                  columns: MoodleColumns = MoodleColumns(), with_comments: bool = True,
                  lang: str = DEFAULT_LANGUAGE) -> Filled:
    sheet = CsvSheet.read(worksheet)
    result = fill_worksheet(sheet, grades, columns, with_comments, lang)
    sheet.write(out)
    return result


def _require(sheet: CsvSheet, name: str) -> int:
    index = sheet.column([name])
    if index is None:
        found = ", ".join(repr(h) for h in (sheet.rows[0] if sheet.rows else []))
        raise ExportError(f"{sheet.path}: no {name!r} column (a Moodle grading worksheet has it); "
                          f"the header is: {found or 'empty'}")
    return index


def _number(sheet: CsvSheet, row: int, column: int, text: str) -> float:
    try:
        return float(text.replace(",", "."))  # a site in a comma-decimal language writes "100,00"
    except ValueError:
        raise ExportError(f"{sheet.path}, row {row + 1}: Maximum Grade {text!r} is not a number "
                          "(a scale-graded assignment cannot take points)") from None
