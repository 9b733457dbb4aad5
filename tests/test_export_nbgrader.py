import csv
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from export_fixtures import write_result

from assignkit import report
from assignkit.export import ExportError, grades_from_results
from assignkit.export_nbgrader import export_nbgrader
from assignkit.harvest import load_questions
from assignkit.layout import Course

TINY_POINTS = {"q1_tensor": 2.0, "q2_net": 3.0, "q3_double": 1.5}


@pytest.fixture
def course(tiny_course, tmp_path):
    """A copy of the released tiny course (its gradebook holds the release's cells), so each test has its own."""
    root = tmp_path / "course"
    shutil.copytree(tiny_course.root, root)
    return Course(root)


def graded(out_dir, scores: dict[str, dict[str, float]]):
    """results/*.json and grades.csv, as `assignkit grade` writes them."""
    results = [write_result(out_dir, student, mine, homework="tiny", points=TINY_POINTS)
               for student, mine in scores.items()]
    report.write_grades_csv(results, list(TINY_POINTS), out_dir / "grades.csv")
    return out_dir


def export(course, out_dir):
    cells = {q.id: q.after for q in load_questions(course.autograder_folder("tiny"))}
    return export_nbgrader(course.gradebook, grades_from_results(out_dir), cells)


def nbgrader_export(course, tmp_path) -> dict[str, tuple[float, float]]:
    """`nbgrader export` itself: student → (score, max_score)."""
    out = tmp_path / "nbgrader-grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.root={course.root}",
                    f"--CourseDirectory.db_url=sqlite:///{course.gradebook}", f"--CsvExportPlugin.to={out}"],
                   cwd=course.root, check=True, capture_output=True)
    with out.open(newline="") as stream:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(stream)}


def grades_csv_totals(out_dir) -> dict[str, tuple[float, float]]:
    with (out_dir / "grades.csv").open(newline="", encoding="utf-8") as stream:
        return {row["student"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(stream)}


@pytest.mark.slow  # two `nbgrader export` runs
def test_nbgrader_export_shows_the_kits_totals_and_a_manual_score_survives(course, tmp_path):
    out = graded(tmp_path / "graded", {"123456": {"q1_tensor": 2, "q2_net": 3, "q3_double": 1.5},
                                       "김민수": {"q1_tensor": 2}})
    done = export(course, out)
    assert (done.students, done.new_students, done.manual_kept) == (["123456", "김민수"], ["123456", "김민수"], [])
    assert nbgrader_export(course, tmp_path) == grades_csv_totals(out) == {"123456": (6.5, 6.5), "김민수": (2.0, 6.5)}

    with Gradebook(f"sqlite:///{course.gradebook}") as gradebook:  # a TA gives q2_net 1 point in formgrader
        grade = gradebook.find_grade("q2_net_form", "tiny", "tiny", "김민수")
        grade.manual_score = 1.0
        gradebook.db.commit()
        assert not [g for g in gradebook.find_submission("tiny", "123456").notebooks[0].grades
                    if g.needs_manual_grade]

    regraded = graded(tmp_path / "regraded", {"김민수": {"q1_tensor": 2, "q3_double": 1.5}})
    again = export(course, regraded)
    assert (again.new_students, again.manual_kept) == ([], [("김민수", "q2_net")])
    assert nbgrader_export(course, tmp_path) == {"123456": (6.5, 6.5), "김민수": (4.5, 6.5)}  # 2 + 1 (manual) + 1.5
    with Gradebook(f"sqlite:///{course.gradebook}") as gradebook:
        grade = gradebook.find_grade("q2_net_form", "tiny", "tiny", "김민수")
        assert (grade.auto_score, grade.manual_score, grade.needs_manual_grade) == (0.0, 1.0, True)


def test_a_second_writer_is_refused(course, tmp_path):
    import fcntl

    out = graded(tmp_path / "graded", {"kim": {"q1_tensor": 2}})
    lock = course.gradebook.with_name("gradebook.db.lock")
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ExportError, match="another export is writing the gradebook"):
            export(course, out)


def test_an_unreleased_homework_is_refused(course, tmp_path):
    out = graded(tmp_path / "graded", {"kim": {"q1_tensor": 2}})
    course.gradebook.unlink()
    with pytest.raises(ExportError, match=r"gradebook.db: no nbgrader gradebook; run `assignkit release tiny` first"):
        export(course, out)
    assert not course.gradebook.exists()


def test_results_of_two_homeworks_are_refused(course, tmp_path):
    import json

    out = graded(tmp_path / "graded", {"kim": {"q1_tensor": 2}, "lee": {}})
    path = out / "results" / "lee.json"
    path.write_text(json.dumps(dict(json.loads(path.read_text()), homework="hw2_dnn")))
    with pytest.raises(ExportError, match=r"the results are of 2 homeworks \(hw2_dnn, tiny\)"):
        export(course, out)
