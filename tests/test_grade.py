"""grade_batch as a whole: one row each, rerun skip, --force, interrupted runs.

The quick tests run each notebook in this process with `InProcessExecutor` instead of a sandboxed kernel and
without the worker pool, so they test the batch logic (fingerprints, rows, files) in seconds. The slow ones use
real kernels.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

import assignkit.grade as grade
from assignkit.checks import ChecksError
from assignkit.execute import Execution, Limits
from assignkit.grade import grade_batch
from assignkit.harvest import harvest_source
from assignkit.results import SubmissionResult
from assignkit.sandbox import choose_mode
from assignkit.shards import Manifest, Shard
from conftest import KernelReaper, tiny_notebook

LIMITS = Limits(cell_seconds=60, notebook_seconds=120, memory_mb=1024, output_bytes=1_000_000)
FULL = {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 1.0}
WRONG_WEIGHTS = {"q2_net_answer": "net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())"}


class InProcessExecutor:
    """Runs the code cells of a trusted notebook in this process and harvests each question like the kernel does.
    `ran` lists the first source line of every answer cell q1 it ran, to tell which submissions were run."""

    ran: list[str] = []

    def run(self, job) -> Execution:
        job.workdir.mkdir(parents=True)
        for path in job.release_folder.iterdir():
            if path.suffix != ".ipynb":
                shutil.copy(path, job.workdir)
        after = {q.after: q for q in job.questions}
        namespace: dict = {}
        harvested = []
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(job.workdir)
            for cell in job.notebook.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if cell.cell_type == "code":
                    if grade_id == "q1_tensor_answer":
                        InProcessExecutor.ran.append(cell.source)
                    try:
                        exec(cell.source, namespace)
                    except Exception:  # noqa: BLE001 - like a cell error in a kernel
                        pass
                if grade_id in after:
                    question = after[grade_id]
                    exec(harvest_source(question, str(job.artifacts_dir / question.id)), namespace)
                    harvested.append(question.id)
        return Execution("graded", harvested=harvested, notebook=job.notebook)


class InProcessExecutors:
    """The factory grade_batch is given: an InProcessExecutor per submission (no warm-up)."""

    name = "in_process"
    preload = ()

    def warm(self) -> None:
        pass

    def __call__(self, limits, isolation) -> InProcessExecutor:
        return InProcessExecutor()


def _serial_pool(homework, todo, settings):
    for submission in todo:
        yield grade.grade_one(homework, submission, settings)


@pytest.fixture
def in_process(monkeypatch):
    """grade_batch without worker processes or kernels: pass `executor=in_process` (and see `InProcessExecutor.ran`)."""
    monkeypatch.setattr(grade, "_run_pool", _serial_pool)
    InProcessExecutor.ran = []
    return InProcessExecutors()


def _nothing_to_grade(homework, todo, settings):
    assert todo == [], f"regraded {[s.student for s in todo]}"
    yield from ()


def _write(folder: Path, notebooks: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, content in notebooks.items():
        path = folder / f"{student}.ipynb"
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return folder


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _without_seconds(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def _scores(result) -> dict[str, float]:
    return result.question_scores()


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "submissions"


# --- quick -------------------------------------------------------------------------------------------------------

def test_one_row_per_submission_with_scores(tiny_course, folder, tmp_path, in_process):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS),
                    "park": b"", "choi": tiny_notebook(tiny_course, blank=True)})
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process,
                          on_note=lambda note: None)
    assert [r.student for r in results] == ["choi", "kim", "lee", "park"]
    by = {r.student: r for r in results}
    assert _scores(by["kim"]) == FULL and by["kim"].status == "graded"
    assert _scores(by["lee"]) == {"q1_tensor": 1.0, "q2_net": 1.0, "q3_double": 1.0}
    assert by["choi"].score == 0 and by["choi"].status == "graded"
    assert (by["park"].status, by["park"].reason) == ("not_gradable", "the file is empty")
    rows = _rows(tmp_path / "out")
    assert [r["student"] for r in rows] == ["choi", "kim", "lee", "park"]
    assert rows[1] | {"seconds": ""} == {"student": "kim", "name": "", "late": "no", "status": "graded", "score": "4", "max_score": "4",
                                         "q1_tensor": "1", "q2_net": "2", "q3_double": "1", "seconds": ""}
    for part in ("results/kim.json", "feedback/kim.html", "executed/kim.ipynb", "summary.html"):
        assert (tmp_path / "out" / part).is_file(), part
    assert not (tmp_path / "out" / "executed" / "park.ipynb").exists()


def test_notebooks_answering_more_questions_run_first(tiny_course, folder, tmp_path, in_process, monkeypatch):
    blank_q2_q3 = {"q2_net_answer": "raise NotImplementedError()", "q3_double_answer": "raise NotImplementedError()"}
    _write(folder, {"a_blank": tiny_notebook(tiny_course, blank=True), "b_broken": b"{", "c_partial":
                    tiny_notebook(tiny_course, blank_q2_q3), "d_full": tiny_notebook(tiny_course),
                    "e_wrong": tiny_notebook(tiny_course, WRONG_WEIGHTS)})
    started = []
    run_one = grade.run_one
    monkeypatch.setattr(grade, "run_one", lambda homework, submission, settings: (
        started.append(submission.student), run_one(homework, submission, settings))[1])
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process,
                          on_note=lambda note: None)
    assert started == ["d_full", "e_wrong", "c_partial", "a_blank", "b_broken"]
    assert [r.student for r in results] == ["a_blank", "b_broken", "c_partial", "d_full", "e_wrong"]
    assert _scores(results[2]) == {"q1_tensor": 1.0, "q2_net": 0.0, "q3_double": 0.0}


def test_rerun_skips_what_was_graded(tiny_course, folder, tmp_path, in_process, monkeypatch):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS),
                    "park": "{not json"})
    first = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    csv_before = (tmp_path / "out" / "grades.csv").read_bytes()
    monkeypatch.setattr(grade, "_run_pool", _nothing_to_grade)
    second = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert second == first
    assert (tmp_path / "out" / "grades.csv").read_bytes() == csv_before


def test_rerun_regrades_only_a_changed_notebook(tiny_course, folder, tmp_path, in_process):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS)})
    grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    _write(folder, {"lee": tiny_notebook(tiny_course, {"q1_tensor_answer": "t = x * 2  # fixed net too"})})
    InProcessExecutor.ran = []
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert InProcessExecutor.ran == ["t = x * 2  # fixed net too"]
    assert [r.score for r in results] == [4, 4]
    assert [r["score"] for r in _rows(tmp_path / "out")] == ["4", "4"]


def test_force_regrades_everything_to_the_same_rows(tiny_course, folder, tmp_path, in_process):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS)})
    grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    rows = _rows(tmp_path / "out")
    InProcessExecutor.ran = []
    grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process, force=True)
    assert len(InProcessExecutor.ran) == 2
    assert _without_seconds(_rows(tmp_path / "out")) == _without_seconds(rows)


def test_changed_checks_regrade_everything(tiny_course, tmp_path, in_process):
    course = type(tiny_course)(tmp_path / "course")
    shutil.copytree(tiny_course.root, course.root)
    folder = _write(course.root / "subs", {"kim": tiny_notebook(course)})
    grade_batch(course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    checks = course.autograder_folder("tiny") / "test_tiny.py"
    checks.write_text(checks.read_text() + "\n# a changed tolerance\n")
    InProcessExecutor.ran = []
    grade_batch(course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert len(InProcessExecutor.ran) == 1


def test_interrupted_run_keeps_finished_rows_and_the_rerun_finishes(tiny_course, folder, tmp_path, in_process,
                                                                     monkeypatch):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS),
                    "park": tiny_notebook(tiny_course, blank=True)})

    def interrupted_pool(homework, todo, settings):
        yield grade.grade_one(homework, todo[0], settings)
        raise KeyboardInterrupt  # Ctrl-C while the second one runs

    monkeypatch.setattr(grade, "_run_pool", interrupted_pool)
    with pytest.raises(KeyboardInterrupt):
        grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert [(r["student"], r["score"]) for r in _rows(tmp_path / "out")] == [("kim", "4")]
    assert [p.name for p in (tmp_path / "out" / "results").iterdir()] == ["kim.json"]

    monkeypatch.setattr(grade, "_run_pool", _serial_pool)
    InProcessExecutor.ran = []
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert len(InProcessExecutor.ran) == 2  # kim was not graded again
    assert [(r.student, r.score) for r in results] == [("kim", 4), ("lee", 3), ("park", 0)]
    assert [r["student"] for r in _rows(tmp_path / "out")] == ["kim", "lee", "park"]


def test_a_broken_results_file_is_regraded(tiny_course, folder, tmp_path, in_process):
    _write(folder, {"kim": tiny_notebook(tiny_course)})
    grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    (tmp_path / "out" / "results" / "kim.json").write_text('{"student": "kim", "score": 4')  # cut short
    InProcessExecutor.ran = []
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert len(InProcessExecutor.ran) == 1 and results[0].score == 4


# --- slow: real kernels ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_same_submission_graded_again_with_force_gives_the_same_row(tiny_course, folder, tmp_path, monkeypatch):
    _write(folder, {"kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS)})
    out = tmp_path / "out"
    with KernelReaper(out) as reaper:
        first = grade_batch(tiny_course, "tiny", [folder], out, jobs=2, limits=LIMITS, on_note=lambda note: None)
        rows = _rows(out)
        assert [(r["student"], r["status"], r["score"]) for r in rows] == [("kim", "graded", "4"),
                                                                            ("lee", "graded", "3")]
        again = grade_batch(tiny_course, "tiny", [folder], out, jobs=2, limits=LIMITS, force=True,
                            on_note=lambda note: None)
    assert not reaper.leaked
    assert _without_seconds(_rows(out)) == _without_seconds(rows)
    for a, b in zip(first, again, strict=True):
        assert (a.status, a.score, a.questions, a.checks) == (b.status, b.score, b.questions, b.checks)
    # A rerun without --force starts no kernel at all.
    monkeypatch.setattr(grade, "_run_pool", _nothing_to_grade)
    assert grade_batch(tiny_course, "tiny", [folder], out, jobs=2, limits=LIMITS) == again


@pytest.mark.slow
def test_submissions_under_tmp_can_be_graded(tiny_course, tmp_path):
    # Regression (fixed in cd5cc9c): a hidden folder inside another one (/tmp/.../downloads under /tmp) made the
    # jail's tmpfs mount fail, so every kernel died at start and every submission was not_gradable.
    folder = _write(tmp_path / "downloads" / "hw", {"kim": tiny_notebook(tiny_course)})
    _write(folder.parent, {"lee": tiny_notebook(tiny_course)})
    out = tmp_path / "out"
    with KernelReaper(out):
        results = grade_batch(tiny_course, "tiny", [folder, folder.parent / "lee.ipynb"], out, jobs=2, limits=LIMITS,
                              on_note=lambda note: None)
    assert [(r.student, r.status, r.score) for r in results] == [("kim", "graded", 4), ("lee", "graded", 4)]


def _pool_catching_errors(homework, todo, settings):
    """Like the real pool: an exception in grade_one comes back as the outcome."""
    for submission in todo:
        try:
            outcome = grade.grade_one(homework, submission, settings)
        except Exception as error:  # noqa: BLE001 - what future.exception() hands over
            outcome = error
        yield grade._result_of(outcome, homework, submission)


def test_a_grader_failure_is_a_grader_error_and_is_regraded(tiny_course, folder, tmp_path, in_process,
                                                            monkeypatch):
    _write(folder, {"kim": tiny_notebook(tiny_course)})
    monkeypatch.setattr(grade, "_run_pool", _pool_catching_errors)
    real_checks = grade.run_checks

    def broken_checks(*args):
        raise ChecksError("the hidden checks did not run")

    monkeypatch.setattr(grade, "run_checks", broken_checks)
    (result,) = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process, lang="ko")
    assert result.status == "grader_error" and result.score == 0
    assert "학생의 잘못이 아니며" in result.reason  # in the run's language
    assert "the hidden checks did not run" in result.reason
    assert _rows(tmp_path / "out")[0]["status"] == "grader_error"

    monkeypatch.setattr(grade, "run_checks", real_checks)
    InProcessExecutor.ran = []
    (result,) = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    assert len(InProcessExecutor.ran) == 1  # a plain rerun grades it again
    assert (result.status, result.score) == ("graded", 4)


def test_results_files_are_typed_results(tiny_course, folder, tmp_path, in_process):
    _write(folder, {"kim": tiny_notebook(tiny_course), "park": b""})
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, executor=in_process)
    for result in results:
        assert SubmissionResult.read(tmp_path / "out" / "results" / f"{result.student}.json") == result
        assert result.homework_fingerprint == grade.Homework.load(tiny_course, "tiny", "en").fingerprint
        assert result.sandbox == choose_mode(no_sandbox=False)
        assert result.executor == "in_process"  # the injected executor, by its name


def test_a_shard_grades_its_students_and_writes_no_tables(tiny_course, folder, tmp_path, in_process):
    students = ["kim", "lee", "park", "choi", "jung", "kang"]
    _write(folder, {s: tiny_notebook(tiny_course) for s in students})
    out = tmp_path / "out"
    graded = []
    for k in (1, 2, 3):
        results = grade_batch(tiny_course, "tiny", [folder], out, jobs=1, limits=LIMITS, executor=in_process, shard=Shard(k, 3))
        assert all(Shard(k, 3).holds(r.student) for r in results)
        assert Manifest.read(out / "shards" / f"{k}of3.json").students == tuple(r.student for r in results)
        graded += [r.student for r in results]
    assert sorted(graded) == sorted(students)
    assert not (out / "grades.csv").exists() and not (out / "summary.html").exists()
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == sorted(students)


def test_questions_not_harvested_say_whether_they_were_running_or_never_started():
    from types import SimpleNamespace

    from assignkit.execute import cell_timed_out, in_cell

    questions = [SimpleNamespace(id=qid) for qid in ("q1_tensor", "q2_net", "q3_double")]
    execution = Execution("timeout", cell_timed_out(in_cell(5, "q2_net_answer"), 60), harvested=["q1_tensor"])
    english = grade._not_run(SimpleNamespace(lang="en", questions=questions), execution)
    assert english == {
        "q2_net": "this question did not run to the end: cell 5 (q2_net_answer) was still running after 60 s",
        "q3_double": "the run stopped before this question: cell 5 (q2_net_answer) was still running after 60 s"}
    korean = grade._not_run(SimpleNamespace(lang="ko", questions=questions), execution)
    assert korean["q3_double"] == ("이 문제에 이르기 전에 실행이 멈췄습니다: 60초가 지나도 실행이 끝나지 않았습니다 "
                                   "(위치: 셀(cell) 5 (q2_net_answer))")
