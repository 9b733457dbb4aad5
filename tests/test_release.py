"""nbgrader release: the student version hides the solutions, keeps locked cells, carries its data, is
deterministic; a stale or broken release is reported."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from assignkit.cli import main
from assignkit.layout import Course
from assignkit.release import ReleaseError, release, stale_files

ROOT = Path(__file__).resolve().parents[1]
TEST_COURSE = ROOT / "tests" / "course"


@pytest.fixture
def course(tmp_path) -> Course:
    shutil.copytree(TEST_COURSE, tmp_path / "course", ignore=shutil.ignore_patterns("release", ".nbgrader"))
    return Course(tmp_path / "course")


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def test_release_hides_solutions_and_keeps_locked_cells(course):
    folder = release(course, "tiny")
    text = (folder / "tiny.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "def double" not in text and "fill_(2.0)" not in text
    source = {c.metadata["nbgrader"]["grade_id"]: c for c in _cells(course.source_notebook("tiny"))}
    for cell in _cells(folder / "tiny.ipynb"):
        meta = cell.metadata["nbgrader"]
        if meta["solution"]:
            assert "raise NotImplementedError()" in cell.source
        else:
            assert cell.source == source[meta["grade_id"]].source
    assert (folder / "tiny.csv").read_bytes() == (course.source_dir / "tiny" / "tiny.csv").read_bytes()


def test_release_drops_the_instructors_cell_timings(course):
    path = course.source_notebook("tiny")
    nb = json.loads(path.read_text())
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    for cell in code:
        cell["metadata"]["execution"] = {"iopub.execute_input": "2026-11-30T09:00:00.000000Z",
                                         "shell.execute_reply": "2026-11-30T09:00:01.000000Z"}
        cell["metadata"]["scrolled"] = True
    path.write_text(json.dumps(nb))
    released = [cell for cell in _cells(release(course, "tiny") / "tiny.ipynb") if cell.cell_type == "code"]
    assert len(released) == len(code)
    assert not any("execution" in cell.metadata or "scrolled" in cell.metadata for cell in released)


def test_release_is_deterministic_and_staleness_is_detected(course):
    first = (release(course, "tiny") / "tiny.ipynb").read_bytes()
    assert (release(course, "tiny") / "tiny.ipynb").read_bytes() == first
    assert stale_files(course, "tiny") == []
    (course.release_folder("tiny") / "tiny.csv").write_text("x\n1\n")
    (course.release_folder("tiny") / "extra.txt").write_text("left over")
    assert stale_files(course, "tiny") == ["extra.txt", "tiny.csv"]


def test_broken_metadata_names_the_cell(course):
    path = course.source_notebook("tiny")
    nb = json.loads(path.read_text())
    del nb["cells"][4]["metadata"]["nbgrader"]["points"]
    path.write_text(json.dumps(nb))
    with pytest.raises(ReleaseError, match=r"cell 4 \(grade_id 'q1_tensor_form'\).*points"):
        release(course, "tiny")


def test_unknown_homework_lists_the_homeworks_and_exits_2(course):
    outcome = CliRunner().invoke(main, ["release", "nosuchhw", "--course", str(course.root)])
    assert outcome.exit_code == 2
    assert "no homework named 'nosuchhw'; the homeworks are: tiny" in outcome.output


@pytest.mark.parametrize("command", ["data", "release", "grade", "validate"])
def test_every_command_has_help(command):
    outcome = CliRunner().invoke(main, [command, "--help"])
    assert outcome.exit_code == 0 and "Usage:" in outcome.output


@pytest.mark.parametrize("homework", Course(ROOT).homeworks())
def test_committed_release_is_what_release_makes_now(homework):
    assert stale_files(Course(ROOT), homework) == [], "run `assignkit release` and commit release/"


def test_committed_data_is_what_data_makes_now(tmp_path):
    from assignkit.data import write_all

    written = write_all(ROOT, out=tmp_path)
    assert written, "assignkit data wrote nothing"
    for path in written:
        relative = path.relative_to(tmp_path)
        assert (ROOT / relative).read_bytes() == path.read_bytes(), f"{relative} is stale: run `assignkit data`"
