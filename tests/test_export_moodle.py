import pytest

from assignkit.export import ExportError, grades_from_results
from assignkit.export_moodle import MoodleColumns, export_moodle
from export_fixtures import write_result

# A grading worksheet as Moodle writes it (table download through fputcsv: fields with spaces quoted, "\n" line
# ends, UTF-8 with a BOM). {g…} and {c…} are the Grade and Feedback comments cells.
WORKSHEET = (
    'Identifier,"Full name","Email address",Status,Grade,"Maximum Grade","Grade can be changed",'
    '"Last modified (submission)","Online text","Last modified (grade)","Feedback comments"\n'
    '"Participant 123456",김민수,kim@example.ac.kr,"Submitted for grading",{g1},100.00,Yes,'
    '"Monday, 1 December 2026, 10:00 AM","<p>노트북을 보세요</p>\n<p>(see the notebook)</p>",-,{c1}\n'
    '"Participant 123457","Lee Seoyeon",lee@example.ac.kr,"Submitted for grading - Late",{g2},100.00,Yes,'
    '"Tuesday, 2 December 2026, 9:00 AM",,-,{c2}\n'
    '"Participant 123458","Park Jihoon",park@example.ac.kr,"No submission",{g3},100.00,Yes,-,,-,{c3}\n'
)
BLANK = {"g1": "", "c1": "", "g2": "", "c2": "", "g3": "", "c3": '"keep this"'}


def graded_folder(tmp_path):
    out = tmp_path / "graded"
    write_result(out, "123456", {"q1_limit": 5, "q2_kink_by_hand": 2.5})
    write_result(out, "123457", {"q1_limit": 5}, status="timeout", reason="셀 12 시간 초과 (cell 12 ran past 120 s)")
    write_result(out, "999999", {"q1_limit": 5})  # graded, but not on this worksheet
    write_result(out, "123458", {}, status="grader_error", reason="the grader failed on this submission: Boom()")
    return out


@pytest.mark.parametrize("encoding,line_end", [("utf-8-sig", "\n"), ("cp949", "\r\n")])
def test_worksheet_filled_and_byte_stable(tmp_path, encoding, line_end):
    worksheet = tmp_path / "worksheet.csv"
    template = WORKSHEET.replace("\n", line_end) if line_end != "\n" else WORKSHEET
    # the Online text cell keeps its own embedded "\n" only in the Moodle variant; Excel writes \r\n everywhere
    worksheet.write_bytes(template.format(**BLANK).encode(encoding))
    out = tmp_path / "filled.csv"
    result = export_moodle(grades_from_results(graded_folder(tmp_path)), worksheet, out)
    assert (result.filled, result.unmatched, result.without_result) == (["123456", "123457"], ["999999"], [])
    assert result.grader_failed == ["123458"]  # its row stays as it was: a grader failure is never a grade
    expected = template.format(
        g1="75.00", c1='"자동 채점 7.5/10점 | q1_limit 5/5, q2_kink_by_hand 2.5/5"',
        g2="50.00", c2='"자동 채점 5/10점 | q1_limit 5/5, q2_kink_by_hand 0/5 | 시간 제한 초과 (timeout): '
                       '셀 12 시간 초과 (cell 12 ran past 120 s)"',
        g3="", c3='"keep this"')
    assert out.read_bytes() == expected.encode(encoding)
    assert worksheet.read_bytes() == template.format(**BLANK).encode(encoding)  # the download is untouched


def test_worksheet_with_another_maximum_and_comma_decimals(tmp_path):
    worksheet = tmp_path / "w.csv"
    worksheet.write_text('Identifier;Grade;"Maximum Grade";"Feedback comments"\n"Participant 123456";;"20,00";\n')
    out = tmp_path / "f.csv"
    export_moodle(grades_from_results(graded_folder(tmp_path)), worksheet, out)
    assert out.read_text().splitlines()[1].startswith('"Participant 123456";15,00;"20,00";자동 채점 7.5/10점 | q1_limit')


def test_worksheet_in_another_language_through_column_names(tmp_path):
    worksheet = tmp_path / "w.csv"
    worksheet.write_text("식별자,성적,최고 성적\n참가자 123456,,100.00\n")
    out = tmp_path / "f.csv"
    with pytest.raises(ExportError, match="no 'Identifier' column .* the header is: '식별자', '성적', '최고 성적'"):
        export_moodle(grades_from_results(graded_folder(tmp_path)), worksheet, out)
    export_moodle(grades_from_results(graded_folder(tmp_path)), worksheet, out,
                  MoodleColumns(identifier="식별자", grade="성적", maximum_grade="최고 성적"), with_comments=False)
    assert out.read_text() == "식별자,성적,최고 성적\n참가자 123456,75.00,100.00\n"


def test_worksheet_without_feedback_comments_column_says_what_to_do(tmp_path):
    worksheet = tmp_path / "w.csv"
    worksheet.write_text('Identifier,Grade,"Maximum Grade"\n"Participant 123456",,100.00\n')
    with pytest.raises(ExportError, match="no 'Feedback comments' column; turn on"):
        export_moodle(grades_from_results(graded_folder(tmp_path)), worksheet, tmp_path / "f.csv")
    assert not (tmp_path / "f.csv").exists()
