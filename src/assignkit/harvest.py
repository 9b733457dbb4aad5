"""What each question harvests (autograder/<hw>/questions.toml), the kernel code that saves it, and the copy
of what it saved out of the sandbox."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

KERNEL_SOURCE = (Path(__file__).parent / "kernel_harvest.py").read_text()
KINDS = ("value", "module", "function")
MAX_HARVEST_BYTES = 50_000_000  # per question


class QuestionsError(ValueError):
    pass


@dataclass(frozen=True)
class Artifact:
    name: str
    kind: str
    inputs: str | None = None


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    after: str
    artifacts: tuple[Artifact, ...]


def load_questions(autograder_folder: Path) -> list[Question]:
    path = autograder_folder / "questions.toml"
    try:
        entries = tomllib.loads(path.read_text())["question"]
        questions = [_question(entry) for entry in entries]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise QuestionsError(f"{path}: {error}") from None
    for question in questions:
        for artifact in question.artifacts:
            if artifact.kind not in KINDS:
                raise QuestionsError(f"{path}: {question.id}.{artifact.name}: kind must be one of {KINDS}")
            if artifact.kind == "function" and not (autograder_folder / str(artifact.inputs)).is_file():
                raise QuestionsError(f"{path}: {question.id}.{artifact.name}: inputs file {artifact.inputs} is missing")
    return questions


def _question(entry: dict) -> Question:
    artifacts = tuple(Artifact(a["name"], a["kind"], a.get("inputs")) for a in entry["artifacts"])
    return Question(entry["id"], entry.get("title", entry["id"]), entry.get("after", entry["id"]), artifacts)


def harvest_source(question: Question, out_dir: str, inputs_dir: str) -> str:
    """One cell of code that saves the question's artifacts without adding a name to the student's namespace."""
    plan = [{"name": a.name, "kind": a.kind, "inputs": a.inputs} for a in question.artifacts]
    return (f"(lambda ns: (exec({KERNEL_SOURCE!r}, ns), "
            f"ns['harvest'](globals(), {plan!r}, {out_dir!r}, {inputs_dir!r})))({{'__name__': 'assignkit_harvest'}});")


def copy_inputs(question: Question, autograder_folder: Path, inputs_dir: Path) -> None:
    inputs_dir.mkdir(parents=True, exist_ok=True)
    for artifact in question.artifacts:
        if artifact.inputs:
            shutil.copy(autograder_folder / artifact.inputs, inputs_dir / artifact.inputs)


def take_out(harvested: Path, destination: Path) -> None:
    """Move what the kernel saved to a folder the sandbox cannot reach, refusing files that are too large."""
    destination.mkdir(parents=True, exist_ok=True)
    total = 0
    found = harvested.is_dir() and not harvested.is_symlink()
    for path in sorted(harvested.glob("*")) if found else []:
        if path.is_symlink() or not path.is_file():
            continue
        total += path.stat().st_size
        if total > MAX_HARVEST_BYTES:
            break
        shutil.copyfile(path, destination / path.name)
    shutil.rmtree(harvested, ignore_errors=True)
