from nbformat.v4 import new_code_cell, new_markdown_cell

from assignkit.cellmatch import match_by_content

BLANK = "# YOUR CODE HERE\nraise NotImplementedError()"


def flagged(cell, grade_id, **flags):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, **flags}
    return cell


# Two answer cells in a row (as hw1's q3_recorder_answer_a and _b), between a locked text and a test cell.
RELEASE = [
    flagged(new_markdown_cell("## Q3. The loop\n\nTrain, then record."), "q3_text", locked=True),
    flagged(new_code_cell(BLANK), "q3_answer_a", solution=True),
    flagged(new_code_cell(BLANK), "q3_answer_b", solution=True),
    flagged(new_code_cell("assert callable(record)\nassert len(losses) == 50"), "q3_form", grade=True, locked=True),
    flagged(new_markdown_cell("## The end"), "outro", locked=True),
]


def plain(*cells):
    """Student cells without metadata: markdown for text starting with '## ', code otherwise."""
    return [new_markdown_cell(text) if text.startswith("## ") else new_code_cell(text) for text in cells]


def labels(student_cells):
    match = match_by_content(student_cells, RELEASE)
    return {student_cells[i].source: grade_id for i, grade_id in match.grade_ids.items()}


def test_locked_and_test_cells_are_found_by_their_text_whatever_the_whitespace():
    student = plain("##   Q3.  The loop\r\n\r\nTrain,\tthen record.  ", "a = 1", "b = 2",
                    "assert callable(record)\n\n\nassert len(losses)  ==  50\n", "## The end")
    match = match_by_content(student, RELEASE)
    assert (match.fixed_found, match.fixed_total) == (3, 3)
    assert labels(student) == {student[0].source: "q3_text", "a = 1": "q3_answer_a", "b = 2": "q3_answer_b",
                               student[3].source: "q3_form", "## The end": "outro"}


def test_answers_are_the_code_cells_in_order_between_their_neighbours():
    one = plain("## Q3. The loop\n\nTrain, then record.", "a = 1", "assert callable(record)\nassert len(losses) == 50")
    assert labels(one)["a = 1"] == "q3_answer_a"
    assert "q3_answer_b" not in labels(one).values()  # keeps the release's blank

    three = plain("## Q3. The loop\n\nTrain, then record.", "a = 1", "## my note", "b = 2", "c = 3",
                  "assert callable(record)\nassert len(losses) == 50")
    got = labels(three)
    assert (got["a = 1"], got["b = 2"]) == ("q3_answer_a", "q3_answer_b")
    assert "c = 3" not in got and "## my note" not in got  # the student's own cells, after the last answer


def test_an_edited_test_cell_is_found_when_similar_enough_and_not_otherwise():
    edited = "assert callable(record)\nassert len(losses) == 5"  # one character less
    rewritten = "print(record, losses)"
    for text, found in [(edited, True), (rewritten, False)]:
        student = plain("## Q3. The loop\n\nTrain, then record.", "a = 1", text, "## The end")
        assert (labels(student).get(text) == "q3_form") is found
        assert match_by_content(student, RELEASE).fixed_found == 2 + found


def test_similar_cell_of_another_type_is_not_paired():
    student = [*plain("## Q3. The loop\n\nTrain, then record.", "a = 1"),
               new_markdown_cell("assert callable(record)\nassert len(losses) == 50"), *plain("## The end")]
    assert match_by_content(student, RELEASE).fixed_found == 2


def test_nothing_in_common_finds_nothing():
    match = match_by_content(plain("x = 1", "## notes"), RELEASE)
    assert (match.fixed_found, match.fixed_total) == (0, 3)
