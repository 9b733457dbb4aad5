"""A graded folder as `assignkit grade` writes it (results/<student>.json), for the export tests."""

from __future__ import annotations

from pathlib import Path

from assignkit.fileio import atomic_write_text
from assignkit.results import Question, Status, SubmissionResult

QUESTIONS = {"q1_limit": 5.0, "q2_kink_by_hand": 5.0}


def write_result(out_dir: Path, student: str, scores: dict[str, float], status: str = "graded",
                 reason: str = "", homework: str = "hw2_dnn",
                 points: dict[str, float] = QUESTIONS) -> SubmissionResult:
    questions = tuple(Question(qid, qid, True, float(scores.get(qid, 0.0)), max_score)
                      for qid, max_score in points.items())
    result = SubmissionResult(
        student=student, homework=homework, origin=f"{student}.ipynb", status=Status(status), reason=reason,
        score=sum(q.score for q in questions), max_score=sum(points.values()), seconds=1.0, fingerprint="x",
        homework_fingerprint="x", questions=questions, checks=(), figures=(), sandbox="root")
    atomic_write_text(out_dir / "results" / f"{student}.json", result.to_json())
    return result
