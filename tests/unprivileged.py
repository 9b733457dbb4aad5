"""Running the grader as an ordinary user, the way a TA without root does: `setpriv` to the `nobody` account, with
a Python that account can reach, on a copy of a course it can read.

This machine's Python (and CI's) may live where another user cannot go (/root is mode 700). The test user gets a
venv made from the system's Python of the same minor version (Debian's /usr/bin/python3.X), whose .pth file
adds this interpreter's site-packages (torch, the editable assignkit): those must be reachable by that user
(.ci/run grants traverse permission on the checkout's parent folders).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from assignkit.execute import Limits
from assignkit.results import SubmissionResult

USER = "nobody"


class Unavailable(Exception):
    """Why the grader cannot run as an ordinary user here (the test skips with this reason)."""


def account() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        raise Unavailable("needs root, to run the grader as another user through setpriv")
    if shutil.which("setpriv") is None:
        raise Unavailable("setpriv (util-linux) is not installed")
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        raise Unavailable(f"no {USER} account on this machine") from None


def shared_folder(prefix: str) -> Path:
    """A new folder under /tmp the test user owns (and root can remove)."""
    user = account()
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    folder.chmod(0o755)
    os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def give(path: Path) -> None:
    """Hand `path` (recursively) to the test user."""
    user = account()
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.lchown(item, user.pw_uid, user.pw_gid)


def make_python(folder: Path) -> Path:
    """A venv in `folder` the test user can run, seeing this interpreter's packages; its python."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = next((p for p in (Path("/usr/bin") / version, Path("/usr/local/bin") / version) if p.is_file()), None)
    if system is None:
        raise Unavailable(f"no system {version} (Debian: apt-get install {version}) for the test user")
    venv = folder / "python"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    site_packages = venv / "lib" / version / "site-packages"
    lines = [f"import site; site.addsitedir({p!r})" for p in site.getsitepackages()]
    (site_packages / "assignkit-grader-packages.pth").write_text("\n".join(lines) + "\n")
    give(venv)
    probe = run_as_user([str(venv / "bin" / "python"), "-c", "import torch, assignkit"], folder, check=False)
    if probe.returncode != 0:
        raise Unavailable(f"{USER} cannot import torch and assignkit from {site.getsitepackages()} "
                          f"(a folder above them is closed to other users?): {probe.stderr.strip()[-300:]}")
    return venv / "bin" / "python"


def run_as_user(command: list[str], home: Path, check: bool = True, cgroups: list[Path] = ()) -> \
        subprocess.CompletedProcess:
    """`command` run as the test user, started inside `cgroups` (see delegated_cgroups)."""
    user = account()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "MPLCONFIGDIR": str(home / ".mpl")}

    def enter_cgroups() -> None:
        for group in cgroups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    return subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                           "--", *command], env=env, cwd=home, capture_output=True, text=True, check=check,
                          preexec_fn=enter_cgroups)


@contextlib.contextmanager
def delegated_cgroups(name: str) -> Iterator[list[Path]]:
    """cgroup v1 memory and pids groups handed to the test user, as systemd hands a user session its own
    (Delegate=yes): the grader run inside them may make groups of its own there. Empty on cgroup v2, where a
    delegated group also needs its processes moved to a leaf first (not done here)."""
    root = Path("/sys/fs/cgroup")
    groups = [root / controller / name for controller in ("memory", "pids")]
    if (root / "cgroup.controllers").exists() or not all(g.parent.is_dir() for g in groups):
        yield []
        return
    user = account()
    try:
        for group in groups:
            group.mkdir()
            for item in [group, *group.iterdir()]:
                os.chown(item, user.pw_uid, user.pw_gid)
        yield groups
    finally:
        for group in groups:
            for child in [c for c in group.iterdir() if c.is_dir()]:
                with contextlib.suppress(OSError):
                    child.rmdir()
            with contextlib.suppress(OSError):
                group.rmdir()


GRADE = """
import json, sys
from pathlib import Path
from typing import Iterator
from assignkit.execute import Limits
from assignkit.grade import grade_batch
from assignkit.layout import Course
from assignkit.sandbox import own_writable_cgroups
course, homework, folder, out, limits, jobs, mode, answer, executor = json.loads(sys.argv[1])
results = grade_batch(Course(Path(course)), homework, [Path(folder)], Path(out), jobs=jobs, limits=Limits(**limits),
                      on_note=lambda note: None, mode=mode, executor=executor)
Path(answer).write_text(json.dumps({"results": [r.to_json() for r in results], "cgroups": [str(p) for p in own_writable_cgroups()]}))
"""


def grade_as_user(python: Path, home: Path, course: Path, homework: str, folder: Path, out: Path, limits: Limits,
                  jobs: int, mode: str, executor: str | None = None) -> tuple[list[SubmissionResult], bool]:
    """grade_batch run as the test user (in cgroups delegated to it where the machine allows): its results, and
    whether that user had cgroups of its own to use."""
    answer = home / f"answer-{out.name}.json"
    arguments = json.dumps([str(course), homework, str(folder), str(out), asdict(limits), jobs, mode, str(answer),
                            executor])
    # Named by `home` (a fresh temporary folder), not by this process: a group that a killed process still held a
    # moment at its cleanup must not be the next run's group
    with delegated_cgroups(f"assignkit-test-{home.name}-{out.name}") as cgroups:
        done = run_as_user([str(python), "-c", GRADE, arguments], home, check=False, cgroups=cgroups)
    if done.returncode != 0:
        raise AssertionError(f"the grader failed as {USER}:\n{done.stderr[-3000:]}")
    answered = json.loads(answer.read_text())
    return [SubmissionResult.from_json(text, answer) for text in answered["results"]], bool(answered["cgroups"])
