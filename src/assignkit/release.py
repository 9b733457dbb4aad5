"""source/<hw>/<hw>.ipynb → release/<hw>/ with nbgrader's own generate_assignment."""

from __future__ import annotations

import os
import shutil
import tempfile
import sys
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from assignkit.layout import Course


class ReleaseError(RuntimeError):
    pass


def validate_source(notebook_path: Path) -> None:
    """nbgrader's metadata rules, cell by cell, so an error names the cell it is about."""
    nb = nbformat.read(notebook_path, as_version=4)
    validator = MetadataValidator()
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        where = f"{notebook_path.name}, cell {index} (grade_id {meta.get('grade_id', '<missing>')!r})"
        try:
            validator.validate_cell(cell)
        except ValidationError as error:
            raise ReleaseError(f"{where}: broken nbgrader metadata: {error}") from None
        grade_id = meta.get("grade_id")
        if grade_id in seen:
            raise ReleaseError(f"{where}: grade_id already used by cell {seen[grade_id]}")
        seen[grade_id] = index


def nbgrader_config(course: Course) -> Config:
    config = Config()
    if course.nbgrader_config.is_file():
        loader = PyFileConfigLoader(course.nbgrader_config.name, path=str(course.root))
        config.merge(loader.load_config())
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.db_url = f"sqlite:///{course.gradebook}"
    # Cell timings (metadata.execution: JupyterLab's "record timing") are cleared with the outputs, so the
    # instructor's never reach students; on top of the fields the course or nbconvert already clears
    default = config.ClearOutputPreprocessor.get("remove_metadata_fields", {"collapsed", "scrolled"})
    cleared = config.ClearOutput.get("remove_metadata_fields", default)
    config.ClearOutput.remove_metadata_fields = set(cleared) | {"execution"}
    return config


def release(course: Course, homework: str) -> Path:
    """Make release/<hw>/ anew from the source notebook and the data files beside it."""
    validate_source(course.source_notebook(homework))
    course.gradebook.parent.mkdir(exist_ok=True)
    _put_venv_on_path()  # nbgrader runs `alembic` through PATH when it first makes the gradebook
    api = NbGraderAPI(config=nbgrader_config(course))
    result = api.generate_assignment(homework, force=True, create=True)
    if not result["success"]:
        raise ReleaseError(f"nbgrader could not release {homework}:\n{result.get('log', '')}{result.get('error', '')}")
    return course.release_folder(homework)


def _put_venv_on_path() -> None:
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def stale_files(course: Course, homework: str) -> list[str]:
    """Files of release/<hw>/ that differ from what `release` makes now (missing, extra or changed)."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Course(Path(scratch))
        shutil.copytree(course.source_dir / homework, fresh.source_dir / homework)  # symlinked data copied as files
        if course.nbgrader_config.is_file():
            shutil.copy(course.nbgrader_config, fresh.nbgrader_config)
        release(fresh, homework)
        return _differences(fresh.release_folder(homework), course.release_folder(homework))


def _differences(expected: Path, actual: Path) -> list[str]:
    def files(folder: Path) -> dict[str, bytes]:
        if not folder.is_dir():
            return {}
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    want, have = files(expected), files(actual)
    return sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
