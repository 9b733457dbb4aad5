"""Grades table, per-student feedback pages and the class summary, built from per-student result dicts.

A result dict is what the grader writes to `results/<student>.json` (keys: student, homework, status, reason,
score, max_score, seconds, questions, checks, figures). Everything here only reads those dicts; every string that
came from a result is HTML-escaped, and a feedback page shows nothing of a check but its name and its message.
Pictures are drawn with matplotlib's Agg canvas on standalone `Figure` objects (never pyplot), so nothing stays
registered after a page is rendered, however many pages a batch makes.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import math
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from assignkit.fileio import atomic_write_text

STATUSES = ("graded", "timeout", "kernel_died", "memory_exceeded", "not_gradable")
STOPPED_STATUSES = ("timeout", "kernel_died", "memory_exceeded")

FIG_SIZE = (6.0, 3.5)  # inches
FIG_DPI = 90
SLOWEST_COUNT = 10

_KEEP_EARLIER = ("Questions that finished before that keep their points; the questions after it score 0.")
STATUS_TEXT = {
    "graded": ("Graded", "Your notebook ran to the end and every question was checked."),
    "timeout": ("Time limit reached",
                "A cell ran longer than the time limit, so the run was stopped at that cell. " + _KEEP_EARLIER),
    "kernel_died": ("Notebook stopped",
                    "Python stopped while running your notebook (for example a crash, a segmentation fault or os._exit()). "
                    + _KEEP_EARLIER),
    "memory_exceeded": ("Memory limit reached",
                        "Your notebook used more memory than allowed, so the run was stopped. " + _KEEP_EARLIER),
    "not_gradable": ("Not gradable", "This submission could not be graded, so it scores 0."),
}

# Fonts with Hangul, tried after DejaVu Sans for legend labels in the pictures (when installed).
_CJK_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR", "NanumGothic", "NanumBarunGothic",
              "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic", "UnDotum", "Baekmuk Gulim",
              "Noto Sans CJK JP", "Noto Sans CJK SC", "Droid Sans Fallback", "WenQuanYi Zen Hei")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",
"Noto Sans CJK KR",NanumGothic,sans-serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem;color:#222;
line-height:1.45}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:0 0 .4rem}
.muted{color:#666}.total{font-size:1.3rem}
.status{border-left:4px solid #888;background:#f5f5f5;padding:.5rem .8rem;margin:.8rem 0}
.status-graded{border-color:#2a8a3e}.status-timeout,.status-memory_exceeded{border-color:#c77c00}
.status-kernel_died,.status-not_gradable{border-color:#b3261e}
section{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.pts{float:right;font-weight:normal}.full{color:#2a8a3e}.partial{color:#c77c00}.zero{color:#b3261e}
.msg{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;background:#fff4f3;
padding:.3rem .5rem;margin:.2rem 0 .6rem;border-radius:4px}
.failed{list-style:none;padding:0}.failed b{color:#b3261e}
figure{margin:.6rem 0}figcaption{font-size:.9rem;color:#444}img{max-width:100%}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:1.2rem;height:.25rem;
vertical-align:middle;margin-right:.3rem}
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


def _float(value: Any) -> float:
    """A number from a result, or 0.0 when missing or not a finite number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if math.isfinite(x) else 0.0


def _student(result: dict) -> str:
    return str(result.get("student", ""))


def _question_scores(result: dict) -> dict[str, float]:
    return {str(q.get("id")): _float(q.get("score")) for q in result.get("questions") or []}


def feedback_href(student: str) -> str:
    """Relative URL of a student's feedback page from summary.html: `feedback/<student>.html`, percent-encoded."""
    return "feedback/" + quote(f"{student}.html", safe="")


# ---------------------------------------------------------------- grades.csv


def grades_rows(results: list[dict], question_ids: list[str]) -> list[list[str]]:
    """Header plus one row per result, sorted by student, numbers formatted as in grades.csv."""
    rows = [["student", "status", "score", "max_score", *question_ids, "seconds"]]
    for result in sorted(results, key=_student):
        scores = _question_scores(result)
        rows.append([_student(result), str(result.get("status", "")),
                     format_number(_float(result.get("score"))), format_number(_float(result.get("max_score"))),
                     *(format_number(scores.get(qid, 0.0)) for qid in question_ids),
                     format_seconds(result.get("seconds"))])
    return rows


def write_grades_csv(results: list[dict], question_ids: list[str], path: Path) -> None:
    """Write grades.csv (`student, status, score, max_score, <question ids>, seconds`) atomically, UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(grades_rows(results, question_ids))
    atomic_write_text(path, buffer.getvalue())


# ---------------------------------------------------------------- pictures


@functools.cache
def _font_family() -> tuple[str, ...]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in _CJK_FONTS if name in installed))


def _has_cjk_font() -> bool:
    return len(_font_family()) > 1


def _render_png(draw: Callable[[Figure], None]) -> str:
    """Draw on a fresh Agg figure and return it as a `data:image/png;base64,...` URI; the figure is cleared."""
    with rc_context({"font.family": list(_font_family()), "font.size": 9}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from")
        fig = Figure(figsize=FIG_SIZE, dpi=FIG_DPI, layout="constrained")
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


def _draw_curve(fig: Figure, figure: dict) -> None:
    ax = fig.add_subplot()
    x = _array(figure.get("x"), 1)
    scatter = figure.get("scatter")
    if scatter:
        sx, sy = _array(scatter[0], 1), _array(scatter[1], 1)
        if sx.shape != sy.shape:
            raise ValueError("scatter x and y differ in length")
        ax.scatter(sx, sy, s=6, alpha=0.3, color="0.35", linewidths=0, label="data", zorder=1)
    for name, ys in (figure.get("series") or {}).items():
        y = _array(ys, 1)
        if y.shape != x.shape:
            raise ValueError(f"series {name!r} has {len(y)} points for {len(x)} x values")
        ax.plot(x, y, linewidth=1.6, label=str(name), zorder=2)
    if ax.get_legend_handles_labels()[0] and not _needs_html_legend(figure):
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.grid(alpha=0.25)


def _draw_heatmap(fig: Figure, figure: dict) -> None:
    ax = fig.add_subplot()
    x1, x2 = _array(figure.get("x1"), 1), _array(figure.get("x2"), 1)
    z = _array(figure.get("z"), 2)
    if z.shape != (len(x2), len(x1)):
        raise ValueError(f"z has shape {z.shape}; expected ({len(x2)}, {len(x1)}) for x2 by x1")
    mesh = ax.pcolormesh(x1, x2, z, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


_DRAW = {"curve": _draw_curve, "heatmap": _draw_heatmap}


def _needs_html_legend(figure: dict) -> bool:
    """True when a curve's series names hold characters (Hangul, CJK) no installed plotting font can draw."""
    names = [str(n) for n in (figure.get("series") or {})]
    return (figure.get("kind") == "curve" and not _has_cjk_font()
            and any(ord(ch) >= 0x1100 for name in names for ch in name))


def _html_legend(figure: dict) -> str:
    """The curve's legend as HTML under the picture, in the default colour cycle's plotting order."""
    names = [str(n) for n in (figure.get("series") or {})]
    items = [f'<span><i style="background:{to_hex(f"C{i % 10}")}"></i>{escape(n)}</span>' for i, n in enumerate(names)]
    if figure.get("scatter"):
        items.append('<span><i style="background:#595959;height:.4rem;width:.4rem;border-radius:50%"></i>data</span>')
    return f'<div class="legend">{"".join(items)}</div>'


def render_figure(figure: dict) -> str:
    """One picture as an HTML <figure> with an embedded PNG; a note instead if it cannot be drawn."""
    title = escape(str(figure.get("title") or ""))
    draw = _DRAW.get(str(figure.get("kind")))
    try:
        if draw is None:
            raise ValueError("unknown kind")
        uri = _render_png(lambda fig: draw(fig, figure))
    except Exception:  # one bad picture must not cost the page
        note = '<span class="muted">(picture could not be drawn)</span>'
        return f"<figure><figcaption>{title} {note}</figcaption></figure>"
    alt = title or "plot"
    return (f'<figure><img src="{uri}" alt="{alt}" width="{int(FIG_SIZE[0] * FIG_DPI)}">'
            f"{_html_legend(figure) if _needs_html_legend(figure) else ''}<figcaption>{title}</figcaption></figure>")


# ---------------------------------------------------------------- feedback page


def _page(title: str, body: str) -> str:
    return ('<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _points_class(score: float, max_score: float) -> str:
    if max_score > 0 and score >= max_score:
        return "full"
    return "partial" if score > 0 else "zero"


def _status_html(result: dict) -> str:
    status = str(result.get("status", ""))
    label, text = STATUS_TEXT.get(status, (status, ""))
    parts = [f"<b>{escape(label)}.</b> {escape(text)}"]
    if result.get("reason"):
        parts.append(f"<br>Details: {escape(str(result['reason']))}")
    if status in STOPPED_STATUSES:
        lost = [str(q.get("title") or q.get("id")) for q in result.get("questions") or []
                if not q.get("harvested", True)]
        if lost:
            parts.append("<br>Scored 0 because the run stopped before them: " + escape(", ".join(lost)) + ".")
    return f'<div class="status status-{escape(status)}">{"".join(parts)}</div>'


def _checks_html(checks: list[dict]) -> str:
    failed = [c for c in checks if not c.get("passed")]
    passed = [c for c in checks if c.get("passed")]
    html = ""
    if failed:
        items = "".join(
            f'<li><b>✗ {escape(str(c.get("name", "")))}</b> <span class="muted">'
            f'({format_number(_float(c.get("points")))} / {format_number(_float(c.get("max")))})</span>'
            f'<div class="msg">{escape(str(c.get("message") or "(no message)"))}</div></li>'
            for c in failed)
        html += f'<ul class="failed">{items}</ul>'
    if passed:
        names = ", ".join(escape(str(c.get("name", ""))) for c in passed)
        html += f'<p class="passed"><span class="full">✓ Passed:</span> {names}</p>'
    return html


def _question_html(question: dict, checks: list[dict], figures: list[dict]) -> str:
    qid, title = str(question.get("id", "")), str(question.get("title") or question.get("id", ""))
    score, max_score = _float(question.get("score")), _float(question.get("max_score"))
    shown_id = f' <span class="muted">({escape(qid)})</span>' if qid and qid != title else ""
    head = (f'<h2>{escape(title)}{shown_id} <span class="pts '
            f'{_points_class(score, max_score)}">{format_number(score)} / {format_number(max_score)}</span></h2>')
    body = _checks_html(checks)
    if not checks:
        body = ('<p class="muted">Not checked: the run stopped before this question.</p>'
                if not question.get("harvested", True) else '<p class="muted">No checks recorded.</p>')
    return f"<section>{head}{body}{''.join(render_figure(f) for f in figures)}</section>"


def render_feedback(result: dict) -> str:
    """The student's feedback page: total, status in plain words, and per question its points, the message of
    every failed check, the names of passed checks, and its pictures. Self-contained HTML (UTF-8, inline CSS)."""
    student, homework = str(result.get("student", "")), str(result.get("homework", ""))
    questions = list(result.get("questions") or [])
    checks, figures = list(result.get("checks") or []), list(result.get("figures") or [])
    known = {str(q.get("id")) for q in questions}
    sections = [_question_html(q, [c for c in checks if str(c.get("question")) == str(q.get("id"))],
                               [f for f in figures if str(f.get("question")) == str(q.get("id"))])
                for q in questions]
    other_checks = [c for c in checks if str(c.get("question")) not in known]
    other_figures = [f for f in figures if str(f.get("question")) not in known]
    if other_checks or other_figures:
        sections.append(_question_html({"id": "", "title": "Other checks"}, other_checks, other_figures))
    score, max_score = _float(result.get("score")), _float(result.get("max_score"))
    header = (f'<header><h1>{escape(homework)}</h1><p>Student: <b>{escape(student)}</b></p>'
              f'<p class="total">Score: <b class="{_points_class(score, max_score)}">{format_number(score)}</b>'
              f" / {format_number(max_score)}</p>{_status_html(result)}</header>")
    return _page(f"{escape(homework)}: {escape(student)}", header + "\n" + "\n".join(sections))


def write_feedback(result: dict, path: Path) -> None:
    """Write the student's feedback page atomically."""
    atomic_write_text(path, render_feedback(result))


# ---------------------------------------------------------------- class summary


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Collection[int] = ()) -> str:
    """An HTML table from already-escaped cells; columns in `numeric` are right-aligned."""
    def cells(tag: str, values: Iterable[str]) -> str:
        return "".join(f'<{tag}{" class=n" if i in numeric else ""}>{v}</{tag}>' for i, v in enumerate(values))

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', headers)}</tr></thead><tbody>{body}</tbody></table>"


def _status_counts_html(results: list[dict]) -> str:
    counts = Counter(str(r.get("status", "")) for r in results)
    statuses = [*STATUSES, *sorted(s for s in counts if s not in STATUSES)]
    rows = [[escape(s), str(counts.get(s, 0))] for s in statuses]
    rows.append(["<b>total</b>", f"<b>{len(results)}</b>"])
    return _table(["status", "submissions"], rows, numeric={1})


def _histogram_html(results: list[dict]) -> str:
    scores = [_float(r.get("score")) for r in results]
    top = max([_float(r.get("max_score")) for r in results] + scores + [1.0])

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.hist(scores, bins=np.linspace(0.0, top, 21), color="#4c72b0", edgecolor="white")
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    return (f'<figure><img src="{_render_png(draw)}" alt="score histogram" width="{int(FIG_SIZE[0] * FIG_DPI)}">'
            "<figcaption>Scores of all submissions</figcaption></figure>")


def _question_stats_html(results: list[dict], question_ids: list[str]) -> str:
    rows = []
    for qid in question_ids:
        records = [q for r in results for q in r.get("questions") or [] if str(q.get("id")) == qid]
        title = next((str(q.get("title")) for q in records if q.get("title")), qid)
        max_score = max((_float(q.get("max_score")) for q in records), default=0.0)
        scores = [_question_scores(r).get(qid, 0.0) for r in results]
        checks = [c for r in results for c in r.get("checks") or [] if str(c.get("question")) == qid]
        mean = sum(scores) / len(scores) if scores else 0.0
        full = sum(1 for s in scores if max_score > 0 and s >= max_score) / len(scores) if scores else 0.0
        passed = sum(1 for c in checks if c.get("passed")) / len(checks) if checks else 0.0
        rows.append([escape(qid), escape(title), format_number(max_score), format_number(mean),
                     f"{full:.0%}", f"{passed:.0%}" if checks else "–"])
    return _table(["question", "title", "max", "mean score", "full marks", "checks passed"], rows,
                  numeric={2, 3, 4, 5})


def _slowest_html(results: list[dict]) -> str:
    slowest = sorted(results, key=lambda r: (-_float(r.get("seconds")), _student(r)))[:SLOWEST_COUNT]
    rows = [[escape(_student(r)), format_seconds(r.get("seconds")), escape(str(r.get("status", "")))]
            for r in slowest]
    return _table(["student", "seconds", "status"], rows, numeric={1})


def _students_html(results: list[dict]) -> str:
    rows = [[f'<a href="{escape(feedback_href(_student(r)))}">{escape(_student(r))}</a>',
             escape(str(r.get("status", ""))), format_number(_float(r.get("score"))),
             format_number(_float(r.get("max_score"))), format_seconds(r.get("seconds")),
             escape(str(r.get("reason") or ""))]
            for r in sorted(results, key=_student)]
    return _table(["student", "status", "score", "max", "seconds", "reason"], rows, numeric={2, 3, 4})


def render_summary(results: list[dict], question_ids: list[str]) -> str:
    """The class summary page: submissions per status, score histogram, mean score and pass rates per question
    (over all submissions; a question missing from a result counts as 0), the slowest submissions, and every
    student linked to `feedback/<student>.html`."""
    homeworks = sorted({str(r.get("homework", "")) for r in results if r.get("homework")})
    title = escape(", ".join(homeworks) or "assignkit")
    body = "\n".join([
        f"<h1>{title}: class summary</h1>",
        f'<p class="muted">{len(results)} submissions.</p>',
        "<h2>Status</h2>", _status_counts_html(results),
        "<h2>Scores</h2>", _histogram_html(results),
        "<h2>Questions</h2>",
        '<p class="muted">Mean score and share of submissions with full marks, over all submissions; '
        "checks passed over all checks run for the question.</p>",
        _question_stats_html(results, question_ids),
        f"<h2>Slowest {SLOWEST_COUNT}</h2>", _slowest_html(results),
        "<h2>Students</h2>", _students_html(results),
    ])
    return _page(f"{title}: class summary", body)


def write_summary(results: list[dict], question_ids: list[str], path: Path) -> None:
    """Write summary.html atomically."""
    atomic_write_text(path, render_summary(results, question_ids))
