"""hw1's checks are exactly as strict with the run's shared reference cache as without it: the same verdicts and
messages on the solution and on wrong answers of Q3-Q5 (the questions that compare against re-runs).

The notebooks' code cells run in this process (ASSIGNKIT_GRADING=1, so no pictures) and are harvested as the
grader harvests them; no kernel starts."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import nbformat
import pytest
import torch

from assignkit.checks import ReferenceCache, run_checks
from assignkit.harvest import harvest_source, load_questions
from assignkit.layout import Course

ROOT = Path(__file__).resolve().parents[2]
HW = "hw1_loss_comparison"
_spec = importlib.util.spec_from_file_location("hw1_mutants", Path(__file__).with_name("mutants.py"))
mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)
# One wrong answer per question that is checked against re-runs, and one that breaks all three.
WRONG = ("q3_loop_wrong_lr", "q4_wrong_lr", "q5_sgd_instead_of_adam", "record_after_step4")


def _harvest_in_process(notebook, course: Course, artifacts: Path, monkeypatch) -> None:
    """Run the notebook's code cells in one namespace, in the release folder, harvesting after each question."""
    questions = {q.after: q for q in load_questions(course.autograder_folder(HW))}
    monkeypatch.setenv("ASSIGNKIT_GRADING", "1")
    monkeypatch.chdir(course.release_folder(HW))
    namespace: dict = {"__name__": "__main__"}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            exec(cell.source, namespace)  # a failing cell goes on, as the grader does (allow_errors)
        question = questions.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if question is not None:
            exec(harvest_source(question, str(artifacts / question.id)), namespace)


@pytest.fixture
def one_torch_thread():
    """As a grading worker: on a busy machine two threads spinning against other work are several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_cached_and_uncached_checks_give_the_same_verdicts(tmp_path, monkeypatch, one_torch_thread):
    course = Course(ROOT)
    source = course.source_notebook(HW)
    notebooks = {"solution": nbformat.read(source, as_version=4)}
    by_name = {m.name: m for m in mutants.MUTANTS + mutants.CASCADES}
    notebooks.update({name: mutants.make_mutant(source, by_name[name]) for name in WRONG})
    shared = tmp_path / "reference-cache"
    for name, notebook in notebooks.items():
        artifacts = tmp_path / name
        _harvest_in_process(notebook, course, artifacts, monkeypatch)
        args = (course.autograder_folder(HW), course.release_folder(HW), artifacts, {})
        uncached, _ = run_checks(*args, reference_cache=ReferenceCache())
        cached, _ = run_checks(*args, reference_cache=ReferenceCache(shared))  # computes (first) or loads the files
        assert [r.as_dict() for r in cached] == [r.as_dict() for r in uncached], name
        lost = {r.question for r in cached if not r.passed}
        if name == "solution":
            assert lost == set(), [r.message for r in cached if not r.passed]
        else:
            mutant = by_name[name]
            assert lost == {mutant.breaks, *mutant.also}, (name, lost)
    # 8 runs of Q4/Q5 and Q3's two, and the epoch-by-epoch paths of the 9 distinct runs (the record_after_step4
    # answer's records follow none of them): each computed once for all five submissions
    assert len(list(shared.glob("*.pt"))) == 10 + 9
