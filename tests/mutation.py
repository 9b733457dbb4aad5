"""Plausible wrong answers as edits of a source notebook's answer cells (shared by tests/hw1 and tests/hw2), and the
one batch per homework that grades them with the samples (conftest's graded_class)."""

from __future__ import annotations

import copy
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import nbformat

from assignkit.execute import Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from assignkit.release import release
from assignkit.results import SubmissionResult


class MutantError(ValueError):
    """A mutant that no longer fits the source notebook (its cell or its text is gone or ambiguous)."""


class Mutant(NamedTuple):
    name: str
    grade_id: str  # the answer cell edited
    old: str  # exact text of that cell, found exactly once
    new: str
    breaks: str  # the question id that must lose points
    also: tuple[str, ...] = ()  # later questions that inherit the error
    says: str = ""  # text a failed check of `breaks` must say (the cause it names), in English


def make_mutant(source_nb_path: Path | str, mutant: Mutant) -> nbformat.NotebookNode:
    """The source notebook with `mutant` applied; MutantError when its cell or text is not there exactly once."""
    notebook = copy.deepcopy(nbformat.read(str(source_nb_path), as_version=4))
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == mutant.grade_id]
    if len(cells) != 1:
        raise MutantError(f"{mutant.name}: {len(cells)} cells with grade_id {mutant.grade_id!r} in {source_nb_path}")
    cell = cells[0]
    if not cell.metadata["nbgrader"].get("solution"):
        raise MutantError(f"{mutant.name}: cell {mutant.grade_id!r} is not an answer cell; the grader restores it")
    count = cell.source.count(mutant.old)
    if count != 1:
        raise MutantError(f"{mutant.name}: the text to replace occurs {count} times in cell {mutant.grade_id!r}; "
                          f"expected exactly once:\n{mutant.old}")
    cell.source = cell.source.replace(mutant.old, mutant.new)
    return notebook


def released_copy(root: Path, homework: str, scratch: Path) -> Course:
    """A course at `scratch` holding only `homework`, released anew, so a test never depends on release/."""
    course, real = Course(scratch), Course(root)
    shutil.copytree(real.source_dir / homework, course.source_dir / homework)  # data symlinks copied as files
    shutil.copytree(real.autograder_folder(homework), course.autograder_folder(homework),
                    ignore=shutil.ignore_patterns("__pycache__", "calibrate.py", "MARGINS.md"))
    shutil.copy(real.nbgrader_config, course.nbgrader_config)
    release(course, homework)
    return course


MUTANT_FOLDERS = {"hw1_loss_comparison": "hw1", "hw2_dnn": "hw2"}  # tests/<folder>/mutants.py


class GradedClass(NamedTuple):
    """A homework's sample submissions (examples/) and every mutant, graded in one batch at --jobs 2 with the
    default executor. The mutant tests of tests/hw1 and tests/hw2 and the parity test read the same rows."""
    course: Course  # the homework released anew
    samples: Path  # the samples only
    mutants: Path  # each mutant as <name>.ipynb
    results: dict[str, SubmissionResult]  # by student


def mutants_module(root: Path, homework: str) -> ModuleType:
    """tests/<folder>/mutants.py of `homework` (its MUTANTS and CASCADES)."""
    folder = MUTANT_FOLDERS[homework]
    spec = importlib.util.spec_from_file_location(f"{folder}_mutants", root / "tests" / folder / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mutants_of(root: Path, homework: str) -> list[Mutant]:
    """MUTANTS + CASCADES of tests/<folder>/mutants.py."""
    module = mutants_module(root, homework)
    return module.MUTANTS + module.CASCADES


def grade_class(root: Path, homework: str, mutants: list[Mutant], scratch: Path) -> GradedClass:
    """`homework` released anew under `scratch`, its samples and `mutants` written beside it, all graded at once."""
    course = released_copy(root, homework, scratch / "course")
    samples, mutated = scratch / "samples", scratch / "mutants"
    shutil.copytree(Course(root).examples_folder(homework), samples)
    mutated.mkdir()
    for mutant in mutants:
        nbformat.write(make_mutant(course.source_notebook(homework), mutant), mutated / f"{mutant.name}.ipynb")
    results = grade_batch(course, homework, [samples, mutated], scratch / "out", jobs=2, limits=Limits(), force=True,
                          on_note=lambda note: None)
    return GradedClass(course, samples, mutated, {r.student: r for r in results})


def mutant_problems(mutants: list[Mutant], results: dict[str, SubmissionResult]) -> list[str]:
    """What is wrong with the graded mutants: one that keeps all the points of a question it breaks, loses points in
    any other question, or has no failed check that names its cause."""
    return [problem for mutant in mutants for problem in _problems(mutant, results[mutant.name])]


def _problems(mutant: Mutant, result: SubmissionResult) -> list[str]:
    if result.status != "graded":
        return [f"{mutant.name}: status {result.status} ({result.reason})"]
    problems = []
    broken = {mutant.breaks, *mutant.also}
    for question in result.questions:
        full = question.score == question.max_score
        if question.id in broken and full:
            problems.append(f"{mutant.name}: keeps all {question.max_score} points of {question.id}")
        messages = [c.message for c in result.checks if c.question == question.id and not c.passed]
        if question.id == mutant.breaks and mutant.says and not any(mutant.says in m for m in messages):
            problems.append(f"{mutant.name}: no failed check of {question.id} says {mutant.says!r}: {messages}")
        if question.id not in broken and not full:
            lost = [f"{c.name}: {c.message}" for c in result.checks
                    if c.question == question.id and not c.passed]
            problems.append(f"{mutant.name}: also loses points in {question.id}: {lost}")
    return problems
