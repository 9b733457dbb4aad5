"""Writes examples/submissions/<hw>/: sample student notebooks named by the outcome `make demo` shows.

    full_marks.ipynb   the source notebook's answers
    partial.ipynb      the answers of the first half of the questions only; the rest left blank
    blank.ipynb        the release notebook as students get it
    crashed.ipynb      the answers, but the kernel dies (os._exit) after the first half
    broken.ipynb       a file cut off in the middle: not a notebook

Run from the repository root: `.venv/bin/python examples/make_submissions.py [HW...]` (after `assignkit release`).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assignkit.layout import Course  # noqa: E402


def answer_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")]


def with_blank_answers(source: nbformat.NotebookNode, release: nbformat.NotebookNode, blank: set[str]):
    nb = copy.deepcopy(source)
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells if c.metadata.get("nbgrader")}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in blank:
            cell.source = stubs[cell.metadata["nbgrader"]["grade_id"]]
    return nb


def with_crash_after(source: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(source)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source += "\n\nimport os\nos._exit(1)  # the kernel dies here\n"
    return nb


def samples(course: Course, homework: str) -> dict[str, str]:
    source = nbformat.read(course.source_notebook(homework), as_version=4)
    release = nbformat.read(course.release_notebook(homework), as_version=4)
    answers = answer_ids(source)
    second_half = set(answers[len(answers) // 2:])
    full = nbformat.writes(source)
    return {
        "full_marks.ipynb": full,
        "partial.ipynb": nbformat.writes(with_blank_answers(source, release, second_half)),
        "blank.ipynb": nbformat.writes(release),
        "crashed.ipynb": nbformat.writes(with_crash_after(source, answers[len(answers) // 2 - 1])),
        "broken.ipynb": full[: len(full) // 2],
    }


def main(homeworks: list[str]) -> None:
    course = Course(ROOT)
    for homework in course.require(homeworks):
        folder = course.examples_folder(homework)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in samples(course, homework).items():
            (folder / name).write_text(text)
            print(f"wrote {(folder / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
