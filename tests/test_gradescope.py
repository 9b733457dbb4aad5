import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assignkit.export import CheckGrade, StudentGrade
from assignkit.gradescope import build_autograder, pick_notebook, results_json, run
from assignkit.layout import Course

KIT = Path(__file__).resolve().parents[1]
ASSIGNKIT = Path(sys.executable).parent / "assignkit"

# Gradescope's documented results.json (gradescope-autograders.readthedocs.io, "Autograder Specifications")
TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
               "visibility", "extra_data"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def assert_gradescope_results(results: dict) -> None:
    assert set(results) <= TOP_LEVEL, set(results) - TOP_LEVEL
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    assert isinstance(results["output"], str) and results["output_format"] in FORMATS
    assert results["visibility"] in VISIBILITIES and results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in {"passed", "failed"} and test["visibility"] in VISIBILITIES
        assert isinstance(test["output"], str) and test["output_format"] in FORMATS


def test_results_json_one_test_per_check_with_its_message_only():
    grade = StudentGrade("kim", "", "hw", "graded", 3.0, 6.0, {"q1": (3.0, 3.0), "q2": (0.0, 3.0)}, "", checks=(
        CheckGrade("q1", "test_q1_shape", 3.0, 3.0, True, ""),
        CheckGrade("q2", "test_q2_value", 0.0, 3.0, False, "yhat has shape (2, 1); expected (1, 2)"),
    ))
    results = results_json(grade, "<html>feedback</html>", 12.4)
    assert_gradescope_results(results)
    assert (results["score"], results["execution_time"], results["output"]) == (3.0, 12, "<html>feedback</html>")
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["output"]) for t in results["tests"]] == [
        ("q1: test_q1_shape", 3.0, 3.0, "passed", ""),
        ("q2: test_q2_value", 0.0, 3.0, "failed", "yhat has shape (2, 1); expected (1, 2)")]


def test_results_json_of_a_submission_whose_checks_did_not_run():
    grade = StudentGrade("kim", "", "hw", "not_gradable", 0.0, 6.0, {"q1": (0.0, 3.0), "q2": (0.0, 3.0)},
                         "this is not a notebook")
    results = results_json(grade, "", 0.2)
    assert_gradescope_results(results)
    assert [(t["name"], t["max_score"], t["output"]) for t in results["tests"]] == [
        ("q1", 3.0, "this is not a notebook"), ("q2", 3.0, "this is not a notebook")]


def test_pick_notebook(tmp_path):
    assert pick_notebook(tmp_path, "hw2") is None
    (tmp_path / "scratch.ipynb").write_text("{}")
    assert pick_notebook(tmp_path, "hw2") == tmp_path / "scratch.ipynb"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "hw2.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "hw2.ipynb").write_text("{}")
    assert pick_notebook(tmp_path, "hw2") == tmp_path / "sub" / "hw2.ipynb"


def test_no_notebook_scores_zero_and_says_why(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "hw2.py").write_text("print(1)")
    results = run(tmp_path, "hw2", grade=lambda notebook, out: pytest.fail("nothing to grade"))
    assert_gradescope_results(results)
    assert results["score"] == 0 and "hw2.ipynb" in results["output"]
    assert json.loads((tmp_path / "results" / "results.json").read_text()) == results


def test_a_grader_failure_writes_no_score(tmp_path):
    from export_fixtures import write_result

    from assignkit.gradescope import GradescopeError

    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "hw2_dnn.ipynb").write_text("{}")

    def failing_grader(notebook, out):
        write_result(out, "submission", {}, status="grader_error",
                     reason="the grader failed on this submission: BrokenProcessPool()")
        (out / "feedback").mkdir()
        (out / "feedback" / "submission.html").write_text("")

    with pytest.raises(GradescopeError, match="not scored: grader_error: the grader failed"):
        run(tmp_path, "hw2_dnn", failing_grader)
    assert not (tmp_path / "results" / "results.json").exists()


def test_autograder_zip_holds_no_solution_and_is_reproducible(tmp_path):
    course = Course(KIT)
    names = build_autograder(course, "hw2_dnn", KIT, tmp_path / "a.zip")
    build_autograder(course, "hw2_dnn", KIT, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/src/assignkit/grade.py",
            "course/release/hw2_dnn/hw2_dnn.ipynb", "course/autograder/hw2_dnn/questions.toml"} <= set(names)
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        shipped = archive.read("course/source/hw2_dnn/hw2_dnn.ipynb")
        assert shipped == course.release_notebook("hw2_dnn").read_bytes() != course.source_notebook("hw2_dnn").read_bytes()
        assert archive.getinfo("run_autograder").external_attr >> 16 == 0o755
        setup = archive.read("setup.sh").decode()
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in setup
    assert not [n for n in names if n.startswith("course/source/") and n != "course/source/hw2_dnn/hw2_dnn.ipynb"]


@pytest.mark.slow
def test_run_autograder_locally_gives_the_kits_score(tmp_path):
    homework, sample = "hw2_dnn", KIT / "examples" / "submissions" / "hw2_dnn" / "partial.ipynb"
    build_autograder(Course(KIT), homework, KIT, tmp_path / "autograder.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    shutil.copy(sample, root / "submission" / "hw2_dnn.ipynb")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), ASSIGNKIT=str(ASSIGNKIT))
    subprocess.run([str(root / "run_autograder")], env=env, check=True, capture_output=True, timeout=900)
    results = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_results(results)

    subprocess.run([str(ASSIGNKIT), "grade", homework, str(sample), "--out", str(tmp_path / "kit"), "--jobs", "1",
                    "--course", str(KIT)], check=True, capture_output=True, timeout=900)
    with (tmp_path / "kit" / "grades.csv").open(newline="", encoding="utf-8") as stream:
        [row] = list(csv.DictReader(stream))
    assert results["score"] == float(row["score"]) > 0
    assert sum(t["score"] for t in results["tests"]) == results["score"]
    assert sum(t["max_score"] for t in results["tests"]) == float(row["max_score"])
    assert "def test_" not in json.dumps(results)  # check messages, never check source
