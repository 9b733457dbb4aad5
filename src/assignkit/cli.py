"""The `assignkit` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

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
