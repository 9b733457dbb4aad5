"""hw1_loss_comparison end to end: every wrong answer of mutants.py, graded in one batch with the samples by `assignkit
grade`'s library function (conftest's graded_class, shared with the parity test). Each mutant of MUTANTS must lose
points in exactly its question; each of CASCADES (a broken `record`, which Q4 and Q5 call) in exactly its question and
those after."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from assignkit.harvest import load_questions
from assignkit.layout import Course
from mutation import mutant_problems, mutants_module

ROOT = Path(__file__).resolve().parents[2]
HW = "hw1_loss_comparison"
mutants = mutants_module(ROOT, HW)


def test_mutants_apply_exactly_once_and_cover_every_question():
    source = Course(ROOT).source_notebook(HW)
    original = nbformat.read(source, as_version=4)
    everything = mutants.MUTANTS + mutants.CASCADES
    assert len(mutants.MUTANTS) >= 10
    assert len({m.name for m in everything}) == len(everything)
    for mutant in everything:
        assert mutants.make_mutant(source, mutant) != original, mutant.name
    assert {m.breaks for m in mutants.MUTANTS} == _question_ids()
    assert all(not m.also for m in mutants.MUTANTS) and all(m.also for m in mutants.CASCADES)


def test_make_mutant_fails_loudly_when_the_text_is_not_there_once():
    source = Course(ROOT).source_notebook(HW)
    with pytest.raises(mutants.MutantError, match="0 times"):
        mutants.make_mutant(source, mutants.Mutant("x", "q1_yhat_answer", "no such text", "", "q1_yhat"))
    with pytest.raises(mutants.MutantError, match="2 times"):
        mutants.make_mutant(source, mutants.Mutant("x", "q1_yhat_answer", "torch.manual_seed(43052)", "", "q1_yhat"))
    with pytest.raises(mutants.MutantError, match="grade_id"):
        mutants.make_mutant(source, mutants.Mutant("x", "no_such_cell", "a", "b", "q1_yhat"))
    with pytest.raises(mutants.MutantError, match="not an answer cell"):
        mutants.make_mutant(source, mutants.Mutant("x", "setup", "import os", "", "q1_yhat"))


@pytest.mark.slow
def test_every_mutant_loses_exactly_its_question(graded_class):
    # The solution (full marks) and the blank release (0) are proven by tests/test_validate.py.
    problems = mutant_problems(mutants.MUTANTS + mutants.CASCADES, graded_class(HW).results)
    assert not problems, "\n".join(problems)


def _question_ids() -> set[str]:
    return {q.id for q in load_questions(Course(ROOT).autograder_folder(HW))}
