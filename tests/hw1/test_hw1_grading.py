"""hw1_loss_comparison end to end: the solution, the blank release and every wrong answer of mutants.py, graded
in one batch by `assignkit grade`'s library function. Each mutant of MUTANTS must lose points in exactly its
question; each of CASCADES (a broken `record`, which Q4 and Q5 call) in exactly its question and those after."""

from __future__ import annotations

import importlib.util
import shutil
import tomllib
from pathlib import Path

import nbformat
import pytest

from assignkit.layout import Course

ROOT = Path(__file__).resolve().parents[2]
HW = "hw1_loss_comparison"
_spec = importlib.util.spec_from_file_location("hw1_mutants", Path(__file__).with_name("mutants.py"))
mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)


def _question_ids() -> list[str]:
    return [q["id"] for q in tomllib.loads((ROOT / "autograder" / HW / "questions.toml").read_text())["question"]]


@pytest.fixture(scope="module")
def hw1_course(tmp_path_factory) -> Course:
    """A copy of the course holding only hw1, released anew (so the test never depends on release/ being current)."""
    from assignkit.release import release

    root = tmp_path_factory.mktemp("hw1") / "course"
    course, real = Course(root), Course(ROOT)
    shutil.copytree(real.source_dir / HW, course.source_dir / HW)  # the data symlink is copied as a file
    shutil.copytree(real.autograder_folder(HW), course.autograder_folder(HW),
                    ignore=shutil.ignore_patterns("__pycache__", "calibrate.py"))
    shutil.copy(real.nbgrader_config, course.nbgrader_config)
    release(course, HW)
    return course


def test_mutants_apply_exactly_once_and_cover_every_question():
    source = Course(ROOT).source_notebook(HW)
    original = nbformat.read(source, as_version=4)
    everything = mutants.MUTANTS + mutants.CASCADES
    assert len(mutants.MUTANTS) >= 10
    assert len({m.name for m in everything}) == len(everything)
    for mutant in everything:
        assert mutants.make_mutant(source, mutant) != original, mutant.name
    assert {m.breaks for m in mutants.MUTANTS} == set(_question_ids())
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
def test_solution_blank_and_every_mutant_in_one_batch(hw1_course, tmp_path):
    from assignkit.execute import Limits
    from assignkit.grade import grade_batch

    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(hw1_course.source_notebook(HW), folder / "solution.ipynb")
    shutil.copy(hw1_course.release_notebook(HW), folder / "blank.ipynb")
    everything = mutants.MUTANTS + mutants.CASCADES
    for mutant in everything:
        nbformat.write(mutants.make_mutant(hw1_course.source_notebook(HW), mutant), folder / f"{mutant.name}.ipynb")

    results = grade_batch(hw1_course, HW, [folder], tmp_path / "out", jobs=2, limits=Limits(), force=True,
                          on_note=lambda note: None)
    by_student = {r["student"]: r for r in results}
    problems = []

    solution = by_student["solution"]
    if solution["status"] != "graded" or solution["score"] != solution["max_score"]:
        failed = [f"{c['question']}/{c['name']}: {c['message']}" for c in solution["checks"] if not c["passed"]]
        problems.append(f"solution: {solution['status']} {solution['score']}/{solution['max_score']} {failed}")
    blank = by_student["blank"]
    if blank["status"] != "graded" or blank["score"] != 0:
        passed = [f"{c['question']}/{c['name']}" for c in blank["checks"] if c["passed"]]
        problems.append(f"blank: {blank['status']} {blank['score']} passed {passed}")

    for mutant in everything:
        result = by_student[mutant.name]
        if result["status"] != "graded":
            problems.append(f"{mutant.name}: status {result['status']} ({result['reason']})")
            continue
        broken = {mutant.breaks, *mutant.also}
        for question in result["questions"]:
            full = question["score"] == question["max_score"]
            if question["id"] in broken and full:
                problems.append(f"{mutant.name}: keeps all {question['max_score']} points of {question['id']}")
            if question["id"] not in broken and not full:
                lost = [f"{c['name']}: {c['message']}" for c in result["checks"]
                        if c["question"] == question["id"] and not c["passed"]]
                problems.append(f"{mutant.name}: also loses points in {question['id']}: {lost}")
    assert not problems, "\n".join(problems)
