"""Both executors grade alike (issue 9): the sample submissions (examples/) and wrong answers (mutants) of a homework,
graded once with the fork executor and once with the kernel executor, get the same status and the same score in every
question. One batch per executor and homework, at --jobs 2.

hw1: every sample and every mutant (27 submissions; hw1's own compute is small). hw2: every sample; its 17 mutants
each train for ~19 s, so both executors on all of them cost ~12 minutes on 2 cores, too much for `make test`
(docs/fork.md has the one full run: the same rows). tests/hw2/test_hw2_grading.py grades them all with the default
(fork) executor against the same expectations the kernel executor met."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from assignkit.execute import FORK, KERNEL, Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from mutation import make_mutant, released_copy

ROOT = Path(__file__).resolve().parents[1]
HOMEWORKS = {"hw1_loss_comparison": "hw1", "hw2_dnn": "hw2"}
WITH_MUTANTS = {"hw1_loss_comparison"}

pytestmark = pytest.mark.slow


def _mutants(folder: str):
    spec = importlib.util.spec_from_file_location(f"{folder}_parity_mutants", ROOT / "tests" / folder / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS + module.CASCADES


@pytest.mark.parametrize("homework", sorted(HOMEWORKS))
def test_fork_and_kernel_give_the_same_rows(homework, tmp_path):
    if sys.platform != "linux":
        pytest.skip("the fork executor needs Linux")
    course = released_copy(ROOT, homework, tmp_path / "course")
    folder = tmp_path / "submissions"
    shutil.copytree(Course(ROOT).examples_folder(homework), folder)
    mutants = _mutants(HOMEWORKS[homework]) if homework in WITH_MUTANTS else []
    for mutant in mutants:
        nbformat.write(make_mutant(course.source_notebook(homework), mutant), folder / f"mutant_{mutant.name}.ipynb")
    rows = {}
    for executor in (FORK, KERNEL):
        results = grade_batch(course, homework, [folder], tmp_path / executor, jobs=2, limits=Limits(), force=True,
                              on_note=lambda note: None, executor=executor)
        assert {r.executor for r in results} == {executor}
        rows[executor] = {r.student: (r.status.value, r.question_scores()) for r in results}
    assert len(rows[FORK]) == len(mutants) + 5
    differing = {s: (rows[FORK][s], rows[KERNEL][s]) for s in rows[FORK] if rows[FORK][s] != rows[KERNEL][s]}
    assert differing == {}, "student: (fork, kernel)"
