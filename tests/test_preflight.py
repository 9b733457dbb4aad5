import copy
import functools
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import editors
from assignkit.i18n import Message
from assignkit.layout import Course
from assignkit.preflight import MATCHED_BY_CONTENT_NOTE, NotGradable, prepare, prepare_submission
from assignkit.submissions import Submission

ROOT = Path(__file__).resolve().parents[1]

BLANK = "# YOUR CODE HERE\nraise NotImplementedError()"


def flags(grade_id, *, solution=False, grade=False, locked=False, points=None):
    nbgrader = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


def locked_text(grade_id, source):
    return new_markdown_cell(source, metadata=flags(grade_id, locked=True), id=grade_id)


def locked_code(grade_id, source):
    return new_code_cell(source, metadata=flags(grade_id, locked=True), id=grade_id)


def answer(grade_id, source=BLANK):
    return new_code_cell(source, metadata=flags(grade_id, solution=True), id=grade_id)


def form_test(grade_id, source):
    return new_code_cell(source, metadata=flags(grade_id, grade=True, locked=True, points=0), id=grade_id)


def release():
    return new_notebook(
        cells=[
            locked_text("intro", "# Homework 1"),
            locked_code("setup", "import torch"),
            answer("q1_answer"),
            form_test("q1_form", "assert t.shape == (3,)"),
            locked_text("q2_text", "## Q2"),
            answer("q2_answer"),
            form_test("q2_form", "assert callable(f)"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def student(**answers):
    """The release as a student saves it, with the given answer sources filled in."""
    notebook = release()
    for cell in notebook.cells:
        grade_id = cell.metadata.nbgrader.grade_id
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def as_bytes(notebook):
    return json.dumps(notebook, ensure_ascii=False, indent=1).encode("utf-8")


def ids(notebook):
    return [cell.metadata.get("nbgrader", {}).get("grade_id", cell.source) for cell in notebook.cells]


def cell_by_id(notebook, grade_id):
    [cell] = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def reason(content, homework="hw1"):
    with pytest.raises(NotGradable) as caught:
        prepare(content, release(), homework)
    return str(caught.value)


RELEASE_IDS = ["intro", "setup", "q1_answer", "q1_form", "q2_text", "q2_answer", "q2_form"]


# --- refused -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf\n"])
def test_empty_file(content):
    assert reason(content) == "the file is empty"


def test_binary_garbage_is_not_json():
    assert reason(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe\x00") == (
        "not a notebook: the file is not valid JSON (line 1, column 1)")


def test_broken_json_gives_line_and_column():
    content = as_bytes(student())[:-40]
    message = reason(content)
    assert message.startswith("not a notebook: the file is not valid JSON (line ")
    last_line = content.count(b"\n") + 1
    assert f"(line {last_line}, column" in message


def test_non_utf8_bytes_give_their_position():
    assert reason(b'{\n  "cells": "\xb1\xe8"}') == "not a notebook: the file is not valid JSON (line 2, column 13)"


def test_json_list_is_not_a_notebook():
    assert reason(b"[1, 2, 3]") == "not a notebook: the file is JSON but holds a list, not a notebook"


def test_json_without_cells_is_not_a_notebook():
    content = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode()
    assert reason(content) == "not a notebook: the JSON has no list of cells"


def test_old_nbformat_is_refused():
    content = json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode()
    assert reason(content) == "not a notebook: it is in the old nbformat 3; open it in Jupyter and save it again"


@pytest.mark.parametrize("broken", [{"source": 42}, {"source": ["a", 1]}, {"cell_type": None}, "cell"])
def test_unreadable_cell_is_refused(broken):
    data = json.loads(as_bytes(student()))
    if isinstance(broken, dict):
        data["cells"][2].update(broken)
    else:
        data["cells"][2] = broken
    assert reason(json.dumps(data).encode()) == "not a notebook: cell 3 has no readable type and source"


def test_deeply_nested_json_is_refused_not_crashed():
    assert reason(b"[" * 100_000 + b"]" * 100_000).startswith("not a notebook:")


def test_another_homeworks_notebook():
    other = new_notebook(cells=[answer("p1_answer", "x = 1"), form_test("p1_form", "assert x")])
    assert reason(as_bytes(other), "hw1") == (
        "this is not hw1 — none of its answer cells (q1_answer, q2_answer) were found, "
        "and only 0 of its 5 locked and test cells by their text")


def test_notebook_without_nbgrader_metadata_is_another_homework():
    plain = new_notebook(cells=[new_code_cell("t = torch.zeros(3)")])
    assert reason(as_bytes(plain)).startswith("this is not hw1")


def test_problem_found_while_collecting_is_the_reason():
    too_big = Submission("kim", "a/kim.ipynb", b"", problem=Message("the file is {size} MB; the limit is {limit} MB",
                                                                    {"size": 230, "limit": 100}))
    with pytest.raises(NotGradable, match="^the file is 230 MB; the limit is 100 MB$") as caught:
        prepare_submission(too_big, release(), "hw1")
    assert caught.value.text("ko") == "파일 크기가 230 MB입니다. 제한은 100 MB입니다"


# --- restored ------------------------------------------------------------------------------------------------

def test_unchanged_release_comes_back_as_it_is():
    prepared = prepare(as_bytes(release()), release(), "hw1").notebook
    assert prepared == release()


def test_answer_source_is_the_students():
    prepared = prepare(as_bytes(student(q1_answer="t = torch.zeros(3)")), release(), "hw1").notebook
    assert cell_by_id(prepared, "q1_answer").source == "t = torch.zeros(3)"
    assert cell_by_id(prepared, "q2_answer").source == BLANK


def test_edited_locked_cells_are_restored():
    submitted = student(q1_answer="t = 1", q1_form="assert True", setup="import os", intro="# mine")
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert prepared.cells == release().cells[:2] + [answer("q1_answer", "t = 1")] + release().cells[3:]


def test_answer_metadata_comes_from_the_release():
    submitted = student(q1_answer="t = 1")
    cell = cell_by_id(submitted, "q1_answer")
    cell.metadata.nbgrader.update(solution=False, grade=True, points=99)
    cell.metadata["tags"] = ["raises-exception"]
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    restored = cell_by_id(prepare(as_bytes(submitted), release(), "hw1").notebook, "q1_answer")
    assert restored == answer("q1_answer", "t = 1")


def test_deleted_test_and_answer_cells_come_back():
    submitted = student(q1_answer="t = 1")
    submitted.cells = [cell for cell in submitted.cells if cell.id not in ("q1_form", "q2_answer", "intro")]
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS
    assert cell_by_id(prepared, "q1_form").source == "assert t.shape == (3,)"
    assert cell_by_id(prepared, "q2_answer").source == BLANK


def test_order_follows_the_release():
    submitted = student(q1_answer="t = 1", q2_answer="f = len")
    submitted.cells.reverse()
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS
    assert cell_by_id(prepared, "q2_answer").source == "f = len"


def test_scratch_cells_stay_after_the_cell_they_followed():
    submitted = student(q1_answer="t = 1")
    submitted.cells.insert(0, new_markdown_cell("my notes"))
    submitted.cells.insert(4, new_code_cell("print(t)"))  # after q1_answer
    submitted.cells.insert(5, new_code_cell("t.shape"))
    submitted.cells.append(new_code_cell("print('done')"))  # after q2_form, the last cell
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == ["my notes", "intro", "setup", "q1_answer", "print(t)", "t.shape", "q1_form",
                             "q2_text", "q2_answer", "q2_form", "print('done')"]
    assert [cell.cell_type for cell in prepared.cells][:1] == ["markdown"]


def test_scratch_cell_after_a_reordered_cell_moves_with_it():
    submitted = student()
    q2_form = submitted.cells.pop(6)
    submitted.cells.insert(1, q2_form)
    submitted.cells.insert(2, new_code_cell("scratch"))
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS + ["scratch"]


def test_cell_with_a_foreign_grade_id_is_scratch_without_nbgrader_metadata():
    submitted = student()
    submitted.cells.insert(3, new_code_cell("y = 2", metadata=flags("copied_from_hw2", solution=True)))
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS[:3] + ["y = 2"] + RELEASE_IDS[3:]
    assert prepared.cells[3].metadata == {}


def test_duplicated_answer_cell_first_is_the_answer_others_are_scratch():
    submitted = student(q1_answer="t = 1")
    duplicate = copy.deepcopy(cell_by_id(submitted, "q1_answer"))
    duplicate.source = "t = 2"
    duplicate.id = "dup"
    submitted.cells.insert(3, duplicate)
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS[:3] + ["t = 2"] + RELEASE_IDS[3:]
    assert cell_by_id(prepared, "q1_answer").source == "t = 1"


def test_outputs_and_execution_counts_are_cleared():
    submitted = student(q1_answer="t = 1")
    submitted.cells.append(new_code_cell("print(t)"))
    for number, cell in enumerate(submitted.cells):
        if cell.cell_type == "code":
            cell.outputs = [new_output("stream", name="stdout", text="fake full marks\n")]
            cell.execution_count = number
    release_with_outputs = release()
    release_with_outputs.cells[1].outputs = [new_output("stream", name="stdout", text="leftover\n")]
    prepared = prepare(as_bytes(submitted), release_with_outputs, "hw1").notebook
    code = [cell for cell in prepared.cells if cell.cell_type == "code"]
    assert len(code) == 6
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_timings_of_an_earlier_run_are_cleared():
    ran = {"iopub.execute_input": "2026-11-30T09:00:00.000000Z", "shell.execute_reply": "2026-11-30T09:00:01.000000Z"}
    submitted = student(q1_answer="t = 1")
    submitted.cells.append(new_code_cell("print(t)"))
    for cell in submitted.cells:
        cell.metadata["execution"] = dict(ran)
    release_with_timings = release()
    release_with_timings.cells[1].metadata["execution"] = dict(ran)
    prepared = prepare(as_bytes(submitted), release_with_timings, "hw1").notebook
    code = [cell for cell in prepared.cells if cell.cell_type == "code"]
    assert len(code) == 6
    assert not any("execution" in cell.metadata for cell in code)


def test_result_is_a_valid_notebook_with_the_release_metadata_and_unique_ids():
    submitted = student(q1_answer="t = 1")
    submitted.cells.insert(0, new_code_cell("a", id="intro"))  # an id the release uses
    submitted.cells.append(new_code_cell("b"))
    prepared = prepare(as_bytes(submitted), release(), "hw1").notebook
    nbformat.validate(prepared)
    assert prepared.metadata == release().metadata
    assert len({cell.id for cell in prepared.cells}) == len(prepared.cells)
    assert prepare(as_bytes(submitted), release(), "hw1").notebook == prepared  # deterministic, ids included


def test_inputs_are_not_changed():
    the_release = release()
    content = as_bytes(student(q1_answer="t = 1"))
    prepared = prepare(content, the_release, "hw1").notebook
    prepared.cells[0].source = "changed"
    prepared.metadata["kernelspec"]["name"] = "changed"
    assert the_release == release()


def test_odd_editor_metadata_is_tolerated():
    data = json.loads(as_bytes(student(q1_answer="t = 1")))
    data["metadata"]["colab"] = {"provenance": [], "toc_visible": True}
    data["metadata"]["kernelspec"] = "python3"  # should be an object
    data["nbformat_minor"] = 0  # VS Code and old Jupyter write cells without ids
    for cell in data["cells"]:
        del cell["id"]
        cell["metadata"]["executionInfo"] = {"status": "ok", "elapsed": 12}
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "text": "no name field\n"}]
            cell["execution_count"] = "1"
    data["cells"][2]["source"] = ["t = ", "1"]
    data["cells"][3]["outputs"] = [{"output_type": "display_data", "data": ["not", "a", "mimebundle"]}]
    data["cells"][4]["attachments"] = "junk"
    data["cells"].append({"cell_type": "code", "source": "print(t)", "metadata": None})
    prepared = prepare(json.dumps(data).encode(), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS + ["print(t)"]
    assert cell_by_id(prepared, "q1_answer").source == "t = 1"
    nbformat.validate(prepared)


def test_old_notebook_minor_version_gets_no_ids_when_the_release_has_none():
    old_release = release()
    old_release.nbformat_minor = 4
    for cell in old_release.cells:
        del cell["id"]
    submitted = student()
    submitted.cells.append(new_code_cell("extra"))
    prepared = prepare(as_bytes(submitted), old_release, "hw1").notebook
    assert prepared.nbformat_minor == 4
    assert not any("id" in cell for cell in prepared.cells)
    nbformat.validate(prepared)


# --- matched by content: the student's notebook lost its nbgrader metadata ---------------------------------------

def stripped(notebook):
    """The notebook with every cell's metadata and id deleted, as bytes."""
    data = json.loads(as_bytes(notebook))
    for cell in data["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)
    return json.dumps(data).encode()


def test_with_metadata_it_is_not_matched_by_content():
    assert prepare(as_bytes(student(q1_answer="t = 1")), release(), "hw1").matched_by_content is False


def test_stripped_notebook_is_restored_as_the_original():
    submitted = student(q1_answer="t = torch.zeros(3)", q2_answer="f = len")
    prepared = prepare(stripped(submitted), release(), "hw1")
    assert prepared.matched_by_content is True
    assert prepared.notebook == prepare(as_bytes(submitted), release(), "hw1").notebook


def test_stripped_notebook_with_added_cells_keeps_them_where_they_were():
    submitted = student(q1_answer="t = 1", q2_answer="f = len")
    submitted.cells.insert(3, new_code_cell("print(t)"))  # after q1_answer
    submitted.cells.insert(3, new_markdown_cell("my notes"))
    submitted.cells.insert(0, new_code_cell("import numpy"))
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared) == ["import numpy", "intro", "setup", "q1_answer", "my notes", "print(t)", "q1_form",
                             "q2_text", "q2_answer", "q2_form"]
    assert cell_by_id(prepared, "q1_answer").source == "t = 1"
    assert prepared == prepare(as_bytes(submitted), release(), "hw1").notebook


def test_answer_split_into_cells_runs_in_the_students_order():
    submitted = student(q1_answer="t = torch.zeros(3)")
    submitted.cells.insert(3, new_code_cell("t = t + 1"))
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared)[2:5] == ["q1_answer", "t = t + 1", "q1_form"]
    assert cell_by_id(prepared, "q1_answer").source == "t = torch.zeros(3)"


def test_answer_written_below_the_blank_one_runs_after_it_as_with_metadata():
    submitted = student()
    submitted.cells.insert(3, new_code_cell("t = torch.zeros(3)"))
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert prepared == prepare(as_bytes(submitted), release(), "hw1").notebook
    assert ids(prepared)[2:5] == ["q1_answer", "t = torch.zeros(3)", "q1_form"]


def test_deleted_answer_cell_gets_the_release_blank():
    submitted = student(q2_answer="f = len")
    del submitted.cells[2]  # q1_answer
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS
    assert cell_by_id(prepared, "q1_answer").source == BLANK
    assert cell_by_id(prepared, "q2_answer").source == "f = len"


def test_edited_locked_and_test_cells_are_recognised_and_restored():
    submitted = student(q1_answer="t = 1")
    cell_by_id(submitted, "q1_form").source = "assert t.shape == (3,) or True"
    cell_by_id(submitted, "setup").source = "import  torch\n\n"
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS
    assert cell_by_id(prepared, "q1_form").source == "assert t.shape == (3,)"
    assert cell_by_id(prepared, "q1_answer").source == "t = 1"


def test_a_copy_of_a_locked_cell_is_not_the_answer():
    submitted = student(q1_answer="t = 1")
    submitted.cells.insert(2, new_code_cell("import torch"))  # the setup cell again, above the answer
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared)[:5] == ["intro", "setup", "import torch", "q1_answer", "q1_form"]
    assert cell_by_id(prepared, "q1_answer").source == "t = 1"


def test_moved_locked_cell_is_restored_in_place_and_the_moved_copy_kept_as_the_students():
    submitted = student(q1_answer="t = 1", q2_answer="f = len")
    submitted.cells.append(submitted.cells.pop(4))  # q2_text to the end
    prepared = prepare(stripped(submitted), release(), "hw1").notebook
    assert ids(prepared) == RELEASE_IDS + ["## Q2"]
    assert [cell_by_id(prepared, i).source for i in ("q1_answer", "q2_answer")] == ["t = 1", "f = len"]


def test_only_the_answers_pasted_is_not_gradable():
    answers_only = new_notebook(cells=[new_code_cell("t = torch.zeros(3)"), new_code_cell("f = len")])
    assert reason(as_bytes(answers_only)) == (
        "this is not hw1 — none of its answer cells (q1_answer, q2_answer) were found, "
        "and only 0 of its 5 locked and test cells by their text")


def test_fewer_than_half_of_the_locked_and_test_cells_is_not_gradable():
    submitted = student(q1_answer="t = 1")
    submitted.cells = [cell for cell in submitted.cells if cell.id in ("q1_answer", "setup", "q1_form")]
    assert "only 2 of its 5 locked and test cells" in reason(stripped(submitted))
    submitted.cells.insert(0, locked_text("intro", "# Homework 1"))
    assert prepare(stripped(submitted), release(), "hw1").matched_by_content


# --- the samples, saved the ways editors save them ---------------------------------------------------------------

def _is_json(path):
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return False
    return True


# broken.ipynb is cut off in the middle: no editor could open it.
SAMPLES = [path for path in sorted((ROOT / "examples" / "submissions").glob("*/*.ipynb")) if _is_json(path)]


@functools.cache
def release_notebook(homework):
    return nbformat.read(Course(ROOT).release_notebook(homework), as_version=4)


@pytest.mark.parametrize("editor", sorted(editors.EDITORS))
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_sample_saved_by_another_editor_is_prepared_as_the_original(sample, editor):
    homework = sample.parent.name
    data = json.loads(sample.read_bytes())
    original = prepare(sample.read_bytes(), release_notebook(homework), homework)
    converted = json.dumps(editors.EDITORS[editor](data), ensure_ascii=False).encode()
    assert converted != sample.read_bytes()
    prepared = prepare(converted, release_notebook(homework), homework)
    assert prepared.notebook == original.notebook
    assert prepared.matched_by_content is (editor not in editors.KEEPS_NBGRADER)


def test_every_homework_has_samples_to_convert():
    assert {path.parent.name for path in SAMPLES} == set(Course(ROOT).homeworks())


@pytest.mark.slow
@pytest.mark.parametrize("homework", Course(ROOT).homeworks())
def test_samples_without_metadata_get_the_same_rows_as_the_originals(homework, tmp_path):
    """Graded end to end: each sample as saved and with all cell metadata deleted (the other editors' copies
    are proven above to be prepared into the same notebook as the original)."""
    from assignkit.execute import Limits
    from assignkit.grade import grade_batch

    folder = tmp_path / "submissions"
    folder.mkdir()
    for sample in (ROOT / "examples" / "submissions" / homework).glob("*.ipynb"):
        (folder / sample.name).write_bytes(sample.read_bytes())
        if _is_json(sample):
            converted = editors.without_metadata(json.loads(sample.read_bytes()))
            (folder / f"{sample.stem}__stripped.ipynb").write_text(json.dumps(converted, ensure_ascii=False))
    results = grade_batch(Course(ROOT), homework, [folder], tmp_path / "out", jobs=2, limits=Limits(),
                          on_note=lambda note: None)
    rows = {r.student: (r.status, r.question_scores()) for r in results}
    converted = [r for r in results if "__" in r.student]
    assert len(converted) == 4
    for result in converted:
        original = result.student.split("__")[0]
        assert rows[result.student] == rows[original], result.student
        assert result.notes == (MATCHED_BY_CONTENT_NOTE,)
    assert {rows[name][0] for name in rows} >= {"graded", "kernel_died", "not_gradable"}


def _questions():
    from assignkit.harvest import Question
    return [Question("q1", "Q1", "q1_form", (), Path(".")), Question("q2", "Q2", "q2_form", (), Path("."))]


@pytest.mark.parametrize("q1_source", [BLANK, "", "# I do not know\nraise NotImplementedError()\n"])
def test_a_question_left_as_released_is_unanswered_whatever_else_is_filled(q1_source):
    from assignkit.preflight import unanswered_questions
    prepared = prepare(as_bytes(student(q1_answer=q1_source, q2_answer="f = len")), release(), "hw1")
    assert unanswered_questions(prepared.notebook, release(), _questions()) == {"q1"}


def test_an_answer_written_in_a_cell_the_student_added_counts():
    from assignkit.preflight import unanswered_questions
    notebook = student(q2_answer="f = len")
    notebook.cells.insert(3, new_code_cell("t = torch.zeros(3)"))  # below the untouched q1_answer
    prepared = prepare(as_bytes(notebook), release(), "hw1")
    assert unanswered_questions(prepared.notebook, release(), _questions()) == frozenset()
    prepared = prepare(as_bytes(student(q1_answer="t = torch.zeros(3)  # done\nraise NotImplementedError()")),
                       release(), "hw1")
    assert unanswered_questions(prepared.notebook, release(), _questions()) == {"q2"}
