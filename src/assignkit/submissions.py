"""What the TA pointed at → one Submission per student.

A path may be a notebook, a folder or a zip of one, in any of these layouts (recognised by themselves;
`lms` overrides):

- plain: flat notebooks, the student id is the file stem;
- nbgrader: `submitted/<student>/<hw>/<hw>.ipynb` (a course root, the submitted/ folder itself, or its zip);
- moodle: "Download all submissions": folders `<full name>_<participant id>_assignsubmission_file_/<file>`
  (or flat files `<full name>_<participant id>_assignsubmission_file_<file>` when folders are turned off);
  other plugins' folders (`..._assignsubmission_onlinetext_`) are ignored; the student id is the participant id;
- canvas: "Download Submissions": `<sortable name>[_LATE]_<user id>_<attachment id>_<file>`, the student id is
  the user id, and a resubmitted file has `-1`, `-2` appended to its name by Canvas.

When the LMS hands over several notebooks of one student, the newest wins and the submission says so in `notes`.
Only bytes are read here; whether they are a notebook is preflight's question. Zips are read in memory and never
extracted, so member names cannot write anywhere.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from assignkit.i18n import N_, Message

MB = 1024 * 1024
MAX_NOTEBOOK_BYTES = 100 * MB

LMS_FORMATS = ("moodle", "canvas", "nbgrader", "plain")
_FOLDER_DEPTH = 5  # deepest notebook looked at in a folder: a wrapper folder + course/submitted/<student>/<hw>/<hw>.ipynb
_ZIP_UTF8_FLAG = 0x800

# Moodle (mod/assign download_submissions): clean_filename(fullname with "_" → " " + "_" + participant id)
# + "_" + subtype + "_" + plugin + "_", then the file's path inside the submission.
_MOODLE_FOLDER = re.compile(r"(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_")
_MOODLE_FLAT = re.compile(r"(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.+)")
# Canvas (ContentZipper): [sortable name (word characters only), "LATE", user id].join("_") + "_" + attachment id
# + "_" + file name; anonymous grading puts anon_<anonymous id> in place of the name and the user id.
_CANVAS = re.compile(r"(?:(?P<name>.+?)_)?(?:(?P<late>LATE)_)?(?P<user>\d+|anon_[A-Za-z0-9]+)_(?P<attachment>\d+)_"
                     r"(?P<file>.+)")
_RESUBMISSION = re.compile(r"(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))$")  # hw2-1.ipynb (Canvas), hw2 (1).ipynb


@dataclass(frozen=True)
class Submission:
    student: str  # file stem, <student> of submitted/<student>/<hw>/<hw>.ipynb, Moodle participant id, Canvas user id
    origin: str  # where it came from, for messages: "a/kim.ipynb" or "class.zip:submitted/kim/hw1/hw1.ipynb"
    content: bytes  # the raw file bytes; empty when `problem` is set
    problem: Message | None = None  # why the bytes could not be read ("file is 230 MB; the limit is 100 MB")
    name: str = ""  # the student's name as the LMS wrote it (Moodle, Canvas); "" when it gave none
    late: bool = False  # the LMS marked the submission late (Canvas)
    notes: tuple[Message, ...] = ()  # what the TA and the student should know about how this file was chosen


@dataclass(frozen=True)
class _Entry:
    name: str  # path relative to the folder or zip, with / separators, as listed
    modified: float  # seconds since the epoch (file mtime, zip member time): which of two files is newer


@dataclass(frozen=True)
class _Pick:
    student: str
    name: str  # the _Entry.name to read
    display_name: str = ""
    late: bool = False
    notes: tuple[Message, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    """One notebook an LMS download holds for a student; the newest of a student's candidates is graded."""

    entry: _Entry
    file: str  # the file name the student uploaded (without the LMS's prefix)
    order: tuple  # larger is newer
    name: str = ""
    late: bool = False


class SubmissionError(ValueError):
    """The paths given cannot be turned into submissions; the message names the path."""


def collect(paths: Iterable[Path], homework: str, lms: str | None = None) -> list[Submission]:
    """One Submission per student found under `paths`, sorted by student id.

    `lms` (one of LMS_FORMATS) names the layout of every path; None recognises each path's layout by itself.
    Raises SubmissionError for an unknown `lms`, a path that does not exist, is neither a notebook, a folder nor
    a zip, is a bad zip, holds no notebook of `homework`, or when two submissions have the same student id.
    """
    if lms is not None and lms not in LMS_FORMATS:
        raise SubmissionError(f"unknown LMS format {lms!r}; expected one of: {', '.join(LMS_FORMATS)}")
    found = [submission for path in paths for submission in _from_path(Path(path), homework, lms)]
    return _sorted_unique(found)


def _from_path(path: Path, homework: str, lms: str | None) -> list[Submission]:
    if path.is_dir():
        return _from_folder(path, homework, lms)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".ipynb" and path.is_file():
        picked = _pick_all([_entry_of_file(path.parent, path.name)], homework, lms)
        if not picked:
            raise SubmissionError(f"{path}: not a {lms} download file name; {_LAYOUT_HINT[lms].format(hw=homework)}")
        return [_read_file(pick, path) for pick in picked]
    if suffix == ".zip" and path.is_file():
        return _from_zip(path, homework, lms)
    raise SubmissionError(f"{path}: expected a .ipynb notebook, a folder of notebooks, or a .zip of either")


def _from_folder(folder: Path, homework: str, lms: str | None) -> list[Submission]:
    entries = [_entry_of_file(folder, name) for name in _notebooks_under(folder)]
    picked = _pick_all(entries, homework, lms)
    if not picked:
        raise SubmissionError(_nothing_found(str(folder), [e.name for e in entries], homework, lms))
    return [_read_file(pick, folder / pick.name) for pick in picked]


def _notebooks_under(folder: Path) -> list[str]:
    """Relative names of the visible .ipynb files (any case) under `folder`, at most _FOLDER_DEPTH deep."""
    names = []
    for root, dirs, files in os.walk(folder):
        relative = Path(root).relative_to(folder)
        depth = len(relative.parts) + 1
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < _FOLDER_DEPTH else []
        names += [(relative / f).as_posix() for f in files
                  if f.lower().endswith(".ipynb") and not f.startswith(".") and (Path(root) / f).is_file()]
    return sorted(names)


def _entry_of_file(folder: Path, name: str) -> _Entry:
    try:
        return _Entry(name, (folder / name).stat().st_mtime)
    except OSError:
        return _Entry(name, 0.0)


def _from_zip(path: Path, homework: str, lms: str | None) -> list[Submission]:
    try:
        with zipfile.ZipFile(path) as archive:
            members: dict[str, list[zipfile.ZipInfo]] = {}
            for info in archive.infolist():
                name = _member_name(info)
                if not info.is_dir() and _is_safe_member(name):
                    members.setdefault(name, []).append(info)
            entries = [_Entry(name, _zip_time(infos[-1])) for name, infos in sorted(members.items())]
            picked = _pick_all(entries, homework, lms)
            if not picked:
                raise SubmissionError(_nothing_found(str(path), sorted(members), homework, lms))
            return [
                _read_member(archive, info, pick, f"{path}:{pick.name}")
                for pick in picked
                for info in members[pick.name]  # a zip may hold one name twice; both become rows, then a duplicate
            ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise SubmissionError(f"{path}: not a readable zip file ({error})") from None


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return 0.0


# --- which files are whose -------------------------------------------------------------------------------------

def _pick_all(entries: list[_Entry], homework: str, lms: str | None) -> list[_Pick]:
    """The notebooks of `homework` among `entries`, one per student for LMS downloads.

    Zipping or extracting a folder puts everything under that folder's name: when nothing is found at the root
    and every entry shares one top folder, look one level down.
    """
    for skip in (0, 1):
        if skip and not _one_wrapper(entries):
            break
        relative = [(PurePosixPath(e.name).parts[skip:], e) for e in entries]
        layout = lms or _recognise(relative)
        picked = _PICKERS[layout](relative, homework)
        if picked:
            return picked
    return []


def _one_wrapper(entries: list[_Entry]) -> bool:
    tops = {PurePosixPath(e.name).parts[0] for e in entries}
    return len(tops) == 1 and all(len(PurePosixPath(e.name).parts) >= 2 for e in entries)


_Relative = list[tuple[tuple[str, ...], _Entry]]  # (parts under the root, the entry)


def _recognise(relative: _Relative) -> str:
    """moodle when a Moodle submission folder (or flat Moodle name) is there; canvas when every notebook at the
    root has Canvas's name; otherwise the kit's own layouts (flat notebooks and nbgrader trees)."""
    if any(_moodle_match(parts) for parts, _ in relative):
        return "moodle"
    flat = [parts[0] for parts, _ in relative if len(parts) == 1 and _is_notebook(parts[0])]
    if flat and all(_CANVAS.fullmatch(name) for name in flat):
        return "canvas"
    return "auto"


def _is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def _pick_kit_layouts(relative: _Relative, homework: str) -> list[_Pick]:
    """A submitted/ tree, when present, is all that is taken (the root is a course folder, whose source/ and
    release/ are no students); otherwise the flat notebooks and the tree of a submitted folder itself."""
    if _has_tree(relative, ("submitted",)):
        return _pick_tree(relative, homework, ("submitted",))
    return _pick_plain(relative, homework) + _pick_tree(relative, homework, ())


def _pick_plain(relative: _Relative, homework: str) -> list[_Pick]:
    return [_Pick(_student_id(PurePosixPath(parts[0]).stem), entry.name)
            for parts, entry in relative if len(parts) == 1 and _is_notebook(parts[0])]


def _pick_nbgrader(relative: _Relative, homework: str) -> list[_Pick]:
    prefix = ("submitted",) if _has_tree(relative, ("submitted",)) else ()
    return _pick_tree(relative, homework, prefix)


def _tree_parts(relative: _Relative, prefix: tuple[str, ...]):
    """(parts, entry) of every `<prefix>/<student>/<hw>/<hw>.ipynb`, of any homework."""
    depth = len(prefix) + 3
    return [(parts, entry) for parts, entry in relative
            if len(parts) == depth and parts[:len(prefix)] == prefix and parts[-1] == f"{parts[-2]}.ipynb"]


def _has_tree(relative: _Relative, prefix: tuple[str, ...]) -> bool:
    return bool(_tree_parts(relative, prefix))


def _pick_tree(relative: _Relative, homework: str, prefix: tuple[str, ...]) -> list[_Pick]:
    return [_Pick(_student_id(parts[-3]), entry.name) for parts, entry in _tree_parts(relative, prefix)
            if parts[-2] == homework]


def _moodle_match(parts: tuple[str, ...]) -> re.Match | None:
    if len(parts) >= 2:
        return _MOODLE_FOLDER.fullmatch(parts[0])
    return _MOODLE_FLAT.fullmatch(parts[0]) if parts else None


def _pick_moodle(relative: _Relative, homework: str) -> list[_Pick]:
    by_student: dict[str, list[_Candidate]] = {}
    for parts, entry in relative:
        match = _moodle_match(parts)
        if match is None or match["plugin"] != "file" or not _is_notebook(parts[-1]):
            continue  # onlinetext, comments, other plugins' files
        candidate = _Candidate(entry, parts[-1] if len(parts) >= 2 else match["file"],
                               (entry.modified, entry.name), name=_student_id(match["name"]))
        by_student.setdefault(match["id"], []).append(candidate)
    return [_newest(student, candidates, homework) for student, candidates in by_student.items()]


def _pick_canvas(relative: _Relative, homework: str) -> list[_Pick]:
    by_student: dict[str, list[_Candidate]] = {}
    for parts, entry in relative:
        match = _CANVAS.fullmatch(parts[0]) if len(parts) == 1 and _is_notebook(parts[0]) else None
        if match is None:
            continue
        name, late = match["name"] or "", match["late"] is not None
        if name == "LATE" and match["user"].startswith("anon_"):  # anonymous and late: "LATE_anon_<id>"
            name, late = "", True
        candidate = _Candidate(entry, match["file"], (int(match["attachment"]), _resubmission_number(match["file"]),
                                                      entry.modified), name=_student_id(name), late=late)
        by_student.setdefault(match["user"], []).append(candidate)
    return [_newest(student, candidates, homework) for student, candidates in by_student.items()]


def _resubmission_number(file: str) -> int:
    match = _RESUBMISSION.search(PurePosixPath(file).stem)
    return int(match["dash"] or match["paren"]) if match else 0


def _named_like(file: str, homework: str) -> bool:
    stem = _RESUBMISSION.sub("", PurePosixPath(file).stem)
    return unicodedata.normalize("NFC", stem).lower() == homework.lower()


def _newest(student: str, candidates: list[_Candidate], homework: str) -> _Pick:
    """The newest notebook named like the homework (any notebook when none is), and a note when there were more."""
    named = [c for c in candidates if _named_like(c.file, homework)] or candidates
    chosen = max(named, key=lambda c: c.order)
    notes: tuple[Message, ...] = ()
    if len(candidates) > 1:
        others = ", ".join(sorted(c.file for c in candidates if c is not chosen))
        notes = (Message(N_("graded the newest of {count} submitted notebooks: {chosen}; not graded: {others}"),
                         {"count": len(candidates), "chosen": chosen.file, "others": others}),)
    return _Pick(_student_id(student), chosen.entry.name, chosen.name, chosen.late, notes)


_PICKERS = {"auto": _pick_kit_layouts, "plain": _pick_plain, "nbgrader": _pick_nbgrader,
            "moodle": _pick_moodle, "canvas": _pick_canvas}

_LAYOUT_HINT = {
    None: "expected .ipynb files directly inside, or nbgrader's submitted/<student>/{hw}/{hw}.ipynb",
    "plain": "expected .ipynb files directly inside",
    "nbgrader": "expected nbgrader's submitted/<student>/{hw}/{hw}.ipynb",
    "moodle": "expected Moodle's folders <full name>_<participant id>_assignsubmission_file_/ holding a .ipynb",
    "canvas": "expected Canvas's files <name>[_LATE]_<user id>_<attachment id>_<file>.ipynb",
}


def _nothing_found(where: str, names: list[str], homework: str, lms: str | None) -> str:
    homeworks = sorted({parts[-2] for parts in (PurePosixPath(name).parts for name in names)
                        if len(parts) >= 3 and parts[-1] == f"{parts[-2]}.ipynb"} - {homework})
    if homeworks and lms in (None, "nbgrader"):
        return (f"{where}: no submissions of {homework} found; "
                f"its nbgrader tree holds only: {', '.join(homeworks)}")
    hint = _LAYOUT_HINT[lms].format(hw=homework)
    return f"{where}: no notebooks found; {hint}"


def _read_file(pick: _Pick, path: Path) -> Submission:
    found = _found(pick, str(path))
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return replace(found, problem=_too_big(size))
        with path.open("rb") as stream:
            content = stream.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as error:
        return replace(found, problem=Message(N_("could not read the file: {error}"),
                                              {"error": str(error.strerror or error)}))
    if len(content) > MAX_NOTEBOOK_BYTES:
        return replace(found, problem=_too_big(len(content)))
    return replace(found, content=content)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, pick: _Pick, origin: str) -> Submission:
    found = _found(pick, origin)
    if info.file_size > MAX_NOTEBOOK_BYTES:
        return replace(found, problem=_too_big(info.file_size))
    try:
        with archive.open(info) as stream:
            content = stream.read(MAX_NOTEBOOK_BYTES + 1)
    except Exception as error:  # noqa: BLE001 - zipfile raises many types (CRC, encryption, codec); one row each
        return replace(found, problem=Message(N_("could not read it from the zip: {error}"), {"error": str(error)}))
    if len(content) > MAX_NOTEBOOK_BYTES:  # the header understated the size
        return replace(found, problem=_too_big(len(content)))
    return replace(found, content=content)


def _found(pick: _Pick, origin: str) -> Submission:
    return Submission(pick.student, origin, b"", name=pick.display_name, late=pick.late, notes=pick.notes)


def _too_big(size: int) -> Message:
    return Message(N_("the file is {size} MB; the limit is {limit} MB"),
                   {"size": math.ceil(size / MB), "limit": MAX_NOTEBOOK_BYTES // MB})


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
