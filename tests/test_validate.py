"""`assignkit validate` for every homework of the course: the solution scores full marks, the blank release 0."""

from pathlib import Path

import pytest

from assignkit.execute import Limits
from assignkit.layout import Course
from assignkit.validate import validate

COURSE = Course(Path(__file__).resolve().parents[1])


@pytest.mark.slow
@pytest.mark.parametrize("homework", COURSE.homeworks())
def test_solution_scores_full_marks_and_blank_scores_zero(homework):
    result = validate(COURSE, homework, Limits(cell_seconds=300, notebook_seconds=600))
    assert result.ok, "\n".join(result.problems)
    assert result.solution.score == result.solution.max_score > 0
    assert result.blank.score == 0 and result.blank.status == "graded"
