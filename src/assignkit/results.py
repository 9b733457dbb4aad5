"""The result of grading one submission: typed, versioned, and the only thing CSV, feedback, summary, validate
and merge read.

`results/<student>.json` is `SubmissionResult.to_json()`; `from_json` reads it back to an equal object and refuses
a file written with another schema version, naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


class Status(str, Enum):
    GRADED = "graded"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    MEMORY_EXCEEDED = "memory_exceeded"
    NOT_GRADABLE = "not_gradable"  # the student's doing
    GRADER_ERROR = "grader_error"  # the grader's or the machine's doing: never charged, regraded on the next run

    def __str__(self) -> str:
        return self.value


STOPPED = (Status.TIMEOUT, Status.KERNEL_DIED, Status.MEMORY_EXCEEDED)


class ResultError(ValueError):
    """A results file cannot be read as a result of this version; the message names the file."""


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    harvested: bool  # its cells ran to the end and what its checks need was collected
    score: float
    max_score: float


@dataclass(frozen=True)
class Check:
    question: str
    name: str
    points: float  # points earned: `max_points` when passed, else 0
    max_points: float
    passed: bool
    message: str


@dataclass(frozen=True)
class Figure:
    """A picture a check attached: a `curve` (x, series, scatter) or a `heatmap` (x1, x2, z)."""

    question: str
    check: str
    kind: str
    title: str
    x: list | None = None
    series: dict[str, list] | None = None
    scatter: list | None = None
    x1: list | None = None
    x2: list | None = None
    z: list | None = None


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    homework: str
    origin: str  # where the submission came from, for messages
    status: Status
    reason: str  # why the run stopped or could not start; "" when graded
    score: float
    max_score: float
    seconds: float
    fingerprint: str  # of the submission's bytes and the homework: same fingerprint, same result
    homework_fingerprint: str  # of the checks, the release and the grader alone: merge compares it
    questions: tuple[Question, ...]
    checks: tuple[Check, ...]
    figures: tuple[Figure, ...]
    sandbox: str  # the isolation mode the run was graded in
    name: str = ""  # the student's name, when the LMS gave one
    late: bool = False
    notes: tuple[str, ...] = ()  # remarks about this row a TA or the student should see
    executor: str = ""  # what ran the notebook: fork or kernel ("" in results written before it was recorded)
    schema_version: int = field(default=SCHEMA_VERSION)

    def question_scores(self) -> dict[str, float]:
        return {q.id: q.score for q in self.questions}

    def to_json(self) -> str:
        return json.dumps(_plain(self), ensure_ascii=False, indent=1)

    @staticmethod
    def from_json(text: str, source: str | Path) -> "SubmissionResult":
        """The result in `text`, read from `source` (named in errors)."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ResultError(f"{source}: not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise ResultError(f"{source}: not a result (a JSON object was expected)")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultError(f"{source}: results schema version {version!r}; this assignkit reads version "
                              f"{SCHEMA_VERSION} (regrade with this version, or use the assignkit that wrote it)")
        try:
            return SubmissionResult(
                **{**data, "status": Status(data["status"]),
                   "questions": tuple(Question(**q) for q in data["questions"]),
                   "checks": tuple(Check(**c) for c in data["checks"]),
                   "figures": tuple(Figure(**f) for f in data["figures"]),
                   "notes": tuple(data["notes"])})
        except (KeyError, TypeError, ValueError) as error:
            raise ResultError(f"{source}: not a complete result ({type(error).__name__}: {error})") from None

    @staticmethod
    def read(path: Path) -> "SubmissionResult":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ResultError(f"{path}: cannot be read ({error})") from None
        return SubmissionResult.from_json(text, path)


def _plain(value: Any) -> Any:
    """JSON-ready form: dataclasses as objects (fields in order), tuples as lists, the status as its string."""
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
