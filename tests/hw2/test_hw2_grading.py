"""hw2_dnn end to end: the solution, the blank release and every wrong answer of mutants.py, graded in one batch
by `assignkit grade`'s library function. Each mutant must lose points in exactly its question."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

from assignkit.layout import Course

ROOT = Path(__file__).resolve().parents[2]
HW = "hw2_dnn"
_spec = importlib.util.spec_from_file_location("hw2_mutants", Path(__file__).with_name("mutants.py"))
mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)


@pytest.fixture(scope="module")
def hw2_course(tmp_path_factory) -> Course:
    """A copy of the course with only hw2_dnn, released anew: the test never depends on release/ being current."""
    from assignkit.release import release

    root = tmp_path_factory.mktemp("hw2") / "course"
    course, real = Course(root), Course(ROOT)
    shutil.copytree(real.source_dir / HW, course.source_dir / HW)  # the data symlinks are copied as files
    shutil.copytree(real.autograder_folder(HW), course.autograder_folder(HW),
                    ignore=shutil.ignore_patterns("__pycache__", "calibrate.py", "MARGINS.md"))
    shutil.copy(real.nbgrader_config, course.nbgrader_config)
    release(course, HW)
    return course


def test_mutants_apply_exactly_once_and_cover_every_question():
    source = Course(ROOT).source_notebook(HW)
    original = nbformat.read(source, as_version=4)
    assert len(mutants.MUTANTS) >= 12
    assert len({m.name for m in mutants.MUTANTS}) == len(mutants.MUTANTS)
    for mutant in mutants.MUTANTS:
        changed = mutants.make_mutant(source, mutant)
        assert changed != original, mutant.name
    questions = {q for q in _question_ids()}
    assert {m.breaks for m in mutants.MUTANTS} == questions


def test_make_mutant_fails_loudly_when_the_text_is_not_there():
    source = Course(ROOT).source_notebook(HW)
    with pytest.raises(mutants.MutantError, match="0 times"):
        mutants.make_mutant(source, mutants.Mutant("x", "q1_answer_a", "no such text", "", "q1_limit"))
    with pytest.raises(mutants.MutantError, match="grade_id"):
        mutants.make_mutant(source, mutants.Mutant("x", "no_such_cell", "a", "b", "q1_limit"))


def _question_ids() -> list[str]:
    import tomllib

    return [q["id"] for q in tomllib.loads((ROOT / "autograder" / HW / "questions.toml").read_text())["question"]]


@pytest.mark.slow
def test_solution_blank_and_every_mutant_in_one_batch(hw2_course, tmp_path):
    from assignkit.execute import Limits
    from assignkit.grade import grade_batch

    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(hw2_course.source_notebook(HW), folder / "solution.ipynb")
    shutil.copy(hw2_course.release_notebook(HW), folder / "blank.ipynb")
    for mutant in mutants.MUTANTS:
        nbformat.write(mutants.make_mutant(hw2_course.source_notebook(HW), mutant), folder / f"{mutant.name}.ipynb")

    results = grade_batch(hw2_course, HW, [folder], tmp_path / "out", jobs=2, limits=Limits(), force=True,
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

    for mutant in mutants.MUTANTS:
        result = by_student[mutant.name]
        if result["status"] != "graded":
            problems.append(f"{mutant.name}: status {result['status']} ({result['reason']})")
            continue
        for question in result["questions"]:
            full = question["score"] == question["max_score"]
            if question["id"] == mutant.breaks and full:
                problems.append(f"{mutant.name}: keeps all {question['max_score']} points of {question['id']}")
            if question["id"] != mutant.breaks and not full:
                lost = [f"{c['name']}: {c['message']}" for c in result["checks"]
                        if c["question"] == question["id"] and not c["passed"]]
                problems.append(f"{mutant.name}: also loses points in {question['id']}: {lost}")
    assert not problems, "\n".join(problems)
