"""What every export reads: one StudentGrade per graded submission, and byte-stable edits of an LMS's CSV file.

The exports (export_moodle, export_canvas, export_nbgrader, gradescope) are pure functions over StudentGrade;
`grades_from_results` is the one place that reads a graded folder.

An LMS matches an uploaded sheet against the one it handed out, so a filled sheet must differ from the original
only in the cells the kit fills: `CsvSheet` parses with the csv module, remembers where each cell's text is, and
writes the original bytes back with just those cells replaced (same encoding and BOM, quoting, delimiter, line
endings and column order).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from assignkit.fileio import atomic_write_bytes
from assignkit.i18n import N_, gettext_for
from assignkit.report import STATUS_TEXT
from assignkit.results import ResultError, Status, SubmissionResult


@dataclass(frozen=True)
class CheckGrade:
    question: str
    name: str  # the check's name (its pytest function); never its source
    score: float
    max_score: float
    passed: bool
    message: str  # what the student reads when it failed


@dataclass(frozen=True)
class StudentGrade:
    student: str  # the id the LMS matches grades by (Moodle participant id, Canvas user id, nbgrader student id)
    name: str
    homework: str
    status: str  # graded, timeout, kernel_died, memory_exceeded, not_gradable
    score: float
    max_score: float
    question_scores: dict[str, tuple[float, float]]  # question id → (score, max_score), in the homework's order
    comment: str  # why the run stopped, if it did (in the language it was graded in)
    checks: tuple[CheckGrade, ...] = ()


# Outcomes of the student's own doing; anything else is the grader's failure and must never become a grade.


def grader_failed(grade: StudentGrade) -> bool:
    return grade.status == Status.GRADER_ERROR.value


class ExportError(ValueError):
    """The graded folder or the LMS file cannot be used; the message names the file and what is wrong."""


def grades_from_results(out_dir: Path) -> list[StudentGrade]:
    """Every result in `out_dir/results/*.json` (what `assignkit grade` writes), sorted by student id."""
    folder = Path(out_dir) / "results"
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise ExportError(f"{folder}: no results found; run `assignkit grade ... --out {out_dir}` first")
    try:
        return sorted((_grade_of(SubmissionResult.read(path)) for path in paths), key=lambda grade: grade.student)
    except ResultError as error:
        raise ExportError(str(error)) from None


def _grade_of(result: SubmissionResult) -> StudentGrade:
    return StudentGrade(
        student=result.student, name=result.name, homework=result.homework, status=result.status.value,
        score=result.score, max_score=result.max_score,
        question_scores={q.id: (q.score, q.max_score) for q in result.questions}, comment=result.reason,
        checks=tuple(CheckGrade(c.question, c.name, c.points, c.max_points, c.passed, c.message)
                     for c in result.checks))


def format_points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else "0"


def one_line_comment(grade: StudentGrade, lang: str) -> str:
    """The LMS's feedback comment in `lang`: total, points per question, and why the run stopped (if it did)."""
    _ = gettext_for(lang)
    parts = [_("autograded {score}/{max_score}").format(score=format_points(grade.score),
                                                         max_score=format_points(grade.max_score))]
    if grade.question_scores:
        parts.append(", ".join(f"{qid} {format_points(s)}/{format_points(m)}"
                               for qid, (s, m) in grade.question_scores.items()))
    if grade.status != "graded":
        label = _(STATUS_TEXT[grade.status][0]) if grade.status in STATUS_TEXT else grade.status
        parts.append(f"{label}: {grade.comment}" if grade.comment else label)
    return " ".join(" | ".join(parts).replace("—", "-").split())  # one line; CP949 (Korean Excel) has no em dash


def scaled(grade: StudentGrade, out_of: float) -> float:
    """The score on the LMS's scale (0 when the homework is worth nothing), rounded to 2 decimals."""
    if grade.max_score <= 0:
        return 0.0
    return round(grade.score / grade.max_score * out_of, 2)


# --- byte-stable CSV edits ---------------------------------------------------------------------------------------

_LINE_END = re.compile(r"\r\n|\n|\r")


@dataclass
class CsvSheet:
    """A CSV file as an LMS wrote it: its rows (parsed by the csv module) and where each cell's text is."""

    path: Path
    encoding: str  # "utf-8-sig" (with BOM), "utf-8" or "cp949" (a sheet Korean Excel saved again)
    text: str
    delimiter: str
    rows: list[list[str]]
    spans: list[list[tuple[int, int]]]  # (start, end) of each cell's raw text in `text`, quotes included
    edits: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) → new value

    @staticmethod
    def read(path: Path) -> "CsvSheet":
        data = Path(path).read_bytes()
        encoding, text = _decode(path, data)
        first_line = _LINE_END.split(text, maxsplit=1)[0]
        delimiter = max(",;\t", key=first_line.count)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        spans = _cell_spans(text, delimiter)
        values = [[_unquote(text[a:b]) for a, b in row] for row in spans]
        if values != rows:  # the scanner and the csv module must agree, or an edit could land in the wrong place
            raise ExportError(f"{path}: not a CSV file this tool can edit in place (unusual quoting)")
        return CsvSheet(Path(path), encoding, text, delimiter, rows, spans)

    def column(self, names: list[str], *, header_row: int = 0) -> int | None:
        """Index of the first column whose header is one of `names` (surrounding spaces ignored)."""
        headers = [h.strip() for h in self.rows[header_row]] if self.rows else []
        for name in names:
            if name in headers:
                return headers.index(name)
        return None

    def set(self, row: int, column: int, value: str) -> None:
        if column >= len(self.spans[row]):
            raise ExportError(f"{self.path}: row {row + 1} has no column {column + 1}")
        self.edits[(row, column)] = value

    def render(self) -> bytes:
        pieces, position = [], 0
        for (row, column), value in sorted(self.edits.items(), key=lambda item: self.spans[item[0][0]][item[0][1]]):
            start, end = self.spans[row][column]
            pieces += [self.text[position:start], self._quote(value, self.text[start:end].startswith('"'))]
            position = end
        pieces.append(self.text[position:])
        out = "".join(pieces)
        try:
            return out.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise ExportError(f"{self.path}: a filled cell cannot be written in the file's encoding "
                              f"{self.encoding}: {error.object[error.start:error.end]!r}") from None

    def write(self, out: Path) -> None:
        atomic_write_bytes(Path(out), self.render())

    def _quote(self, value: str, quoted: bool) -> str:
        needs = quoted or any(c in value for c in (self.delimiter, '"', "\n", "\r")) or value != value.strip()
        return '"' + value.replace('"', '""') + '"' if needs else value


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data.decode("utf-8-sig")
    for encoding in ("utf-8", "cp949"):
        try:
            return encoding, data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExportError(f"{path}: neither UTF-8 nor CP949 text")


_CELL = re.compile(r'"(?:[^"]|"")*"|[^"\r\n]*?(?=[{d}\r\n]|$)')


def _cell_spans(text: str, delimiter: str) -> list[list[tuple[int, int]]]:
    """Where each cell of each record is: RFC 4180 (quoted cells may hold delimiters, quotes and newlines)."""
    cell = re.compile(_CELL.pattern.replace("{d}", re.escape(delimiter)))
    records, row, position = [], [], 0
    while position < len(text):
        match = cell.match(text, position)
        row.append((match.start(), match.end()))
        position = match.end()
        if text.startswith(delimiter, position):
            position += len(delimiter)
            continue
        line_end = _LINE_END.match(text, position)
        if line_end is None and position < len(text):
            raise ExportError(f"unexpected text after a quoted cell at character {position}")
        records.append([] if row == [(row[0][0], row[0][0])] else row)  # csv reads a blank line as []
        row = []
        position = line_end.end() if line_end else position
    return records


def _unquote(raw: str) -> str:
    return raw[1:-1].replace('""', '"') if raw.startswith('"') else raw
