"""Hostile submissions, graded in ONE batch with tight limits: each gets the right status and score, the other rows
are unaffected, the batch finishes, and no hidden check source appears in any output (issue 3, "Tests")."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import unprivileged
from assignkit.execute import FORK, KERNEL, Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from assignkit.results import SubmissionResult
from assignkit.sandbox import FIRST_UID as FIRST_SANDBOX_UID, ROOT, USERNS, own_writable_cgroups, userns_problem
from conftest import KernelReaper, sleepers, tiny_notebook

pytestmark = pytest.mark.slow

# Tight, with room for a busy machine: importing torch in the setup cell must never hit the cell limit.
LIMITS = Limits(cell_seconds=15, notebook_seconds=60, memory_mb=1024, output_bytes=1_000_000)
FULL = {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 1.0}
NOTHING = {"q1_tensor": 0.0, "q2_net": 0.0, "q3_double": 0.0}

# Text that only the hidden checks (tests/course/autograder/tiny/test_tiny.py) and their hidden inputs
# (double_inputs.json) hold; none may reach an output. Check names are not secret: feedback pages list them.
HIDDEN_SOURCE = ("def test_", "torch.sigmoid(2 * x - 1)", "pytest.mark.check",
                 "Hidden checks of the tiny test homework", "def _x(release_dir)",
                 "[[[1.0, 2.0]]], [[[3.0], [-4.0]]], [5]]")
# What the fake-grades writer writes: assembled at run time, so the submission's source does not hold it.
FAKE_MARK = "FAKE-ROW-3b9d"
FAKE_MARK_SOURCE = '"FAKE" + "-ROW-" + "3b9d"'

SLEEPER_SECONDS = "4321.5"  # the detached sleeper's argument: how the test finds it
PLANTED = "planted-by-student-7c1e.py"  # what the planter tries to create in the Python installation
TORCH_FOLDER = os.path.dirname(__import__("importlib.util").util.find_spec("torch").origin)

CORRECT_Q1 = "t = x * 2"
CORRECT_Q2 = ("net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())\n"
              "with torch.no_grad():\n    net[0].weight.fill_(2.0)\n    net[0].bias.fill_(-1.0)")
CORRECT_Q3 = "def double(v):\n    return 2 * v"


def _q1(code: str) -> dict[str, str]:
    """Hostile code run in the first answer cell, after a correct answer."""
    return {"q1_tensor_answer": CORRECT_Q1 + "\n" + textwrap.dedent(code)}


def _submissions(course, folder: Path, out: Path, port: int, canary: Path, victim: Path) -> dict[str, str | bytes]:
    """student -> notebook text (or raw bytes) of every submission of the batch (in `folder`)."""
    course_root, out_dir = str(course.root), str(out)
    writer = f"""
        import glob, os
        mark = {FAKE_MARK_SOURCE}
        row = "student,status,score,max_score,q1_tensor,q2_net,q3_double,seconds\\n"
        fake_csv = row + "".join(f"{{s}},graded,999,4,1,2,1,0.1,{{mark}}\\n" for s in ("correct", "fake_grades"))
        fake_json = '{{"student": "correct", "status": "graded", "score": 999, "note": "' + mark + '"}}'
        places = [{out_dir!r}, os.path.dirname({out_dir!r}), os.getcwd(), "/tmp", {course_root!r},
                  {course_root!r} + "/autograder/tiny", {course_root!r} + "/release/tiny", os.path.expanduser("~"),
                  "/root", "/home", "/var/tmp", "/dev/shm", "/run/lock"]
        folder = os.getcwd()
        while folder != "/":
            folder = os.path.dirname(folder)
            places.append(folder)
        places += glob.glob("/tmp/*") + glob.glob("/tmp/*/*")
        wrote = []
        for place in places:
            for name, text in (("grades.csv", fake_csv), ("results/correct.json", fake_json),
                               ("results/fake_grades.json", fake_json), ("summary.html", mark)):
                try:
                    os.makedirs(os.path.dirname(os.path.join(place, name)), exist_ok=True)
                    with open(os.path.join(place, name), "w") as f:
                        f.write(text)
                    wrote.append(os.path.join(place, name))
                except OSError:
                    pass
        print("wrote", len(wrote), "files:", *wrote, sep="\\n")
        """
    reader = f"""
        import glob, os
        needle = "pytest.mark." + "check"
        def show(path):
            try:
                with open(path, errors="replace") as f:
                    text = f.read(100_000)
            except Exception as error:
                print("cannot read", path, type(error).__name__)
                return
            print("=" * 3, "read", path)
            print(text)
        hidden = {course_root!r} + "/autograder/tiny"
        for path in [hidden + "/test_tiny.py", hidden + "/questions.toml", hidden + "/double_inputs.json",
                     {course_root!r} + "/source/tiny/tiny.ipynb", "/proc/1/root" + hidden + "/test_tiny.py",
                     "/proc/self/root" + hidden + "/test_tiny.py", {str(folder / "correct.ipynb")!r},
                     {out_dir!r} + "/grades.csv", {out_dir!r} + "/results/correct.json"]:
            show(path)
        for path in glob.glob({course_root!r} + "/**/*", recursive=True) + glob.glob("/tmp/**/test_*.py",
                                                                                  recursive=True):
            show(path)
        # Any copy of any course's checks anywhere on the machine (this checkout's included) must be out of reach.
        for folder, subfolders, files in os.walk("/"):
            if folder in ("/proc", "/sys", "/dev"):
                subfolders[:] = []
                continue
            for name in files:
                if name.startswith("test_") and name.endswith(".py") or name == "questions.toml":
                    path = os.path.join(folder, name)
                    try:
                        with open(path, errors="replace") as f:
                            text = f.read()
                    except OSError:
                        continue
                    if needle in text or name == "questions.toml":
                        show(path)
        print("reader done")
        """
    network = f"""
        import socket
        for host in ("127.0.0.1", "localhost"):
            try:
                with socket.create_connection((host, {port}), timeout=3) as connection:
                    connection.sendall(b"stolen answers")
                print("connected to", host)
            except OSError as error:
                print("no connection to", host, type(error).__name__)
        """
    other_homework = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# hw9", metadata={"nbgrader": {"grade_id": "hw9_intro", "locked": True,
                                                                      "solution": False, "grade": False,
                                                                      "schema_version": 3}}),
        nbformat.v4.new_code_cell("answer = 42", metadata={"nbgrader": {"grade_id": "hw9_q1_answer", "solution": True,
                                                                       "grade": False, "locked": False,
                                                                       "schema_version": 3}})])
    return {
        "correct": tiny_notebook(course),
        "correct_again": tiny_notebook(course),
        "blank": tiny_notebook(course, blank=True),
        "partly_right": tiny_notebook(course, {"q2_net_answer": CORRECT_Q2.replace("fill_(2.0)", "fill_(3.0)")}),
        "loop_first": tiny_notebook(course, {"q1_tensor_answer": "while True:\n    pass"}),
        "loop_last": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + "\nwhile True:\n    pass"}),
        "sys_exit": tiny_notebook(course, {"q2_net_answer": CORRECT_Q2 + "\nimport sys\nsys.exit()\nnet = None"}),
        "os_exit": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + "\nimport os\nos._exit(1)"}),
        "segfault": tiny_notebook(course, {"q2_net_answer": "import ctypes\nctypes.string_at(0)"}),
        "memory_bomb": tiny_notebook(course, {"q2_net_answer": "x = bytearray(8 * 2**30)"}),
        "memory_bomb_torch": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + "\nbig = torch.zeros(2**31)"}),
        # Twenty processes holding 64 MB each: together far over the limit, each one under it (also with the fork
        # executor, whose warm interpreter's pages are not charged to the sandbox: the limit comes on top of them).
        "memory_children": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + textwrap.dedent("""
            import os, time
            children = []
            for i in range(20):
                pid = os.fork()
                if pid == 0:
                    try:
                        block = bytearray(64 * 2**20)
                        for at in range(0, len(block), 4096):
                            block[at] = 1
                    except MemoryError:
                        os._exit(1)
                    time.sleep(3)
                    os._exit(0)
                children.append(pid)
            held = sum(64 for pid in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0)
            print("children held", held, "MB at once")
            """)}),
        "flood": tiny_notebook(course, _q1("for i in range(5_000):\n    print('y' * 10_000)")),
        "warns": tiny_notebook(course, _q1("""
            import sys, warnings
            warnings.warn("this is deprecated")
            warnings.warn("a runtime warning", RuntimeWarning)
            print("Traceback (most recent call last): not really", file=sys.stderr)
            """)),
        "monkeypatch": tiny_notebook(course, {
            "q1_tensor_answer": textwrap.dedent("""
                import builtins, math, numpy, operator, torch
                torch.allclose = lambda *a, **k: True
                torch.equal = lambda *a, **k: True
                torch.isclose = lambda *a, **k: torch.tensor(True)
                torch.Tensor.__eq__ = lambda *a, **k: True
                torch.Tensor.equal = lambda *a, **k: True
                numpy.allclose = lambda *a, **k: True
                numpy.array_equal = lambda *a, **k: True
                numpy.testing.assert_allclose = lambda *a, **k: None
                math.isclose = lambda *a, **k: True
                operator.eq = lambda *a, **k: True
                real_isinstance = builtins.isinstance
                builtins.isinstance = lambda obj, cls: (True if cls in (torch.Tensor, numpy.ndarray, float, int)
                                                        else real_isinstance(obj, cls))
                builtins.abs = lambda *a, **k: 0
                t = x * 3
                """),
            "q2_net_answer": CORRECT_Q2.replace("fill_(2.0)", "fill_(5.0)"),
            "q3_double_answer": "def double(v):\n    return 3 * v"}),
        # Lying isinstance for every type breaks IPython itself: the cell never finishes.
        "monkeypatch_isinstance": tiny_notebook(course, {
            "q1_tensor_answer": "import builtins\nbuiltins.isinstance = lambda *a, **k: True\nt = x * 3"}),
        "always_equal": tiny_notebook(course, {
            "q1_tensor_answer": textwrap.dedent("""
                class AlwaysEqual:
                    shape = x.shape
                    def __eq__(self, other):
                        return True
                    __hash__ = object.__hash__
                t = AlwaysEqual()
                """),
            "q3_double_answer": "def double(v):\n    return AlwaysEqual()"}),
        "class_liar": tiny_notebook(course, {
            "q1_tensor_answer": textwrap.dedent("""
                class TensorLiar:
                    shape = x.shape
                    __class__ = property(lambda self: torch.Tensor)
                    def __eq__(self, other):
                        return True
                    __hash__ = object.__hash__
                    detach = cpu = clone = lambda self: self
                    as_subclass = lambda self, cls: self
                    numel = lambda self: 5
                t = TensorLiar()
                """),
            "q3_double_answer": textwrap.dedent("""
                import numpy
                class FloatLiar(float):
                    __class__ = property(lambda self: float)
                    def __eq__(self, other):
                        return True
                    __hash__ = float.__hash__
                class ArrayLiar:
                    __class__ = property(lambda self: numpy.ndarray)
                    def __eq__(self, other):
                        return True
                def double(v):
                    return FloatLiar(2.0) if isinstance(v, int) else ArrayLiar()
                """)}),
        "fake_grades": tiny_notebook(course, _q1(writer)),
        "reads_checks": tiny_notebook(course, _q1(reader)),
        "network": tiny_notebook(course, _q1(network)),
        "deletes_data": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + textwrap.dedent("""
            import glob, os
            for path in glob.glob("*.csv") + glob.glob("*"):
                try:
                    os.remove(path)
                except OSError:
                    pass
            print("left:", os.listdir("."))
            """)}),
        "inputs_symlink": tiny_notebook(course, _q1(f"""
            import os
            os.symlink({str(canary)!r}, ".inputs/double_inputs.json")
            """)),
        # .harvest itself a symlink: the grader follows it on the host when it takes out q3_double's artifacts.
        "harvest_symlink": tiny_notebook(course, {"q3_double_answer": CORRECT_Q3 + textwrap.dedent(f"""
            import os
            os.rename(".harvest", ".harvest-old")
            os.symlink({str(victim)!r}, ".harvest")
            """)}),
        # A grandchild in a session of its own, its parent gone: nothing ties it to the kernel but the sandbox.
        "sleeper": tiny_notebook(course, _q1(f"""
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sleep", ["sleep", {SLEEPER_SECONDS!r}])
                os._exit(0)
            os.wait()
            time.sleep(0.5)
            print("sleeper " + "started")
            """)),
        "planter": tiny_notebook(course, _q1(f"""
            import os, sys, torch
            for folder in (os.path.dirname(torch.__file__), sys.prefix):
                try:
                    with open(os.path.join(folder, {PLANTED!r}), "w") as f:
                        f.write("print('planted')")
                    print("planted" + "-ok", folder)
                except OSError as error:
                    print("plant" + "-refused", folder, type(error).__name__)
            """)),
        # Undo the hiding: unmount the empty tmpfs over the course's top folder, then read the checks.
        "unmounter": tiny_notebook(course, _q1(f"""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            top = "/" + {course_root!r}.strip("/").split("/")[0]
            for target in (top, "/tmp", "/root", "/home"):
                for flags in (0, 2):  # plain, MNT_DETACH
                    result = libc.umount2(target.encode(), flags)
                    print("umount", target, flags, "->", result, os.strerror(ctypes.get_errno()) if result else "")
            try:
                print(open({course_root!r} + "/autograder/tiny/test_tiny.py").read())
            except OSError as error:
                print("checks " + "unreadable", type(error).__name__)
            """)),
        "malformed_json": '{"cells": [{"cell_type": "code", "source": "t = x * 2"',
        "empty": b"",
        "other_homework": nbformat.writes(other_homework),
    }


@dataclass
class Graded:
    results: dict[str, SubmissionResult]  # by student, as grade_batch returned them
    rows: list[dict[str, str]]  # grades.csv
    out: Path
    course_root: Path
    submitted: list[str]
    listener_received: bytes | None  # what the 127.0.0.1 listener got, None when nobody connected
    canary: Path  # a file the inputs_symlink submission points at
    victim: Path  # a folder holding q3_double/, which the harvest_symlink submission points at
    seconds: float
    leaked_kernels: int  # kernels still running when their submission was done
    mode: str  # the sandbox's
    cgroups: bool  # whether the sandbox had cgroups (a memory budget for all its processes together)
    sleepers: list[int]  # detached sleepers still running once the batch was done
    planted_in: list[Path]  # torch's package folder and sys.prefix of the Python the kernels ran
    executor: str

    def row(self, student: str) -> dict[str, str]:
        (row,) = [r for r in self.rows if r["student"] == student]
        return dict(row)

    def executed(self, student: str) -> str:
        return (self.out / "executed" / f"{student}.ipynb").read_text()


@dataclass(frozen=True)
class Pass:
    """Where the hostile batch runs: as root (root mode), or as an ordinary user (userns mode), and with which
    executor (a forked child of a warm interpreter; a kernel behind unshare or bubblewrap)."""

    mode: str
    as_user: bool  # root runs the grader as the `nobody` account through setpriv
    executor: str

    @staticmethod
    def of(mode: str, executor: str) -> "Pass":
        if executor == FORK and sys.platform != "linux":
            pytest.skip("the fork executor needs Linux")
        if mode == ROOT:
            if os.geteuid() != 0:
                pytest.skip("root mode needs root")
            return Pass(ROOT, False, executor)
        if os.geteuid() == 0:
            try:
                unprivileged.account()
            except unprivileged.Unavailable as reason:
                pytest.skip(str(reason))
            return Pass(USERNS, True, executor)
        problem = userns_problem()
        if problem and executor == KERNEL:
            pytest.skip(f"userns mode unavailable: {problem}")
        return Pass(USERNS, False, executor)


# Each mode with the default executor (fork); the kernel executor in userns mode, where it has a path of its own
# (bubblewrap). Root mode's kernel path (unshare + assignkit.jail) is covered by tests/test_execute.py.
PASSES = [(ROOT, FORK), (USERNS, FORK), (USERNS, KERNEL)]


@pytest.fixture(scope="module", params=PASSES, ids=[f"{m}-{e}" for m, e in PASSES])
def graded(tiny_course, tmp_path_factory, request) -> Graded:
    run = Pass.of(*request.param)
    request.addfinalizer(_remove_fake_files)
    if run.as_user:
        base = unprivileged.shared_folder("assignkit-hostile-")
        request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
        python = unprivileged.make_python(base)
        course = Course(base / "course")
        shutil.copytree(tiny_course.root, course.root)
        made = [base / name for name in ("submissions", "outs", "canary", "victim")]
    else:
        course = tiny_course
        made = [tmp_path_factory.mktemp(name) for name in ("hostile-submissions", "hostile-out", "canary", "victim")]
    for folder in made:
        folder.mkdir(exist_ok=True)
    folder, out, canary, victim = made[0], made[1] / "out", made[2] / "precious.txt", made[3]
    canary.write_text("precious")
    (victim / "q3_double").mkdir()
    (victim / "q3_double" / "precious.txt").write_text("precious")
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        submissions = _submissions(course, folder, out, listener.getsockname()[1], canary, victim)
        for student, content in submissions.items():
            path = folder / f"{student}.ipynb"
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
        started = time.monotonic()
        with KernelReaper(out, bubblewrap=run.mode == USERNS) as reaper:
            if run.as_user:
                unprivileged.give(base)
                results, cgroups = unprivileged.grade_as_user(python, base, course.root, "tiny", folder, out, LIMITS,
                                                              jobs=2, mode=run.mode, executor=run.executor)
                planted_in = [Path(TORCH_FOLDER), python.parent.parent]
            else:
                results = grade_batch(course, "tiny", [folder], out, jobs=2, limits=LIMITS,
                                      on_note=lambda note: None, mode=run.mode, executor=run.executor)
                cgroups = run.mode == ROOT or bool(own_writable_cgroups())
                planted_in = [Path(TORCH_FOLDER), Path(sys.prefix)]
            seconds = time.monotonic() - started
        listener.settimeout(0.5)
        try:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(1)
                received = connection.recv(1000)
        except (TimeoutError, socket.timeout):
            received = None
    finally:
        listener.close()
    with (out / "grades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return Graded({r.student: r for r in results}, rows, out, course.root, sorted(submissions), received,
                  canary, victim, seconds, len(reaper.leaked), run.mode, cgroups, _sleepers(), planted_in,
                  run.executor)


def _sleepers() -> list[int]:
    """Processes of the detached sleeper, anywhere on the machine."""
    return sleepers(SLEEPER_SECONDS)


def _source_text(graded: Graded) -> str:
    return (graded.course_root / "source" / "tiny" / "tiny.ipynb").read_text()


def _scores(result: SubmissionResult) -> dict[str, float]:
    return result.question_scores()


def _failed_messages(result: SubmissionResult, question: str) -> str:
    return "\n".join(c.message for c in result.checks if c.question == question and not c.passed)


def _expect(graded: Graded, student: str, status: str, scores: dict[str, float]) -> SubmissionResult:
    result = graded.results[student]
    assert (result.status, _scores(result)) == (status, scores), result.reason
    assert result.score == sum(scores.values()) and result.max_score == 4
    row = graded.row(student)
    assert (row["status"], float(row["score"]), row["max_score"]) == (status, sum(scores.values()), "4")
    assert {q: float(row[q]) for q in scores} == scores
    return result


FAKE_NAMES = {"grades.csv", "correct.json", "fake_grades.json", "summary.html"}  # what the writer writes


def _files_holding(text: str, roots: list[Path], names: set[str] | None = None) -> list[Path]:
    found = []
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files if names is None else set(files) & names:
                path = Path(folder) / name
                try:
                    if path.is_file() and not path.is_symlink() and path.stat().st_size < 5_000_000 \
                            and text.encode() in path.read_bytes():
                        found.append(path)
                except OSError:
                    continue
    return found


def _remove_fake_files() -> None:
    """Clean up after the writer, should the sandbox ever fail to hide these shared folders."""
    for root in (Path("/dev/shm"), Path("/run/lock"), Path("/var/tmp")):
        for path in _files_holding(FAKE_MARK, [root], FAKE_NAMES):
            path.unlink(missing_ok=True)
        results = root / "results"
        if results.is_dir() and results.stat().st_uid >= FIRST_SANDBOX_UID and not any(results.iterdir()):
            results.rmdir()


# --- the batch as a whole ----------------------------------------------------------------------------------------

def test_every_row_says_which_sandbox_and_executor(graded):
    assert {r.sandbox for r in graded.results.values()} == {graded.mode}
    assert {r.executor for r in graded.results.values()} == {graded.executor}
    for path in (graded.out / "results").glob("*.json"):
        assert f'"sandbox": "{graded.mode}"' in path.read_text()


def test_a_detached_process_does_not_outlive_the_batch(graded):
    _expect(graded, "sleeper", "graded", FULL)
    assert "sleeper started" in graded.executed("sleeper")
    assert graded.sleepers == []


def test_the_python_installation_is_read_only(graded):
    _expect(graded, "planter", "graded", FULL)
    executed = graded.executed("planter")
    assert executed.count("plant-refused") == 2 and "planted-ok" not in executed
    assert [folder for folder in graded.planted_in if (folder / PLANTED).exists()] == []


def test_the_hiding_cannot_be_unmounted(graded):
    _expect(graded, "unmounter", "graded", FULL)
    executed = graded.executed("unmounter")
    assert "umount /tmp 2 -> -1" in executed and "-> 0" not in executed
    assert "checks unreadable" in executed


def test_every_submission_has_exactly_one_row(graded):
    assert sorted(r["student"] for r in graded.rows) == graded.submitted
    assert sorted(graded.results) == graded.submitted
    assert sorted(p.stem for p in (graded.out / "results").glob("*.json")) == graded.submitted
    assert sorted(p.stem for p in (graded.out / "feedback").glob("*.html")) == graded.submitted
    assert (graded.out / "summary.html").is_file()


def test_no_kernel_outlives_its_submission(graded):
    # Regression (fixed in 4ddedf0): every kernel, infinite loops included, used to run on after its submission.
    assert graded.leaked_kernels == 0


def test_batch_finishes_quickly(graded):
    assert graded.seconds < 240, f"the hostile batch took {graded.seconds:.0f} s"


def test_no_hidden_check_source_in_any_output(graded):
    outputs = [p for p in graded.out.rglob("*") if p.is_file()]
    assert {"grades.csv", "summary.html"} <= {p.name for p in outputs}
    assert any(p.parent.name == "executed" for p in outputs)
    for path in outputs:
        text = path.read_text(errors="replace")
        for secret in HIDDEN_SOURCE:
            assert secret not in text, f"{path.relative_to(graded.out)} holds hidden check source: {secret!r}"


def test_same_submission_twice_gives_the_same_row(graded):
    first, second = graded.row("correct"), graded.row("correct_again")
    del first["student"], first["seconds"], second["student"], second["seconds"]
    assert first == second
    a, b = graded.results["correct"], graded.results["correct_again"]
    assert a.checks == b.checks


# --- one test per submission -------------------------------------------------------------------------------------

def test_correct(graded):
    result = _expect(graded, "correct", "graded", FULL)
    assert result.reason == ""
    assert all(c.passed for c in result.checks) and len(result.checks) == 4


def test_blank_release_is_graded_zero(graded):
    result = _expect(graded, "blank", "graded", NOTHING)
    # since 8d5ebe7 (unanswered questions) an answer cell left as released is "not answered", not "t is not defined"
    assert "not answered" in _failed_messages(result, "q1_tensor")


def test_partly_right(graded):
    result = _expect(graded, "partly_right", "graded", {"q1_tensor": 1.0, "q2_net": 1.0, "q3_double": 1.0})
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == ["test_net_weights"]
    assert "net(x) should be sigmoid(2x - 1)" in _failed_messages(result, "q2_net")


def test_infinite_loop_in_first_answer(graded):
    result = _expect(graded, "loop_first", "timeout", NOTHING)
    assert "q1_tensor_answer" in result.reason and f"after {LIMITS.cell_seconds:g} s" in result.reason
    assert "did not run to the end" in _failed_messages(result, "q1_tensor")


def test_infinite_loop_in_last_answer_keeps_earlier_questions(graded):
    result = _expect(graded, "loop_last", "timeout", {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 0.0})
    assert "q3_double_answer" in result.reason
    assert "q3_double_answer" in _failed_messages(result, "q3_double")


def test_reason_cell_numbers_match_the_notebook(graded):
    notebook = nbformat.reads(_source_text(graded), as_version=4)
    index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(notebook.cells)}
    first = int(graded.results["loop_first"].reason.split()[1])
    last = int(graded.results["loop_last"].reason.split()[1])
    assert last - first == index["q3_double_answer"] - index["q1_tensor_answer"]


def test_sys_exit_stops_only_its_cell(graded):
    # IPython turns SystemExit into an error output of that cell and keeps the kernel, as Jupyter does for the
    # student: the rest of that cell is skipped (net stays the right network) and the later answers still run.
    result = _expect(graded, "sys_exit", "graded", FULL)
    assert result.reason == ""
    assert "SystemExit" in graded.executed("sys_exit")


def test_os_exit_kills_the_kernel_and_earlier_questions_keep_points(graded):
    result = _expect(graded, "os_exit", "kernel_died", {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 0.0})
    assert "q3_double_answer" in result.reason


def test_segfault(graded):
    result = _expect(graded, "segfault", "kernel_died", {"q1_tensor": 1.0, "q2_net": 0.0, "q3_double": 0.0})
    assert "q2_net_answer" in result.reason


def test_memory_bomb(graded):
    result = _expect(graded, "memory_bomb", "memory_exceeded", {"q1_tensor": 1.0, "q2_net": 0.0, "q3_double": 0.0})
    assert "q2_net_answer" in result.reason and "1024 MB" in result.reason


def test_torch_memory_bomb(graded):
    result = _expect(graded, "memory_bomb_torch", "memory_exceeded",
                     {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 0.0})
    assert "q3_double_answer" in result.reason


def test_memory_limit_covers_child_processes(graded):
    if not graded.cgroups:
        pytest.skip(f"{graded.mode} mode without a cgroup this user may make groups in: the memory limit holds per "
                    "process only (docs/sandbox.md)")
    # The sandbox's memory limit holds for its processes together (a cgroup), so not all twenty children can
    # hold their 64 MB at once; which process the kernel's OOM killer picks decides the status.
    executed, status = graded.executed("memory_children"), graded.results["memory_children"].status
    assert "children held 1280 MB" not in executed
    assert status == "kernel_died" or (status in ("graded", "memory_exceeded") and "children held" in executed)


def test_50_mb_of_output(graded):
    _expect(graded, "flood", "graded", FULL)
    size = (graded.out / "executed" / "flood.ipynb").stat().st_size
    assert size < 3_000_000, f"the executed notebook is {size} bytes"


def test_warnings_and_stderr_cost_nothing(graded):
    _expect(graded, "warns", "graded", FULL)
    executed = graded.executed("warns")
    assert "this is deprecated" in executed and "stderr" in executed


def test_monkeypatched_comparisons_do_not_help_wrong_answers(graded):
    # Only the network's structure check may pass: it is a Sequential(Linear, Sigmoid), with the wrong weights.
    result = _expect(graded, "monkeypatch", "graded", {"q1_tensor": 0.0, "q2_net": 1.0, "q3_double": 0.0})
    assert "t should be the x column times 2" in _failed_messages(result, "q1_tensor")
    assert "net(x) should be sigmoid(2x - 1)" in _failed_messages(result, "q2_net")
    assert "double(v) should return 2 * v" in _failed_messages(result, "q3_double")


def test_isinstance_always_true_breaks_only_its_own_kernel(graded):
    # ipykernel hangs on it (the cell never finishes); the fork executor's IPython shell fails at once and its
    # child ends. Either way that submission alone loses the question, and every other row is right.
    status = "kernel_died" if graded.executor == FORK else "timeout"
    result = _expect(graded, "monkeypatch_isinstance", status, NOTHING)
    assert "q1_tensor_answer" in result.reason


def test_always_equal_object_cannot_be_graded(graded):
    result = _expect(graded, "always_equal", "graded", {"q1_tensor": 0.0, "q2_net": 2.0, "q3_double": 0.0})
    assert "AlwaysEqual cannot be graded" in _failed_messages(result, "q1_tensor")
    assert "AlwaysEqual cannot be graded" in _failed_messages(result, "q3_double")


def test_objects_lying_about_their_class_cannot_be_graded(graded):
    result = _expect(graded, "class_liar", "graded", {"q1_tensor": 0.0, "q2_net": 2.0, "q3_double": 0.0})
    assert "t could not be graded" in _failed_messages(result, "q1_tensor")
    assert "the output of double cannot be graded" in _failed_messages(result, "q3_double")


def test_class_liar_message_says_it_cannot_be_graded(graded):
    assert "cannot be graded" in _failed_messages(graded.results["class_liar"], "q3_double")


def test_fake_grades_do_not_reach_the_real_ones(graded):
    _expect(graded, "fake_grades", "graded", FULL)
    _expect(graded, "correct", "graded", FULL)
    assert "wrote" in graded.executed("fake_grades")
    assert all(float(r["score"]) <= 4 for r in graded.rows)
    assert _files_holding(FAKE_MARK, [graded.out, graded.course_root]) == []
    found = _files_holding(FAKE_MARK, [Path("/tmp"), Path("/var/tmp"), Path("/root"), Path("/home")], FAKE_NAMES)
    assert found == []


def test_fake_grades_leave_nothing_anywhere_on_the_host(graded):
    assert _files_holding(FAKE_MARK, [Path("/dev/shm"), Path("/run/lock")]) == []


def test_reading_the_hidden_checks_fails(graded):
    _expect(graded, "reads_checks", "graded", FULL)
    executed = graded.executed("reads_checks")
    assert "reader done" in executed
    assert "test_tiny.py FileNotFoundError" in executed
    assert "correct.ipynb FileNotFoundError" in executed  # another student's notebook
    assert "grades.csv FileNotFoundError" in executed and "=== read" not in executed


def test_no_network(graded):
    _expect(graded, "network", "graded", FULL)
    assert graded.listener_received is None
    assert "no connection to 127.0.0.1" in graded.executed("network")


def test_deleting_the_data_files_hurts_no_one_else(graded):
    _expect(graded, "deletes_data", "graded", FULL)
    assert "left: [" in graded.executed("deletes_data")
    assert (graded.course_root / "release" / "tiny" / "tiny.csv").is_file()
    for student in ("correct", "correct_again", "fake_grades", "reads_checks", "network", "warns", "flood"):
        assert graded.results[student].score == 4, student


def test_symlink_in_the_sandbox_cannot_make_the_grader_write_elsewhere(graded):
    assert graded.canary.read_text() == "precious"


def test_symlink_submission_is_still_graded(graded):
    # The hidden inputs travel inside the harvest cell, so no file the student could redirect is ever written.
    _expect(graded, "inputs_symlink", "graded", FULL)


def test_symlinked_harvest_folder_cannot_make_the_grader_delete_elsewhere(graded):
    assert (graded.victim / "q3_double" / "precious.txt").is_file()


def test_harvest_symlink_submission_is_still_graded(graded):
    # q3 is lost by its own doing: the kernel cannot write its artifacts through the symlink.
    _expect(graded, "harvest_symlink", "graded", {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 0.0})


def test_malformed_json(graded):
    result = _expect(graded, "malformed_json", "not_gradable", NOTHING)
    assert "not valid JSON" in result.reason


def test_empty_file(graded):
    result = _expect(graded, "empty", "not_gradable", NOTHING)
    assert result.reason == "the file is empty"


def test_another_homework(graded):
    result = _expect(graded, "other_homework", "not_gradable", NOTHING)
    assert "this is not tiny" in result.reason and "q1_tensor_answer" in result.reason


def test_feedback_says_why(graded):
    page = (graded.out / "feedback" / "loop_last.html").read_text()
    assert "Time limit reached" in page and "q3_double_answer" in page and "A function" in page
    page = (graded.out / "feedback" / "empty.html").read_text()
    assert "Not gradable" in page and "the file is empty" in page
