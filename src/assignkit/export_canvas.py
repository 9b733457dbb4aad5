"""Fill one assignment column of Canvas's gradebook export ("Export Entire Gradebook") with the kit's grades.

The export's columns are `Student`, `ID` (the user id a Canvas download names files with), `SIS User ID`,
`SIS Login ID`, `Section`, then one column per assignment headed `<assignment name> (<assignment id>)`, then
totals; the second row is "Points Possible" (a newer export may put a "Manual Posting" row before it). Canvas's
"Import" takes the filled file back and shows what changes before applying it. Only the chosen column of students
with a result changes.
"""

from __future__ import annotations

import re
from pathlib import Path

from assignkit.export import CsvSheet, ExportError, StudentGrade, format_points, grader_failed, scaled
from assignkit.export_moodle import Filled

STUDENT = "Student"
ID = "ID"
POINTS_POSSIBLE = "Points Possible"
_ASSIGNMENT_ID = re.compile(r"\s*\(\d+\)$")


def fill_gradebook(sheet: CsvSheet, grades: list[StudentGrade], column_name: str) -> Filled:
    """Put each grade, scaled to the column's Points Possible, into the student's row (matched by ID)."""
    student, user_id = _require(sheet, STUDENT), _require(sheet, ID)
    column = _assignment_column(sheet, column_name)
    points_row = next((i for i, row in enumerate(sheet.rows[1:4], start=1)
                       if row and row[student].strip() == POINTS_POSSIBLE), None)
    if points_row is None:
        raise ExportError(f"{sheet.path}: no 'Points Possible' row under the header (is this Canvas's gradebook "
                          "export?)")
    out_of = _points(sheet, points_row, column)
    failed = sorted(grade.student for grade in grades if grader_failed(grade))
    by_student = {grade.student: grade for grade in grades if not grader_failed(grade)}
    filled, without_result = [], []
    for index, row in enumerate(sheet.rows[points_row + 1:], start=points_row + 1):
        if len(row) <= max(user_id, column) or not row[user_id].strip():
            continue
        grade = by_student.get(row[user_id].strip())
        if grade is None:
            if row[user_id].strip() not in failed:
                without_result.append(row[user_id].strip())
            continue
        sheet.set(index, column, format_points(scaled(grade, out_of)))
        filled.append(grade.student)
    return Filled(filled, sorted(set(by_student) - set(filled)), without_result, failed)


def export_canvas(grades: list[StudentGrade], gradebook: Path, column_name: str, out: Path) -> Filled:
    sheet = CsvSheet.read(gradebook)
    result = fill_gradebook(sheet, grades, column_name)
    sheet.write(out)
    return result


def _require(sheet: CsvSheet, name: str) -> int:
    index = sheet.column([name])
    if index is None:
        raise ExportError(f"{sheet.path}: no {name!r} column; is this Canvas's gradebook export?")
    return index


def _assignment_column(sheet: CsvSheet, name: str) -> int:
    """The column headed `name`, or `name (<assignment id>)`."""
    headers = [h.strip() for h in sheet.rows[0]]
    matches = [i for i, h in enumerate(headers) if h == name.strip()] or \
              [i for i, h in enumerate(headers) if _ASSIGNMENT_ID.sub("", h) == name.strip()]
    if len(matches) != 1:
        assignments = [h for h in headers if _ASSIGNMENT_ID.search(h)]
        what = "no column" if not matches else f"{len(matches)} columns"
        raise ExportError(f"{sheet.path}: {what} named {name!r}; the assignment columns are: "
                          f"{', '.join(assignments) or 'none'}")
    return matches[0]


def _points(sheet: CsvSheet, row: int, column: int) -> float:
    text = sheet.rows[row][column] if column < len(sheet.rows[row]) else ""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ExportError(f"{sheet.path}: Points Possible of column {sheet.rows[0][column]!r} is {text!r}, "
                          "not a number") from None
