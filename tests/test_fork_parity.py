"""Both executors grade alike (issue 9): the sample submissions (examples/) and wrong answers (mutants) of a homework,
graded with the fork executor (the session's batch of conftest's graded_class, which the mutant tests also read) and
again with the kernel executor, get the same status and the same score in every question. At --jobs 2.

hw1: every sample and every mutant (27 submissions; hw1's own compute is small). hw2: every sample; its mutants
each train for ~10 s, so the kernel executor on all of them would add ~4 minutes on 2 cores, too much for
`make test` (docs/fork.md has the one full run: the same rows). tests/hw2/test_hw2_grading.py grades them all with
the default (fork) executor against the same expectations the kernel executor met."""

from __future__ import annotations

import sys

import pytest

from assignkit.execute import FORK, KERNEL, Limits
from assignkit.grade import grade_batch

HOMEWORKS = ("hw1_loss_comparison", "hw2_dnn")
WITH_MUTANTS = {"hw1_loss_comparison"}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("homework", HOMEWORKS)
def test_fork_and_kernel_give_the_same_rows(homework, graded_class, tmp_path):
    if sys.platform != "linux":
        pytest.skip("the fork executor needs Linux")
    graded = graded_class(homework)
    paths = [graded.samples, graded.mutants] if homework in WITH_MUTANTS else [graded.samples]
    results = grade_batch(graded.course, homework, paths, tmp_path / "kernel", jobs=2, limits=Limits(), force=True,
                          on_note=lambda note: None, executor=KERNEL)
    assert {r.executor for r in graded.results.values()} == {FORK}
    assert {r.executor for r in results} == {KERNEL}
    kernel = {r.student: (r.status.value, r.question_scores()) for r in results}
    fork = {s: (r.status.value, r.question_scores()) for s, r in graded.results.items() if s in kernel}
    submitted = [p.stem for folder in paths for p in folder.glob("*.ipynb")]
    assert sorted(kernel) == sorted(submitted) == sorted(fork)
    differing = {s: (fork[s], kernel[s]) for s in kernel if fork[s] != kernel[s]}
    assert differing == {}, "student: (fork, kernel)"
