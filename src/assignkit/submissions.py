"""What the TA pointed at → one Submission per student.

A path may be a notebook, a folder (flat, or nbgrader's `submitted/<student>/<hw>/<hw>.ipynb` tree) or a zip of
either, as an LMS hands it out. Only bytes are read here; whether they are a notebook is preflight's question.
Zips are read in memory and never extracted, so member names cannot write anywhere.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MB = 1024 * 1024
MAX_NOTEBOOK_BYTES = 100 * MB

# Where a folder may hold notebooks: flat (any case of .ipynb), the submitted/ folder itself, a course root.
_FOLDER_PATTERNS = ("*", "*/*/*.ipynb", "submitted/*/*/*.ipynb")
_ZIP_UTF8_FLAG = 0x800

_RelativeName = tuple[tuple[str, ...], str]  # (parts under the root, the name as listed)


@dataclass(frozen=True)
class Submission:
    student: str  # the file stem, or <student> in nbgrader's submitted/<student>/<hw>/<hw>.ipynb
    origin: str  # where it came from, for messages: "a/kim.ipynb" or "class.zip:submitted/kim/hw1/hw1.ipynb"
    content: bytes  # the raw file bytes; empty when `problem` is set
    problem: str | None = None  # why the bytes could not be read ("file is 230 MB; the limit is 100 MB")
    name: str = ""
    late: bool = False


class SubmissionError(ValueError):
    """The paths given cannot be turned into submissions; the message names the path."""


def collect(paths: Iterable[Path], homework: str) -> list[Submission]:
    """One Submission per student found under `paths`, sorted by student id.

    Raises SubmissionError for a path that does not exist, is neither a notebook, a folder nor a zip, is a bad
    zip, holds no notebook of `homework`, or when two submissions have the same student id.
    """
    found = [submission for path in paths for submission in _from_path(Path(path), homework)]
    return _sorted_unique(found)


def _from_path(path: Path, homework: str) -> list[Submission]:
    if path.is_dir():
        return _from_folder(path, homework)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".ipynb" and path.is_file():
        return [_read_file(_student_id(path.stem), path)]
    if suffix == ".zip" and path.is_file():
        return _from_zip(path, homework)
    raise SubmissionError(f"{path}: expected a .ipynb notebook, a folder of notebooks, or a .zip of either")


def _from_folder(folder: Path, homework: str) -> list[Submission]:
    files = {p.relative_to(folder).as_posix() for pattern in _FOLDER_PATTERNS for p in folder.glob(pattern)}
    names = sorted(name for name in files if _is_visible(name) and (folder / name).is_file())
    picked = _pick(names, homework)
    if not picked:
        raise SubmissionError(_nothing_found(str(folder), names, homework))
    return [_read_file(student, folder / name) for student, name in picked]


def _from_zip(path: Path, homework: str) -> list[Submission]:
    try:
        with zipfile.ZipFile(path) as archive:
            members: dict[str, list[zipfile.ZipInfo]] = {}
            for info in archive.infolist():
                name = _member_name(info)
                if not info.is_dir() and _is_safe_member(name):
                    members.setdefault(name, []).append(info)
            names = sorted(members)
            picked = _pick(names, homework) or _pick_inside_wrapper(names, homework)
            if not picked:
                raise SubmissionError(_nothing_found(str(path), names, homework))
            return [
                _read_member(archive, info, student, f"{path}:{name}")
                for student, name in picked
                for info in members[name]  # a zip may hold one name twice; both become rows, then a duplicate
            ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise SubmissionError(f"{path}: not a readable zip file ({error})") from None


def _pick(names: list[str], homework: str, skip: int = 0) -> list[tuple[str, str]]:
    """(student, name) of the notebooks of `homework` among `names`, paths relative to a folder or zip root.

    The first `skip` parts of each name are ignored (a zip's wrapping folder). A submitted/ tree, when present,
    is all that is taken (the root is a course folder); otherwise the flat notebooks and the tree of a
    submitted folder itself.
    """
    relative = [(PurePosixPath(name).parts[skip:], name) for name in names]
    entries = _tree_entries(relative, prefix=("submitted",))
    if not entries:
        flat = [(_student_id(PurePosixPath(parts[0]).stem), homework, name)
                for parts, name in relative if len(parts) == 1 and parts[0].lower().endswith(".ipynb")]
        entries = flat + _tree_entries(relative, prefix=())
    return [(student, name) for student, entry_homework, name in entries if entry_homework == homework]


def _tree_entries(relative: list[_RelativeName], prefix: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(student, homework, name) of every `<prefix>/<student>/<hw>/<hw>.ipynb`, of any homework."""
    depth = len(prefix) + 3
    return [(_student_id(parts[-3]), parts[-2], name) for parts, name in relative
            if len(parts) == depth and parts[:len(prefix)] == prefix and parts[-1] == f"{parts[-2]}.ipynb"]


def _pick_inside_wrapper(names: list[str], homework: str) -> list[tuple[str, str]]:
    """Zipping a folder puts everything under that folder's name: look one level down when all share it."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) != 1 or any(len(PurePosixPath(name).parts) < 2 for name in names):
        return []
    return _pick(names, homework, skip=1)


def _nothing_found(where: str, names: list[str], homework: str) -> str:
    homeworks = sorted({parts[-2] for parts in (PurePosixPath(name).parts for name in names)
                        if len(parts) >= 3 and parts[-1] == f"{parts[-2]}.ipynb"} - {homework})
    if homeworks:
        return (f"{where}: no submissions of {homework} found; "
                f"its nbgrader tree holds only: {', '.join(homeworks)}")
    return (f"{where}: no notebooks found; expected .ipynb files directly inside, or nbgrader's "
            f"submitted/<student>/{homework}/{homework}.ipynb")


def _read_file(student: str, path: Path) -> Submission:
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return Submission(student, str(path), b"", _too_big(size))
        with path.open("rb") as stream:
            content = stream.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as error:
        return Submission(student, str(path), b"", f"could not read the file: {error.strerror or error}")
    if len(content) > MAX_NOTEBOOK_BYTES:
        return Submission(student, str(path), b"", _too_big(len(content)))
    return Submission(student, str(path), content)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, student: str, origin: str) -> Submission:
    if info.file_size > MAX_NOTEBOOK_BYTES:
        return Submission(student, origin, b"", _too_big(info.file_size))
    try:
        with archive.open(info) as stream:
            content = stream.read(MAX_NOTEBOOK_BYTES + 1)
    except Exception as error:  # noqa: BLE001 - zipfile raises many types (CRC, encryption, codec); one row each
        return Submission(student, origin, b"", f"could not read it from the zip: {error}")
    if len(content) > MAX_NOTEBOOK_BYTES:  # the header understated the size
        return Submission(student, origin, b"", _too_big(len(content)))
    return Submission(student, origin, content)


def _too_big(size: int) -> str:
    return f"file is {math.ceil(size / MB)} MB; the limit is {MAX_NOTEBOOK_BYTES // MB} MB"


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it, with / separators.

    Without the UTF-8 flag zipfile decodes names as cp437; macOS writes UTF-8 and Korean Windows cp949 that way.
    """
    name = info.filename
    if not info.flag_bits & _ZIP_UTF8_FLAG:
        raw = name.encode("cp437")
        for encoding in ("utf-8", "cp949"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


def _is_safe_member(name: str) -> bool:
    absolute = name.startswith("/") or re.match(r"[A-Za-z]:", name) is not None
    parts = PurePosixPath(name).parts
    return bool(parts) and not absolute and parts[0] != "__MACOSX" and _is_visible(name)


def _is_visible(name: str) -> bool:
    """False for dot files and anything under a dot folder (.ipynb_checkpoints, ..)."""
    return not any(part.startswith(".") for part in PurePosixPath(name).parts)


def _student_id(name: str) -> str:
    # macOS writes Korean file names decomposed (NFD); the same name typed on Windows or Linux is NFC.
    return unicodedata.normalize("NFC", name)


def _sorted_unique(submissions: list[Submission]) -> list[Submission]:
    by_student: dict[str, Submission] = {}
    duplicates = []
    for submission in submissions:
        first = by_student.setdefault(submission.student, submission)
        if first is not submission:
            duplicates.append(f"{submission.student!r} in {first.origin} and {submission.origin}")
    if duplicates:
        raise SubmissionError("two submissions for one student: " + "; ".join(duplicates))
    return sorted(by_student.values(), key=lambda submission: submission.student)
