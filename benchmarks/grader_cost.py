"""What the grader itself costs per run and per submission, outside the student's code: importing the grader,
loading the homework, running the hidden checks, drawing the feedback page. Figures only, no assertions.

The solution's answers are harvested once, in this process (its code cells run with ASSIGNKIT_GRADING=1, no
kernel), then timed in this process as a grading worker does them:
  fixed     `import assignkit.grade` (a fresh interpreter), Homework.load, the first run_checks (pytest and the
            check files imported, the reference cache filled), the first feedback page (matplotlib, the font)
  checks    run_checks on the same artifacts, warm: with the run's shared reference cache (a new ReferenceCache
            on the same folder each time, as check_one makes one per submission), and without it (a new empty
            cache each time: what each submission pays when nothing is shared, e.g. a fresh process per submission)
  pytest    run_checks of a folder holding one trivial check: pytest's own cost per call
  feedback  report.write_feedback of the solution's result: its pictures drawn, the same pictures again (another
            student with the same curves), and the page without pictures

    .venv/bin/python benchmarks/grader_cost.py [--homework hw1_loss_comparison] [--repeat 5]

To compare with another checkout (say main, before a change), run this file with that checkout's code and course:
    PYTHONPATH=/work/main/src .venv/bin/python benchmarks/grader_cost.py --root /work/main
(a kit without the reference cache kept hw1's re-runs in a module global: "nothing shared" then clears it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent  # --root changes it
HOMEWORKS = ("tiny", "hw1_loss_comparison", "hw2_dnn")


def course_for(homework: str, scratch: Path):
    """The repository's course, or for `tiny` a released copy of tests/course."""
    from assignkit.layout import Course
    from assignkit.release import release

    if homework != "tiny":
        return Course(ROOT)
    root = scratch / "tiny-course"
    shutil.copytree(ROOT / "tests" / "course", root, ignore=shutil.ignore_patterns("release", ".nbgrader",
                                                                                  "__pycache__"))
    course = Course(root)
    release(course, "tiny")
    return course


def harvest_solution(course, homework: str, artifacts: Path) -> list[str]:
    """Run the source notebook's code cells in one namespace, in a copy of the release folder, harvesting after
    each question as the grader does; the questions harvested."""
    from assignkit.harvest import harvest_source, load_questions

    questions = {q.after: q for q in load_questions(course.autograder_folder(homework))}
    notebook = nbformat.read(course.source_notebook(homework), as_version=4)
    workdir = artifacts.parent / "workdir"
    shutil.copytree(course.release_folder(homework), workdir)
    os.environ["ASSIGNKIT_GRADING"] = "1"
    here = Path.cwd()
    os.chdir(workdir)
    namespace: dict = {"__name__": "__main__"}
    harvested = []
    try:
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                exec(cell.source, namespace)
            question = questions.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
            if question is not None:
                exec(harvest_source(question, str(artifacts / question.id)), namespace)
                harvested.append(question.id)
    finally:
        os.chdir(here)
    return harvested


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(repeat: int, action) -> float:
    return statistics.median(seconds(action) for _ in range(repeat))


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import assignkit.grade; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    global ROOT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--homework", choices=HOMEWORKS, default="hw1_loss_comparison")
    parser.add_argument("--repeat", type=int, default=5, help="warm calls timed per row; the median is printed")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose course is graded (default: this one)")
    args = parser.parse_args()
    ROOT = args.root.resolve()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)

    import torch

    torch.set_num_threads(1)  # as a grading worker
    started = time.perf_counter()
    from assignkit import checks as checks_module, report
    from assignkit.checks import run_checks
    from assignkit.grade import Homework, _check_of, _finish
    from assignkit.results import Figure, Status
    from assignkit.submissions import Submission
    imported_here = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="grader-cost-") as tmp:
        scratch = Path(tmp)
        course = course_for(args.homework, scratch)
        artifacts = scratch / "artifacts"
        harvested = harvest_solution(course, args.homework, artifacts)

        started = time.perf_counter()
        homework = Homework.load(course, args.homework, "ko")
        load = time.perf_counter() - started
        folder, release = course.autograder_folder(args.homework), course.release_folder(args.homework)
        cache_folder = scratch / "reference-cache"

        def checks(shared: bool):
            cache = getattr(checks_module, "ReferenceCache", None)
            if cache is None:  # a kit before the reference cache: hw1's re-runs in a module global, per process
                if not shared:
                    for modules in checks_module._IMPORTED.values():
                        for module in modules.values():
                            getattr(module, "_RERUNS", {}).clear()
                return run_checks(folder, release, artifacts, {}, "ko")
            return run_checks(folder, release, artifacts, {}, "ko", cache(cache_folder) if shared else cache())

        started = time.perf_counter()
        results, figures = checks(shared=True)
        first_checks = time.perf_counter() - started
        shared = median_of(args.repeat, lambda: checks(shared=True))
        unshared = median_of(args.repeat, lambda: checks(shared=False))

        trivial = scratch / "trivial"
        trivial.mkdir()
        (trivial / "test_one.py").write_text(textwrap.dedent("""
            import pytest

            @pytest.mark.check("q1", points=1)
            def test_one(sub):
                pass
        """))
        pytest_call = median_of(args.repeat, lambda: run_checks(trivial, release, artifacts, {}, "ko"))

        submission = Submission("student01", "student01.ipynb", b"{}")
        result = _finish(homework, submission, Status.GRADED, "", time.monotonic(), harvested,
                         tuple(_check_of(c) for c in results), tuple(Figure(**f) for f in figures))
        page = scratch / "feedback.html"
        forget = getattr(getattr(report, "_drawn", None), "cache_clear", lambda: None)  # a kit without it: no-op

        def drawn_afresh():
            forget()
            report.write_feedback(result, page, "ko")

        first_feedback = seconds(drawn_afresh)
        feedback = median_of(args.repeat, drawn_afresh)
        feedback_again = median_of(args.repeat, lambda: report.write_feedback(result, page, "ko"))
        bare = replace(result, figures=())
        feedback_bare = median_of(args.repeat, lambda: report.write_feedback(bare, page, "ko"))
        passed = sum(c.passed for c in results)

    print(f"{ROOT} (assignkit from {Path(checks_module.__file__).parent})")
    print(f"homework {args.homework}: the solution's artifacts, {len(results)} checks ({passed} passed), "
          f"{len(figures)} pictures; {os.cpu_count()} cores, torch on 1 thread; medians of {args.repeat}")
    rows = [
        ("fixed per run", None),
        ("  import assignkit.grade (fresh interpreter)", import_seconds()),
        ("  import the grader's modules here", imported_here),
        ("  Homework.load (contract: checks collected)", load),
        ("  first run_checks (imports, reference cache filled)", first_checks),
        ("  first feedback page (matplotlib, font)", first_feedback),
        ("per submission", None),
        ("  run_checks, shared reference cache", shared),
        ("  run_checks, nothing shared", unshared),
        ("  pytest's own cost per run_checks (one trivial check)", pytest_call),
        ("  feedback page, its pictures drawn", feedback),
        ("  feedback page, the same pictures as an earlier student", feedback_again),
        ("  feedback page without pictures", feedback_bare),
    ]
    for name, value in rows:
        print(f"{name:58}" + (f"{value:8.3f} s" if value is not None else ""))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
