"""Grade a batch of submissions: preflight → sandboxed run with harvest → hidden checks → one row each.

Every submission gets exactly one row whatever it contains. Rows are written as they finish, so an
interrupted run keeps every finished one, and a rerun skips what was already graded with the same notebook
and the same checks.
"""

from __future__ import annotations

import concurrent.futures
from concurrent.futures.process import BrokenProcessPool
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import nbformat

from assignkit import poolserver, report
from assignkit.checks import CheckResult, ReferenceCache, points_by_question, run_checks
from assignkit.contract import require_contract
from assignkit.execute import Execution, ExecutorFactory, Isolation, Job, Limits, choose_executor
from assignkit.fileio import atomic_write_text
from assignkit.i18n import N_, gettext_for
from assignkit.harvest import Question as HomeworkQuestion, load_questions
from assignkit.layout import Course
from assignkit.preflight import MATCHED_BY_CONTENT_NOTE, NotGradable, prepare_submission, unanswered_questions
from assignkit.results import Check, Figure, Question, ResultError, Status, SubmissionResult
from assignkit.sandbox import NONE, Sandbox, choose_mode, describe, open_sandbox
from assignkit.shards import Manifest, Shard
from assignkit.submissions import Submission, collect

SYSTEM_FOLDERS = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "sys", "dev"}
GRADER_ERROR_REASON = N_("The grader failed on this submission (not the student's doing); it is graded again on the "
                         "next run. Error: {error}")


@dataclass(frozen=True)
class Homework:
    """Everything about one homework a worker needs to grade a submission of it."""

    name: str
    questions: list[HomeworkQuestion]
    release_folder: Path
    release_notebook: nbformat.NotebookNode  # what preflight restores locked and test cells from
    autograder_folder: Path
    points: dict[str, float]  # what each question is worth
    fingerprint: str  # changes whenever the checks, the release, the grader or the language change
    lang: str  # of the reasons and check messages written into its results

    @staticmethod
    def load(course: Course, name: str, lang: str) -> "Homework":
        points = points_by_question(require_contract(course, name))  # the contract: every check names a question
        autograder = course.autograder_folder(name)
        questions = load_questions(autograder)
        release_notebook = nbformat.read(course.release_notebook(name), as_version=4)
        folders = _fingerprint([autograder, course.release_folder(name), Path(__file__).parent])
        return Homework(name, questions, course.release_folder(name), release_notebook, autograder, points,
                        hashlib.sha256(f"{folders}\0{lang}".encode()).hexdigest(), lang)


@dataclass(frozen=True)
class Settings:
    limits: Limits
    jobs: int
    run_root: Path  # private scratch folder of this run
    sandbox: Sandbox  # this run's: its mode, its users and cgroups, the folders its kernels must not see
    executor: ExecutorFactory  # what runs each notebook (warmed up once per worker)


def _fingerprint(folders: list[Path]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def submission_fingerprint(homework: Homework, submission: Submission) -> str:
    return hashlib.sha256(homework.fingerprint.encode() + submission.content).hexdigest()


# --- one submission, in a worker process -------------------------------------------------------------------

def _init_worker(executor: ExecutorFactory) -> None:
    poolserver.die_with_parent()  # with the forkserver, which dies with the command (forkserver_tether)
    executor.warm()


@dataclass(frozen=True)
class Graded:
    """What a worker sends back: the result, and the notebook as it ran when it ran."""

    result: SubmissionResult
    executed: str | None = None


@dataclass(frozen=True)
class Ran:
    """A submission whose notebook has run (the first step): what the checks (the second step) need. Its
    artifacts are in `scratch`, which the second step removes."""

    submission: Submission
    started: float  # time.monotonic() when its grading began
    scratch: Path
    artifacts_dir: Path  # inside scratch
    execution: Execution  # without the notebook: that is `executed`
    executed: str | None  # the notebook as it ran
    unanswered: frozenset[str]
    notes: tuple[str, ...]


def grade_one(homework: Homework, submission: Submission, settings: Settings) -> Graded:
    """The result of one submission, both steps one after the other. Never raises for anything a student did."""
    ran = run_one(homework, submission, settings)
    return ran if isinstance(ran, Graded) else check_one(homework, ran, settings)


def run_one(homework: Homework, submission: Submission, settings: Settings) -> Ran | Graded:
    """The first step: the notebook run in the sandbox with its answers harvested; the row itself when the
    notebook cannot be graded."""
    started = time.monotonic()
    try:
        prepared = prepare_submission(submission, homework.release_notebook, homework.name)
    except NotGradable as reason:
        return Graded(_finish(homework, submission, Status.NOT_GRADABLE, reason.text(homework.lang), started))
    notebook = prepared.notebook
    notes = (gettext_for(homework.lang)(MATCHED_BY_CONTENT_NOTE),) if prepared.matched_by_content else ()
    scratch = Path(tempfile.mkdtemp(prefix="sub-", dir=settings.run_root))
    try:
        job = Job(notebook, homework.questions, homework.release_folder, scratch / "sandbox", scratch / "artifacts")
        with settings.sandbox.lease() as slot:
            try:
                execution = settings.executor(settings.limits, Isolation(settings.sandbox, slot)).run(job)
            finally:
                settings.sandbox.clear(slot)  # nothing the submission started outlives it
        executed = nbformat.writes(execution.notebook) if execution.notebook else None
        unanswered = unanswered_questions(notebook, homework.release_notebook, homework.questions)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Ran(submission, started, scratch, job.artifacts_dir, replace(execution, notebook=None), executed,
               unanswered, notes)


def check_one(homework: Homework, ran: Ran, settings: Settings) -> Graded:
    """The second step: the hidden checks on what the run left behind, and the row."""
    try:
        execution = ran.execution
        checks, figures = run_checks(homework.autograder_folder, homework.release_folder, ran.artifacts_dir,
                                     _not_run(homework, execution), homework.lang, ran.unanswered,
                                     ReferenceCache(settings.run_root / "reference-cache"))
        result = _finish(homework, ran.submission, Status(execution.status), _reason(homework, execution),
                         ran.started, execution.harvested, tuple(_check_of(c) for c in checks),
                         tuple(Figure(**f) for f in figures), ran.notes)
        return Graded(result, ran.executed)
    finally:
        shutil.rmtree(ran.scratch, ignore_errors=True)


def _not_run(homework: Homework, execution: Execution) -> dict[str, str]:
    """Why each question that was not harvested has nothing to check: the first was running when the run
    stopped, the later ones never started."""
    _ = gettext_for(homework.lang)
    reason = _reason(homework, execution)
    running = _("this question did not run to the end: {reason}").format(reason=reason) if reason \
        else _("this question did not run to the end")
    after = _("the run stopped before this question: {reason}").format(reason=reason) if reason \
        else _("the run stopped before this question")
    missing = [q.id for q in homework.questions if q.id not in execution.harvested]
    return {qid: running if index == 0 else after for index, qid in enumerate(missing)}


def _reason(homework: Homework, execution: Execution) -> str:
    return execution.reason.text(homework.lang) if execution.reason else ""


def _check_of(check: CheckResult) -> Check:
    return Check(check.question, check.name, check.points if check.passed else 0.0, check.points, check.passed,
                 check.message)


def _finish(homework: Homework, submission: Submission, status: Status, reason: str, started: float,
            harvested: list[str] | tuple[str, ...] = (), checks: tuple[Check, ...] = (),
            figures: tuple[Figure, ...] = (), notes: tuple[str, ...] = ()) -> SubmissionResult:
    questions = tuple(
        Question(question.id, question.title, question.id in harvested,
                 sum(c.points for c in checks if c.question == question.id), homework.points.get(question.id, 0.0))
        for question in homework.questions)
    return SubmissionResult(
        student=submission.student, homework=homework.name, origin=submission.origin, status=status, reason=reason,
        score=sum(q.score for q in questions), max_score=sum(q.max_score for q in questions),
        seconds=round(time.monotonic() - started, 1), fingerprint=submission_fingerprint(homework, submission),
        homework_fingerprint=homework.fingerprint, questions=questions, checks=checks, figures=figures,
        sandbox="", name=submission.name, late=submission.late,
        notes=tuple(note.text(homework.lang) for note in submission.notes) + notes)


# --- the batch, in the main process --------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    homework: Homework
    submissions: list[Submission]
    out_dir: Path
    writes_tables: bool = True  # False for a shard: grades.csv and summary.html are merge's

    def result_path(self, student: str) -> Path:
        return self.out_dir / "results" / f"{student}.json"

    def previous(self, submission: Submission) -> SubmissionResult | None:
        """The result already written for this very notebook graded with these checks; a grader error is
        never kept (it is graded again)."""
        try:
            result = SubmissionResult.read(self.result_path(submission.student))
        except ResultError:
            return None
        if result.status is Status.GRADER_ERROR:
            return None
        same = (result.fingerprint == submission_fingerprint(self.homework, submission)
                and (result.name, result.late) == (submission.name, submission.late))
        return result if same else None


def grade_batch(course: Course, homework_name: str, paths: list[Path], out_dir: Path, *, jobs: int,
                limits: Limits, force: bool = False, shard: Shard | None = None, lms: str | None = None,
                on_progress: Callable[[int, int], None] | None = None,
                on_note: Callable[[str], None] = print, mode: str | None = None,
                lang: str = "en", executor: str | ExecutorFactory | None = None) -> list[SubmissionResult]:
    """Grade every submission under `paths` (with `shard`, only that shard's students: their results, feedback
    and executed notebooks, and the shard's manifest; grades.csv and summary.html are then merge's). `mode` is
    the sandbox's (sandbox.choose_mode); by default the best this machine has, SandboxUnavailable when it has
    none. Reasons, check messages, feedback pages and the summary are written in `lang` (the CLI passes the
    course's; English, the language of the message ids, when not given). `executor` runs each notebook: a name
    (execute.choose_executor: fork or kernel; by default fork on Linux) or a factory."""
    mode = mode or choose_mode(no_sandbox=False)
    if executor is None or isinstance(executor, str):
        executor = choose_executor(executor, on_note, mode)
    poolserver.context(executor.preload)  # the workers' forkserver warms up while the batch is read
    homework = Homework.load(course, homework_name, lang)
    submissions = collect(paths, homework_name, lms)
    out_dir = out_dir.resolve()
    if shard is not None:
        submissions = [s for s in submissions if shard.holds(s.student)]
        Manifest(homework_name, str(shard), tuple(s.student for s in submissions)).write(shard.manifest_path(out_dir))
    batch = Batch(homework, submissions, out_dir, writes_tables=shard is None)
    (batch.out_dir / "results").mkdir(parents=True, exist_ok=True)
    results = {} if force else {s.student: r for s in batch.submissions if (r := batch.previous(s))}
    todo = longest_first(homework, [s for s in batch.submissions if s.student not in results])
    if mode == NONE:
        on_note(describe(NONE))
    with tempfile.TemporaryDirectory(prefix="assignkit-run-") as run_root, \
            open_sandbox(mode, jobs, _hidden_folders(course, paths, batch.out_dir, Path(run_root)), Path(run_root),
                         limits.memory_mb * 2**20) as sandbox:
        os.chmod(run_root, 0o711)
        settings = Settings(limits, jobs, Path(run_root), sandbox, executor)
        progress = on_progress or (lambda done, total: None)
        progress(len(results), len(batch.submissions))
        for graded in _run_pool(homework, todo, settings):
            graded = _with_sandbox(graded, sandbox.mode, executor.name)
            results[graded.result.student] = graded.result
            _write_row(batch, graded, list(results.values()))
            progress(len(results), len(batch.submissions))
    ordered = [results[s.student] for s in batch.submissions]
    if batch.writes_tables:
        report.write_tables(ordered, [q.id for q in homework.questions], batch.out_dir, homework.lang)
    return ordered


def longest_first(homework: Homework, submissions: list[Submission]) -> list[Submission]:
    """The order to run `submissions` in: the notebooks answering the most questions first, so the last runs of a
    batch are short and no core is left alone with a long one at the end (longest processing time first). Ties keep
    their order; a file that is no notebook of this homework runs in no time and goes last."""
    return sorted(submissions, key=lambda submission: -_answered(homework, submission))


def _answered(homework: Homework, submission: Submission) -> int:
    try:
        notebook = prepare_submission(submission, homework.release_notebook, homework.name).notebook
    except NotGradable:
        return -1
    return len(homework.questions) - len(unanswered_questions(notebook, homework.release_notebook, homework.questions))


def _run_pool(homework: Homework, todo: list[Submission], settings: Settings):
    """Results as they finish. When a worker dies (the machine killed it), the pool breaks and every unfinished
    submission is tried again in a new pool; one that was in a worker when pools broke twice gets an error row."""
    tries = {s.student: 0 for s in todo}
    while todo:
        again: list[Submission] = []
        for submission, outcome in _one_pool(homework, todo, settings):
            if isinstance(outcome, _NotStarted):
                again.append(submission)
            elif isinstance(outcome, BrokenProcessPool) and tries[submission.student] < 1:
                tries[submission.student] += 1
                again.append(submission)
            else:
                yield _result_of(outcome, homework, submission)
        todo = again


class _NotStarted(Exception):
    """The pool broke before this submission's run, or its checks, started: not its doing, so it is run again
    without counting a try."""


def _one_pool(homework: Homework, todo: list[Submission], settings: Settings):
    """(submission, Graded or the exception) as each finishes, in one pool of 2 × jobs workers (no more than there
    are submissions: Gradescope grades one): every submission is run, then checked. No more than `jobs` notebooks
    run at once; a submission's checks run beside the next one's notebook, so they add no time while a core is
    free for them."""
    context = poolserver.context(settings.executor.preload)
    with concurrent.futures.ProcessPoolExecutor(min(2 * settings.jobs, len(todo)), mp_context=context,
                                                initializer=_init_worker, initargs=(settings.executor,)) as pool:
        steps = _Steps(pool, homework, settings, waiting=list(reversed(todo)))
        try:
            yield from steps.outcomes()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


@dataclass
class _Steps:
    """The two steps of every submission in one pool, and which of them are in a worker now."""

    pool: concurrent.futures.ProcessPoolExecutor
    homework: Homework
    settings: Settings
    waiting: list[Submission]  # the next to run last
    running: dict[concurrent.futures.Future, Submission] = field(default_factory=dict)
    checking: dict[concurrent.futures.Future, Submission] = field(default_factory=dict)
    broken: bool = False

    def outcomes(self):
        self._start_runs()
        while self.running or self.checking:
            done, _ = concurrent.futures.wait([*self.running, *self.checking],
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                yield from self._finished(future)
            self._start_runs()
        for submission in reversed(self.waiting):
            yield submission, _NotStarted()

    def _finished(self, future: concurrent.futures.Future):
        was_run = future in self.running
        submission = self.running.pop(future) if was_run else self.checking.pop(future)
        outcome = future.exception() or future.result()
        self.broken = self.broken or isinstance(outcome, BrokenProcessPool)
        if not (was_run and isinstance(outcome, Ran)):
            yield submission, outcome
        elif (checks := self._submit(check_one, self.homework, outcome, self.settings)) is None:
            yield submission, _NotStarted()
        else:
            self.checking[checks] = submission

    def _start_runs(self) -> None:
        while self.waiting and len(self.running) < self.settings.jobs:
            if (run := self._submit(run_one, self.homework, self.waiting[-1], self.settings)) is None:
                return
            self.running[run] = self.waiting.pop()

    def _submit(self, step: Callable, *args) -> concurrent.futures.Future | None:
        if not self.broken:
            try:
                return self.pool.submit(step, *args)
            except BrokenProcessPool:
                self.broken = True
        return None


def _result_of(outcome: Graded | BaseException, homework: Homework, submission: Submission) -> Graded:
    if isinstance(outcome, Graded):
        return outcome
    # The grader failed on this one (a bug, or the machine killed its worker twice); it still gets its row.
    reason = gettext_for(homework.lang)(GRADER_ERROR_REASON).format(error=repr(outcome))
    return Graded(_finish(homework, submission, Status.GRADER_ERROR, reason, time.monotonic()))


def _with_sandbox(graded: Graded, sandbox: str, executor: str) -> Graded:
    return Graded(replace(graded.result, sandbox=sandbox, executor=executor), graded.executed)


def _hidden_folders(course: Course, paths: list[Path], out_dir: Path, run_root: Path) -> tuple[Path, ...]:
    """Every top-level folder but the system's (so no copy of a course anywhere on the machine is readable),
    the course, the output, the submissions, and the shared writable /dev/shm. The jail brings back the Python
    installation and the sandbox's own folder from beneath them."""
    top = [p for p in Path("/").iterdir() if p.is_dir() and not p.is_symlink() and p.name not in SYSTEM_FOLDERS]
    candidates = [course.root, out_dir, run_root, *top, Path("/dev/shm")]
    candidates += [p if p.is_dir() else p.parent for p in paths]
    return tuple(dict.fromkeys(p.resolve() for p in candidates if p.resolve().is_dir() and p.resolve() != Path("/")))


def _write_row(batch: Batch, graded: Graded, results: list[SubmissionResult]) -> None:
    student = graded.result.student
    if graded.executed:
        atomic_write_text(batch.out_dir / "executed" / f"{student}.ipynb", graded.executed)
    atomic_write_text(batch.result_path(student), graded.result.to_json())
    report.write_feedback(graded.result, batch.out_dir / "feedback" / f"{student}.html", batch.homework.lang)
    if batch.writes_tables:
        report.write_grades_csv(results, [q.id for q in batch.homework.questions], batch.out_dir / "grades.csv")
