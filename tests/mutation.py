"""Plausible wrong answers as edits of a source notebook's answer cells (shared by tests/hw1 and tests/hw2)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple

import nbformat


class MutantError(ValueError):
    """A mutant that no longer fits the source notebook (its cell or its text is gone or ambiguous)."""


class Mutant(NamedTuple):
    name: str
    grade_id: str  # the answer cell edited
    old: str  # exact text of that cell, found exactly once
    new: str
    breaks: str  # the question id that must lose points
    also: tuple[str, ...] = ()  # later questions that inherit the error


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
