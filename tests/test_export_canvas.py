import pytest

from assignkit.export import ExportError, grades_from_results
from assignkit.export_canvas import export_canvas
from export_fixtures import write_result

# Canvas's "Export Entire Gradebook": a BOM, CRLF, minimal quoting, the Points Possible row, a test student.
GRADEBOOK = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,hw1_loss_comparison (45677),hw2_dnn (45678),"
    "Current Points,Final Points,Current Score,Final Score\r\n"
    "    Points Possible,,,,,29.00,50.00,(read only),(read only),(read only),(read only)\r\n"
    '"Kim, Minsu",12345,2026123456,kimminsu,딥러닝 01분반,29.00,{a},29.00,29.00,100.00,36.71\r\n'
    '"Lee, Seoyeon",12346,2026123457,leeseoyeon,딥러닝 01분반,20.00,{b},20.00,20.00,68.97,25.32\r\n'
    '"Park, Jihoon",12347,2026123458,parkjihoon,딥러닝 02분반,,{c},0.00,0.00,,0.00\r\n'
    "\"Student, Test\",12399,,7c9f0b1e,딥러닝 01분반,,,0.00,0.00,,0.00\r\n"
)


def graded_folder(tmp_path):
    out = tmp_path / "graded"
    write_result(out, "12345", {"q1_limit": 5, "q2_kink_by_hand": 2.5})
    write_result(out, "12346", {"q1_limit": 5}, status="timeout", reason="cell 12")
    write_result(out, "55555", {})
    return out


@pytest.mark.parametrize("column", ["hw2_dnn", "hw2_dnn (45678)"])
def test_gradebook_column_filled_and_byte_stable(tmp_path, column):
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_bytes(GRADEBOOK.format(a="", b="10.00", c="").encode("utf-8"))
    out = tmp_path / "filled.csv"
    result = export_canvas(grades_from_results(graded_folder(tmp_path)), gradebook, column, out)
    assert (result.filled, result.unmatched, result.without_result) == (["12345", "12346"], ["55555"],
                                                                        ["12347", "12399"])
    assert out.read_bytes() == GRADEBOOK.format(a="37.5", b="25", c="").encode("utf-8")


def test_gradebook_column_must_name_one_assignment(tmp_path):
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_bytes(GRADEBOOK.format(a="", b="", c="").encode("utf-8"))
    with pytest.raises(ExportError, match=r"no column named 'hw3'; the assignment columns are: "
                                          r"hw1_loss_comparison \(45677\), hw2_dnn \(45678\)"):
        export_canvas(grades_from_results(graded_folder(tmp_path)), gradebook, "hw3", tmp_path / "f.csv")
