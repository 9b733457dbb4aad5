"""hw2_dnn end to end: every wrong answer of mutants.py, graded in one batch with the samples by `assignkit grade`'s
library function (conftest's graded_class, shared with the parity test). Each mutant of MUTANTS must lose points in
exactly its question (hw2 has no CASCADES: no question calls another's answer)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from assignkit.harvest import load_questions
from assignkit.layout import Course
from mutation import mutant_problems, mutants_module

ROOT = Path(__file__).resolve().parents[2]
HW = "hw2_dnn"
mutants = mutants_module(ROOT, HW)


def test_mutants_apply_exactly_once_and_cover_every_question():
    source = Course(ROOT).source_notebook(HW)
    original = nbformat.read(source, as_version=4)
    everything = mutants.MUTANTS + mutants.CASCADES
    assert len(mutants.MUTANTS) >= 12
    assert len({m.name for m in everything}) == len(everything)
    for mutant in everything:
        assert mutants.make_mutant(source, mutant) != original, mutant.name
    assert {m.breaks for m in mutants.MUTANTS} == _question_ids()
    assert all(not m.also for m in mutants.MUTANTS) and all(m.also for m in mutants.CASCADES)


@pytest.mark.slow
def test_every_mutant_loses_exactly_its_question(graded_class):
    # The solution (full marks) and the blank release (0) are proven by tests/test_validate.py.
    problems = mutant_problems(mutants.MUTANTS + mutants.CASCADES, graded_class(HW).results)
    assert not problems, "\n".join(problems)


def _question_ids() -> set[str]:
    return {q.id for q in load_questions(Course(ROOT).autograder_folder(HW))}
