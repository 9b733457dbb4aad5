"""Grades table, per-student feedback pages and the class summary, built from typed results
(`results.SubmissionResult`, what the grader writes to `results/<student>.json`).

Everything here only reads results; every string that came from a result is HTML-escaped, and a feedback page shows nothing of a check but its name and its message.
Pictures are drawn with matplotlib's Agg canvas on standalone `Figure` objects (never pyplot), so nothing stays
registered after a page is rendered, however many pages a batch makes.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import math
from collections import Counter
from dataclasses import asdict
from collections.abc import Callable, Collection, Iterable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import MaxNLocator

from assignkit.fileio import atomic_write_text
from assignkit.fonts import picture_font_family
from assignkit.i18n import N_, gettext_for
from assignkit.results import STOPPED, Check, Figure, Question, Status, SubmissionResult

FIG_SIZE = (6.0, 3.5)  # inches
FIG_DPI = 90
SLOWEST_COUNT = 10

# (label, explanation) of each status, as message ids: shown through the page's language.
STATUS_TEXT = {
    "graded": (N_("Graded"), N_("Your notebook ran to the end and every question was checked.")),
    "timeout": (N_("Time limit reached"),
                N_("A cell ran longer than the time limit, so the run was stopped at that cell. Questions that "
                   "finished before that keep their points; the questions after it score 0.")),
    "kernel_died": (N_("Notebook stopped"),
                    N_("Python stopped while running your notebook (for example a crash, a segmentation fault or "
                       "os._exit()). Questions that finished before that keep their points; the questions after it "
                       "score 0.")),
    "memory_exceeded": (N_("Memory limit reached"),
                        N_("Your notebook used more memory than allowed, so the run was stopped. Questions that "
                           "finished before that keep their points; the questions after it score 0.")),
    "not_gradable": (N_("Not gradable"), N_("This submission could not be graded, so it scores 0.")),
    "grader_error": (N_("Grader error"),
                     N_("The grader failed on this submission; this is not your doing, and it will be graded "
                        "again.")),
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",
"Noto Sans CJK KR",NanumGothic,sans-serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem;color:#222;
line-height:1.45}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:0 0 .4rem}
.muted{color:#666}.total{font-size:1.3rem}
.status{border-left:4px solid #888;background:#f5f5f5;padding:.5rem .8rem;margin:.8rem 0}
.status-graded{border-color:#2a8a3e}.status-timeout,.status-memory_exceeded{border-color:#c77c00}
.status-kernel_died,.status-not_gradable{border-color:#b3261e}.status-grader_error{border-color:#5b4bb3}
section{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.pts{float:right;font-weight:normal}.full{color:#2a8a3e}.partial{color:#c77c00}.zero{color:#b3261e}
.msg{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;background:#fff4f3;
padding:.3rem .5rem;margin:.2rem 0 .6rem;border-radius:4px}
.failed{list-style:none;padding:0}.failed b{color:#b3261e}
figure{margin:.6rem 0}figcaption{font-size:.9rem;color:#444}img{max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.2rem .6rem;text-align:left}
td.n,th.n{text-align:right}
"""


# ---------------------------------------------------------------- numbers and small helpers


def format_number(value: Any, digits: int = 2) -> str:
    """A score without float noise: 7.0 -> "7", 7.5 -> "7.5", 6.6666 -> "6.67"; None or non-finite -> ""."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(x):
        return ""
    text = f"{round(x, digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_seconds(value: Any) -> str:
    """Seconds rounded to 0.1 ("12.3"); None or non-finite -> ""."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{x:.1f}" if math.isfinite(x) else ""


def _student(result: SubmissionResult) -> str:
    return result.student


def feedback_href(student: str) -> str:
    """Relative URL of a student's feedback page from summary.html: `feedback/<student>.html`, percent-encoded."""
    return "feedback/" + quote(f"{student}.html", safe="")


# ---------------------------------------------------------------- grades.csv


def late_text(late: bool) -> str:
    return "yes" if late else "no"


def grades_rows(results: list[SubmissionResult], question_ids: list[str]) -> list[list[str]]:
    """Header plus one row per result, sorted by student, numbers formatted as in grades.csv."""
    rows = [["student", "name", "late", "status", "score", "max_score", *question_ids, "seconds"]]
    for result in sorted(results, key=_student):
        scores = result.question_scores()
        rows.append([result.student, result.name, late_text(result.late), result.status.value,
                     format_number(result.score), format_number(result.max_score),
                     *(format_number(scores.get(qid, 0.0)) for qid in question_ids),
                     format_seconds(result.seconds)])
    return rows


def write_grades_csv(results: list[SubmissionResult], question_ids: list[str], path: Path) -> None:
    """Write grades.csv (`student, name, late, status, score, max_score, <question ids>, seconds`) atomically,
    UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(grades_rows(results, question_ids))
    atomic_write_text(path, buffer.getvalue())


# ---------------------------------------------------------------- pictures


def _render_png(draw: Callable[[MplFigure], None]) -> str:
    """Draw on a fresh Agg figure and return it as a `data:image/png;base64,...` URI; the figure is cleared."""
    with rc_context({"font.family": list(picture_font_family()), "font.size": 9}):
        fig = MplFigure(figsize=FIG_SIZE, dpi=FIG_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        try:
            draw(fig)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=FIG_DPI, metadata={"Software": None})
        finally:
            fig.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _array(values: Any, ndim: int) -> np.ndarray:
    """Floats from JSON lists (null -> NaN, inf -> NaN), with the given number of dimensions."""
    array = np.asarray(values if values is not None else [], dtype=float)
    if array.ndim != ndim:
        raise ValueError(f"expected {ndim}-d data, got shape {array.shape}")
    return np.where(np.isfinite(array), array, np.nan)


def _draw_curve(fig: MplFigure, figure: Figure, _: Callable[[str], str]) -> None:
    ax = fig.add_subplot()
    x = _array(figure.x, 1)
    scatter = figure.scatter
    if scatter:
        sx, sy = _array(scatter[0], 1), _array(scatter[1], 1)
        if sx.shape != sy.shape:
            raise ValueError("scatter x and y differ in length")
        ax.scatter(sx, sy, s=6, alpha=0.3, color="0.35", linewidths=0, label=_("data"), zorder=1)
    for name, ys in (figure.series or {}).items():
        y = _array(ys, 1)
        if y.shape != x.shape:
            raise ValueError(f"series {name!r} has {len(y)} points for {len(x)} x values")
        ax.plot(x, y, linewidth=1.6, label=str(name), zorder=2)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.grid(alpha=0.25)


def _draw_heatmap(fig: MplFigure, figure: Figure, _: Callable[[str], str]) -> None:
    ax = fig.add_subplot()
    x1, x2 = _array(figure.x1, 1), _array(figure.x2, 1)
    z = _array(figure.z, 2)
    if z.shape != (len(x2), len(x1)):
        raise ValueError(f"z has shape {z.shape}; expected ({len(x2)}, {len(x1)}) for x2 by x1")
    mesh = ax.pcolormesh(x1, x2, z, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


_DRAW = {"curve": _draw_curve, "heatmap": _draw_heatmap}
DRAWN_PICTURES_KEPT = 256  # about 25 kB each


@functools.lru_cache(maxsize=DRAWN_PICTURES_KEPT)
def _drawn(figure_json: str, lang: str) -> str:
    """The PNG data URI of a picture given as the JSON of its Figure, its labels in `lang`. Students who give the
    same answer under the lecture's seeds send the very same curves: each distinct picture of a batch is drawn
    once (~0.1 s each)."""
    figure = Figure(**json.loads(figure_json))
    draw = _DRAW.get(figure.kind)
    if draw is None:
        raise ValueError("unknown kind")
    _ = gettext_for(lang)
    return _render_png(lambda fig: draw(fig, figure, _))


def render_figure(figure: Figure, lang: str) -> str:
    """One picture as an HTML <figure> with an embedded PNG; a note in `lang` instead if it cannot be drawn."""
    _ = gettext_for(lang)
    title = escape(figure.title)
    try:
        uri = _drawn(json.dumps(asdict(figure)), lang)
    except Exception:  # one bad picture must not cost the page
        note = '<span class="muted">' + escape(_("(picture could not be drawn)")) + "</span>"
        return f"<figure><figcaption>{title} {note}</figcaption></figure>"
    alt = title or "plot"
    return (f'<figure><img src="{uri}" alt="{alt}" width="{int(FIG_SIZE[0] * FIG_DPI)}">'
            f"<figcaption>{title}</figcaption></figure>")


# ---------------------------------------------------------------- feedback page


def _page(title: str, body: str, lang: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _points_class(score: float, max_score: float) -> str:
    if max_score > 0 and score >= max_score:
        return "full"
    return "partial" if score > 0 else "zero"


def _status_html(result: SubmissionResult, _: Callable[[str], str]) -> str:
    status = result.status.value
    label, text = STATUS_TEXT[status]
    parts = [f"<b>{escape(_(label))}.</b> {escape(_(text))}"]  # extracted where STATUS_TEXT marks them
    if result.reason:
        parts.append("<br>" + escape(_("Details:")) + " " + escape(result.reason))
    if result.status in STOPPED:
        lost = [q.title or q.id for q in result.questions if not q.harvested]
        if lost:
            parts.append("<br>" + escape(_("Scored 0 because the run stopped before they finished: {questions}.")
                                         .format(questions=", ".join(lost))))
    parts += [f"<br>{escape(note)}" for note in result.notes]
    return f'<div class="status status-{escape(status)}">{"".join(parts)}</div>'


def _checks_html(checks: list[Check], _: Callable[[str], str]) -> str:
    no_message = _("(no message)")
    failed = [c for c in checks if not c.passed]
    passed = [c for c in checks if c.passed]
    html = ""
    if failed:
        items = "".join(
            f'<li><b>✗ {escape(c.name)}</b> <span class="muted">'
            f'({format_number(c.points)} / {format_number(c.max_points)})</span>'
            f'<div class="msg">{escape(c.message or no_message)}</div></li>'
            for c in failed)
        html += f'<ul class="failed">{items}</ul>'
    if passed:
        names = ", ".join(escape(c.name) for c in passed)
        html += '<p class="passed"><span class="full">✓ ' + escape(_("Passed:")) + f"</span> {names}</p>"
    return html


# Why a question has no checks, by the status of its submission (not harvested) or at all (harvested).
NOT_CHECKED = {
    Status.NOT_GRADABLE: N_("Not checked: the notebook could not be graded (the reason is above)."),
    Status.GRADER_ERROR: N_("Not checked: the grader failed; this question is checked on the next run."),
    **{status: N_("Not checked: the run stopped before this question finished.") for status in STOPPED},
}
NOT_COLLECTED = N_("Not checked: the answers of this question were not collected.")


def _not_checked(status: Status, question: Question) -> str:
    if question.harvested:
        return N_("No checks recorded.")
    return NOT_CHECKED.get(status, NOT_COLLECTED)


def _question_html(question: Question, checks: list[Check], figures: list[Figure], status: Status,
                   lang: str) -> str:
    _ = gettext_for(lang)
    qid, title = question.id, question.title or question.id
    score, max_score = question.score, question.max_score
    shown_id = f' <span class="muted">({escape(qid)})</span>' if qid and qid != title else ""
    head = (f'<h2>{escape(title)}{shown_id} <span class="pts '
            f'{_points_class(score, max_score)}">{format_number(score)} / {format_number(max_score)}</span></h2>')
    body = _checks_html(checks, _)
    if not checks:
        body = f'<p class="muted">{escape(_(_not_checked(status, question)))}</p>'
    return f"<section>{head}{body}{''.join(render_figure(f, lang) for f in figures)}</section>"


def render_feedback(result: SubmissionResult, lang: str) -> str:
    """The student's feedback page in `lang`: total, status in plain words, and per question its points, the
    message of every failed check, the names of passed checks, and its pictures. Self-contained HTML (UTF-8,
    inline CSS). Reasons and check messages are shown as the result holds them (written in the run's language)."""
    _ = gettext_for(lang)
    student, homework = result.student, result.homework
    known = {q.id for q in result.questions}
    sections = [_question_html(q, [c for c in result.checks if c.question == q.id],
                               [f for f in result.figures if f.question == q.id], result.status, lang)
                for q in result.questions]
    other_checks = [c for c in result.checks if c.question not in known]
    other_figures = [f for f in result.figures if f.question not in known]
    if other_checks or other_figures:
        sections.append(_question_html(Question("", _("Other checks"), True, 0.0, 0.0), other_checks, other_figures,
                                       result.status, lang))
    score, max_score = result.score, result.max_score
    name = f" ({escape(result.name)})" if result.name else ""
    late = ' <span class="partial">' + escape(_("late")) + "</span>" if result.late else ""
    student_label, score_label = escape(_("Student:")), escape(_("Score:"))
    header = (f'<header><h1>{escape(homework)}</h1><p>{student_label} <b>{escape(student)}</b>{name}{late}'
              f'</p><p class="total">{score_label} <b class="{_points_class(score, max_score)}">'
              f"{format_number(score)}</b> / {format_number(max_score)}</p>{_status_html(result, _)}</header>")
    return _page(f"{escape(homework)}: {escape(student)}", header + "\n" + "\n".join(sections), lang)


def write_feedback(result: SubmissionResult, path: Path, lang: str) -> None:
    """Write the student's feedback page in `lang` atomically."""
    atomic_write_text(path, render_feedback(result, lang))


# ---------------------------------------------------------------- class summary


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Collection[int] = ()) -> str:
    """An HTML table from already-escaped cells; columns in `numeric` are right-aligned."""
    def cells(tag: str, values: Iterable[str]) -> str:
        return "".join(f'<{tag}{" class=n" if i in numeric else ""}>{v}</{tag}>' for i, v in enumerate(values))

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', headers)}</tr></thead><tbody>{body}</tbody></table>"


def _status_counts_html(results: list[SubmissionResult], _: Callable[[str], str]) -> str:
    counts = Counter(r.status for r in results)
    rows = [[f"{escape(s.value)} <span class=muted>({escape(_(STATUS_TEXT[s.value][0]))})</span>",
             str(counts.get(s, 0))] for s in Status]
    rows.append(["<b>" + escape(_("total")) + "</b>", f"<b>{len(results)}</b>"])
    return _table([escape(_("status")), escape(_("submissions"))], rows, numeric={1})


def _histogram_html(results: list[SubmissionResult], _: Callable[[str], str]) -> str:
    scores = [r.score for r in results]
    top = max([r.max_score for r in results] + scores + [1.0])

    def draw(fig: MplFigure) -> None:
        ax = fig.add_subplot()
        ax.hist(scores, bins=np.linspace(0.0, top, 21), color="#4c72b0", edgecolor="white")
        ax.set_xlabel(_("score"))
        ax.set_ylabel(_("submissions"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    caption = escape(_("Scores of all submissions"))
    return (f'<figure><img src="{_render_png(draw)}" alt="{caption}" width="{int(FIG_SIZE[0] * FIG_DPI)}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _question_stats_html(results: list[SubmissionResult], question_ids: list[str], _: Callable[[str], str]) -> str:
    rows = []
    for qid in question_ids:
        records = [q for r in results for q in r.questions if q.id == qid]
        title = next((q.title for q in records if q.title), qid)
        max_score = max((q.max_score for q in records), default=0.0)
        scores = [r.question_scores().get(qid, 0.0) for r in results]
        checks = [c for r in results for c in r.checks if c.question == qid]
        mean = sum(scores) / len(scores) if scores else 0.0
        full = sum(1 for s in scores if max_score > 0 and s >= max_score) / len(scores) if scores else 0.0
        passed = sum(1 for c in checks if c.passed) / len(checks) if checks else 0.0
        rows.append([escape(qid), escape(title), format_number(max_score), format_number(mean),
                     f"{full:.0%}", f"{passed:.0%}" if checks else "–"])
    headers = [_("question"), _("title"), _("max"), _("mean score"), _("full marks"), _("checks passed")]
    return _table(map(escape, headers), rows, numeric={2, 3, 4, 5})


def _slowest_html(results: list[SubmissionResult], _: Callable[[str], str]) -> str:
    slowest = sorted(results, key=lambda r: (-r.seconds, r.student))[:SLOWEST_COUNT]
    rows = [[escape(r.student), format_seconds(r.seconds), escape(r.status.value)] for r in slowest]
    return _table(map(escape, [_("student"), _("seconds"), _("status")]), rows, numeric={1})


def _students_html(results: list[SubmissionResult], _: Callable[[str], str]) -> str:
    rows = [[f'<a href="{escape(feedback_href(r.student))}">{escape(r.student)}</a>', escape(r.name),
             escape(_("late")) if r.late else "", escape(r.status.value), format_number(r.score), format_number(r.max_score),
             format_seconds(r.seconds), escape(" ".join([r.reason, *r.notes]).strip())]
            for r in sorted(results, key=_student)]
    headers = [_("student"), _("name"), _("late"), _("status"), _("score"), _("max"), _("seconds"), _("reason")]
    return _table(map(escape, headers), rows, numeric={4, 5, 6})


def render_summary(results: list[SubmissionResult], question_ids: list[str], lang: str) -> str:
    """The class summary page in `lang`: submissions per status, score histogram, mean score and pass rates per
    question (over all submissions; a question missing from a result counts as 0), the slowest submissions, and
    every student linked to `feedback/<student>.html`."""
    _ = gettext_for(lang)
    homeworks = sorted({r.homework for r in results if r.homework})
    title = escape(", ".join(homeworks) or "assignkit")
    heading = title + ": " + escape(_("class summary"))
    count = escape(_("{count} submissions.").format(count=len(results)))
    explained = escape(_("Mean score and share of submissions with full marks, over all submissions; checks "
                         "passed over all checks run for the question."))
    body = "\n".join([
        f"<h1>{heading}</h1>",
        f'<p class="muted">{count} {_sandbox_html(results, _)}</p>',
        "<h2>" + escape(_("Status")) + "</h2>", _status_counts_html(results, _),
        "<h2>" + escape(_("Scores")) + "</h2>", _histogram_html(results, _),
        "<h2>" + escape(_("Questions")) + "</h2>",
        f'<p class="muted">{explained}</p>',
        _question_stats_html(results, question_ids, _),
        "<h2>" + escape(_("Slowest {count}").format(count=SLOWEST_COUNT)) + "</h2>", _slowest_html(results, _),
        "<h2>" + escape(_("Students")) + "</h2>", _students_html(results, _),
    ])
    return _page(heading, body, lang)


def _sandbox_html(results: list[SubmissionResult], _: Callable[[str], str]) -> str:
    """The sandbox mode(s) the rows were graded in (one per run; several when merged from several runs)."""
    counts = Counter(r.sandbox or "unknown" for r in results)
    modes = ", ".join(f"{escape(mode)} ({n})" if len(counts) > 1 else escape(mode) for mode, n in sorted(counts.items()))
    warning = escape(_(" — not isolated: submissions ran unsandboxed")) if "none" in counts else ""
    return escape(_("Sandbox:")) + f" <b>{modes}</b>{warning}."


def write_summary(results: list[SubmissionResult], question_ids: list[str], path: Path, lang: str) -> None:
    """Write summary.html in `lang` atomically."""
    atomic_write_text(path, render_summary(results, question_ids, lang))


def write_tables(results: list[SubmissionResult], question_ids: list[str], out_dir: Path, lang: str) -> None:
    """grades.csv and summary.html (in `lang`) of a whole class, in `out_dir`."""
    write_grades_csv(results, question_ids, out_dir / "grades.csv")
    write_summary(results, question_ids, out_dir / "summary.html", lang)
