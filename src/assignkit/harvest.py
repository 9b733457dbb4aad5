"""What each question harvests (autograder/<hw>/questions.toml), the kernel code that saves it, and the copy
of what it saved out of the sandbox."""

from __future__ import annotations

import json
import os
import stat
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assignkit.i18n import N_, Message
from assignkit.kernel_harvest import FLOATS_SUFFIX, PLAIN_SUFFIX, TENSOR_SUFFIX

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
    folder: Path  # autograder/<hw>/, where the inputs of function artifacts are
    points: float | None = None  # what questions.toml states the question is worth (None: not stated)
    line: int = 0  # where its `id = ...` is in questions.toml, for messages
    record: bool = False  # save how the question's networks were trained (kernel_harvest.install_recorder)


def load_questions(autograder_folder: Path) -> list[Question]:
    """The questions of autograder/<hw>/questions.toml; QuestionsError names the file and line of what is wrong."""
    path = autograder_folder / "questions.toml"
    try:
        text = path.read_text()
        entries = tomllib.loads(text)["question"]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise QuestionsError(f"{path}: {error}") from None
    questions, line = [], 0
    for number, entry in enumerate(entries):
        line = toml_line(text, "id", entry.get("id"), line + 1) if isinstance(entry, dict) else 0
        try:
            questions.append(_question(entry, autograder_folder, line))
        except (KeyError, TypeError, ValueError) as error:
            raise QuestionsError(f"{path}:{line}: question {number + 1}: {type(error).__name__} {error}") from None
    seen: set[str] = set()
    for question in questions:
        where = f"{path}:{question.line}: {question.id}"
        if question.id in seen:
            raise QuestionsError(f"{where}: a second question with this id")
        seen.add(question.id)
        if not question.artifacts:
            raise QuestionsError(f"{where}: harvests no artifacts, so no check can grade it")
        for artifact in question.artifacts:
            if artifact.kind not in KINDS:
                raise QuestionsError(f"{where}.{artifact.name}: kind must be one of {KINDS}")
            if artifact.kind == "function" and not (autograder_folder / str(artifact.inputs)).is_file():
                raise QuestionsError(f"{where}.{artifact.name}: inputs file {artifact.inputs} is missing")
    return questions


def toml_line(text: str, key: str, value: object, start: int = 0) -> int:
    """The 1-based line of the first `key = "value"` at or after line `start` of a TOML text (0: not found)."""
    lines = text.splitlines()
    for number in range(max(start - 1, 0), len(lines)):
        stripped = lines[number].split("#", 1)[0].replace(" ", "")
        if stripped.startswith(f'{key}="{value}"') or stripped.startswith(f"{key}='{value}'"):
            return number + 1
    return 0


def _question(entry: dict, folder: Path, line: int) -> Question:
    artifacts = tuple(Artifact(a["name"], a["kind"], a.get("inputs")) for a in entry["artifacts"])
    points = float(entry["points"]) if "points" in entry else None
    record = entry.get("record", False)
    if type(record) is not bool:
        raise ValueError(f"record must be true or false, not {record!r}")
    return Question(entry["id"], entry.get("title", entry["id"]), entry.get("after", f"{entry['id']}_form"),
                    artifacts, folder, points, line, record)


def harvest_source(question: Question, out_dir: str) -> str:
    """One cell of code that saves the question's artifacts without adding a name to the student's namespace.
    The hidden inputs of function artifacts travel inside the code: no file of them enters the sandbox."""
    plan = [{"name": a.name, "kind": a.kind, "calls": _calls(question, a)} for a in question.artifacts]
    return (f"(lambda ns: (exec({KERNEL_SOURCE!r}, ns), "
            f"ns['harvest'](globals(), {plan!r}, {out_dir!r}, {question.record!r})))"
            "({'__name__': 'assignkit_harvest'});")


def recorder_source(questions: list[Question]) -> str | None:
    """The cell run before the student's first one when a question records how its networks were trained
    (questions.toml `record = true`); None when none does. Like a harvest cell, it adds no name to the
    student's namespace."""
    if not any(question.record for question in questions):
        return None
    return (f"(lambda ns: (exec({KERNEL_SOURCE!r}, ns), ns['install_recorder']()))"
            "({'__name__': 'assignkit_harvest'});")


def _calls(question: Question, artifact: Artifact) -> list | None:
    return json.loads((question.folder / artifact.inputs).read_text()) if artifact.inputs else None


def take_out(workdir: Path, question_id: str, destination: Path) -> None:
    """Move what the kernel saved in <workdir>/.harvest/<question_id> to `destination`, outside the sandbox.

    The student's code owns everything below workdir and may have swapped any part of that path for a symlink
    (even while we read), so each step is opened relative to the last with O_NOFOLLOW, files are read from
    descriptors, and only entries of the folder actually opened are unlinked.
    """
    destination.mkdir(parents=True, exist_ok=True)
    try:
        folder = _open_beneath(workdir, ".harvest", question_id)
    except OSError:
        return
    try:
        _copy_entries(folder, destination)
    finally:
        os.close(folder)


def _open_beneath(root: Path, *names: str) -> int:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for name in names:
        try:
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)
        fd = inner
    return fd


def _copy_entries(folder: int, destination: Path) -> None:
    total, refused = 0, []
    for name in sorted(os.listdir(folder), key=lambda n: (n != "manifest.json", n)):
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            if total > MAX_HARVEST_BYTES:
                refused.append(name)
                continue
            (destination / name).write_bytes(file.read(MAX_HARVEST_BYTES))
        os.unlink(name, dir_fd=folder)
    _mark_too_large(destination / "manifest.json", refused)


def _mark_too_large(manifest_path: Path, refused: list[str]) -> None:
    if not refused or not manifest_path.is_file():
        return
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        return
    for name in refused:
        artifact = name.removesuffix(TENSOR_SUFFIX).removesuffix(PLAIN_SUFFIX).removesuffix(FLOATS_SUFFIX)
        if artifact in manifest:
            too_large = Message(N_("{name} is too large to grade (the limit is {limit} MB for a question)"),
                                {"name": artifact, "limit": MAX_HARVEST_BYTES // 1_000_000})
            manifest[artifact] = {"ok": False, "kind": manifest[artifact].get("kind"), "error": str(too_large),
                                  "message": too_large.message, "params": dict(too_large.params)}
    manifest_path.write_text(json.dumps(manifest))


def refusal(entry: dict) -> Message | None:
    """Why an artifact was not harvested (its manifest entry), in no language yet; None when the entry holds no
    message id with its parameters (an error of the student's object: its English `error` is all there is).
    The manifest is written in the student's process, so the id may only name plain parameters it gives."""
    message, params = entry.get("message"), entry.get("params")
    if not isinstance(message, str) or not isinstance(params, dict):
        return None
    try:
        fields = [field for _, field, spec, conversion in string.Formatter().parse(message) if field is not None]
    except ValueError:
        return None
    if any(not field.isidentifier() or field not in params for field in fields):
        return None
    if any(type(value) not in (str, int, float) for value in params.values()):
        return None
    return Message(message, params)
