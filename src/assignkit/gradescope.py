"""A Gradescope autograder for one homework: the zip Gradescope takes, and the results.json its run writes.

The zip holds `setup.sh` (installs Python, torch==2.13.0 from the PyTorch CPU index, then the kit), the
executable `run_autograder`, the kit's source (`kit/`) and what grading the homework reads (`course/`: release/<hw>,
autograder/<hw>, nbgrader_config.py, and source/<hw>/<hw>.ipynb as the *release* notebook: the solutions never
leave the course). Gradescope unpacks it into /autograder/source; `run_autograder` grades
/autograder/submission with `assignkit grade` and writes /autograder/results/results.json (Gradescope's
documented fields: score, execution_time, output + output_format, tests with name, score, max_score, status,
output, visibility). Everything runs under `$AUTOGRADER_ROOT` (default /autograder), so it also runs locally.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assignkit.export import StudentGrade, grader_failed, grades_from_results
from assignkit.fileio import atomic_write_bytes, atomic_write_text
from assignkit.layout import Course

TORCH = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so the same course makes the same zip
_KIT_FILES = ("pyproject.toml", "README.md")

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (choose an Ubuntu 24.04 base image:
# the kit needs Python >= 3.11). It installs the kit and its pinned dependencies into $ROOT/venv.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "assignkit needs Python >= 3.11: choose the Ubuntu 24.04 base image")'
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --quiet --upgrade pip
"$ROOT/venv/bin/pip" install --quiet --index-url {TORCH_INDEX} {TORCH}
"$ROOT/venv/bin/pip" install --quiet "$SOURCE/kit"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade $ROOT/submission, write $ROOT/results/results.json.
# AUTOGRADER_ROOT (default /autograder) and ASSIGNKIT (default the venv setup.sh made) let it run elsewhere.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
ASSIGNKIT="${{ASSIGNKIT:-$ROOT/venv/bin/assignkit}}"
exec "$ASSIGNKIT" gradescope-run {homework} --root "$ROOT" --course "$ROOT/source/course" \\
  --memory {memory_mb} --timeout {cell_seconds:g} --notebook-timeout {notebook_seconds:g}
"""


class GradescopeError(ValueError):
    pass


@dataclass(frozen=True)
class AutograderLimits:
    """What run_autograder passes to `assignkit grade`. Gradescope's default container: 768 MB, 0.5 CPU, 10 min.
    memory_mb is the kernel's address-space limit (RLIMIT_AS), not resident memory: a kernel that imported torch
    maps about 1 GB it never touches, so the limit must be above that while the container limit counts what is
    resident."""

    memory_mb: int = 2048
    cell_seconds: float = 120.0
    notebook_seconds: float = 480.0  # leaves Gradescope's 10 minutes room for starting Python, torch and the checks


def build_autograder(course: Course, homework: str, kit_root: Path, out: Path,
                     limits: AutograderLimits = AutograderLimits()) -> list[str]:
    """Write the autograder zip for `homework` to `out` (atomically); returns the names it holds."""
    files = _kit_files(kit_root) | _course_files(course, homework)
    files["setup.sh"] = SETUP_SH.encode()
    files["run_autograder"] = RUN_AUTOGRADER.format(homework=homework, memory_mb=limits.memory_mb,
                                                    cell_seconds=limits.cell_seconds,
                                                    notebook_seconds=limits.notebook_seconds).encode()
    atomic_write_bytes(out, _zip(files))
    return sorted(files)


def _kit_files(kit_root: Path) -> dict[str, bytes]:
    package = kit_root / "src" / "assignkit"
    if not (kit_root / "pyproject.toml").is_file() or not package.is_dir():
        raise GradescopeError(f"{kit_root}: not a source checkout of assignkit (pyproject.toml, src/assignkit/); "
                              "build the autograder from one")
    files = {f"kit/{name}": (kit_root / name).read_bytes() for name in _KIT_FILES if (kit_root / name).is_file()}
    files |= {f"kit/src/assignkit/{p.relative_to(package).as_posix()}": p.read_bytes()
              for p in sorted(package.rglob("*.py"))}
    return files


def _course_files(course: Course, homework: str) -> dict[str, bytes]:
    release_notebook = course.release_notebook(homework)
    if not release_notebook.is_file():
        raise GradescopeError(f"{release_notebook}: missing; run `assignkit release {homework}` first")
    files = {f"course/source/{homework}/{homework}.ipynb": release_notebook.read_bytes()}
    if course.nbgrader_config.is_file():
        files["course/nbgrader_config.py"] = course.nbgrader_config.read_bytes()
    for folder in (course.release_folder(homework), course.autograder_folder(homework)):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                files[f"course/{path.relative_to(course.root).as_posix()}"] = path.read_bytes()
    return files


def _zip(files: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


# --- one run on Gradescope -----------------------------------------------------------------------------------------

def pick_notebook(submission: Path, homework: str) -> Path | None:
    """The notebook to grade among what the student uploaded: `<homework>.ipynb` if there, else the newest .ipynb."""
    notebooks = [p for p in submission.rglob("*") if p.is_file() and p.suffix.lower() == ".ipynb"
                 and not any(part.startswith(".") for part in p.relative_to(submission).parts)]
    named = [p for p in notebooks if p.name == f"{homework}.ipynb"]
    candidates = named or notebooks
    return max(candidates, key=lambda p: (p.stat().st_mtime, str(p))) if candidates else None


def run(root: Path, homework: str, grade: Callable[[Path, Path], None]) -> dict:
    """Grade the notebook in `root`/submission with `grade(notebook, out_dir)` (assignkit grade) and write
    `root`/results/results.json. Returns what it wrote. A grader failure raises: Gradescope then shows the run as
    failed to the instructor instead of a score the student did not earn."""
    started = time.monotonic()
    notebook = pick_notebook(root / "submission", homework)
    if notebook is None:
        results = no_notebook_results(homework, time.monotonic() - started)
    else:
        work = root / "work"
        shutil.rmtree(work, ignore_errors=True)
        (work / "in").mkdir(parents=True)
        shutil.copyfile(notebook, work / "in" / "submission.ipynb")
        grade(work / "in" / "submission.ipynb", work / "out")
        [student] = grades_from_results(work / "out")
        if grader_failed(student):
            raise GradescopeError(f"not scored: {student.status}: {student.comment}")
        feedback = (work / "out" / "feedback" / f"{student.student}.html").read_text(encoding="utf-8")
        results = results_json(student, feedback, time.monotonic() - started)
    atomic_write_text(root / "results" / "results.json", json.dumps(results, ensure_ascii=False, indent=1))
    return results


def results_json(grade: StudentGrade, feedback_html: str, seconds: float) -> dict:
    """Gradescope's results.json: one test per check (its message as output, never its source)."""
    tests = [{"name": f"{check.question}: {check.name}", "score": check.score, "max_score": check.max_score,
              "status": "passed" if check.passed else "failed", "output": check.message if not check.passed else "",
              "output_format": "text", "visibility": "visible"} for check in grade.checks]
    covered = {check.question for check in grade.checks}
    for question, (score, max_score) in grade.question_scores.items():  # a question with no check that ran
        if question not in covered and max_score > 0:
            tests.append({"name": question, "score": score, "max_score": max_score,
                          "status": "passed" if score >= max_score else "failed", "output": grade.comment,
                          "output_format": "text", "visibility": "visible"})
    return {"score": grade.score, "execution_time": round(seconds), "output": feedback_html, "output_format": "html",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def no_notebook_results(homework: str, seconds: float) -> dict:
    return {"score": 0.0, "execution_time": round(seconds), "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": [],
            "output": f"제출물에 노트북(.ipynb)이 없습니다. {homework}.ipynb를 제출하세요. "
                      f"(No notebook (.ipynb) in the submission: submit {homework}.ipynb.)"}
