"""The contract between a homework's notebook, its questions.toml and its checks (docs/checks.md), checked before
anything is graded. Each problem names the file and the line (or the notebook cell) to fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from assignkit.checks import ChecksError, MarkedCheck, marked_checks
from assignkit.harvest import Question, QuestionsError, load_questions, toml_line
from assignkit.layout import Course

# A file the notebook reads: a bare file name in quotes, e.g. pd.read_csv("toy.csv").
DATA_FILE = re.compile(r"""["']([\w.-]+\.(?:csv|tsv|json|txt|npy|npz|pt|parquet))["']""")
# A total the notebook states in a markdown cell: "총점 30점" or "30 points in total".
STATED_TOTAL = re.compile(r"총점\s*(\d+(?:\.\d+)?)\s*점|(\d+(?:\.\d+)?)\s*points in total", re.IGNORECASE)


@dataclass(frozen=True)
class ContractProblem:
    where: str  # "autograder/hw3/questions.toml:12" or "release/hw3/hw3.ipynb, cell q1_answer, line 3"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ContractError(QuestionsError):
    """A homework breaks its contract; the grader refuses to grade it."""

    def __init__(self, homework: str, problems: list[ContractProblem]):
        self.problems = problems
        super().__init__(f"{homework} breaks its contract (docs/checks.md):\n" + "\n".join(f"  {p}" for p in problems))


def check_contract(course: Course, homework: str) -> list[ContractProblem]:
    """Every problem of the homework's contract, or [] when it holds."""
    problems, _ = _inspect(course, homework)
    return problems


def require_contract(course: Course, homework: str) -> list[MarkedCheck]:
    """The homework's hidden checks, collected once; ContractError when its contract does not hold."""
    problems, checks = _inspect(course, homework)
    if problems:
        raise ContractError(homework, problems)
    return checks


def _inspect(course: Course, homework: str) -> tuple[list[ContractProblem], list[MarkedCheck]]:
    toml = course.autograder_folder(homework) / "questions.toml"
    notebook_path = course.release_notebook(homework)
    try:
        questions = load_questions(course.autograder_folder(homework))
    except QuestionsError as error:
        where, _, message = str(error).replace(str(toml), _short(course, toml)).partition(": ")
        return [ContractProblem(where, message)], []
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError) as error:
        return [ContractProblem(_short(course, notebook_path), f"cannot be read ({error}): run `assignkit release`")], []
    try:
        checks = marked_checks(course.autograder_folder(homework))
    except ChecksError as error:
        return [ContractProblem(_short(course, course.autograder_folder(homework)), str(error))], []
    problems = [*_after_cells(course, questions, notebook, toml),
                *_markers(course, questions, checks),
                *_points(course, homework, questions, checks, notebook),
                *_data_files(course, homework, notebook)]
    return problems, checks


def _short(course: Course, path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(course.root)) if path.is_relative_to(course.root) else str(path)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _after_cells(course: Course, questions: list[Question], notebook, toml: Path) -> list[ContractProblem]:
    """Each question's `after` names a code cell of the release notebook (else its harvest would run last)."""
    text = toml.read_text()
    code_cells = {_grade_id(cell) for cell in notebook.cells if cell.cell_type == "code"}
    problems = []
    for question in questions:
        if question.after not in code_cells:
            line = toml_line(text, "after", question.after, question.line) or question.line
            problems.append(ContractProblem(
                f"{_short(course, toml)}:{line}",
                f"question {question.id}: after = {question.after!r} names no code cell of the release notebook "
                f"(give the grade_id of the question's last cell, by default {question.id}_form)"))
    return problems


def _markers(course: Course, questions: list[Question], checks) -> list[ContractProblem]:
    """Every check is marked with a question of questions.toml, and every question has a check."""
    ids = {q.id for q in questions}
    problems = []
    for check in checks:
        where = f"{_short(course, check.path)}:{check.line}"
        if check.question is None:
            problems.append(ContractProblem(where, f"{check.name} has no @pytest.mark.check(question, points=...)"))
        elif check.question not in ids:
            problems.append(ContractProblem(where, f"{check.name} is marked for question {check.question!r}, which "
                                                   f"questions.toml does not have (it has {', '.join(sorted(ids))})"))
    checked = {check.question for check in checks}
    for question in questions:
        if question.id not in checked:
            problems.append(ContractProblem(f"{_short(course, question.folder / 'questions.toml')}:{question.line}",
                                            f"question {question.id} has no check: it could never score"))
    return problems


def _points(course: Course, homework: str, questions: list[Question], checks, notebook) -> list[ContractProblem]:
    """What questions.toml (per question) and the notebook (in total) state the points are, the checks give."""
    given: dict[str, float] = {}
    for check in checks:
        if check.question is not None:
            given[check.question] = given.get(check.question, 0.0) + check.points
    toml = course.autograder_folder(homework) / "questions.toml"
    problems = []
    for question in questions:
        if question.points is not None and question.points != given.get(question.id, 0.0):
            problems.append(ContractProblem(
                f"{_short(course, toml)}:{question.line}",
                f"question {question.id} states points = {question.points:g}, but its checks give "
                f"{given.get(question.id, 0.0):g}"))
    total = sum(given.get(q.id, 0.0) for q in questions)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for line_number, line in enumerate(cell.source.splitlines(), start=1):
            for match in STATED_TOTAL.finditer(line):
                stated = float(match.group(1) or match.group(2))
                if stated != total:
                    problems.append(ContractProblem(
                        f"{_short(course, course.release_notebook(homework))}, cell {_grade_id(cell) or index + 1}, "
                        f"line {line_number}",
                        f"the notebook states {stated:g} points in total; the checks give {total:g}"))
    return problems


def _data_files(course: Course, homework: str, notebook) -> list[ContractProblem]:
    """Every file the notebook's code names by bare file name is in the release folder beside it."""
    folder = course.release_folder(homework)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for line_number, line in enumerate(cell.source.splitlines(), start=1):
            for name in DATA_FILE.findall(line.split("#", 1)[0]):
                if not (folder / name).is_file():
                    problems.append(ContractProblem(
                        f"{_short(course, course.release_notebook(homework))}, cell {_grade_id(cell) or index + 1}, "
                        f"line {line_number}",
                        f"reads {name}, which is not in {_short(course, folder)}: add it to source/{homework}/ "
                        "(a symlink into data/, written by autograder/<hw>/data.py) and run `assignkit release`"))
    return problems
