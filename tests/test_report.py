"""grades.csv, feedback pages and the class summary, from hand-written result dicts."""

import base64
import csv
import re
import struct

from matplotlib._pylab_helpers import Gcf

from dataclasses import replace

import pytest

from assignkit import report
from assignkit.i18n import gettext_for
from assignkit.results import Check, Figure, Question, Status, SubmissionResult

QIDS = ["q1_yhat", "q3_kink", "q6_ex3"]
XS = [i / 10 for i in range(-10, 11)]
SCRIPT_MESSAGE = 'yhat < 0 & <script>alert("x")</script>'


def _result(student, status, reason, score, max_score, seconds, questions, checks=(), figures=(), **more):
    return SubmissionResult(
        student=student, homework="hw2_dnn", origin=f"subs/{student}.ipynb", status=Status(status), reason=reason,
        score=score, max_score=max_score, seconds=seconds, fingerprint="FINGERPRINT-abc123",
        homework_fingerprint="HOMEWORK-FINGERPRINT", questions=tuple(Question(*q) for q in questions),
        checks=tuple(Check(*c) for c in checks), figures=tuple(figures), sandbox="root", **more)


def graded_result(student="kim01", **more):
    return _result(
        student, "graded", "", 7.0, 10.0, 12.34,
        [("q1_yhat", "yhat three ways", True, 2.0, 3.0), ("q3_kink", "꺾인 곡선 맞추기", True, 2.5, 3.0),
         ("q6_ex3", "decision map", True, 2.5, 4.0)],
        [("q1_yhat", "test_l1_shape", 1.0, 1.0, True, ""),
         ("q1_yhat", "test_yhat_sign", 0.0, 1.0, False, SCRIPT_MESSAGE),
         ("q3_kink", "test_fit", 0.0, 0.5, False, "l2.weight has shape (2, 1); expected (1, 2). 가중치 모양을 확인하세요.")],
        [Figure("q3_kink", "test_fit", "curve", "your fit vs underlying", x=XS,
                series={"underlying": [x * x for x in XS], "your fit": [abs(x) for x in XS]},
                scatter=[XS, [x * x + 0.1 for x in XS]]),
         Figure("q6_ex3", "test_map", "heatmap", "decision map", x1=[0.0, 1.0, 2.0], x2=[0.0, 1.0],
                z=[[0.1, 0.2, 0.3], [0.7, 0.8, None]])],
        **more)


def timeout_result(student="park02"):
    return _result(student, "timeout", "cell 14 (grade_id q3_kink_answer) ran past 60 s; questions from q3_kink on score 0",
                   2.5, 10.0, 61.06,
                   [("q1_yhat", "yhat three ways", True, 2.5, 3.0), ("q3_kink", "kink", False, 0.0, 3.0)])


def not_gradable_result(student="choi03"):
    return _result(student, "not_gradable", "not a notebook: the file is empty", 0.0, 10.0, 0.0, [])


def png_images(page):
    """Decoded PNGs embedded in a page."""
    return [base64.b64decode(b) for b in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def png_size(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


# ---------------------------------------------------------------- grades.csv


def test_grades_csv_exact_header_and_rows(tmp_path):
    path = tmp_path / "out" / "grades.csv"
    report.write_grades_csv([timeout_result(), not_gradable_result(), graded_result()], QIDS, path)
    assert path.read_text(encoding="utf-8") == (
        "student,name,late,status,score,max_score,q1_yhat,q3_kink,q6_ex3,seconds\n"
        "choi03,,no,not_gradable,0,10,0,0,0,0.0\n"
        "kim01,,no,graded,7,10,2,2.5,2.5,12.3\n"
        "park02,,no,timeout,2.5,10,2.5,0,0,61.1\n"
    )


def test_grades_csv_quotes_awkward_ids_and_parses_back(tmp_path):
    awkward = 'lee, "jay"\n2'
    results = [replace(graded_result(awkward), score=2 / 3), graded_result("김민수", name="김민수 Kim", late=True),
               timeout_result("=cmd")]
    path = tmp_path / "grades.csv"
    report.write_grades_csv(results, QIDS, path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "name", "late", "status", "score", "max_score", *QIDS, "seconds"]
    assert [r[0] for r in rows[1:]] == sorted(["=cmd", awkward, "김민수"])
    by_student = {r[0]: r for r in rows[1:]}
    assert by_student[awkward][4] == "0.67"
    assert by_student["김민수"][1:] == ["김민수 Kim", "yes", "graded", "7", "10", "2", "2.5", "2.5", "12.3"]
    assert all(len(r) == 10 for r in rows)


def test_number_formatting():
    assert [report.format_number(v) for v in (7.0, 7.5, 0.1 + 0.2, -0.0, 1e-9, None, float("nan"))] == [
        "7", "7.5", "0.3", "0", "0", "", ""]
    assert [report.format_seconds(v) for v in (12.34, 0, 59.96, None)] == ["12.3", "0.0", "60.0", ""]


# ---------------------------------------------------------------- feedback


def test_feedback_shows_scores_and_escaped_failure_messages():
    page = report.render_feedback(graded_result(), "en")
    assert '<meta charset="utf-8">' in page
    assert "Score: <b" in page and ">7</b> / 10" in page
    assert "kim01" in page and "hw2_dnn" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "yhat &lt; 0 &amp; " in page
    assert "<script" not in page
    assert "l2.weight has shape (2, 1); expected (1, 2). 가중치 모양을 확인하세요." in page
    assert "꺾인 곡선 맞추기" in page
    assert "test_l1_shape" in page  # passed checks are listed by name
    assert "2 / 3" in page and "2.5 / 4" in page


def test_feedback_embeds_a_curve_and_a_heatmap():
    page = report.render_feedback(graded_result(), "en")
    images = png_images(page)
    assert len(images) == 2
    assert all(png_size(png) == (540, 315) for png in images)
    assert all(len(png) < 100_000 for png in images)
    assert "your fit vs underlying" in page and "decision map" in page
    assert Gcf.get_num_fig_managers() == 0


def test_feedback_shows_only_names_and_messages_of_checks():
    # A result holds no check source by construction; the fingerprint (of the hidden checks) must not show.
    result = replace(graded_result(), checks=(Check("q1_yhat", "test_yhat_close", 0.0, 2.0, False,
                                                    "yhat1 differs from l1(x) by 0.3 at x = 0.5"),),
                     figures=())
    page = report.render_feedback(result, "en")
    assert "yhat1 differs from l1(x) by 0.3 at x = 0.5" in page
    for leaked in ("HIDDEN_TOL", "allclose", "def test_", "assert", "AssertionError", "FINGERPRINT"):
        assert leaked not in page


def test_timeout_is_explained_in_plain_words():
    page = report.render_feedback(timeout_result(), "en")
    assert "Time limit reached" in page
    assert "cell 14 (grade_id q3_kink_answer) ran past 60 s" in page
    assert "Scored 0 because the run stopped before they finished: kink." in page
    assert "Not checked: the run stopped before this question finished." in page


def test_not_gradable_without_questions_renders(tmp_path):
    path = tmp_path / "feedback" / "choi03.html"
    report.write_feedback(not_gradable_result(), path, "en")
    page = path.read_text(encoding="utf-8")
    assert "Not gradable" in page and "not a notebook: the file is empty" in page
    assert ">0</b> / 10" in page
    assert "<section" not in page and page.rstrip().endswith("</html>")


def test_a_question_not_checked_says_the_true_cause():
    questions = [("q1_yhat", "yhat three ways", False, 0.0, 3.0)]
    not_gradable = _result("x", "not_gradable", "this is not hw1", 0.0, 3.0, 0.0, questions)
    assert "Not checked: the notebook could not be graded (the reason is above)." in report.render_feedback(
        not_gradable, "en")
    assert "검사하지 않음: 노트북을 채점할 수 없었습니다" in report.render_feedback(not_gradable, "ko")
    grader_error = _result("x", "grader_error", "boom", 0.0, 3.0, 0.0, questions)
    assert "Not checked: the grader failed" in report.render_feedback(grader_error, "en")
    for page in (report.render_feedback(not_gradable, "en"), report.render_feedback(grader_error, "en")):
        assert "run stopped" not in page


def test_grader_error_says_it_is_not_the_students_doing():
    result = _result("x", "grader_error", "the grader failed", 0.0, 10.0, 0.0, [])
    korean, english = report.render_feedback(result, "ko"), report.render_feedback(result, "en")
    assert "채점기 오류 (grader error)" in korean and "학생의 잘못이 아니며" in korean
    assert "Grader error" in english and "not your doing" in english


def test_name_late_and_notes_are_shown():
    result = graded_result(name="김민수", late=True, notes=("matched to the release by content",))
    page = report.render_feedback(result, "en")
    assert "<b>kim01</b> (김민수)" in page and ">late</span>" in page
    assert "matched to the release by content" in page
    summary = report.render_summary([result], QIDS, "en")
    assert "<td>김민수</td><td>late</td><td>graded</td>" in summary
    assert "matched to the release by content" in summary


def test_a_bad_figure_does_not_cost_the_page():
    result = graded_result()
    result = replace(result, figures=result.figures + (
        Figure("q3_kink", "test_fit", "curve", "broken", x=[1, 2], series={"fit": [1, 2, 3]}),
        Figure("q6_ex3", "test_map", "heatmap", "bad z", x1=[0, 1], x2=[0], z=[1, 2]),
        Figure("q6_ex3", "test_map", "surface", "unknown kind"),
    ))
    page = report.render_feedback(result, "en")
    assert len(png_images(page)) == 2
    assert page.count("(picture could not be drawn)") == 3


def test_student_and_figure_text_are_escaped():
    result = graded_result('<img src=x onerror="alert(1)">')
    first = replace(result.figures[0], title="<i>t</i>", series={"<u>정답</u>": XS, "fit": XS})
    result = replace(result, homework="<b>hw</b>", figures=(first, *result.figures[1:]))
    page = report.render_feedback(result, "en")
    assert "<img src=x" not in page and "<b>hw</b>" not in page
    assert "<i>t</i>" not in page and "<u>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_series_names_stay_in_the_picture_korean_ones_too():
    result = graded_result()
    result = replace(result, figures=(replace(result.figures[0], series={"정답 곡선": XS, "your fit": XS}),
                                      *result.figures[1:]))
    page = report.render_feedback(result, "en")  # a Hangul glyph the font lacks would be an error (pyproject.toml)
    assert "정답 곡선" not in page and len(png_images(page)) == 2


# ---------------------------------------------------------------- summary


def test_summary_has_status_counts_histogram_and_links(tmp_path):
    awkward = 'lee, "jay" & 김'
    results = [graded_result(), graded_result(awkward), timeout_result(), not_gradable_result()]
    path = tmp_path / "summary.html"
    report.write_summary(results, QIDS, path, "en")
    page = path.read_text(encoding="utf-8")
    for status, count in [("graded", 2), ("timeout", 1), ("kernel_died", 0), ("memory_exceeded", 0),
                          ("not_gradable", 1), ("grader_error", 0)]:
        assert re.search(rf"<td>{status} <span class=muted>\([^<]+\)</span></td><td class=n>{count}</td>", page)
    images = png_images(page)
    assert len(images) == 1 and png_size(images[0]) == (540, 315)
    for student in ("kim01", "park02", "choi03"):
        assert f'<a href="feedback/{student}.html">{student}</a>' in page
    assert report.feedback_href(awkward) == "feedback/lee%2C%20%22jay%22%20%26%20%EA%B9%80.html"
    assert f'<a href="{report.feedback_href(awkward)}">lee, &quot;jay&quot; &amp; 김</a>' in page
    assert Gcf.get_num_fig_managers() == 0


def test_summary_states_the_sandbox_mode():
    assert "Sandbox: <b>root</b>." in report.render_summary([graded_result()], QIDS, "en")
    unsandboxed = report.render_summary([graded_result(), replace(graded_result("lee"), sandbox="none")], QIDS, "en")
    assert "Sandbox: <b>none (1), root (1)</b> — not isolated" in unsandboxed


def test_summary_question_stats_and_slowest():
    results = [graded_result("a"), timeout_result("b"), not_gradable_result("c")]
    page = report.render_summary(results, QIDS, "en")
    # q1_yhat: scores 2, 2.5, 0 of 3 -> mean 1.5; no full marks; 1 of 2 checks passed.
    assert "<td>q1_yhat</td><td>yhat three ways</td><td class=n>3</td><td class=n>1.5</td>" in page
    assert "<td class=n>0%</td><td class=n>50%</td>" in page
    slowest = page.split("<h2>Slowest 10</h2>")[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\w+)</td>", slowest) == ["b", "a", "c"]
    assert "<td>b</td><td class=n>61.1</td><td>timeout</td>" in slowest


def test_summary_of_no_results_renders():
    page = report.render_summary([], QIDS, "en")
    assert "<td><b>total</b></td><td class=n><b>0</b></td>" in page
    assert len(png_images(page)) == 1


def test_a_picture_is_drawn_once_per_batch_and_a_changed_one_again(monkeypatch):
    report._drawn.cache_clear()
    drawn = []
    real = report._render_png
    monkeypatch.setattr(report, "_render_png", lambda draw: drawn.append(1) or real(draw))
    first = report.render_feedback(graded_result("kim01"), "en")
    same = report.render_feedback(graded_result("lee02"), "en")  # another student, the same curves
    assert len(drawn) == 2 and png_images(first) == png_images(same)
    result = graded_result("park03")
    nudged = replace(result.figures[0], series={k: [v + 1e-6 for v in s] for k, s in result.figures[0].series.items()})
    changed = report.render_feedback(replace(result, figures=(nudged, *result.figures[1:])), "en")
    assert len(drawn) == 3 and png_images(changed)[1] == png_images(first)[1]
    report.render_feedback(graded_result("choi04"), "ko")  # the same curves, labelled in another language
    assert len(drawn) == 5
    report._drawn.cache_clear()
    assert png_images(report.render_feedback(graded_result("kim01"), "en")) == png_images(first)  # drawn afresh


def test_batch_of_pages_leaves_no_figures():
    for i in range(3):
        report.render_feedback(graded_result(f"s{i}"), "en")
    assert Gcf.get_num_fig_managers() == 0


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_feedback_page_in_korean_for_every_status(status):
    result = _result("kim01", status, "", 0.0, 10.0, 1.0, [("q1_yhat", "yhat three ways", False, 0.0, 3.0)])
    page = report.render_feedback(result, "ko")
    label, explanation = report.STATUS_TEXT[status]
    assert '<html lang="ko">' in page and "학생:" in page and "점수:" in page
    assert report.escape(gettext_for("ko")(label)) in page and report.escape(gettext_for("ko")(explanation)) in page
    assert explanation not in page
    if status in ("timeout", "kernel_died", "memory_exceeded"):
        assert "끝나기 전에 실행이 멈춰 0점인 문제: yhat three ways." in page


def test_summary_in_korean_and_english():
    results = [graded_result(), timeout_result(), not_gradable_result()]
    korean, english = report.render_summary(results, QIDS, "ko"), report.render_summary(results, QIDS, "en")
    assert "수업 요약" in korean and "제출물 3개." in korean and "평균 점수" in korean and "class summary" not in korean
    assert "class summary" in english and "3 submissions." in english and "수업 요약" not in english
