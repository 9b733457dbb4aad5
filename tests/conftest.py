"""Shared fixtures: the tiny test homework released into a temporary course, and submissions built from it; the real
homeworks' samples and mutants graded once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from assignkit.execute import Isolation
from assignkit.layout import Course
from assignkit.sandbox import NONE, ROOT, Sandbox, Slot, _children_of, python_folders
from mutation import GradedClass, grade_class, mutants_of

COURSE = Path(__file__).parent / "course"
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_course(tmp_path_factory) -> Course:
    """A copy of tests/course with release/tiny made by `assignkit release` (tests/course/release is ignored)."""
    from assignkit.release import release

    root = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("release", ".nbgrader", "__pycache__"))
    course = Course(root)
    release(course, "tiny")
    return course


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> Callable[[str], GradedClass]:
    """A homework's samples and mutants (hw1_loss_comparison, hw2_dnn), graded once per session with the default
    executor: its mutant test and the parity test read the same batch."""
    graded: dict[str, GradedClass] = {}

    def of(homework: str) -> GradedClass:
        if homework not in graded:
            graded[homework] = grade_class(PROJECT, homework, mutants_of(PROJECT, homework),
                                           tmp_path_factory.mktemp(homework))
        return graded[homework]
    return of


def tiny_notebook(course: Course, answers: dict[str, str] | None = None, *, blank: bool = False) -> str:
    """The tiny notebook as a student would submit it: the solution (or the blank release when `blank`), with
    the source of each answer cell named (by grade_id) in `answers` replaced. Returns the notebook's JSON text."""
    path = course.release_notebook("tiny") if blank else course.source_notebook("tiny")
    notebook = nbformat.read(path, as_version=4)
    missing = set(answers or {})
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in (answers or {}):
            cell.source = answers[grade_id]
            missing.discard(grade_id)
    assert not missing, f"no cells with grade_id {sorted(missing)} in the tiny notebook"
    return nbformat.writes(notebook)


class KernelReaper:
    """Kills the sandboxed kernels a grade_batch run leaves behind, while it runs and at the end.

    A safety net (kernels used to outlive their submission, infinite loops included, until 4ddedf0): a kernel
    still running once its sandbox folder is gone (grade_one deletes it) is killed and counted in `leaked` (pids of
    its `unshare` or `bwrap`). Only kernels of the batch writing to `out_dir` are touched: their `unshare` has
    `--hide=<out_dir>`; with `bubblewrap` (userns mode), kernels this test process started, through a grader run
    as another user or not.
    """

    def __init__(self, out_dir: Path, bubblewrap: bool = False):
        self.mark = f"--hide={Path(out_dir).resolve()}"
        self.bubblewrap = bubblewrap
        self.leaked: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "KernelReaper":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.reap(finished_only=False)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.reap(finished_only=True)

    def reap(self, finished_only: bool) -> None:
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if self.bubblewrap:
                if not args[0].endswith("bwrap") or "--chdir" not in args or not _descends(int(proc.name)):
                    continue
                workdir = Path(args[args.index("--chdir") + 1])
            elif not args[0].endswith("unshare") or self.mark not in args or "--give" not in args:
                continue
            else:
                workdir = Path(args[args.index("--give") + 1]).parent
            if finished_only and workdir.exists():
                continue
            pid = int(proc.name)
            for child in [*_children_of(pid), pid]:
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
            self.leaked.add(pid)


def _descends(pid: int) -> bool:
    """Whether `pid` was started, directly or not, by this process."""
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == os.getpid():
            return True
    return False


def isolation_for_tests(uid: int) -> Isolation:
    """Root mode with one slot (user `uid`) when root on Linux; else no sandbox (for tests about a run's life, not
    about the sandbox)."""
    if not (os.geteuid() == 0 and os.uname().sysname == "Linux"):
        return Isolation(Sandbox(NONE, (), (), (), Path("/nonexistent")), Slot(0, None, ()))
    hidden = (Path("/tmp"), Path("/root"))
    visible = tuple(p for p in python_folders() if any(p.is_relative_to(h) for h in hidden))
    return Isolation(Sandbox(ROOT, (), hidden, visible, Path("/nonexistent")), Slot(0, uid, ()))


def sleepers(seconds: str) -> list[int]:
    """The pids of every `sleep <seconds>` on the machine (a test's detached process, by its own odd duration)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", seconds.encode()]:
                found.append(int(proc.name))
        except OSError:
            continue
    return found
