import os
import unicodedata
import zipfile

import pytest

from assignkit import submissions
from assignkit.submissions import MAX_NOTEBOOK_BYTES, Submission, SubmissionError, collect


def write(path, content=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if content is not None else f"notebook of {path.name}".encode())
    return path


def make_zip(path, members):
    """members: {name: bytes}; names are written as given (zipfile sets its UTF-8 flag for non-ASCII)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def students(found):
    return [submission.student for submission in found]


def submitted_tree(root):
    """nbgrader's layout under root/submitted, with what must be ignored beside it."""
    for student in ("lee", "kim"):
        write(root / "submitted" / student / "hw1" / "hw1.ipynb", f"{student} hw1".encode())
        write(root / "submitted" / student / "hw1" / "scratch.ipynb")
        write(root / "submitted" / student / "hw1" / "data.csv")
        write(root / "submitted" / student / "hw2" / "hw2.ipynb")
    write(root / "submitted" / "kim" / "hw1" / ".ipynb_checkpoints" / "hw1-checkpoint.ipynb")
    write(root / "submitted" / ".ipynb_checkpoints" / "hw1" / "hw1.ipynb")
    write(root / "source" / "hw1" / "hw1.ipynb")  # a course root also holds these; they are not students
    write(root / "release" / "hw1" / "hw1.ipynb")
    return root


# --- what a path may be ----------------------------------------------------------------------------------------

def test_notebook_file(tmp_path):
    path = write(tmp_path / "a" / "kim.ipynb", b'{"cells": []}')
    assert collect([path], "hw1") == [Submission("kim", str(path), b'{"cells": []}')]


def test_flat_folder_skips_checkpoints_dot_files_other_files_and_subfolders(tmp_path):
    folder = tmp_path / "a"
    for name in ("park.ipynb", "kim.ipynb", "LEE.IPYNB"):
        write(folder / name)
    write(folder / ".ipynb_checkpoints" / "kim-checkpoint.ipynb")
    write(folder / ".~kim.ipynb")
    write(folder / "notes.txt")
    write(folder / "old" / "choi.ipynb")
    found = collect([folder], "hw1")
    assert students(found) == ["LEE", "kim", "park"]
    assert found[1] == Submission("kim", str(folder / "kim.ipynb"), b"notebook of kim.ipynb")


def test_course_folder_with_submitted_tree(tmp_path):
    root = submitted_tree(tmp_path / "course")
    found = collect([root], "hw1")
    assert [(s.student, s.origin, s.content) for s in found] == [
        ("kim", str(root / "submitted/kim/hw1/hw1.ipynb"), b"kim hw1"),
        ("lee", str(root / "submitted/lee/hw1/hw1.ipynb"), b"lee hw1"),
    ]


def test_submitted_folder_itself(tmp_path):
    submitted = submitted_tree(tmp_path / "course") / "submitted"
    assert students(collect([submitted], "hw1")) == ["kim", "lee"]
    assert students(collect([submitted], "hw2")) == ["kim", "lee"]


def test_zip_of_a_flat_folder_with_its_folder_name_and_mac_leftovers(tmp_path):
    archive = make_zip(tmp_path / "class.zip", {
        "class/kim.ipynb": b"kim",
        "class/lee.ipynb": b"lee",
        "class/.ipynb_checkpoints/kim-checkpoint.ipynb": b"old",
        "class/._kim.ipynb": b"resource fork",
        "__MACOSX/class/._lee.ipynb": b"resource fork",
        "class/readme.txt": b"",
    })
    found = collect([archive], "hw1")
    assert [(s.student, s.origin, s.content) for s in found] == [
        ("kim", f"{archive}:class/kim.ipynb", b"kim"),
        ("lee", f"{archive}:class/lee.ipynb", b"lee"),
    ]


def test_zip_of_notebooks_at_its_root(tmp_path):
    archive = make_zip(tmp_path / "lms.zip", {"kim.ipynb": b"kim", "lee.ipynb": b"lee"})
    assert students(collect([archive], "hw1")) == ["kim", "lee"]


# "course/" is a submitted folder zipped under another name
@pytest.mark.parametrize("prefix", ["", "submitted/", "course/submitted/", "course/"])
def test_zip_of_a_submitted_tree(tmp_path, prefix):
    members = {
        f"{prefix}kim/hw1/hw1.ipynb": b"kim",
        f"{prefix}kim/hw1/.ipynb_checkpoints/hw1-checkpoint.ipynb": b"old",
        f"{prefix}lee/hw1/hw1.ipynb": b"lee",
        f"{prefix}lee/hw2/hw2.ipynb": b"other homework",
    }
    archive = make_zip(tmp_path / "class.zip", members)
    found = collect([archive], "hw1")
    assert [(s.student, s.content) for s in found] == [("kim", b"kim"), ("lee", b"lee")]
    assert found[0].origin.endswith("class.zip:" + next(iter(members)))


def test_zip_members_with_unsafe_names_are_ignored(tmp_path):
    archive = make_zip(tmp_path / "evil.zip", {
        "../escape.ipynb": b"x", "/abs.ipynb": b"x", "C:/win.ipynb": b"x", "kim.ipynb": b"kim"})
    assert students(collect([archive], "hw1")) == ["kim"]
    assert not (tmp_path.parent / "escape.ipynb").exists()


def test_several_paths_are_merged_and_sorted(tmp_path):
    flat = tmp_path / "late"
    write(flat / "park.ipynb")
    archive = make_zip(tmp_path / "class.zip", {"lee.ipynb": b"lee"})
    single = write(tmp_path / "choi.ipynb")
    assert students(collect([flat, archive, single], "hw1")) == ["choi", "lee", "park"]


# --- student ids ----------------------------------------------------------------------------------------------

def test_korean_student_ids(tmp_path):
    folder = tmp_path / "a"
    write(folder / "김민수.ipynb")
    write(folder / unicodedata.normalize("NFD", "이서연.ipynb"))  # as a Mac writes it
    archive = make_zip(tmp_path / "b.zip", {"박지훈.ipynb": b"x"})
    found = collect([folder, archive], "hw1")
    assert students(found) == ["김민수", "박지훈", "이서연"]


def test_korean_names_in_a_zip_made_on_korean_windows(tmp_path):
    # Windows' own zipper writes cp949 names without the UTF-8 flag; zipfile reads them as cp437.
    name = "최유진.ipynb".encode("cp949")
    placeholder = b"x" * (len(name) - len(b".ipynb")) + b".ipynb"
    archive = make_zip(tmp_path / "class.zip", {placeholder.decode(): b"x"})
    archive.write_bytes(archive.read_bytes().replace(placeholder, name))
    assert students(collect([archive], "hw1")) == ["최유진"]


def test_same_student_twice_names_both_origins(tmp_path):
    first = write(tmp_path / "a" / "kim.ipynb")
    archive = make_zip(tmp_path / "late.zip", {"submitted/kim/hw1/hw1.ipynb": b"x"})
    with pytest.raises(SubmissionError) as caught:
        collect([tmp_path / "a", archive], "hw1")
    message = str(caught.value)
    assert "'kim'" in message and str(first) in message and f"{archive}:submitted/kim/hw1/hw1.ipynb" in message


# --- refused paths ---------------------------------------------------------------------------------------------

def refusal(paths, homework="hw1", lms=None):
    with pytest.raises(SubmissionError) as caught:
        collect(paths, homework, lms)
    return str(caught.value)


def test_missing_path(tmp_path):
    assert refusal([tmp_path / "nope.ipynb"]) == f"{tmp_path / 'nope.ipynb'}: no such file or folder"


def test_file_that_is_neither_notebook_nor_zip(tmp_path):
    path = write(tmp_path / "kim.txt")
    assert refusal([path]) == f"{path}: expected a .ipynb notebook, a folder of notebooks, or a .zip of either"


def test_corrupt_zip(tmp_path):
    path = write(tmp_path / "class.zip", b"PK\x03\x04 this is not really a zip")
    assert refusal([path]).startswith(f"{path}: not a readable zip file (")


@pytest.mark.parametrize("make", [
    lambda tmp_path: (tmp_path / "empty").mkdir() or tmp_path / "empty",
    lambda tmp_path: make_zip(tmp_path / "empty.zip", {"class/readme.txt": b"", "__MACOSX/._x.ipynb": b""}),
])
def test_folder_or_zip_without_notebooks(tmp_path, make):
    path = make(tmp_path)
    message = refusal([path])
    assert message.startswith(str(path)) and "no notebooks found" in message
    assert "submitted/<student>/hw1/hw1.ipynb" in message


def test_submitted_tree_of_other_homeworks_only(tmp_path):
    root = submitted_tree(tmp_path / "course")
    message = refusal([root], "hw3")
    assert message == f"{root}: no submissions of hw3 found; its nbgrader tree holds only: hw1, hw2"


# --- files that cannot be read still get a row -----------------------------------------------------------------

def test_file_over_the_limit_is_not_read(tmp_path):
    path = tmp_path / "kim.ipynb"
    with path.open("wb") as stream:
        stream.truncate(230 * submissions.MB)  # sparse: takes no disk and no time
    [found] = collect([path], "hw1")
    assert found.content == b"" and str(found.problem) == "the file is 230 MB; the limit is 100 MB"
    assert found.problem.text("ko") == "파일 크기가 230 MB입니다. 제한은 100 MB입니다"
    assert MAX_NOTEBOOK_BYTES == 100 * submissions.MB


def test_zip_member_over_the_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", 2 * submissions.MB)
    archive = make_zip(tmp_path / "class.zip", {"kim.ipynb": b"{" * (3 * submissions.MB), "lee.ipynb": b"{}"})
    kim, lee = collect([archive], "hw1")
    assert (kim.content, str(kim.problem)) == (b"", "the file is 3 MB; the limit is 2 MB")
    assert (lee.content, lee.problem) == (b"{}", None)


def test_damaged_zip_member_gets_a_problem_and_the_rest_are_read(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        out.writestr("kim.ipynb", b"KIM-NOTEBOOK")
        out.writestr("lee.ipynb", b"lee")
    archive.write_bytes(archive.read_bytes().replace(b"KIM-NOTEBOOK", b"KIM-N0TEBOOK"))
    kim, lee = collect([archive], "hw1")
    assert kim.content == b"" and str(kim.problem).startswith("could not read it from the zip: Bad CRC-32")
    assert kim.problem.text("ko").startswith("zip 파일에서 읽을 수 없습니다: Bad CRC-32")
    assert (lee.content, lee.problem) == (b"lee", None)


# --- LMS downloads ---------------------------------------------------------------------------------------------

def make_legacy_zip(path, members):
    """A zip whose non-ASCII names are cp949 without the UTF-8 flag, as Korean Windows' zipper writes them."""
    placeholders = {}
    for index, name in enumerate(members):
        raw = name.encode("cp949")
        placeholders[name] = (f"@{index:03d}" + "~" * len(raw))[:len(raw)] if not name.isascii() else name
    make_zip(path, {placeholders[name]: content for name, content in members.items()})
    data = path.read_bytes()
    for name, placeholder in placeholders.items():
        data = data.replace(placeholder.encode(), name.encode("cp949"))
    path.write_bytes(data)
    return path


MOODLE_MEMBERS = {  # "Download all submissions" with folders on (Moodle >= 3.1); the zip has no wrapper folder
    "김민수_123456_assignsubmission_file_/hw2_dnn.ipynb": b"kim",
    "Lee Seoyeon_123457_assignsubmission_file_/hw2_dnn.ipynb": b"lee",
    "Lee Seoyeon_123457_assignsubmission_onlinetext_/onlinetext.html": b"<p>see the notebook</p>",
    "Park Jihoon_123458_assignsubmission_onlinetext_/onlinetext.html": b"<p>I forgot the file</p>",
}


def lms_view(found):
    return [(s.student, s.name, s.late, s.content, s.notes) for s in found]


@pytest.mark.parametrize("make", [make_zip, make_legacy_zip])
def test_moodle_zip_two_students_and_online_text(tmp_path, make):
    archive = make(tmp_path / "DL-hw2_dnn-1234.zip", MOODLE_MEMBERS)
    found = collect([archive], "hw2_dnn")
    assert lms_view(found) == [("123456", "김민수", False, b"kim", ()), ("123457", "Lee Seoyeon", False, b"lee", ())]
    assert found[0].origin == f"{archive}:김민수_123456_assignsubmission_file_/hw2_dnn.ipynb"


def test_moodle_unpacked_under_a_wrapper_folder_with_mac_names(tmp_path):
    root = tmp_path / "DL-hw2_dnn-1234"
    for name, content in MOODLE_MEMBERS.items():
        write(root / unicodedata.normalize("NFD", name), content)
    write(root / "Choi Yujin_123459_assignsubmission_file_" / "sub" / "hw2_dnn.ipynb", b"choi")  # a file path
    found = collect([tmp_path], "hw2_dnn")
    assert [(s.student, s.name) for s in found] == [("123456", "김민수"), ("123457", "Lee Seoyeon"),
                                                    ("123459", "Choi Yujin")]
    assert found[2].content == b"choi"


def test_moodle_flat_names_when_folders_are_off(tmp_path):
    archive = make_zip(tmp_path / "dl.zip", {
        "김민수_123456_assignsubmission_file_hw2_dnn.ipynb": b"kim",
        "김민수_123456_assignsubmission_onlinetext_onlinetext.html": b"x",
    })
    assert lms_view(collect([archive], "hw2_dnn")) == [("123456", "김민수", False, b"kim", ())]


def test_moodle_newest_of_two_notebooks_wins_and_the_row_says_so(tmp_path):
    folder = tmp_path / "dl" / "김민수_123456_assignsubmission_file_"
    old = write(folder / "hw2_dnn.ipynb", b"old")
    new = write(folder / "hw2_dnn (1).ipynb", b"new")
    write(folder / "scratch.ipynb", b"scratch")  # newest of all, but not named like the homework
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    [found] = collect([tmp_path / "dl"], "hw2_dnn")
    assert found.content == b"new"
    [note] = found.notes
    assert note.text("ko") == ("제출 파일 3개 중 최신 파일 hw2_dnn (1).ipynb을(를) 채점했습니다. 채점하지 않은 파일: "
                               "hw2_dnn.ipynb, scratch.ipynb")
    assert str(note) == ("graded the newest of 3 submitted notebooks: hw2_dnn (1).ipynb; "
                         "not graded: hw2_dnn.ipynb, scratch.ipynb")


CANVAS_MEMBERS = {  # "Download Submissions": flat, <sortable name>[_LATE]_<user id>_<attachment id>_<file>
    "kimminsu_12345_67890_hw2_dnn.ipynb": b"kim",
    "김서연_LATE_12346_67891_hw2_dnn.ipynb": b"seoyeon, late",
    "parkjihoon_12347_67892_hw2_dnn.ipynb": b"park first",
    "parkjihoon_12347_68001_hw2_dnn-1.ipynb": b"park resubmitted",
    "leeminho_12348_67893_notes.pdf": b"%PDF",
}


@pytest.mark.parametrize("make", [make_zip, make_legacy_zip])
def test_canvas_zip_with_late_and_resubmission(tmp_path, make):
    archive = make(tmp_path / "dl-hw2-submissions.zip", CANVAS_MEMBERS)
    found = collect([archive], "hw2_dnn")
    assert [(s.student, s.name, s.late, s.content) for s in found] == [
        ("12345", "kimminsu", False, b"kim"),
        ("12346", "김서연", True, b"seoyeon, late"),
        ("12347", "parkjihoon", False, b"park resubmitted"),
    ]
    assert found[0].notes == found[1].notes == ()
    assert [str(note) for note in found[2].notes] == [
        "graded the newest of 2 submitted notebooks: hw2_dnn-1.ipynb; not graded: hw2_dnn.ipynb"]


def test_canvas_unpacked_folder_and_anonymous_grading(tmp_path):
    folder = tmp_path / "dl"
    write(folder / "anon_Xy12Z_67894_hw2_dnn.ipynb", b"anonymous")
    write(folder / "LATE_anon_Ab34C_67895_hw2_dnn.ipynb", b"anonymous, late")
    found = collect([folder], "hw2_dnn")
    assert [(s.student, s.name, s.late) for s in found] == [("anon_Ab34C", "", True), ("anon_Xy12Z", "", False)]


def test_lms_option_overrides_recognition(tmp_path):
    folder = tmp_path / "dl"
    write(folder / "kimminsu_12345_67890_hw2_dnn.ipynb", b"kim")
    assert students(collect([folder], "hw2_dnn")) == ["12345"]
    assert students(collect([folder], "hw2_dnn", lms="plain")) == ["kimminsu_12345_67890_hw2_dnn"]
    message = refusal([folder], "hw2_dnn", lms="moodle")
    assert message == (f"{folder}: no notebooks found; expected Moodle's folders "
                       "<full name>_<participant id>_assignsubmission_file_/ holding a .ipynb")
    assert refusal([folder], "hw2_dnn", lms="blackboard").startswith("unknown LMS format 'blackboard'")


def test_a_single_canvas_file(tmp_path):
    path = write(tmp_path / "김서연_LATE_12346_67891_hw2_dnn.ipynb", b"x")
    [found] = collect([path], "hw2_dnn")
    assert (found.student, found.name, found.late, found.origin) == ("12346", "김서연", True, str(path))
