"""A new homework is its own two folders: this test writes a third homework into a temporary course (a notebook
with two questions, one reading a generated CSV; its questions.toml; one check file with a helper module beside
it; its data generator), then runs `assignkit data`, `release`, `validate` and `grade` on a right and a wrong
answer, as an instructor would, without touching anything under src/."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNKIT = Path(sys.executable).with_name("assignkit")
HW = "hw3_mean"

GENERATOR = '''"""The data of hw3_mean: points.csv for the students, points_hidden.csv (another draw) for the grader."""

from pathlib import Path

import numpy as np
import pandas as pd

from assignkit.data import write_csv


def points(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(3.0, 1.0, 50).round(4)})


def write(data_dir: Path, hidden_dir: Path) -> list[Path]:
    return [write_csv(data_dir / "points.csv", points(43052)), write_csv(hidden_dir / "points_hidden.csv", points(7))]
'''

QUESTIONS = '''[[question]]
id = "q1_mean"
title = "평균 (The mean)"
points = 2
artifacts = [{ name = "mean_x", kind = "value" }]

[[question]]
id = "q2_choice"
title = "고르기 (A choice)"
points = 1
artifacts = [{ name = "q2_answer", kind = "value" }]
'''

HELPER = '''"""Reference computations of hw3_mean, shared by its checks (imported by name)."""

import pandas as pd


def mean_of(folder, name="points.csv") -> float:
    return float(pd.read_csv(folder / name)["x"].mean())
'''

CHECKS = '''import pytest

from assignkit.checks import expect_choice

import hw3_reference as ref

TOLERANCE = 1e-6  # float64 sums in a different order differ by about 1e-15


@pytest.mark.check("q1_mean", points=2)
def test_mean(sub, release_dir):
    got, want = sub.number("mean_x"), ref.mean_of(release_dir)
    assert abs(got - want) <= TOLERANCE, f"mean_x is {got:.4f}; the mean of the x column is not that"


@pytest.mark.check("q2_choice", points=1)
def test_choice(sub):
    expect_choice(sub, "q2_answer", ("A", "B"), "B", "Which one is the mean of a sample?")
'''


def _cell(kind: str, grade_id: str, source: str, **flags) -> nbformat.NotebookNode:
    meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False, **flags}
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    return make(source, metadata={"nbgrader": meta})


def _notebook() -> nbformat.NotebookNode:
    answer = {"locked": False, "solution": True}
    form = {"grade": True, "points": 0}
    notebook = nbformat.v4.new_notebook(cells=[
        _cell("markdown", "intro", "# 숙제 3 (Homework 3)\n총점 3점."),
        _cell("code", "setup", "import pandas as pd\ndata = pd.read_csv('points.csv')"),
        _cell("code", "q1_mean_answer", "### BEGIN SOLUTION\nmean_x = float(data['x'].mean())\n### END SOLUTION",
              **answer),
        _cell("code", "q1_mean_form", "assert isinstance(mean_x, float)", **form),
        _cell("code", "q2_choice_answer", '### BEGIN SOLUTION\nq2_answer = "B"\n### END SOLUTION', **answer),
        _cell("code", "q2_choice_form", "assert q2_answer in ('A', 'B')", **form),
    ])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return notebook


def _write_course(root: Path) -> None:
    root.mkdir()
    (root / "nbgrader_config.py").write_text((ROOT / "tests" / "course" / "nbgrader_config.py").read_text())
    source, autograder = root / "source" / HW, root / "autograder" / HW
    source.mkdir(parents=True)
    autograder.mkdir(parents=True)
    nbformat.write(_notebook(), source / f"{HW}.ipynb")
    (source / "points.csv").symlink_to(Path("..", "..", "data", "points.csv"))
    (autograder / "data.py").write_text(GENERATOR)
    (autograder / "questions.toml").write_text(QUESTIONS)
    (autograder / "hw3_reference.py").write_text(HELPER)
    (autograder / f"test_{HW}.py").write_text(CHECKS)


def _assignkit(root: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ASSIGNKIT_COURSE": str(root)}
    return subprocess.run([str(ASSIGNKIT), *args], cwd=root, env=environment, capture_output=True, text=True,
                          timeout=600)


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_a_third_homework_is_two_folders(tmp_path):
    before = _source_digest()
    root = tmp_path / "course"
    _write_course(root)

    made = _assignkit(root, "data")
    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["wrote", "data/points.csv", "wrote", f"autograder/{HW}/points_hidden.csv"]
    released = _assignkit(root, "release", HW)
    assert released.returncode == 0, released.stderr
    assert (root / "release" / HW / "points.csv").read_bytes() == (root / "data" / "points.csv").read_bytes()
    validated = _assignkit(root, "validate", HW)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "solution 3/3" in validated.stdout

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    right = nbformat.read(root / "source" / HW / f"{HW}.ipynb", as_version=4)
    nbformat.write(right, submissions / "right.ipynb")
    wrong = nbformat.read(root / "source" / HW / f"{HW}.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata["nbgrader"]["grade_id"] == "q1_mean_answer":
            cell.source = "mean_x = float(data['x'].median())"
    nbformat.write(wrong, submissions / "wrong.ipynb")
    graded = _assignkit(root, "grade", HW, str(submissions), "--out", str(tmp_path / "out"))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert (float(rows["right"]["q1_mean"]), float(rows["right"]["q2_choice"])) == (2, 1)
    assert (float(rows["wrong"]["q1_mean"]), float(rows["wrong"]["q2_choice"])) == (0, 1)
    assert _source_digest() == before


@pytest.mark.slow
def test_a_homework_with_a_broken_contract_fails_validate(tmp_path):
    root = tmp_path / "course"
    _write_course(root)
    toml = root / "autograder" / HW / "questions.toml"
    toml.write_text(QUESTIONS.replace("points = 1", "points = 4"))
    assert _assignkit(root, "data").returncode == 0
    assert _assignkit(root, "release", HW).returncode == 0
    validated = _assignkit(root, "validate", HW)
    assert validated.returncode == 1
    assert validated.stderr.splitlines() == [
        f"{HW} breaks its contract (docs/checks.md):",
        f"  autograder/{HW}/questions.toml:8: question q2_choice states points = 4, but its checks give 1"]
    graded = _assignkit(root, "grade", HW, str(tmp_path), "--out", str(tmp_path / "out"))
    assert graded.returncode == 1 and "Traceback" not in graded.stderr
    assert f"error: {HW} breaks its contract" in graded.stderr
