"""The executor's kernel lifecycle: no kernel outlives its submission or the worker that started it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from assignkit.execute import (Isolation, Job, KernelExecutor, Limits, cell_timed_out, in_cell, in_harvest,
                               memory_exceeded_in, notebook_timed_out)
from assignkit.harvest import load_questions
from conftest import isolation_for_tests, tiny_notebook

LIMITS = Limits(cell_seconds=20, notebook_seconds=60, memory_mb=1024)
TEST_UID = 61900  # far above the grader's own sandbox users, so parallel grading runs are not counted


ROOT_ON_LINUX = os.geteuid() == 0 and os.uname().sysname == "Linux"


def _isolation() -> Isolation:
    return isolation_for_tests(TEST_UID)


def _job(course, tmp_path: Path, answers: dict[str, str] | None = None) -> Job:
    notebook = nbformat.reads(tiny_notebook(course, answers), as_version=4)
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o711)
    return Job(notebook, load_questions(course.autograder_folder("tiny")), course.release_folder("tiny"),
               run / "sandbox", run / "artifacts")


def _kernels_of(uid: int) -> list[str]:
    listing = subprocess.run(["ps", "-o", "pid=", "-u", str(uid)], capture_output=True, text=True).stdout
    return listing.split()


def _gone(uid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while _kernels_of(uid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _kernels_of(uid)


pytestmark = pytest.mark.slow


@pytest.mark.skipif(not ROOT_ON_LINUX, reason="needs root on Linux: kernels are found by their user")
def test_the_kernel_is_gone_after_its_submission(tiny_course, tmp_path):
    execution = KernelExecutor(LIMITS, _isolation()).run(_job(tiny_course, tmp_path))
    assert execution.status == "graded" and execution.harvested == ["q1_tensor", "q2_net", "q3_double"]
    assert _gone(TEST_UID), f"kernels left running: {_kernels_of(TEST_UID)}"


def _run_forever(course, tmp_path):
    job = _job(course, tmp_path, {"q1_tensor_answer": "while True:\n    pass"})
    KernelExecutor(Limits(cell_seconds=600, notebook_seconds=600), _isolation()).run(job)


@pytest.mark.skipif(not ROOT_ON_LINUX, reason="needs root on Linux: kernels are found by their user")
def test_the_kernel_dies_with_its_worker(tiny_course, tmp_path):
    worker = multiprocessing.get_context("spawn").Process(target=_run_forever, args=(tiny_course, tmp_path))
    worker.start()
    deadline = time.monotonic() + 60
    while not _kernels_of(TEST_UID) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _kernels_of(TEST_UID), "the kernel never started"
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    assert _gone(TEST_UID), f"kernels outlived their worker: {_kernels_of(TEST_UID)}"


def test_a_question_harvested_before_a_timeout_keeps_its_artifacts(tiny_course, tmp_path):
    job = _job(tiny_course, tmp_path, {"q3_double_answer": "while True:\n    pass"})
    execution = KernelExecutor(Limits(cell_seconds=5, notebook_seconds=60), _isolation()).run(job)
    assert execution.status == "timeout" and "q3_double_answer" in str(execution.reason)
    assert execution.harvested == ["q1_tensor", "q2_net"]
    assert (job.artifacts_dir / "q2_net" / "net.pt").is_file() and not (job.artifacts_dir / "q3_double").exists()
    timing = {c.metadata.get("nbgrader", {}).get("grade_id"): c.metadata.get("execution", {})
              for c in execution.notebook.cells if c.cell_type == "code"}
    assert "shell.execute_reply" in timing["q2_net_answer"]  # nbclient's record_timing
    assert "shell.execute_reply" not in timing["q3_double_answer"]  # it never ended


def test_a_kernel_that_cannot_start_is_kernel_died(tiny_course, tmp_path):
    execution = KernelExecutor(Limits(memory_mb=32), _isolation()).run(_job(tiny_course, tmp_path))
    assert execution.status == "kernel_died" and execution.harvested == []


def test_a_reason_reads_in_each_language_with_where_it_stopped():
    reason = cell_timed_out(in_cell(7, "q1_tensor_answer"), 120)
    assert str(reason) == reason.text("en") == "cell 7 (q1_tensor_answer) was still running after 120 s"
    assert reason.text("ko") == "120초가 지나도 실행이 끝나지 않았습니다 (위치: 셀(cell) 7 (q1_tensor_answer))"
    assert memory_exceeded_in(in_harvest("q2_net"), 2048).text("ko") == \
        "메모리를 2048 MB보다 많이 사용했습니다 (위치: q2_net의 답을 수집하는 채점기 셀)"
    assert str(notebook_timed_out(in_cell(3, None), 900.0)) == "the notebook ran past 900 s, in cell 3"
