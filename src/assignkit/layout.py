"""Where everything of a course lives. One object owns the folder layout; nothing else builds these paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class UnknownHomework(ValueError):
    def __init__(self, homework: str, available: list[str]):
        names = ", ".join(available) or "none"
        super().__init__(f"no homework named {homework!r}; the homeworks are: {names}")


@dataclass(frozen=True)
class Course:
    root: Path

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def autograder_dir(self) -> Path:
        return self.root / "autograder"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def nbgrader_config(self) -> Path:
        return self.root / "nbgrader_config.py"

    @property
    def gradebook(self) -> Path:
        return self.root / ".nbgrader" / "gradebook.db"

    def source_notebook(self, homework: str) -> Path:
        return self.source_dir / homework / f"{homework}.ipynb"

    def release_folder(self, homework: str) -> Path:
        return self.release_dir / homework

    def release_notebook(self, homework: str) -> Path:
        return self.release_folder(homework) / f"{homework}.ipynb"

    def autograder_folder(self, homework: str) -> Path:
        return self.autograder_dir / homework

    def examples_folder(self, homework: str) -> Path:
        return self.root / "examples" / "submissions" / homework

    def homeworks(self) -> list[str]:
        """The homeworks are the folders of source/ that hold a notebook of their own name."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir() if self.source_notebook(p.name).is_file())

    def require(self, homeworks: list[str] | None) -> list[str]:
        """The named homeworks (all of them when none are named), or UnknownHomework."""
        available = self.homeworks()
        for homework in homeworks or []:
            if homework not in available:
                raise UnknownHomework(homework, available)
        return list(homeworks) if homeworks else available


def find_course_root(start: Path) -> Path:
    """$ASSIGNKIT_COURSE if set, else the nearest folder at or above `start` that holds nbgrader_config.py."""
    if os.environ.get("ASSIGNKIT_COURSE"):
        return Path(os.environ["ASSIGNKIT_COURSE"]).resolve()
    for folder in [start.resolve(), *start.resolve().parents]:
        if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
            return folder
    raise FileNotFoundError(f"no course found at or above {start}: expected nbgrader_config.py and source/")
