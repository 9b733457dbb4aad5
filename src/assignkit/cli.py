"""The `assignkit` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from assignkit.layout import Course, UnknownHomework, find_course_root


def _course(course_root: Path | None) -> Course:
    try:
        return Course(course_root.resolve() if course_root else find_course_root(Path.cwd()))
    except FileNotFoundError as error:
        raise click.UsageError(str(error)) from None


course_option = click.option(
    "--course", "course_root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Course folder (holds nbgrader_config.py and source/). Default: $ASSIGNKIT_COURSE, else the nearest above.")


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
@no_sandbox_option
@limit_options
@course_option
def grade(homework: str, submissions: tuple[Path, ...], out_dir: Path, force: bool, no_sandbox: bool, jobs: int,
          timeout: float, notebook_timeout: float, memory: int, course_root: Path | None) -> None:
    """Grade SUBMISSIONS (.ipynb files, folders, nbgrader submitted/ trees or .zip files) of HOMEWORK."""
    from tqdm import tqdm

    from assignkit.grade import grade_batch
    from assignkit.submissions import SubmissionError

    from assignkit.sandbox import describe

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

            results = grade_batch(course, homework, list(submissions), out_dir, jobs=jobs, force=force,
                                  limits=_limits(timeout, notebook_timeout, memory), on_progress=progress,
                                  on_note=lambda note: tqdm.write(note, file=sys.stderr), mode=mode)
    except (UnknownHomework, SubmissionError) as error:
        raise click.UsageError(str(error)) from None
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    click.echo(f"{len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    click.echo(f"grades: {out_dir / 'grades.csv'}   summary: {out_dir / 'summary.html'}")


@main.command(name="validate")
@click.argument("homeworks", nargs=-1)
@no_sandbox_option
@limit_options
@course_option
def validate_command(homeworks: tuple[str, ...], no_sandbox: bool, jobs: int, timeout: float,
                     notebook_timeout: float, memory: int, course_root: Path | None) -> None:
    """Check that each homework's solution scores full marks, its blank release 0, and release/ is current."""
    from assignkit.validate import validate

    course = _course(course_root)
    try:
        names = course.require(list(homeworks))
    except UnknownHomework as error:
        raise click.UsageError(str(error)) from None
    mode = _sandbox_mode(no_sandbox)
    failed = False
    for name in names:
        result = validate(course, name, _limits(timeout, notebook_timeout, memory), jobs=min(jobs, 2), mode=mode)
        click.echo(f"{name}: solution {result.solution['score']:g}/{result.solution['max_score']:g}, "
                   f"blank {result.blank['score']:g} ({result.blank['status']}), "
                   f"release {'current' if not result.stale else 'STALE'}")
        for problem in result.problems:
            click.echo(f"  problem: {problem}", err=True)
        failed = failed or not result.ok
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--out", "out_dir", default=Path("demo-out"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for each homework's grading output.")
@limit_options
@course_option
def demo(out_dir: Path, jobs: int, timeout: float, notebook_timeout: float, memory: int,
         course_root: Path | None) -> None:
    """Grade the bundled sample submissions (examples/submissions/<hw>/) of every homework."""
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
                              limits=_limits(timeout, notebook_timeout, memory), on_note=click.echo, mode=mode)
        click.echo(f"\n{homework} ({out_dir / homework / 'summary.html'}):")
        for result in results:
            click.echo(f"  {result['student']:<16} {result['status']:<15} {result['score']:g}/{result['max_score']:g}"
                       f"  {result['reason']}")
