"""`assignkit data`: run each homework's own data generator, `autograder/<hw>/data.py`.

A generator module defines `write(data_dir: Path, hidden_dir: Path) -> list[Path]`: it writes the published
files (which the notebook reads) into `data_dir` and the grader's hidden draws into `hidden_dir` (its own
autograder folder), seeded so the same code gives the same bytes, and returns the paths it wrote. `write_csv`
and `write_json` below write files that way. A homework without data.py has no data.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from assignkit.fileio import atomic_write_text
from assignkit.layout import Course

GENERATOR_FILE = "data.py"


class GeneratorError(RuntimeError):
    """A homework's data generator is broken (an instructor's error)."""


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    # No float_format: pandas writes each float as its shortest round-trip repr (float32 columns at float32
    # precision), so the file holds the generator's values exactly and the same values give the same bytes.
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return path


def write_json(path: Path, value: Any) -> Path:
    atomic_write_text(path, json.dumps(value, sort_keys=True) + "\n")
    return path


def load_generator(course: Course, homework: str) -> ModuleType | None:
    """The module autograder/<hw>/data.py of a homework, or None when it has none."""
    path = course.autograder_folder(homework) / GENERATOR_FILE
    if not path.is_file():
        return None
    name = f"assignkit_data_{homework}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and pickling look their module up there
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise GeneratorError(f"{path}: cannot be imported ({type(error).__name__}: {error})") from error
    if not callable(getattr(module, "write", None)):
        raise GeneratorError(f"{path}: defines no function write(data_dir, hidden_dir) -> list[Path]")
    return module


def write_homework(course: Course, homework: str, out: Course | None = None) -> list[Path]:
    """Run one homework's generator, writing into the course `out` (default: the course itself); the paths it
    wrote, each checked to exist inside out's data/ or out's autograder/<hw>/."""
    generator = load_generator(course, homework)
    if generator is None:
        return []
    out = out or course
    data_dir, hidden_dir = out.data_dir, out.autograder_folder(homework)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    where = course.autograder_folder(homework) / GENERATOR_FILE
    written = [Path(p) for p in generator.write(data_dir, hidden_dir)]
    for path in written:
        if not path.is_file():
            raise GeneratorError(f"{where}: write() returned {path}, which it did not write")
        if not (path.resolve().is_relative_to(data_dir.resolve()) or path.resolve().is_relative_to(hidden_dir.resolve())):
            raise GeneratorError(f"{where}: write() wrote {path}, outside {data_dir} and {hidden_dir}")
    return written


def write_all(root: Path, out: Path | None = None) -> list[Path]:
    """Write the published data and the hidden draws of every homework of the course at `root`, into that course
    or, when `out` is given, into the same places under `out` (to compare with what is committed)."""
    course = Course(Path(root))
    target = Course(Path(out)) if out is not None else course
    written: dict[Path, str] = {}
    for homework in course.homeworks():
        for path in write_homework(course, homework, target):
            if path in written and written[path] != homework:
                raise GeneratorError(f"{path} is written by the generators of both {written[path]} and {homework}")
            written[path] = homework
    return list(written)
