import json

import pytest

from assignkit.export import CsvSheet, ExportError, StudentGrade, grades_from_results, one_line_comment, scaled
from export_fixtures import write_result


def test_grades_from_results(tmp_path):
    write_result(tmp_path, "123457", {"q1_limit": 5, "q2_kink_by_hand": 2.5})
    write_result(tmp_path, "123456", {"q1_limit": 5}, status="timeout", reason="cell 12 ran past 120 s")
    kim, lee = grades_from_results(tmp_path)
    assert kim == StudentGrade("123456", "", "hw2_dnn", "timeout", 5.0, 10.0,
                               {"q1_limit": (5.0, 5.0), "q2_kink_by_hand": (0.0, 5.0)}, "cell 12 ran past 120 s")
    assert (lee.student, lee.score) == ("123457", 7.5)


def test_grades_from_results_refuses_an_empty_or_broken_folder(tmp_path):
    with pytest.raises(ExportError, match="no results found"):
        grades_from_results(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "kim.json").write_text(json.dumps({"student": "kim"}))
    with pytest.raises(ExportError, match=r"kim\.json: results schema version None"):
        grades_from_results(tmp_path)


def test_one_line_comment_and_scaling():
    grade = StudentGrade("1", "", "hw", "timeout", 7.5, 10.0, {"q1": (5.0, 5.0), "q2": (2.5, 5.0)},
                         "cell 12 ran past\n120 s")
    assert one_line_comment(grade, "ko") == "자동 채점 7.5/10점 | q1 5/5, q2 2.5/5 | 시간 제한 초과 (timeout): cell 12 ran past 120 s"
    assert one_line_comment(grade, "en") == "autograded 7.5/10 | q1 5/5, q2 2.5/5 | Time limit reached: cell 12 ran past 120 s"
    not_gradable = StudentGrade("1", "", "hw", "not_gradable", 0.0, 10.0, {}, "this is not hw1 — none of its cells")
    for lang in ("ko", "en"):  # a worksheet Korean Excel saved again is CP949, which has no em dash
        one_line_comment(grade, lang).encode("cp949")
        assert one_line_comment(not_gradable, lang).encode("cp949").endswith(b"this is not hw1 - none of its cells")
    assert scaled(grade, 100) == 75.0 and scaled(grade, 3) == 2.25
    assert scaled(StudentGrade("1", "", "hw", "graded", 0, 0, {}, ""), 100) == 0.0


@pytest.mark.parametrize("text", [
    'a,"b c",d\n1,"two\nlines, and ""quotes""",3\n\n4,,\n',
    'a;b\r\n"x;y";z\r\n',
    'a,b',
])
def test_sheet_without_edits_is_written_back_byte_for_byte(tmp_path, text):
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode())
    sheet = CsvSheet.read(path)
    assert sheet.render() == text.encode()


def test_sheet_edit_changes_only_that_cell_and_keeps_its_quoting(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes('\ufeffa,"b c",d\r\n1,"",3\r\n'.encode("utf-8"))
    sheet = CsvSheet.read(path)
    sheet.set(1, 1, "x, y")
    sheet.set(1, 2, "4")
    assert sheet.render() == '\ufeffa,"b c",d\r\n1,"x, y",4\r\n'.encode("utf-8")


def test_sheet_in_cp949_stays_cp949(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("이름,점수\r\n김민수,\r\n".encode("cp949"))
    sheet = CsvSheet.read(path)
    assert sheet.encoding == "cp949" and sheet.rows[1] == ["김민수", ""]
    sheet.set(1, 1, "자동 채점")
    assert sheet.render() == "이름,점수\r\n김민수,자동 채점\r\n".encode("cp949")
