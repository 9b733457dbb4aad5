"""The sandbox's choice of mode, its refusal, and runs that never touch each other (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assignkit import sandbox
from assignkit.execute import Limits
from assignkit.grade import grade_batch
from assignkit.sandbox import NONE, ROOT, USERNS, SandboxUnavailable, choose_mode, open_sandbox, userns_problem
from conftest import sleepers, tiny_notebook

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="root mode needs root")
FULL = {"q1_tensor": 1.0, "q2_net": 2.0, "q3_double": 1.0}


def test_no_sandbox_is_asked_for():
    assert choose_mode(no_sandbox=True) == NONE


@needs_root
def test_root_gets_root_mode():
    assert choose_mode(no_sandbox=False) == ROOT


def test_an_ordinary_user_without_bubblewrap_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap" else f"/usr/bin/{name}")
    with pytest.raises(SandboxUnavailable) as refused:
        choose_mode(no_sandbox=False)
    message = str(refused.value)
    assert "bubblewrap (`bwrap`) is not installed" in message
    assert "apt-get install bubblewrap" in message and "user namespaces" in message and "--no-sandbox" in message


def test_an_ordinary_user_without_user_namespaces_is_refused(monkeypatch):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/bin/false" if name == "bwrap" else None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap cannot create namespaces for this user"):
        choose_mode(no_sandbox=False)


def test_not_linux_is_refused(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 501)
    with pytest.raises(SandboxUnavailable, match="this is darwin"):
        choose_mode(no_sandbox=False)


@needs_root
def test_two_runs_at_once_get_their_own_users_and_cgroups(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with open_sandbox(ROOT, 2, (Path("/tmp"),), tmp_path / "a", 2**30) as first, \
            open_sandbox(ROOT, 2, (Path("/tmp"),), tmp_path / "b", 2**30) as second:
        uids = [s.uid for s in first.slots], [s.uid for s in second.slots]
        groups = [g for s in first.slots for g in s.cgroups], [g for s in second.slots for g in s.cgroups]
        assert len(set(uids[0] + uids[1])) == 4
        assert not set(groups[0]) & set(groups[1])
        assert all(Path(g).is_dir() for g in groups[0] + groups[1])
    assert not any(Path(g).exists() for g in groups[0] + groups[1]), "a run's cgroups outlived it"


def test_a_submission_gets_a_slot_no_other_holds(tmp_path):
    with open_sandbox(NONE, 2, (), tmp_path, 2**30) as box:
        with box.lease() as first, box.lease() as second:
            assert first.index != second.index


@needs_root
def test_clear_kills_what_the_slot_user_left(tmp_path):
    with open_sandbox(ROOT, 1, (), tmp_path, 2**30) as box:
        slot = box.slots[0]
        # setpriv execs sleep: the Popen is the left-over process itself.
        left = subprocess.Popen(["setpriv", f"--reuid={slot.uid}", f"--regid={slot.uid}", "--clear-groups",
                                 "sleep", "600"], start_new_session=True)
        time.sleep(0.3)
        box.clear(slot)
        # clear reaps what it kills when it is the parent (here the test is): the process is simply gone.
        assert not Path(f"/proc/{left.pid}").exists()
        left.wait(timeout=5)


# --- whole runs ------------------------------------------------------------------------------------------------

def _mode_here() -> str:
    if IS_ROOT:
        return ROOT
    problem = userns_problem()
    if problem:
        pytest.skip(f"no sandbox for an ordinary user here: {problem}")
    return USERNS


SLEEPER = """
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "1234.5"])
    os._exit(0)
os.wait()
t = x * 2
"""


def _sleepers() -> list[int]:
    return sleepers("1234.5")


@pytest.mark.slow
def test_without_a_sandbox_a_detached_process_still_dies_with_its_submission(tiny_course, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "kim.ipynb").write_text(tiny_notebook(tiny_course, {"q1_tensor_answer": SLEEPER}))
    (folder / "lee.ipynb").write_text(tiny_notebook(tiny_course))
    results = grade_batch(tiny_course, "tiny", [folder], tmp_path / "out", jobs=1, limits=Limits(cell_seconds=60),
                          on_note=lambda note: None, mode=NONE)
    assert [(r.student, r.status, r.score, r.sandbox) for r in results] == \
           [("kim", "graded", 4, "none"), ("lee", "graded", 4, "none")]
    assert _sleepers() == []


HOLD = """
import time
block = bytearray({size})
for at in range(0, len(block), 4096):
    block[at] = 1
time.sleep(25)
del block
t = x * 2
"""


@pytest.mark.slow
def test_two_runs_at_once_do_not_share_a_memory_budget(tiny_course, tmp_path):
    """Both with --memory 4096: 2.6 GB and 1.6 GB held at the same time fit each run's own budget, not a shared one."""
    mode = _mode_here()
    runs = {}
    for name, size in (("big", int(2.6e9)), ("small", int(1.6e9))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.ipynb").write_text(tiny_notebook(tiny_course, {"q1_tensor_answer": HOLD.format(size=size)}))
        command = [sys.executable, "-c", "from assignkit.cli import main; main()", "grade", "tiny", str(folder),
                   "--out", str(tmp_path / f"out-{name}"), "--course", str(tiny_course.root), "--jobs", "1",
                   "--memory", "4096", "--timeout", "120"]
        runs[name] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
        assert out.splitlines()[0].startswith(f"sandbox: {mode} ")
        result = json.loads((tmp_path / f"out-{name}" / "results" / f"{name}.json").read_text())
        assert (result["status"], result["score"], result["sandbox"]) == ("graded", 4, mode), result["reason"]
        assert {q["id"]: q["score"] for q in result["questions"]} == FULL


def test_grade_refuses_without_a_sandbox_and_says_how_to_fix_it(tiny_course, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assignkit.cli import main

    def refuse(no_sandbox: bool) -> str:
        if no_sandbox:
            return NONE
        raise SandboxUnavailable("cannot isolate student code here: test. To fix: " + sandbox.FIX)

    monkeypatch.setattr(sandbox, "choose_mode", refuse)
    folder = tmp_path / "submissions"
    folder.mkdir()
    result = CliRunner().invoke(main, ["grade", "tiny", str(folder), "--out", str(tmp_path / "out"),
                                       "--course", str(tiny_course.root)])
    assert result.exit_code == 2
    assert "apt-get install bubblewrap" in result.output and "--no-sandbox" in result.output
    assert not (tmp_path / "out").exists()
