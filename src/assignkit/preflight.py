"""Raw bytes of a submission → the notebook the grader will run.

Refuses, with a reason the TA and the student read, what cannot be graded: an empty file, not JSON, not a
notebook, another homework's notebook. Then restores the release's locked and test cells by nbgrader
`grade_id`, as nbgrader's OverwriteCells does at autograde time but without a gradebook: the result follows the
release notebook's cell order, takes the student's source only for answer cells, and keeps the student's own
extra cells where the student put them. A notebook with none of the release's grade_ids (its editor dropped
the metadata, or the student pasted the cells into a fresh notebook) has its cells matched to the release by
their text (cellmatch) and is then restored the same way.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

from assignkit.cellmatch import grade_id as _grade_id
from assignkit.cellmatch import is_answer as _is_answer
from assignkit.cellmatch import match_by_content, nbgrader_flags as _nbgrader
from assignkit.harvest import Question
from assignkit.i18n import N_, Message
from assignkit.submissions import Submission

_NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
_SHOWN_ANSWER_IDS = 3
# Share of the release's locked and test cells a notebook without metadata must contain to be this homework:
# the samples contain all of them, another homework's notebook none (docs/preflight.md).
MIN_FIXED_FOUND = 0.5
MATCHED_BY_CONTENT_NOTE = N_("The notebook had no nbgrader metadata: it was matched to the release by content.")


class NotGradable(Exception):
    """The submission cannot be graded. Made from a message id (English, marked for extraction) and its
    parameters: str(error) is the English reason, `text(lang)` the reason shown to the TA and the student."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def text(self, lang: str) -> str:
        return Message(self.message, self.params).text(lang)


@dataclass(frozen=True)
class Prepared:
    notebook: NotebookNode  # what the grader runs
    matched_by_content: bool  # the student's notebook had no nbgrader metadata; its cells were matched by text


def prepare_submission(submission: Submission, release_nb: NotebookNode, homework: str) -> Prepared:
    """prepare() on a collected submission; a file that could not be read is NotGradable with its problem."""
    if submission.problem:
        raise NotGradable("{problem}", problem=submission.problem)
    return prepare(submission.content, release_nb, homework)


def prepare(content: bytes, release_nb: NotebookNode, homework: str) -> Prepared:
    """The notebook to execute: the student's answers in the release notebook, outputs cleared.

    Raises NotGradable when `content` is empty, not a notebook, or a notebook of another homework than
    `homework` (whose release notebook is `release_nb`). Neither input is changed.
    """
    student_nb = _parse(content)
    if _has_release_ids(student_nb, release_nb):
        return Prepared(_restore(student_nb, release_nb), matched_by_content=False)
    labelled = _labelled_by_content(student_nb, release_nb, homework)
    return Prepared(_restore(labelled, release_nb), matched_by_content=True)


def _parse(content: bytes) -> NotebookNode:
    if not content.strip():
        raise NotGradable(N_("the file is empty"))
    text = _decode(content)
    if not text.strip():
        raise NotGradable(N_("the file is empty"))
    data = _load_json(text)
    _require_notebook_shape(data)
    cells = [_readable_cell(number, cell) for number, cell in enumerate(data["cells"], start=1)]
    return nbformat.from_dict({"cells": cells})


def _readable_cell(number: int, cell: object) -> dict:
    """What grading uses of a student's cell: type, source, metadata.

    Outputs, attachments and malformed metadata are dropped rather than validated: students' editors (Colab,
    VS Code) write odd ones, and the grader clears outputs anyway.
    """
    source = cell.get("source") if isinstance(cell, dict) else None
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not (isinstance(source, str) and isinstance(cell.get("cell_type"), str)):
        raise NotGradable(N_("not a notebook: cell {number} has no readable type and source"), number=number)
    metadata = cell.get("metadata")
    return {"cell_type": cell["cell_type"], "source": source,
            "metadata": metadata if isinstance(metadata, dict) else {}}


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        _load_json(content.decode("utf-8-sig", errors="replace"))  # a JSON error before the bad byte comes first
        line = content.count(b"\n", 0, error.start) + 1
        column = error.start - content.rfind(b"\n", 0, error.start)
        raise NotGradable(_INVALID_JSON_AT, line=line, column=column) from None


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotGradable(_INVALID_JSON_AT, line=error.lineno, column=error.colno) from None
    except RecursionError:
        raise NotGradable(N_("not a notebook: the file is JSON nested too deeply to read")) from None
    except ValueError as error:  # e.g. an integer longer than Python converts
        raise NotGradable(N_("not a notebook: the file is not valid JSON ({error})"), error=error) from None


def _require_notebook_shape(data: object) -> None:
    if not isinstance(data, dict):
        raise NotGradable(_json_kind(data))
    major = data.get("nbformat")
    if type(major) is int and major < 4:
        raise NotGradable(N_("not a notebook: it is in the old nbformat {major}; open it in Jupyter and save it "
                             "again"), major=major)
    if not isinstance(data.get("cells"), list):
        raise NotGradable(N_("not a notebook: the JSON has no list of cells"))
    if type(major) is not int:
        raise NotGradable(N_("not a notebook: the JSON has no nbformat version"))
    if major > 4:
        raise NotGradable(N_("not a notebook: nbformat {major} is not supported"), major=major)


def unanswered_questions(notebook: NotebookNode, release_nb: NotebookNode, questions: list[Question]) -> frozenset[str]:
    """The questions of a prepared notebook left unanswered: each of its answer cells (those between the previous
    question's `after` cell and its own) is as released, empty, or only comments and `raise NotImplementedError`,
    and no cell the student added there holds code. Whatever earlier questions defined under the same names is
    then not taken as this question's answer."""
    release_answers = {grade_id: cell.source for cell in release_nb.cells
                       if _is_answer(cell) and (grade_id := _grade_id(cell))}
    ends: dict[str, list[str]] = defaultdict(list)
    for question in questions:
        ends[question.after].append(question.id)
    unanswered, blanks = set(), []  # for each answer cell, and each code cell the student added, since the last end
    for cell in notebook.cells:
        grade_id = _grade_id(cell)
        if grade_id in release_answers:
            blanks.append(_blank(cell.source) or cell.source.strip() == release_answers[grade_id].strip())
        elif grade_id is None and cell.cell_type == "code" and not _blank(cell.source):
            blanks.append(False)  # the student's own cell: an answer written below the answer cell counts
        if grade_id in ends:
            if blanks and all(blanks):
                unanswered.update(ends[grade_id])
            blanks = []
    return frozenset(unanswered)


_PLACEHOLDER = re.compile(r"raise\s+NotImplementedError(\(\s*\))?\s*;?")


def _blank(source: str) -> bool:
    """Only blank lines, comments and `raise NotImplementedError()`: the release's placeholder, or nothing."""
    lines = (line.strip() for line in source.splitlines())
    return all(not line or line.startswith("#") or _PLACEHOLDER.fullmatch(line) for line in lines)


_INVALID_JSON_AT = N_("not a notebook: the file is not valid JSON (line {line}, column {column})")


def _json_kind(data: object) -> str:
    """The message id naming what JSON that is not an object holds."""
    kinds = {list: N_("not a notebook: the file is JSON but holds a list, not a notebook"),
             str: N_("not a notebook: the file is JSON but holds a string, not a notebook"),
             bool: N_("not a notebook: the file is JSON but holds true or false, not a notebook"),
             type(None): N_("not a notebook: the file is JSON but holds null, not a notebook")}
    return kinds.get(type(data), N_("not a notebook: the file is JSON but holds a number, not a notebook"))


def _has_release_ids(student_nb: NotebookNode, release_nb: NotebookNode) -> bool:
    graded_ids = {grade_id for cell in release_nb.cells if _is_graded(cell) and (grade_id := _grade_id(cell))}
    return not graded_ids or any(_grade_id(cell) in graded_ids for cell in student_nb.cells)


def _labelled_by_content(student_nb: NotebookNode, release_nb: NotebookNode, homework: str) -> NotebookNode:
    """The student's notebook with the grade_id of the release cell each cell was matched to as its only
    nbgrader metadata (cellmatch); NotGradable when too few of the release's locked and test cells are in it."""
    match = match_by_content(student_nb.cells, release_nb.cells)
    if match.fixed_found < MIN_FIXED_FOUND * match.fixed_total:
        answer_ids = [grade_id for cell in release_nb.cells if _is_answer(cell) and (grade_id := _grade_id(cell))]
        shown = answer_ids[:_SHOWN_ANSWER_IDS]
        more = ", …" if len(answer_ids) > len(shown) else ""
        raise NotGradable(N_("this is not {homework} — none of its answer cells ({answer_ids}) were found, and "
                             "only {found} of its {total} locked and test cells by their text"),
                          homework=homework, answer_ids=", ".join(shown) + more, found=match.fixed_found,
                          total=match.fixed_total)
    cells = []
    for index, cell in enumerate(student_nb.cells):
        grade_id = match.grade_ids.get(index)
        metadata = {"nbgrader": {"grade_id": grade_id}} if grade_id else {}
        cells.append(nbformat.from_dict({"cell_type": cell.cell_type, "source": cell.source, "metadata": metadata}))
    return nbformat.from_dict({"cells": cells})


def _restore(student_nb: NotebookNode, release_nb: NotebookNode) -> NotebookNode:
    release_ids = {grade_id for cell in release_nb.cells if (grade_id := _grade_id(cell))}
    matched: dict[str, NotebookNode] = {}
    # The student's extra cells, by the grade_id of the release cell before them in the student's notebook.
    scratch_after: dict[str | None, list[NotebookNode]] = defaultdict(list)
    anchor: str | None = None
    for cell in student_nb.cells:
        grade_id = _grade_id(cell)
        if grade_id in release_ids and grade_id not in matched:
            matched[grade_id] = cell
            anchor = grade_id
        else:
            scratch_after[anchor].append(_scratch_cell(cell))

    cells = scratch_after.pop(None, [])
    for release_cell in release_nb.cells:
        grade_id = _grade_id(release_cell)
        cells.append(_restored_cell(release_cell, matched.get(grade_id) if grade_id else None))
        if grade_id:
            cells.extend(scratch_after.pop(grade_id, []))

    # Built directly: nbformat's new_notebook validates, and validating gives id-less cells random ids.
    notebook = nbformat.from_dict({"nbformat": 4, "nbformat_minor": release_nb.nbformat_minor,
                                   "metadata": copy.deepcopy(release_nb.metadata), "cells": cells})
    _set_scratch_ids(notebook)
    return notebook


def _restored_cell(release_cell: NotebookNode, student_cell: NotebookNode | None) -> NotebookNode:
    """The release cell; for an answer cell the student submitted, with the student's source."""
    cell = copy.deepcopy(release_cell)
    if student_cell is not None and _is_answer(release_cell):
        cell.source = student_cell.source
    return _cleared(cell)


def _scratch_cell(student_cell: NotebookNode) -> NotebookNode:
    """A cell the student added: its source only. Metadata (nbgrader ids, tags that steer execution) is dropped."""
    new_cell = _NEW_CELL.get(student_cell.cell_type, new_raw_cell)
    cell = new_cell(source=student_cell.source)
    cell.pop("id", None)  # set by _set_scratch_ids, deterministically
    return cell


def _set_scratch_ids(notebook: NotebookNode) -> None:
    """Cell ids exist from nbformat 4.5 on: give the student's extra cells ids unused by the release cells."""
    if notebook.nbformat_minor < 5:
        return
    used = {cell["id"] for cell in notebook.cells if "id" in cell}
    number = 0
    for cell in notebook.cells:
        if "id" not in cell:
            number += 1
            while f"scratch-{number}" in used:
                number += 1
            cell["id"] = f"scratch-{number}"


def _cleared(cell: NotebookNode) -> NotebookNode:
    """The cell without what an earlier run left: outputs, execution count, and the cell's timing (a run with
    JupyterLab's "record timing" on, or the instructor's, leaves `metadata.execution`); a cell that does not run
    when graded shows none of them in executed/."""
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    return cell


def _is_graded(cell: NotebookNode) -> bool:
    flags = _nbgrader(cell)
    return bool(flags.get("solution") or flags.get("grade"))
