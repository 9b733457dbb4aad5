"""Write the kit's per-question scores into the course's nbgrader gradebook, through nbgrader's own API.

`assignkit release` (nbgrader's generate_assignment) records each homework's notebook and grade cells in the
gradebook. The kit's points live in its hidden checks, and a question's grade cell in the release is its visible
test `after` (questions.toml), worth 0 there. So here, at export time, each question's `after` grade cell gets the
question's points as its max_score, and each student's grade of that cell gets the question's score as its
`auto_score`: `nbgrader export` and formgrader then show the kit's totals. The release stays as it is (its form
tests stay 0-point for students). A TA's `manual_score` is never touched, so it survives regrades and re-exports
(nbgrader's Grade.score takes the manual score over the auto score); like nbgrader's SaveAutoGrades, such a grade
is flagged for review. Grade cells that are no question's (worth 0 in the release) get auto_score 0, so formgrader
does not list every submission as needing manual grading.

One writer at a time: the export holds an exclusive lock file beside the gradebook while it writes.
"""

from __future__ import annotations

import fcntl
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from assignkit.export import ExportError, StudentGrade, grader_failed


@dataclass(frozen=True)
class NbgraderExport:
    students: list[str]  # whose scores were written
    grader_failed: list[str]  # results that are the grader's failure: nothing written for them
    new_students: list[str]  # added to the gradebook by this export
    manual_kept: list[tuple[str, str]]  # (student, question) whose manual score stays in force


def export_nbgrader(gradebook_path: Path, grades: list[StudentGrade],
                    question_cells: dict[str, str]) -> NbgraderExport:
    """Write `grades` (all of one homework) into the SQLite gradebook at `gradebook_path`.

    `question_cells` maps each question id to the grade_id of its grade cell (questions.toml's `after`).
    """
    homework = _one_homework(grades)
    points = _question_points(grades)
    failed = sorted(grade.student for grade in grades if grader_failed(grade))
    grades = [grade for grade in grades if not grader_failed(grade)]
    if not gradebook_path.is_file():
        raise ExportError(f"{gradebook_path}: no nbgrader gradebook; run `assignkit release {homework}` first")
    lock_path = gradebook_path.with_name(gradebook_path.name + ".lock")
    with _exclusive(lock_path), Gradebook(f"sqlite:///{gradebook_path}") as gradebook:
        cells = _question_grade_cells(gradebook, homework, question_cells)
        for question, cell in cells.items():
            gradebook.update_or_create_grade_cell(cell, homework, homework, max_score=points.get(question, 0.0))
        new_students, manual_kept = [], []
        for grade in grades:
            if _add_student(gradebook, grade):
                new_students.append(grade.student)
            with warnings.catch_warnings():  # nbgrader's add_submission builds objects while autoflush is on
                warnings.filterwarnings("ignore", "Object of type <Submitted", SAWarning)
                gradebook.update_or_create_submission(homework, grade.student)
            for question, cell in cells.items():
                score = grade.question_scores.get(question, (0.0, 0.0))[0]
                if _set_auto_score(gradebook, cell, homework, grade.student, score):
                    manual_kept.append((grade.student, question))
            _zero_other_cells(gradebook, homework, grade.student, set(cells.values()))
        gradebook.db.commit()
    return NbgraderExport([g.student for g in grades], failed, new_students, manual_kept)


def _one_homework(grades: list[StudentGrade]) -> str:
    homeworks = sorted({grade.homework for grade in grades})
    if len(homeworks) != 1:
        raise ExportError(f"the results are of {len(homeworks)} homeworks ({', '.join(homeworks) or 'none'}); "
                          "export one graded folder of one homework at a time")
    return homeworks[0]


def _question_points(grades: list[StudentGrade]) -> dict[str, float]:
    points: dict[str, float] = {}
    for grade in grades:
        for question, (_, max_score) in grade.question_scores.items():
            points[question] = max(points.get(question, 0.0), max_score)
    return points


def _question_grade_cells(gradebook: Gradebook, homework: str, question_cells: dict[str, str]) -> dict[str, str]:
    try:
        notebook = gradebook.find_notebook(homework, homework)
    except MissingEntry:
        raise ExportError(f"the nbgrader gradebook has no notebook {homework!r} of assignment {homework!r}; "
                          f"run `assignkit release {homework}` first") from None
    names = {cell.name for cell in notebook.grade_cells}
    missing = sorted(f"{question} ({cell})" for question, cell in question_cells.items() if cell not in names)
    if missing:
        raise ExportError(f"the nbgrader gradebook's {homework} has no grade cell for: {', '.join(missing)}; "
                          f"release the current source again (`assignkit release {homework}`)")
    return dict(question_cells)


def _add_student(gradebook: Gradebook, grade: StudentGrade) -> bool:
    """Add the student when new (with the LMS's name); an existing student's record is left as the TA keeps it."""
    try:
        gradebook.find_student(grade.student)
        return False
    except MissingEntry:
        gradebook.add_student(grade.student, last_name=grade.name or None)
        return True


def _set_auto_score(gradebook: Gradebook, cell: str, homework: str, student: str, score: float) -> bool:
    """Set the auto score; True when a manual score is there (it stays, flagged for review as nbgrader does)."""
    grade = gradebook.find_grade(cell, homework, homework, student)
    grade.auto_score = score
    grade.needs_manual_grade = grade.manual_score is not None
    return grade.manual_score is not None


def _zero_other_cells(gradebook: Gradebook, homework: str, student: str, question_cells: set[str]) -> None:
    notebook = gradebook.find_submission_notebook(homework, homework, student)
    for grade in notebook.grades:
        if grade.name not in question_cells and grade.max_score == 0 and grade.auto_score is None:
            grade.auto_score = 0.0
            grade.needs_manual_grade = grade.manual_score is not None


@contextmanager
def _exclusive(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExportError(f"{lock_path}: another export is writing the gradebook; try again when it is done") \
                from None
        yield
    finally:
        os.close(fd)
