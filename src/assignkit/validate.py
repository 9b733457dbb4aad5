"""Proof that a homework is sound: the solution scores full marks, the blank release scores 0 without crashing
the grader, and release/ is what `assignkit release` makes now."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from assignkit.contract import require_contract
from assignkit.execute import Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from assignkit.release import stale_files
from assignkit.results import Status, SubmissionResult


@dataclass
class Validation:
    homework: str
    solution: SubmissionResult
    blank: SubmissionResult
    stale: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(course: Course, homework: str, limits: Limits, jobs: int = 2, mode: str | None = None,
             lang: str = "en", executor: str | None = None) -> Validation:
    """Raises contract.ContractError, naming each file and line, when the homework breaks its contract."""
    require_contract(course, homework)
    with tempfile.TemporaryDirectory(prefix="assignkit-validate-") as scratch:
        folder = Path(scratch) / "submissions"
        folder.mkdir()
        shutil.copy(course.source_notebook(homework), folder / "solution.ipynb")
        shutil.copy(course.release_notebook(homework), folder / "blank.ipynb")
        results = grade_batch(course, homework, [folder], Path(scratch) / "out", jobs=jobs, limits=limits,
                              force=True, on_note=lambda note: None, mode=mode, lang=lang, executor=executor)
    by_student = {r.student: r for r in results}
    validation = Validation(homework, by_student["solution"], by_student["blank"], stale_files(course, homework))
    validation.problems = _problems(validation)
    return validation


def _problems(v: Validation) -> list[str]:
    problems = []
    solution, blank = v.solution, v.blank
    if solution.status is not Status.GRADED or solution.score != solution.max_score or not solution.max_score:
        failed = [f"{c.question}/{c.name}: {c.message}" for c in solution.checks if not c.passed]
        problems.append(f"the solution scores {solution.score}/{solution.max_score} ({solution.status}"
                        f"{': ' + solution.reason if solution.reason else ''}); failed: {failed}")
    if blank.status is not Status.GRADED or blank.score != 0:
        passed = [f"{c.question}/{c.name}" for c in blank.checks if c.passed]
        problems.append(f"the blank release scores {blank.score} ({blank.status} {blank.reason}); "
                        f"passed: {passed}")
    if v.stale:
        problems.append(f"release/{v.homework} is not what `assignkit release` makes now: {v.stale}")
    return problems
