"""Which release cell each cell of a notebook is, read from the cells' text when nbgrader metadata was lost.

Editors and students lose the `metadata.nbgrader` preflight restores by (Colab drops it; a student pastes the
cells into a fresh notebook). The release's locked and test cells still carry their text, in their order:

1. Locked and test cells are aligned with the student's cells by difflib's SequenceMatcher, on the text with
   all whitespace runs made one space and per cell type; cells the student added break no alignment.
2. Release cells left unpaired between two aligned ones are paired with a student cell of the same type whose
   text is similar (ratio ≥ SIMILAR), most similar first, as difflib's Differ pairs changed lines: a locked
   cell the student edited is still recognised, and restored.
3. An answer cell has no text to find (the release's answers are all the same `raise NotImplementedError()`):
   it is found by position. Between two aligned cells, the i-th code cell of the student is the i-th answer
   cell of the release there; further code cells follow the last answer as the student's own cells (an answer
   split into several cells), and answer cells left without one keep the release's blank. Everything runs in
   the student's order, as it would with metadata; the labelling only decides which cell is the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from nbformat import NotebookNode

SIMILAR = 0.8  # measured: see docs/preflight.md
MAX_PAIRS_COMPARED = 4000  # past this many (student cell, release cell) pairs in one gap, edited cells are not sought


@dataclass(frozen=True)
class ContentMatch:
    """The release grade_id of each matched student cell (by the cell's index), and how much was found."""

    grade_ids: dict[int, str]
    fixed_found: int  # locked and test cells of the release found in the student's notebook
    fixed_total: int


def match_by_content(student_cells: list[NotebookNode], release_cells: list[NotebookNode]) -> ContentMatch:
    fixed = [index for index, cell in enumerate(release_cells) if grade_id(cell) and not is_answer(cell)]
    student_keys = [_key(cell) for cell in student_cells]
    fixed_keys = [_key(release_cells[index]) for index in fixed]
    pairs = _aligned(student_keys, fixed_keys)
    anchors = [(s, fixed[f]) for s, f in pairs]  # (student index, release index)
    grade_ids = {s: grade_id(release_cells[r]) for s, r in anchors}
    copies = set(fixed_keys)  # a student's copy of a locked or test cell is never an answer
    grade_ids.update(_answers(student_cells, release_cells, anchors, lambda s: student_keys[s] not in copies))
    return ContentMatch(grade_ids, len(pairs), len(fixed))


def _key(cell: NotebookNode) -> tuple[str, str]:
    return cell.cell_type, " ".join(cell.source.split())


def _aligned(student: list[tuple[str, str]], release: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """(student index, release index) pairs, in order in both: equal texts, then similar ones in between."""
    pairs: list[tuple[int, int]] = []
    matcher = SequenceMatcher(None, student, release, autojunk=False)
    for tag, s1, s2, r1, r2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(range(s1, s2), range(r1, r2)))
        elif tag == "replace":
            pairs.extend(_similar(student, s1, s2, release, r1, r2))
    return pairs


def _similar(student: list[tuple[str, str]], s1: int, s2: int,
             release: list[tuple[str, str]], r1: int, r2: int) -> list[tuple[int, int]]:
    """The most similar pair of the two ranges (same cell type, ratio ≥ SIMILAR), then the same on each side."""
    if (s2 - s1) * (r2 - r1) > MAX_PAIRS_COMPARED:
        return []
    best, best_ratio = None, SIMILAR
    for r in range(r1, r2):
        for s in range(s1, s2):
            if student[s][0] != release[r][0]:
                continue
            matcher = SequenceMatcher(None, student[s][1], release[r][1], autojunk=False)
            if (matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio
                    and (ratio := matcher.ratio()) >= best_ratio and (best is None or ratio > best_ratio)):
                best, best_ratio = (s, r), ratio
    if best is None:
        return []
    s, r = best
    return _similar(student, s1, s, release, r1, r) + [best] + _similar(student, s + 1, s2, release, r + 1, r2)


def _answers(student_cells: list[NotebookNode], release_cells: list[NotebookNode], anchors: list[tuple[int, int]],
             may_answer: Callable[[int], bool]) -> dict[int, str]:
    """Answer grade_ids for the student's code cells between consecutive anchors (rule 3 above)."""
    bounds = [(-1, -1), *anchors, (len(student_cells), len(release_cells))]
    grade_ids: dict[int, str] = {}
    for (s_before, r_before), (s_after, r_after) in zip(bounds, bounds[1:]):
        slots = [grade_id(cell) for cell in release_cells[r_before + 1:r_after] if is_answer(cell)]
        code = [s for s in range(s_before + 1, s_after) if student_cells[s].cell_type == "code" and may_answer(s)]
        grade_ids.update(zip(code, slots))
    return grade_ids


def nbgrader_flags(cell: NotebookNode) -> dict:
    metadata = cell.get("metadata")
    flags = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return flags if isinstance(flags, dict) else {}


def grade_id(cell: NotebookNode) -> str | None:
    value = nbgrader_flags(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def is_answer(cell: NotebookNode) -> bool:
    return bool(nbgrader_flags(cell).get("solution"))
