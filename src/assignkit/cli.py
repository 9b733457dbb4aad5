"""The `assignkit` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import gc
import os
import sys
from collections import Counter
from pathlib import Path

import click

from assignkit.layout import Course, UnknownHomework, find_course_root
from assignkit.poolserver import start_early


def _course(course_root: Path | None) -> Course:
    try:
        return Course(course_root.resolve() if course_root else find_course_root(Path.cwd()))
    except FileNotFoundError as error:
        raise click.UsageError(str(error)) from None


course_option = click.option(
    "--course", "course_root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Course folder (holds nbgrader_config.py and source/). Default: $ASSIGNKIT_COURSE, else the nearest above.")


lang_option = click.option(
    "--lang", default=None, type=click.Choice(["ko", "en"]),
    help="Language of feedback pages, reasons and check messages. Default: the course's (c.Assignkit.language in "
         "nbgrader_config.py), else ko.")


def _course_here() -> Course | None:
    """The course found above the current folder, if any."""
    try:
        return Course(find_course_root(Path.cwd()))
    except FileNotFoundError:
        return None


def _lang(lang: str | None, course: Course | None) -> str:
    from assignkit.i18n import DEFAULT_LANGUAGE, UnknownLanguage, course_language

    if lang:
        return lang
    if course is None:
        return DEFAULT_LANGUAGE
    try:
        return course_language(course.nbgrader_config)
    except UnknownLanguage as error:
        raise click.UsageError(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Autograded PyTorch homework: make data, release with nbgrader, grade a class, validate."""


@main.command()
@course_option
def data(course_root: Path | None) -> None:
    """Write data/*.csv and the grader's hidden draws under autograder/ (seeded, byte-for-byte reproducible)."""
    from assignkit.data import write_all

    course = _course(course_root)
    for path in write_all(course.root):
        click.echo(f"wrote {path.relative_to(course.root)}")


@main.command(name="release")
@click.argument("homeworks", nargs=-1)
@course_option
def release_command(homeworks: tuple[str, ...], course_root: Path | None) -> None:
    """Make release/<HW>/ (student notebook + its data) with nbgrader; all homeworks when none are named."""
    from assignkit.release import ReleaseError, release

    course = _course(course_root)
    try:
        for homework in course.require(list(homeworks)):
            folder = release(course, homework)
            click.echo(f"released {homework} -> {folder.relative_to(course.root)}")
    except UnknownHomework as error:
        raise click.UsageError(str(error)) from None
    except ReleaseError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def _limits(timeout: float, notebook_timeout: float, memory: int):
    from assignkit.execute import Limits

    return Limits(cell_seconds=timeout, notebook_seconds=notebook_timeout, memory_mb=memory)


def _sandbox_mode(no_sandbox: bool) -> str:
    from assignkit.sandbox import SandboxUnavailable, choose_mode

    try:
        return choose_mode(no_sandbox)
    except SandboxUnavailable as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


no_sandbox_option = click.option("--no-sandbox", is_flag=True,
                                 help="Run student code without isolation (as this user, with network access); "
                                      "every result is marked unsandboxed.")


executor_option = click.option(
    "--executor", type=click.Choice(["fork", "kernel"]), default=None,
    help="What runs each notebook: fork (a child of a warm interpreter; the default on Linux) or kernel (a fresh "
         "Jupyter kernel per submission; elsewhere than Linux the only one).")


def limit_options(command):
    command = click.option("--memory", default=2048, show_default=True, help="Memory limit per submission, MB.")(command)
    command = click.option("--notebook-timeout", default=900.0, show_default=True,
                           help="Seconds a whole notebook may run.")(command)
    command = click.option("--timeout", default=120.0, show_default=True, help="Seconds one cell may run.")(command)
    return click.option("--jobs", default=os.cpu_count() or 1, show_default=True,
                        help="Submissions graded at once.")(command)


@main.command()
@click.argument("homework")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for grades.csv, results/, feedback/, executed/ and summary.html.")
@click.option("--force", is_flag=True, help="Regrade submissions already graded with the same notebook and checks.")
@click.option("--shard", default=None, metavar="K/N",
              help="Grade only shard K of N (by a hash of the student id); `assignkit merge` then writes the tables.")
@click.option("--lms", type=click.Choice(["moodle", "canvas", "nbgrader", "plain"]), default=None,
              help="Layout of SUBMISSIONS (an LMS download); default: recognised by itself.")
@no_sandbox_option
@executor_option
@limit_options
@course_option
@lang_option
def grade(homework: str, submissions: tuple[Path, ...], out_dir: Path, force: bool, shard: str | None,
          lms: str | None, no_sandbox: bool, executor: str | None, jobs: int,
          timeout: float, notebook_timeout: float, memory: int, course_root: Path | None, lang: str | None) -> None:
    """Grade SUBMISSIONS (.ipynb files, folders, nbgrader submitted/ trees or .zip files) of HOMEWORK."""
    start_early(executor)
    from tqdm import tqdm

    from assignkit.contract import ContractError
    from assignkit.grade import grade_batch
    from assignkit.sandbox import describe
    from assignkit.shards import Shard, ShardError
    from assignkit.submissions import SubmissionError

    try:
        part = Shard.parse(shard) if shard else None
    except ShardError as error:
        raise click.BadParameter(str(error), param_hint="--shard") from None
    course = _course(course_root)
    mode = _sandbox_mode(no_sandbox)
    click.echo(describe(mode))
    try:
        course.require([homework])
        with tqdm(unit="submission", dynamic_ncols=True) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            results = grade_batch(course, homework, list(submissions), out_dir, jobs=jobs, force=force, shard=part,
                                  limits=_limits(timeout, notebook_timeout, memory), on_progress=progress,
                                  on_note=lambda note: tqdm.write(note, file=sys.stderr), lms=lms, mode=mode,
                                  lang=_lang(lang, course), executor=executor)
    except (UnknownHomework, SubmissionError) as error:
        raise click.UsageError(str(error)) from None
    except ContractError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    counts = Counter(result.status.value for result in results)
    prefix = f"shard {part}: " if part else ""
    click.echo(f"{prefix}{len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if part:
        click.echo(f"results: {out_dir / 'results'}   (`assignkit merge {out_dir}` writes grades.csv)")
    else:
        click.echo(f"grades: {out_dir / 'grades.csv'}   summary: {out_dir / 'summary.html'}")


@main.command(name="merge")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where grades.csv and summary.html go. Default: the first FOLDER.")
@lang_option
def merge_command(folders: tuple[Path, ...], out_dir: Path | None, lang: str | None) -> None:
    """Rebuild grades.csv and summary.html from the results/ of FOLDERS (shards, several machines). The summary
    is in --lang, else the language of the course found above the current folder, else ko."""
    from assignkit.merge import MergeError, merge

    target = out_dir or folders[0]
    try:
        course = Course(find_course_root(Path.cwd()))
    except FileNotFoundError:
        course = None
    try:
        merged = merge(list(folders), target, _lang(lang, course))
    except MergeError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if merged.missing:
        click.echo(f"error: {len(merged.missing)} students were given to a shard but have no result (rerun the "
                   f"grading; nothing was written): {', '.join(merged.missing)}", err=True)
        sys.exit(1)
    counts = Counter(result.status.value for result in merged.results)
    click.echo(f"{len(merged.results)} results: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    click.echo(f"grades: {target / 'grades.csv'}   summary: {target / 'summary.html'}")


@main.command(name="slurm")
@click.argument("homework")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder, on a file system every node of the cluster sees.")
@click.option("--tasks", required=True, type=click.IntRange(min=1), help="Shards: tasks of the job array.")
@click.option("--cpus-per-task", default=1, show_default=True, type=click.IntRange(min=1),
              help="CPUs of each task; it grades that many submissions at once.")
@click.option("--partition", default=None, help="Slurm partition (default: the cluster's).")
@click.option("--time", "time_limit", default=None, help="Time limit of each task, as sbatch --time takes it.")
@click.option("--mem", "mem_mb", default=None, type=click.IntRange(min=1), help="Memory of each task, MB.")
@click.option("--wait", "wait_for_it", is_flag=True, help="Return when the merge job has finished, with its status.")
@click.option("--dry-run", is_flag=True, help="Print the two sbatch scripts; submit nothing.")
@click.option("--force", is_flag=True, help="Regrade submissions already graded with the same notebook and checks.")
@click.option("--memory", default=2048, show_default=True, help="Memory limit per submission, MB.")
@click.option("--notebook-timeout", default=900.0, show_default=True, help="Seconds a whole notebook may run.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds one cell may run.")
@course_option
def slurm_command(homework: str, submissions: tuple[Path, ...], out_dir: Path, tasks: int, cpus_per_task: int,
                  partition: str | None, time_limit: str | None, mem_mb: int | None, wait_for_it: bool,
                  dry_run: bool, force: bool, memory: int, notebook_timeout: float, timeout: float,
                  course_root: Path | None) -> None:
    """Grade SUBMISSIONS of HOMEWORK on Slurm: a job array of TASKS shards, then a merge job (afterok)."""
    from assignkit.slurm import SlurmError, SlurmPlan, submit, wait

    course = _course(course_root)
    try:
        course.require([homework])
    except UnknownHomework as error:
        raise click.UsageError(str(error)) from None
    options = ("--timeout", str(timeout), "--notebook-timeout", str(notebook_timeout), "--memory", str(memory),
               *(("--force",) if force else ()))
    plan = SlurmPlan(homework, tuple(p.resolve() for p in submissions), out_dir.resolve(), course.root,
                     Path(sys.executable).parent / "assignkit", tasks, cpus_per_task, partition, time_limit, mem_mb,
                     options)
    if dry_run:
        click.echo(f"# {plan.folder / 'grade.sbatch'}\n{plan.grade_script()}")
        click.echo(f"# {plan.folder / 'merge.sbatch'} (sbatch --dependency=afterok:<grade job>)\n{plan.merge_script()}")
        return
    try:
        submitted = submit(plan)
        click.echo(f"grade job {submitted.grade_job} ({tasks} tasks), merge job {submitted.merge_job}; "
                   f"logs in {plan.folder}")
        if not wait_for_it:
            return
        finished = wait(plan, submitted)
    except (SlurmError, OSError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for task in finished.failed_tasks:
        click.echo(f"failed: {task}", err=True)
    if finished.state == "DEPENDENCY_FAILED":
        click.echo("the merge job did not run (a task failed) and was cancelled; rerun the same command to grade "
                   "what is missing", err=True)
    else:
        click.echo(f"merge job {submitted.merge_job}: {finished.state}, exit code {finished.exit_code}; "
                   f"log {plan.folder / f'merge-{submitted.merge_job}.log'}")
    sys.exit(0 if finished.ok else (finished.exit_code or 1))


@main.command(name="validate")
@click.argument("homeworks", nargs=-1)
@no_sandbox_option
@executor_option
@limit_options
@course_option
@lang_option
def validate_command(homeworks: tuple[str, ...], no_sandbox: bool, executor: str | None, jobs: int, timeout: float,
                     notebook_timeout: float, memory: int, course_root: Path | None, lang: str | None) -> None:
    """Check that each homework's solution scores full marks, its blank release 0, and release/ is current."""
    start_early(executor)
    from assignkit.contract import ContractError
    from assignkit.validate import validate

    course = _course(course_root)
    try:
        names = course.require(list(homeworks))
    except UnknownHomework as error:
        raise click.UsageError(str(error)) from None
    mode = _sandbox_mode(no_sandbox)
    failed = False
    for name in names:
        try:
            result = validate(course, name, _limits(timeout, notebook_timeout, memory), jobs=min(jobs, 2), mode=mode,
                              lang=_lang(lang, course), executor=executor)
        except ContractError as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        click.echo(f"{name}: solution {result.solution.score:g}/{result.solution.max_score:g}, "
                   f"blank {result.blank.score:g} ({result.blank.status}), "
                   f"release {'current' if not result.stale else 'STALE'}")
        for problem in result.problems:
            click.echo(f"  problem: {problem}", err=True)
        failed = failed or not result.ok
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--out", "out_dir", default=Path("demo-out"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for each homework's grading output.")
@executor_option
@limit_options
@course_option
@lang_option
def demo(out_dir: Path, executor: str | None, jobs: int, timeout: float, notebook_timeout: float, memory: int,
         course_root: Path | None, lang: str | None) -> None:
    """Grade the bundled sample submissions (examples/submissions/<hw>/) of every homework."""
    start_early(executor)
    from assignkit.grade import grade_batch
    from assignkit.sandbox import describe

    course = _course(course_root)
    mode = _sandbox_mode(no_sandbox=False)
    click.echo(describe(mode))
    for homework in course.homeworks():
        examples = course.examples_folder(homework)
        if not examples.is_dir() or not course.release_notebook(homework).is_file():
            click.echo(f"{homework}: not released or no sample submissions in {examples}; skipped")
            continue
        results = grade_batch(course, homework, [examples], out_dir / homework, jobs=jobs,
                              limits=_limits(timeout, notebook_timeout, memory), on_note=click.echo, mode=mode,
                              lang=_lang(lang, course), executor=executor)
        click.echo(f"\n{homework} ({out_dir / homework / 'summary.html'}):")
        for result in results:
            click.echo(f"  {result.student:<16} {result.status:<15} {result.score:g}/{result.max_score:g}"
                       f"  {result.reason}")


# --- exports: grades to where the course keeps them (issue 11) ---------------------------------------------------

@main.group(name="export")
def export_group() -> None:
    """Carry the grades of a graded folder (DIR, from `assignkit grade --out DIR`) into an LMS or nbgrader."""


def _grades(graded: Path):
    from assignkit.export import ExportError, grades_from_results

    try:
        return grades_from_results(graded)
    except ExportError as error:
        raise click.UsageError(str(error)) from None


def _echo_filled(result, out: Path, what: str) -> None:
    click.echo(f"filled {len(result.filled)} {what}; {len(result.without_result)} rows without a result left as "
               f"they were -> {out}")
    if result.unmatched:
        click.echo(f"not in the file (no row for these results): {', '.join(result.unmatched)}", err=True)
    if result.grader_failed:
        click.echo(f"the grader failed on these (rows left as they were; grade them again): "
                   f"{', '.join(result.grader_failed)}", err=True)


@export_group.command(name="moodle")
@click.argument("graded", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The filled worksheet.")
@click.option("--no-comments", is_flag=True, help="Fill only Grade (the assignment has no feedback comments).")
@click.option("--identifier-column", default="Identifier", show_default=True,
              help="Header names, for a worksheet downloaded in another language.")
@click.option("--grade-column", default="Grade", show_default=True)
@click.option("--maximum-column", default="Maximum Grade", show_default=True)
@click.option("--comments-column", default="Feedback comments", show_default=True)
@lang_option
def export_moodle_command(graded: Path, worksheet: Path, out: Path, no_comments: bool, identifier_column: str,
                          grade_column: str, maximum_column: str, comments_column: str, lang: str | None) -> None:
    """Fill Moodle's grading WORKSHEET (CSV) with the grades of GRADED; upload OUT with "Upload grading worksheet"."""
    from assignkit.export import ExportError
    from assignkit.export_moodle import MoodleColumns, export_moodle

    columns = MoodleColumns(identifier_column, grade_column, maximum_column, comments_column)
    try:
        result = export_moodle(_grades(graded), worksheet, out, columns, with_comments=not no_comments,
                               lang=_lang(lang, _course_here()))
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    _echo_filled(result, out, "participants")


@export_group.command(name="canvas")
@click.argument("graded", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("gradebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--column", required=True, help="The assignment's column: its name, or its full header 'NAME (ID)'.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The filled gradebook.")
def export_canvas_command(graded: Path, gradebook: Path, column: str, out: Path) -> None:
    """Fill one column of Canvas's GRADEBOOK export (CSV) with the grades of GRADED; import OUT in Canvas."""
    from assignkit.export import ExportError
    from assignkit.export_canvas import export_canvas

    try:
        result = export_canvas(_grades(graded), gradebook, column, out)
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    _echo_filled(result, out, "students")


@export_group.command(name="nbgrader")
@click.argument("graded", type=click.Path(exists=True, file_okay=False, path_type=Path))
@course_option
def export_nbgrader_command(graded: Path, course_root: Path | None) -> None:
    """Write the per-question scores of GRADED into the course's nbgrader gradebook (formgrader, `nbgrader export`).

    A manual score a TA set in formgrader stays in force; its grade is flagged for review."""
    from assignkit.export import ExportError
    from assignkit.export_nbgrader import export_nbgrader
    from assignkit.harvest import QuestionsError, load_questions

    course = _course(course_root)
    grades = _grades(graded)
    try:
        homework = course.require([grades[0].homework])[0]
        cells = {question.id: question.after for question in load_questions(course.autograder_folder(homework))}
        done = export_nbgrader(course.gradebook, grades, cells)
    except (UnknownHomework, QuestionsError, ExportError) as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"{homework}: wrote {len(done.students)} students' scores into {course.gradebook} "
               f"({len(done.new_students)} new students)")
    if done.grader_failed:
        click.echo(f"  the grader failed on these (nothing written; grade them again): {', '.join(done.grader_failed)}")
    for student, question in done.manual_kept:
        click.echo(f"  {student} {question}: a manual score is kept (flagged for review in formgrader)")


@main.command(name="gradescope")
@click.argument("homework")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The autograder zip.")
@click.option("--memory", default=2048, show_default=True,
              help="Address-space limit of the student's kernel on Gradescope, MB (torch maps ~1 GB it never uses).")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds one cell may run.")
@click.option("--notebook-timeout", default=480.0, show_default=True,
              help="Seconds the whole notebook may run (Gradescope stops everything at 10 minutes by default).")
@course_option
def gradescope_command(homework: str, out: Path, memory: int, timeout: float, notebook_timeout: float,
                       course_root: Path | None) -> None:
    """Build a Gradescope autograder zip for HOMEWORK (setup.sh, run_autograder, the kit, the hidden checks)."""
    import assignkit
    from assignkit.gradescope import AutograderLimits, GradescopeError, build_autograder

    course = _course(course_root)
    try:
        course.require([homework])
        names = build_autograder(course, homework, Path(assignkit.__file__).resolve().parents[2], out,
                                 AutograderLimits(memory, timeout, notebook_timeout))
    except (UnknownHomework, GradescopeError) as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"wrote {out} ({len(names)} files); upload it as the assignment's autograder on Gradescope")


@main.command(name="gradescope-run", hidden=True)
@click.argument("homework")
@click.option("--root", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--memory", default=2048)
@click.option("--timeout", default=120.0)
@click.option("--notebook-timeout", default=480.0)
@course_option
def gradescope_run_command(homework: str, root: Path, memory: int, timeout: float, notebook_timeout: float,
                           course_root: Path | None) -> None:
    """What run_autograder calls on Gradescope: grade ROOT/submission, write ROOT/results/results.json."""
    from assignkit.grade import grade_batch
    from assignkit.gradescope import run

    course = _course(course_root)
    limits = _limits(timeout, notebook_timeout, memory)
    lang = _lang(None, course)
    results = run(root, homework, lambda notebook, out: grade_batch(course, homework, [notebook], out, jobs=1,
                                                                    limits=limits, on_note=click.echo, lang=lang))
    click.echo(f"score {results['score']:g}; {len(results['tests'])} tests -> {root / 'results' / 'results.json'}")


def run() -> None:
    """The `assignkit` console script."""
    try:
        main()
    finally:
        # Every file is closed by now. At exit the interpreter would collect the whole heap of a process that
        # imported torch (0.6 s); frozen objects are left to the OS, like a process's memory (benchmarks/README.md).
        gc.freeze()
