"""One grades.csv and summary.html from the results of several shards or machines.

Reads `results/*.json` and `shards/*.json` under each folder. Refuses results graded with different checks,
releases or graders (their homework fingerprints differ), or of different homeworks, naming them; lists every
student a shard was given but who has no result. Writes nothing then. The files it writes depend only on the
results, so merging twice gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assignkit.fileio import atomic_write_bytes, atomic_write_text
from assignkit.report import write_tables
from assignkit.results import ResultError, SubmissionResult
from assignkit.shards import Manifest, ShardError, manifests_folder


class MergeError(ValueError):
    """The results cannot be merged; the message names what and where."""


@dataclass(frozen=True)
class Found:
    result: SubmissionResult
    folder: Path  # the --out folder it was found in


@dataclass(frozen=True)
class Merged:
    results: list[SubmissionResult]  # sorted by student
    question_ids: list[str]
    missing: list[str]  # expected by a shard, without a result: nothing was written


def merge(folders: list[Path], out_dir: Path, lang: str) -> Merged:
    """Rebuild `out_dir`/grades.csv and summary.html (in `lang`) from every result under `folders`; results,
    feedback pages and executed notebooks found in other folders are copied into `out_dir`."""
    found = _read_results(folders)
    _refuse_mixed(found)
    expected = _expected_students(folders)
    missing = sorted(expected - {f.result.student for f in found})
    results = [f.result for f in found]
    question_ids = [q.id for q in results[0].questions] if results else []
    if missing:
        return Merged(results, question_ids, missing)
    if not results:
        raise MergeError(f"no results found in {', '.join(str(f / 'results') for f in folders)}")
    out_dir = out_dir.resolve()
    for item in found:
        if item.folder != out_dir:
            _copy_student_files(item, out_dir)
    write_tables(results, question_ids, out_dir, lang)
    return Merged(results, question_ids, [])


def _read_results(folders: list[Path]) -> list[Found]:
    by_student: dict[str, Found] = {}
    duplicates = []
    for folder in folders:
        folder = folder.resolve()
        for path in sorted((folder / "results").glob("*.json")):
            try:
                result = SubmissionResult.read(path)
            except ResultError as error:
                raise MergeError(str(error)) from None
            first = by_student.setdefault(result.student, Found(result, folder))
            if first.folder != folder and first.result != result:
                duplicates.append(f"{result.student} in {first.folder} and {folder}")
    if duplicates:
        raise MergeError("different results for the same student: " + "; ".join(duplicates))
    return sorted(by_student.values(), key=lambda f: f.result.student)


def _refuse_mixed(found: list[Found]) -> None:
    """All results of one homework graded with the same checks, release and grader."""
    groups: dict[tuple[str, str], list[str]] = {}
    for item in found:
        groups.setdefault((item.result.homework, item.result.homework_fingerprint), []).append(item.result.student)
    if len(groups) > 1:
        described = "; ".join(f"{homework} fingerprint {fingerprint[:12]}: {_few(students)}"
                              for (homework, fingerprint), students in sorted(groups.items()))
        raise MergeError("the results were graded with different homeworks, checks, releases or graders, so they "
                         f"cannot be merged (regrade the older ones): {described}")


def _few(students: list[str], shown: int = 10) -> str:
    more = f" and {len(students) - shown} more" if len(students) > shown else ""
    return ", ".join(students[:shown]) + more


def _expected_students(folders: list[Path]) -> set[str]:
    expected: set[str] = set()
    for folder in folders:
        for path in sorted(manifests_folder(folder.resolve()).glob("*.json")):
            try:
                expected.update(Manifest.read(path).students)
            except ShardError as error:
                raise MergeError(str(error)) from None
    return expected


def _copy_student_files(item: Found, out_dir: Path) -> None:
    student = item.result.student
    atomic_write_text(out_dir / "results" / f"{student}.json", item.result.to_json())
    for part, suffix in (("feedback", ".html"), ("executed", ".ipynb")):
        source = item.folder / part / f"{student}{suffix}"
        if source.is_file():
            atomic_write_bytes(out_dir / part / f"{student}{suffix}", source.read_bytes())
