"""Grade the same K submissions with `assignkit grade` and with `nbgrader autograde`; print seconds per submission.

Measured, each on the same K notebooks (half the solution, half the blank release, under different student names):
  plain      nbclient in this process, one fresh kernel per notebook: kernel start + the student's own code
  assignkit  `assignkit grade --jobs 1` and `--jobs N`, as a command (wall time / K)
  nbgrader   `nbgrader autograde --force` in a scratch nbgrader course (it grades one submission at a time)
Overhead per submission = assignkit --jobs 1 per submission - plain per submission. Figures only, no assertions.

    .venv/bin/python benchmarks/grade_vs_nbgrader.py [--k 8] [--course tests/course] [--homework tiny]
                                                     [--jobs CORES] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: assignkit, nbgrader, and the alembic nbgrader calls via PATH
CELL_TIMEOUT = 120  # assignkit's default per-cell timeout; given to nbgrader too (its own default is 30 s)
# assignkit's kernels get ASSIGNKIT_GRADING=1 (the homeworks then skip their plots); nbgrader's and the plain
# kernels get it too, so all run the same code. The plain kernels also get assignkit's one torch thread, so the
# overhead is the grader's own; nbgrader keeps its default threads.
GRADING = {"ASSIGNKIT_GRADING": "1"}
AS_GRADED = {**os.environ, **GRADING, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    """Seconds `command` takes, and its stdout; raises with its output if it fails."""
    env = {**os.environ, **GRADING, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def make_nbgrader_course(course: Path, homework: str, k: int, scratch: Path) -> list[Path]:
    """A scratch nbgrader course: source/<hw> copied, released by nbgrader, and K notebooks in submitted/."""
    shutil.copytree(course / "source" / homework, scratch / "source" / homework)  # symlinked data copied as files
    config = (course / "nbgrader_config.py").read_text() if (course / "nbgrader_config.py").is_file() else \
        "c = get_config()  # noqa: F821\n"
    config += f"\nc.CourseDirectory.root = {str(scratch)!r}\nc.CourseDirectory.db_url = " \
              f"{'sqlite:///' + str(scratch / 'gradebook.db')!r}\nc.Execute.timeout = {CELL_TIMEOUT}\n"
    (scratch / "nbgrader_config.py").write_text(config)
    run([str(BIN / "nbgrader"), "generate_assignment", homework, "--force"], scratch)
    solution = scratch / "source" / homework / f"{homework}.ipynb"
    blank = scratch / "release" / homework / f"{homework}.ipynb"
    notebooks = []
    for i in range(k):
        target = scratch / "submitted" / f"student{i + 1:02d}" / homework / f"{homework}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(blank if i % 2 else solution, target)
        notebooks.append(target)
    return notebooks


def time_plain(notebooks: list[Path], data_folder: Path) -> float:
    """Seconds per notebook of a plain nbclient run in a fresh kernel, in a folder holding the homework's data.

    The kernel is stopped at once, as assignkit does (nbclient's default, a graceful shutdown, adds ~0.7 s).
    """
    total = 0.0
    for notebook in notebooks:
        with tempfile.TemporaryDirectory(prefix="plain-") as workdir:
            for path in data_folder.iterdir():
                if path.is_file() and path.suffix != ".ipynb":
                    shutil.copy(path, workdir)
            nb = nbformat.read(notebook, as_version=4)
            client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT, allow_errors=True,
                                    shutdown_kernel="immediate", resources={"metadata": {"path": workdir}})
            started = time.monotonic()
            client.execute(env=AS_GRADED, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            total += time.monotonic() - started
    return total / len(notebooks)


def time_assignkit(course: Path, homework: str, submitted: Path, jobs: int, out: Path) -> tuple[float, str]:
    """Wall seconds of `assignkit grade --jobs N` over the submitted/ tree, and its summary line."""
    seconds, stdout = run([str(BIN / "assignkit"), "grade", homework, str(submitted), "--out", str(out),
                           "--course", str(course), "--jobs", str(jobs)], ROOT)
    summary = stdout.strip().splitlines()[0]
    with open(out / "grades.csv", newline="") as grades:
        if {row["status"] for row in csv.DictReader(grades)} != {"graded"}:
            raise RuntimeError(f"assignkit did not grade every submission, so its times mean nothing: {summary}")
    return seconds, summary


def time_nbgrader(scratch: Path, homework: str) -> tuple[float, str]:
    """Wall seconds of `nbgrader autograde` over the scratch course's submitted/ tree, and a note on timeouts."""
    seconds, _ = run([str(BIN / "nbgrader"), "autograde", homework, "--force"], scratch)
    graded = list((scratch / "autograded").glob(f"*/{homework}/{homework}.ipynb"))
    submitted = list((scratch / "submitted").glob(f"*/{homework}/{homework}.ipynb"))
    if len(graded) != len(submitted):
        raise RuntimeError(f"nbgrader autograded {len(graded)} of {len(submitted)} submissions")
    timeouts = sum("CellTimeoutError" in path.read_text() for path in graded)
    return seconds, f"; {timeouts} hit the {CELL_TIMEOUT} s cell timeout" if timeouts else ""


def measure(course: Path, homework: str, scratch: Path, notebooks: list[Path], jobs: int, index: int
            ) -> tuple[dict[str, float], str]:
    """Seconds per submission of each way of running the K notebooks, and notes on what the graders did."""
    k = len(notebooks)
    plain = time_plain(notebooks, course / "release" / homework)
    one, summary = time_assignkit(course, homework, scratch / "submitted", 1, scratch.parent / f"out-j1-{index}")
    many, _ = time_assignkit(course, homework, scratch / "submitted", jobs, scratch.parent / f"out-j{jobs}-{index}")
    nbgrader, note = time_nbgrader(scratch, homework)
    return {"plain": plain, "assignkit 1": one / k, "assignkit n": many / k, "nbgrader": nbgrader / k}, summary + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=8, help="number of submissions (default 8)")
    parser.add_argument("--course", type=Path, default=ROOT / "tests" / "course", help="course folder")
    parser.add_argument("--homework", default="tiny", help="homework name (e.g. hw1_loss_comparison, hw2_dnn)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel run (default: cores)")
    parser.add_argument("--repeat", type=int, default=1, help="measure N times, keep each one's best (default 1)")
    args = parser.parse_args()
    course = args.course.resolve()
    if not (course / "release" / args.homework / f"{args.homework}.ipynb").is_file():
        sys.exit(f"{course}/release/{args.homework} is missing: run `assignkit release {args.homework}` first")

    print(f"load average before the run: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="assignkit-bench-", ) as tmp:
        scratch = Path(tmp) / "nbgrader-course"
        notebooks = make_nbgrader_course(course, args.homework, args.k, scratch)
        time_plain(notebooks[:1], course / "release" / args.homework)  # warm-up: disk caches, first kernel start
        runs = [measure(course, args.homework, scratch, notebooks, args.jobs, i) for i in range(args.repeat)]
    best = {name: min(times[name] for times, _ in runs) for name in runs[0][0]}  # other load only adds time

    print(f"homework {args.homework} ({course}), {args.k} submissions ({(args.k + 1) // 2} solution, "
          f"{args.k // 2} blank), {os.cpu_count()} cores, best of {args.repeat}; assignkit: {runs[-1][1]}")
    print(f"{'seconds per submission':42}")
    for name, key in [("plain execution (kernel + student code)", "plain"), ("assignkit grade --jobs 1", "assignkit 1"),
                      (f"assignkit grade --jobs {args.jobs}", "assignkit n"), ("nbgrader autograde", "nbgrader")]:
        print(f"  {name:40}{best[key]:8.2f}")
    print(f"{'ratio assignkit/nbgrader, --jobs 1':42}{best['assignkit 1'] / best['nbgrader']:8.2f}")
    print(f"{f'ratio assignkit/nbgrader, --jobs {args.jobs}':42}{best['assignkit n'] / best['nbgrader']:8.2f}")
    print(f"{'assignkit overhead per submission, s':42}{best['assignkit 1'] - best['plain']:8.2f}"
          "   (--jobs 1 minus plain execution)")

if __name__ == "__main__":
    main()
