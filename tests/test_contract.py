"""The homework contract (contract.py): each way to break it gives a problem naming the file and line, and
validate and grading refuse a homework that breaks it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from assignkit.contract import ContractError, check_contract, require_contract
from assignkit.execute import Limits
from assignkit.grade import Homework
from assignkit.harvest import load_questions
from assignkit.layout import Course
from assignkit.validate import validate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(tiny_course, tmp_path) -> Course:
    """A copy of the released tiny course that a test may break."""
    shutil.copytree(tiny_course.root, tmp_path / "course", symlinks=True)
    return Course(tmp_path / "course")


def _messages(course: Course) -> list[str]:
    return [str(problem) for problem in check_contract(course, "tiny")]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("homework", ["hw1_loss_comparison", "hw2_dnn"])
def test_the_course_homeworks_keep_their_contract(homework):
    assert check_contract(Course(ROOT), homework) == []


def test_the_tiny_homework_keeps_its_contract(course):
    assert _messages(course) == []


def test_after_must_name_a_cell_of_the_release_notebook(course):
    _edit(course.autograder_folder("tiny") / "questions.toml", 'after = "q2_net_form"', 'after = "q2_net_from"')
    assert _messages(course) == [
        "autograder/tiny/questions.toml:10: question q2_net: after = 'q2_net_from' names no code cell of the release "
        "notebook (give the grade_id of the question's last cell, by default q2_net_form)"]


def test_after_defaults_to_the_form_cell(course):
    _edit(course.autograder_folder("tiny") / "questions.toml", 'after = "q2_net_form"\n', "")
    assert [q.after for q in load_questions(course.autograder_folder("tiny"))][1] == "q2_net_form"
    assert _messages(course) == []


def test_every_check_names_a_question_of_questions_toml(course):
    _edit(course.autograder_folder("tiny") / "test_tiny.py", '@pytest.mark.check("q3_double", points=1)',
          '@pytest.mark.check("q3_dubble", points=1)')
    assert _messages(course) == [
        "autograder/tiny/test_tiny.py:34: test_double is marked for question 'q3_dubble', which questions.toml does "
        "not have (it has q1_tensor, q2_net, q3_double)",
        "autograder/tiny/questions.toml:14: question q3_double has no check: it could never score"]


def test_an_unmarked_check_is_named_with_its_line(course):
    _edit(course.autograder_folder("tiny") / "test_tiny.py", '@pytest.mark.check("q1_tensor", points=1)\n', "")
    assert _messages(course)[0] == "autograder/tiny/test_tiny.py:12: test_t_is_twice_x has no " \
                                   "@pytest.mark.check(question, points=...)"


def test_points_stated_in_questions_toml_must_be_what_the_checks_give(course):
    _edit(course.autograder_folder("tiny") / "questions.toml", 'title = "A network"\n',
          'title = "A network"\npoints = 3\n')
    assert _messages(course) == [
        "autograder/tiny/questions.toml:8: question q2_net states points = 3, but its checks give 2"]


def test_a_total_stated_in_the_notebook_must_be_what_the_checks_give(course):
    path = course.release_notebook("tiny")
    notebook = nbformat.read(path, as_version=4)
    intro = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "intro")
    intro.source += "\n\n이 숙제는 총점 5점입니다."
    nbformat.write(notebook, path)
    problems = _messages(course)
    assert len(problems) == 1 and problems[0].startswith("release/tiny/tiny.ipynb, cell intro, line ")
    assert problems[0].endswith(": the notebook states 5 points in total; the checks give 4")


def test_data_files_the_notebook_reads_must_be_in_the_release(course):
    (course.release_folder("tiny") / "tiny.csv").unlink()
    problems = _messages(course)
    assert len(problems) == 1
    assert problems[0].startswith("release/tiny/tiny.ipynb, cell setup, line ")
    assert "reads tiny.csv, which is not in release/tiny" in problems[0]


def test_a_broken_questions_toml_is_named_with_its_line(course):
    _edit(course.autograder_folder("tiny") / "questions.toml", 'kind = "module"', 'kind = "modul"')
    assert _messages(course) == ["autograder/tiny/questions.toml:8: q2_net.net: kind must be one of "
                                 "('value', 'module', 'function')"]


def test_validate_and_grading_refuse_a_broken_contract(course):
    _edit(course.autograder_folder("tiny") / "questions.toml", 'after = "q2_net_form"', 'after = "nowhere"')
    with pytest.raises(ContractError, match="questions.toml:10: question q2_net: after = 'nowhere'"):
        validate(course, "tiny", Limits())
    with pytest.raises(ContractError):
        Homework.load(course, "tiny", "en")
    with pytest.raises(ContractError, match="tiny breaks its contract"):
        require_contract(course, "tiny")


def test_the_engine_names_no_homework():
    sources = sorted(str(p) for p in (ROOT / "src" / "assignkit").glob("*.py"))
    found = subprocess.run(["grep", "-niE", "hw1_|hw2_|dnnex|loss_comparison", *sources],
                           capture_output=True, text=True).stdout
    assert found == "", found
