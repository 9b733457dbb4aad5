"""The fork executor: outputs, timeouts, deaths and harvests as the kernel executor gives them, and no state that
crosses from one submission to the next (issue 9, item 3)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

import unprivileged
from assignkit import jail
from assignkit.execute import FORK, Isolation, Job, Limits, choose_executor
from assignkit.forkexec import ForkExecutor, _Channel, _Gone, _output_of, _send, cell_timing, start_zygote
from assignkit.grade import grade_batch
from assignkit.harvest import load_questions
from assignkit.kernel_harvest import RECORDER
from assignkit.sandbox import ROOT, USERNS
from conftest import isolation_for_tests, sleepers, tiny_notebook

LIMITS = Limits(cell_seconds=10, notebook_seconds=40, memory_mb=1024)
FULL = {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 1.0}
TEST_UID = 61901  # like test_execute's, far from the grader's own sandbox users
LINUX = sys.platform == "linux"


# --- quick: the pieces -------------------------------------------------------------------------------------------

def test_messages_cross_the_pipe_whole_and_in_order():
    read, write = os.pipe()
    _send(write, {"kind": "output", "output": {"output_type": "stream", "name": "stdout", "text": "한글 " * 1000}})
    _send(write, {"kind": "done", "count": 3})
    os.close(write)
    channel = _Channel(read)
    assert channel.read(deadline=time.monotonic() + 5)["output"]["text"].startswith("한글 ")
    assert channel.read(deadline=time.monotonic() + 5) == {"kind": "done", "count": 3}
    with pytest.raises(_Gone):
        channel.read(deadline=time.monotonic() + 5)
    os.close(read)


def test_a_forged_length_or_garbage_breaks_the_stream():
    read, write = os.pipe()
    os.write(write, (2**31).to_bytes(4, "little"))
    with pytest.raises(_Gone, match="bytes"):
        _Channel(read).read(deadline=time.monotonic() + 5)
    os.write(write, (5).to_bytes(4, "little") + b"}{][x")
    with pytest.raises(_Gone, match="JSON"):
        _Channel(read).read(deadline=time.monotonic() + 5)
    os.close(read)
    os.close(write)


def test_a_malformed_output_is_dropped_and_a_good_one_kept():
    assert _output_of({"output_type": "stream", "name": "stdout", "text": 5}) is None
    assert _output_of({"output_type": "shell_escape"}) is None
    assert _output_of({"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]}).ename == "E"


def test_cell_times_are_kept_only_as_two_finite_times_in_order():
    assert cell_timing({"began": 1764867600.25, "ended": 1764867601.5}) == {
        "iopub.execute_input": "2025-12-04T17:00:00.250000Z", "shell.execute_reply": "2025-12-04T17:00:01.500000Z"}
    for forged in ({}, {"began": "forged", "ended": 2.0}, {"began": 1, "ended": 2}, {"began": 2.0, "ended": 1.0},
                   {"began": float("nan"), "ended": 1.0}, {"began": 1.0, "ended": float("inf")},
                   {"began": 1.0, "ended": 1e300}, {"began": True, "ended": 2.0}):
        assert cell_timing(forged) == {}, forged


def test_the_default_executor_is_fork_on_linux_and_kernel_elsewhere(monkeypatch):
    notes = []
    if LINUX:
        assert choose_executor(None, notes.append).name == FORK
    monkeypatch.setattr(sys, "platform", "darwin")
    assert choose_executor("fork", notes.append).name == "kernel"
    assert notes == ["executor: kernel (the fork executor needs Linux; this is darwin)"]
    with pytest.raises(ValueError, match="unknown executor"):
        choose_executor("thread")


@pytest.mark.skipif(not LINUX, reason="the fork executor needs Linux")
def test_userns_mode_falls_back_to_the_kernel_executor_when_a_fork_cannot_enter_it(monkeypatch):
    import assignkit.forkexec as forkexec

    notes = []
    monkeypatch.setattr(forkexec, "userns_entry_problem", lambda: "mount_setattr: Function not implemented")
    assert choose_executor(None, notes.append, mode=USERNS).name == "kernel"
    assert choose_executor("fork", notes.append, mode=ROOT).name == FORK  # the trial is userns mode's alone
    assert notes == ["executor: kernel (a forked child cannot enter the userns sandbox here: "
                     "mount_setattr: Function not implemented)"]


@pytest.mark.skipif(not LINUX, reason="the fork executor needs Linux")
def test_the_userns_trial_names_the_step_that_failed(monkeypatch):
    def refused():
        raise OSError(38, "mount_setattr(/, read-only, recursive): Function not implemented")

    assert _trial_as_ordinary_user() is None
    monkeypatch.setattr(jail, "read_only_root", refused)
    assert "mount_setattr" in _trial_as_ordinary_user()


def _trial_as_ordinary_user() -> str | None:
    """forkexec.userns_entry_problem() as this user, or (as root, who may not map user 0 into a namespace of its
    own) in a child dropped to the nobody account."""
    from assignkit.forkexec import userns_entry_problem

    if os.geteuid() != 0:
        return userns_entry_problem()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            jail._libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: setuid cleared it, which locks /proc/self's files
            os.write(write, (userns_entry_problem() or "").encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        problem = answer.read().decode()
    os.waitpid(child, 0)
    return problem or None


# --- slow: real children of a warm interpreter -------------------------------------------------------------------

def _isolation() -> Isolation:
    return isolation_for_tests(TEST_UID)


def _job(course, tmp_path: Path, answers: dict[str, str] | None = None, name: str = "run") -> Job:
    notebook = nbformat.reads(tiny_notebook(course, answers), as_version=4)
    run = tmp_path / name
    run.mkdir()
    run.chmod(0o711)
    return Job(notebook, load_questions(course.autograder_folder("tiny")), course.release_folder("tiny"),
               run / "sandbox", run / "artifacts")


@pytest.fixture(scope="module")
def warm() -> frozenset[str]:
    """The zygote started; the modules it holds (this process's when it forked)."""
    if not LINUX:
        pytest.skip("the fork executor needs Linux")
    start_zygote()
    return frozenset(sys.modules)


@pytest.mark.slow
def test_outputs_are_nbformat_outputs(warm, tiny_course, tmp_path):
    answer = textwrap.dedent("""
        t = x * 2
        import sys, matplotlib.pyplot as plt
        print("out")
        print("err", file=sys.stderr)
        plt.plot([1, 2])
        plt.show()
        display("shown")
        t.shape
        """)
    job = _job(tiny_course, tmp_path, {"q1_tensor_answer": answer, "q2_net_answer": "1 / 0"})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    assert execution.status == "graded" and execution.harvested == ["q1_tensor", "q2_net", "q3_double"]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in execution.notebook.cells}
    outputs = cells["q1_tensor_answer"].outputs
    assert [o.output_type for o in outputs] == ["stream", "stream", "display_data", "display_data",
                                                "execute_result"]
    assert (outputs[0].name, outputs[0].text, outputs[1].name) == ("stdout", "out\n", "stderr")
    assert outputs[2].data["image/png"].startswith("iVBOR")  # base64 PNG, as Jupyter stores it
    assert outputs[3].data["text/plain"] == "'shown'" and outputs[4].data["text/plain"] == "torch.Size([5, 1])"
    (error,) = cells["q2_net_answer"].outputs
    assert (error.output_type, error.ename) == ("error", "ZeroDivisionError")
    nbformat.validate(execution.notebook)
    assert (job.artifacts_dir / "q3_double" / "manifest.json").is_file()


@pytest.mark.slow
def test_each_cell_carries_when_it_ran_in_the_child(warm, tiny_course, tmp_path):
    sleeps = "t = x * 2\nimport time\ntime.sleep(0.3)\ntime.time = lambda: 'forged'"
    job = _job(tiny_course, tmp_path, {"q1_tensor_answer": sleeps})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    assert execution.status == "graded"
    code = [c for c in execution.notebook.cells if c.cell_type == "code"]
    assert all({"iopub.execute_input", "shell.execute_reply"} <= set(c.metadata.get("execution", {})) for c in code)
    seconds = {c.metadata.get("nbgrader", {}).get("grade_id"): _seconds(c) for c in code}
    assert 0.3 <= seconds["q1_tensor_answer"] < 10 and seconds["q2_net_answer"] < 0.3  # not the student's clock
    nbformat.validate(execution.notebook)


def _timing(notebook) -> dict[str, dict]:
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.metadata.get("execution", {})
            for c in notebook.cells if c.cell_type == "code"}


def _seconds(cell) -> float:
    timing = cell.metadata.execution
    began, ended = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                    for k in ("iopub.execute_input", "shell.execute_reply"))
    return (ended - began).total_seconds()


@pytest.mark.slow
def test_a_child_imports_nothing_the_warm_up_could_have(warm, tiny_course, tmp_path):
    figure = "t = x * 2\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
    modules = "def double(v):\n    return 2 * v\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    job = _job(tiny_course, tmp_path, {"q1_tensor_answer": figure, "q3_double_answer": modules})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in execution.notebook.cells}
    assert cells["q1_tensor_answer"].outputs[0].output_type == "display_data"  # the figure: the inline backend ran
    printed = json.loads(cells["q3_double_answer"].outputs[0].text)
    imported_by_the_child = set(printed) - warm - {RECORDER}
    assert not imported_by_the_child, f"warm these up (forkexec.CHILD_IMPORTS): {sorted(imported_by_the_child)}"


@pytest.mark.slow
def test_a_timeout_keeps_the_questions_harvested_before_it(warm, tiny_course, tmp_path):
    job = _job(tiny_course, tmp_path, {"q3_double_answer": "while True:\n    pass"})
    execution = ForkExecutor(Limits(cell_seconds=3, notebook_seconds=60), _isolation()).run(job)
    assert execution.status == "timeout" and "q3_double_answer" in str(execution.reason) and "after 3 s" in str(execution.reason)
    assert execution.harvested == ["q1_tensor", "q2_net"]
    assert not (job.artifacts_dir / "q3_double").exists()
    timing = _timing(execution.notebook)
    assert {"iopub.execute_input", "shell.execute_reply"} <= set(timing["q2_net_answer"])
    assert list(timing["q3_double_answer"]) == ["iopub.execute_input"]  # it never ended: when it began, as nbclient


@pytest.mark.slow
def test_the_notebook_timeout(warm, tiny_course, tmp_path):
    job = _job(tiny_course, tmp_path, {"q2_net_answer": "import time\ntime.sleep(30)"})
    execution = ForkExecutor(Limits(cell_seconds=20, notebook_seconds=4), _isolation()).run(job)
    assert execution.status == "timeout" and str(execution.reason).startswith("the notebook ran past 4 s, in cell")


@pytest.mark.slow
def test_a_dead_child_is_kernel_died(warm, tiny_course, tmp_path):
    job = _job(tiny_course, tmp_path, {"q2_net_answer": "import os\nos._exit(3)"})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    assert execution.status == "kernel_died" and "q2_net_answer" in str(execution.reason)
    assert execution.harvested == ["q1_tensor"]
    assert list(_timing(execution.notebook)["q2_net_answer"]) == ["iopub.execute_input"]


@pytest.mark.slow
def test_memory_beyond_the_limit_is_memory_exceeded(warm, tiny_course, tmp_path):
    job = _job(tiny_course, tmp_path, {"q2_net_answer": "block = bytearray(1100 * 2**20)"})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    assert execution.status == "memory_exceeded" and "1024 MB" in str(execution.reason)
    # ... while the same amount under the limit runs: the limit counts on top of the warm interpreter
    job = _job(tiny_course, tmp_path, {"q2_net_answer": "block = bytearray(900 * 2**20)\n" + _CORRECT_Q2},
               name="under")
    assert ForkExecutor(LIMITS, _isolation()).run(job).status == "graded"


_CORRECT_Q2 = ("net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())\n"
               "with torch.no_grad():\n    net[0].weight.fill_(2.0)\n    net[0].bias.fill_(-1.0)")


# --- no state crosses submissions (issue 9, item 3) -------------------------------------------------------------

LEAKY = {
    "patches_torch": {"q1_tensor_answer": textwrap.dedent("""
        import builtins, sys, torch, numpy
        torch.allclose = lambda *a, **k: True
        torch.Tensor.__eq__ = lambda *a, **k: True
        torch.nn.Linear.forward = lambda self, x: x * 0 + 42
        numpy.allclose = lambda *a, **k: True
        numpy.mean = lambda *a, **k: 42
        builtins.abs = lambda *a, **k: 0
        builtins.print = lambda *a, **k: None
        sys.modules["json"] = None
        t = x * 2
        """)},
    "leaves_files": {"q1_tensor_answer": textwrap.dedent("""
        import os
        with open("tiny.csv", "a") as f:
            f.write("poisoned")
        for folder in ("/tmp", os.path.expanduser("~"), "/var/tmp", "/dev/shm"):
            try:
                with open(os.path.join(folder, "leftover-9f1.txt"), "w") as f:
                    f.write("left")
            except OSError:
                pass
        os.environ["PYTHONPATH"] = "/tmp"
        os.environ["OMP_NUM_THREADS"] = "64"
        t = x * 2
        """)},
    "sleeper": {"q1_tensor_answer": textwrap.dedent("""
        import os, subprocess, time
        subprocess.Popen(["sleep", "4322.5"])
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "4322.5"])
            os._exit(0)
        os.wait()
        t = x * 2
        """)},
}
CHECKER = {"q1_tensor_answer": textwrap.dedent("""
    import builtins, os, sys, torch, numpy
    assert torch.allclose(torch.zeros(1), torch.ones(1)) is False
    assert (torch.zeros(1) == torch.ones(1)).item() is False
    assert numpy.mean([1, 3]) == 2 and builtins.abs(-1) == 1 and sys.modules.get("json") is not None
    assert print.__name__ == "print"
    assert "poisoned" not in open("tiny.csv").read()
    assert "PYTHONPATH" not in os.environ and os.environ["OMP_NUM_THREADS"] == "1"
    assert not any(os.path.exists(os.path.join(f, "leftover-9f1.txt")) for f in ("/tmp", os.path.expanduser("~")))
    t = x * 2
    """)}


@pytest.mark.slow
def test_the_checker_sees_the_patches_within_one_submission(warm, tiny_course, tmp_path):
    """The checker below can fail: run in the same child after the patches, its assertions break."""
    patches = LEAKY["patches_torch"]["q1_tensor_answer"] + LEAKY["leaves_files"]["q1_tensor_answer"]
    job = _job(tiny_course, tmp_path, {"q1_tensor_answer": patches,
                                       "q2_net_answer": CHECKER["q1_tensor_answer"].replace("t = x * 2", "")})
    execution = ForkExecutor(LIMITS, _isolation()).run(job)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in execution.notebook.cells}
    errors = [o.ename for o in cells["q2_net_answer"].outputs if o.output_type == "error"]
    assert execution.status == "graded" and errors == ["AssertionError"]  # its first assertion, on torch.allclose


def _sleepers() -> list[int]:
    return sleepers("4322.5")


@pytest.mark.slow
@pytest.mark.parametrize("mode", [ROOT, USERNS])
def test_nothing_a_submission_changes_reaches_the_next(tiny_course, tmp_path, mode):
    """The leaky ones are graded first, at --jobs 1, so every submission is a child of the same warm worker."""
    if not LINUX:
        pytest.skip("the fork executor needs Linux")
    folder = tmp_path / "submissions"
    folder.mkdir()
    names = {"a_patches_torch": LEAKY["patches_torch"], "b_leaves_files": LEAKY["leaves_files"],
             "c_sleeper": LEAKY["sleeper"], "d_checker": CHECKER, "e_correct": {}}
    for name, answers in names.items():
        (folder / f"{name}.ipynb").write_text(tiny_notebook(tiny_course, answers))
    if mode == ROOT:
        if os.geteuid() != 0:
            pytest.skip("root mode needs root")
        results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, mode=mode,
                              executor="fork", on_note=lambda note: None)
    else:
        results = _grade_as_ordinary_user(tiny_course, folder, tmp_path)
    by = {r.student: r for r in results}
    assert [by[s].executor for s in sorted(by)] == ["fork"] * 5
    assert {s: r.status for s, r in by.items()} == dict.fromkeys(names, "graded")
    assert {s: (by[s].status, by[s].question_scores()) for s in ("d_checker", "e_correct")} == \
        {"d_checker": ("graded", FULL), "e_correct": ("graded", FULL)}, by["d_checker"].checks
    assert _sleepers() == []


def _grade_as_ordinary_user(course, folder: Path, tmp_path: Path):
    if os.geteuid() != 0:
        from assignkit.sandbox import userns_problem

        if userns_problem():
            pytest.skip(f"userns mode unavailable: {userns_problem()}")
        return grade_batch(course, "tiny", [folder], tmp_path / "out", jobs=1, limits=LIMITS, mode=USERNS,
                           executor="fork", on_note=lambda note: None)
    try:
        base = unprivileged.shared_folder("assignkit-fork-")
    except unprivileged.Unavailable as reason:
        pytest.skip(str(reason))
    import shutil

    try:
        python = unprivileged.make_python(base)
        copy = base / "course"
        shutil.copytree(course.root, copy)
        shutil.copytree(folder, base / "submissions")
        unprivileged.give(base)
        results, _ = unprivileged.grade_as_user(python, base, copy, "tiny", base / "submissions", base / "out",
                                                LIMITS, jobs=1, mode=USERNS, executor="fork")
        return results
    finally:
        shutil.rmtree(base, ignore_errors=True)
