"""grade_batch's worker pool: each submission is run, then checked, in worker processes; never more than `jobs`
notebooks at once; a worker the machine kills costs its submission one more try, and a second death an error row,
while every other submission is graded.

The notebooks run in the worker itself (`InProcessExecutor`, no sandbox), so these test the pool, not a sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assignkit.grade import grade_batch
from assignkit.sandbox import NONE, _children_of, _reaped_or_dead
from conftest import tiny_notebook
from test_grade import LIMITS, InProcessExecutor, InProcessExecutors

pytestmark = pytest.mark.slow


class LoggingExecutor(InProcessExecutor):
    """Writes when each run starts and ends into `log`; kills its own worker process when the notebook's q1 answer
    says KILL, as long as `kills` has recorded fewer than `max_kills` such deaths."""

    def __init__(self, log: Path, max_kills: int):
        self.log, self.max_kills = log, max_kills

    def run(self, job):
        q1 = next(c.source for c in job.notebook.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_tensor_answer")
        with open(self.log / "runs", "a") as runs:
            runs.write(f"start {time.monotonic()}\n")
        if "KILL" in q1 and len(_lines(self.log / "kills")) < self.max_kills:
            with open(self.log / "kills", "a") as kills:
                kills.write("killed\n")
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.3)
        execution = super().run(job)
        with open(self.log / "runs", "a") as runs:
            runs.write(f"end {time.monotonic()}\n")
        return execution


class LoggingExecutors(InProcessExecutors):
    name = "logging"

    def __init__(self, log: Path, max_kills: int = 0):
        self.log, self.max_kills = log, max_kills

    def __call__(self, limits, isolation) -> LoggingExecutor:
        return LoggingExecutor(self.log, self.max_kills)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.is_file() else []


def _most_at_once(log: Path) -> int:
    events = [(float(t), kind) for kind, t in (line.split() for line in _lines(log / "runs"))]
    at_once = most = 0
    for _, kind in sorted(events, key=lambda e: (e[0], e[1] == "start")):  # an end before a start at the same time
        at_once += 1 if kind == "start" else -1
        most = max(most, at_once)
    return most


def _class(course, folder: Path, answers: dict[str, dict[str, str]]) -> Path:
    folder.mkdir()
    for student, answer in answers.items():
        (folder / f"{student}.ipynb").write_text(tiny_notebook(course, answer))
    return folder


def _grade(course, folder: Path, out: Path, executors: LoggingExecutors, jobs: int):
    results = grade_batch(course, "tiny", [folder], out, jobs=jobs, limits=LIMITS, mode=NONE, executor=executors,
                          on_note=lambda note: None)
    return {r.student: (r.status, r.score) for r in results}


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_submission_is_run_then_checked_and_no_more_than_jobs_run_at_once(tiny_course, tmp_path, jobs):
    folder = _class(tiny_course, tmp_path / "class", {f"s{i}": {} for i in range(5)})
    (tmp_path / "log").mkdir()
    rows = _grade(tiny_course, folder, tmp_path / "out", LoggingExecutors(tmp_path / "log"), jobs)
    assert rows == {f"s{i}": ("graded", 4.0) for i in range(5)}
    assert len(_lines(tmp_path / "log" / "runs")) == 10
    assert _most_at_once(tmp_path / "log") <= jobs


@pytest.mark.parametrize("max_kills, kim, kills", [(1, ("graded", 4.0), 1), (99, ("grader_error", 0.0), 2)],
                         ids=["killed once", "killed every time"])
def test_a_killed_worker_costs_its_submission_a_try_and_a_second_death_an_error_row(tiny_course, tmp_path, max_kills,
                                                                                    kim, kills):
    folder = _class(tiny_course, tmp_path / "class", {"kim": {"q1_tensor_answer": "t = x * 2  # KILL"},
                                                      "lee": {}, "park": {}})
    (tmp_path / "log").mkdir()
    rows = _grade(tiny_course, folder, tmp_path / "out", LoggingExecutors(tmp_path / "log", max_kills), jobs=1)
    assert rows == {"kim": kim, "lee": ("graded", 4.0), "park": ("graded", 4.0)}
    assert len(_lines(tmp_path / "log" / "kills")) == kills


GRADE_IN_A_COMMAND = """
import sys
from pathlib import Path
from assignkit.execute import Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from assignkit.sandbox import NONE
grade_batch(Course(Path(sys.argv[1])), "tiny", [Path(sys.argv[2])], Path(sys.argv[3]), jobs=1, limits=Limits(),
            mode=NONE, executor="fork", on_note=lambda note: None)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the fork executor and PR_SET_PDEATHSIG need Linux")
def test_killing_the_command_ends_its_whole_pool(tiny_course, tmp_path):
    started = tmp_path / "started"
    answer = f"t = x * 2\nopen({str(started)!r}, 'w').close()\nimport time\ntime.sleep(120)"
    folder = _class(tiny_course, tmp_path / "class", {"kim": {"q1_tensor_answer": answer}})
    command = subprocess.Popen([sys.executable, "-c", GRADE_IN_A_COMMAND, str(tiny_course.root), str(folder),
                                str(tmp_path / "out")])
    try:
        _wait_for(started.exists, 120)
        pool = _descendants(command.pid)
        assert len(pool) >= 5  # the forkserver, a worker, its zygote, the keeper and the runner asleep in a cell
    finally:
        command.kill()
        command.wait()
    _wait_for(lambda: all(_reaped_or_dead(pid) for pid in pool), 10)


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {seconds} s"
        time.sleep(0.05)


def _descendants(root: int) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = set().union(*(_children_of(pid) for pid in frontier)) - found
        found |= frontier
    return found
