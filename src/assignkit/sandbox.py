"""The sandbox student code runs in: one isolation mode per run, its users, cgroups and scratch private to the run.

Modes (docs/sandbox.md says why):
- `root`: each worker slot has a user of its own, reserved for this run by a lock file, and cgroups named after
  it. A kernel starts behind `unshare` (network, mount, PID namespaces) and `assignkit.jail`, which hides
  folders, sets limits and drops to that user.
- `userns`: an ordinary user on Linux. A kernel starts behind `assignkit.jail` (limits, the run's cgroups where
  the user has writable ones) and bubblewrap (`bwrap`): user, network, mount, PID, IPC and UTS namespaces, no
  capabilities, folders hidden behind empty tmpfs mounts, the Python installation read-only.
- `none`: `--no-sandbox`; only the per-process limits. Every row says so.

`Sandbox` is data (picklable, sent to workers) plus `kernel_prefix`, which wraps a kernel command. A worker that
forks its kernels from a warm interpreter can use the same `Slot` (user, cgroups) and the same jail steps in
process instead of the prefix.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assignkit.jail import MAX_PROCESSES

ROOT, USERNS, NONE = "root", "userns", "none"
FIRST_UID, LAST_UID = 62000, 62999  # the users root mode reserves for its worker slots, run by run (61000+slot
# was the fixed, shared range before runs reserved theirs: kept clear of it)
UID_LOCKS = Path("/run/assignkit/uids")  # one lock file per user; a run holds the locks of its users
HIDING_TMPFS_BYTES = 1 << 20
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
_libc = ctypes.CDLL(None, use_errno=True)
CGROUP_ROOT = Path("/sys/fs/cgroup")

FIX = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
       "bubblewrap`) and make sure user namespaces are enabled (`sysctl user.max_user_namespaces` above 0; on "
       "Ubuntu 24.04 and later also `sysctl kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor "
       "profile for bwrap), or run as root on Linux; `--no-sandbox` grades anyway, without isolation, and "
       "marks every result as unsandboxed")


class SandboxUnavailable(Exception):
    """No way to isolate student code on this machine; the message says why and how to fix it."""


def choose_mode(no_sandbox: bool) -> str:
    """root when root on Linux, userns when bubblewrap works for this user, none only when asked for."""
    if no_sandbox:
        return NONE
    if sys.platform == "linux" and os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv"):
        return ROOT
    problem = userns_problem()
    if problem is None:
        return USERNS
    raise SandboxUnavailable(f"cannot isolate student code here: {problem}. To fix: {FIX}.")


def userns_problem() -> str | None:
    """Why bubblewrap cannot sandbox this user here, or None when it can (it is tried once, ~0.1 s)."""
    if sys.platform != "linux":
        return f"this is {sys.platform}, and the sandbox needs Linux namespaces"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (`bwrap`) is not installed"
    trial = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
                           capture_output=True, text=True)
    if trial.returncode != 0:
        return f"bubblewrap cannot create namespaces for this user ({trial.stderr.strip() or trial.returncode})"
    return None


def describe(mode: str) -> str:
    """The first line the grade command prints."""
    return {
        ROOT: "sandbox: root (a user of its own per worker, no network, hidden folders, cgroup limits)",
        USERNS: "sandbox: userns (bubblewrap: no network, hidden folders, read-only Python, no capabilities)",
        NONE: "sandbox: none (--no-sandbox: student code runs as this user, with network access, and can read "
              "and write what this user can; every result is marked unsandboxed)",
    }[mode]


@dataclass(frozen=True)
class Slot:
    """What the kernels of one submission at a time get: in root mode a user reserved for this run; cgroups
    (folders under /sys/fs/cgroup) private to this run, where the machine lets the grader make them."""

    index: int
    uid: int | None
    cgroups: tuple[str, ...]


@dataclass(frozen=True)
class Sandbox:
    mode: str
    slots: tuple[Slot, ...]
    hidden: tuple[Path, ...]  # covered by empty tmpfs mounts
    visible: tuple[Path, ...]  # the Python installation, brought back read-only from beneath `hidden`
    leases: Path  # one lock file per slot: who holds it uses that slot's user and cgroups

    @contextlib.contextmanager
    def lease(self) -> Iterator[Slot]:
        """A slot no other submission of this run is using, for as long as the block runs."""
        self.leases.mkdir(exist_ok=True)
        while True:
            for slot in self.slots:
                fd = os.open(self.leases / str(slot.index), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield slot
                    return
                finally:
                    os.close(fd)
            time.sleep(0.05)

    def kernel_prefix(self, slot: Slot, workdir: Path, memory_bytes: int, file_bytes: int) -> list[str]:
        """What goes before a kernel command so that the kernel starts inside this sandbox."""
        jail = [sys.executable, "-m", "assignkit.jail", "--memory", str(memory_bytes), "--file-size", str(file_bytes)]
        jail += [f"--cgroup={c}" for c in slot.cgroups]
        if self.mode == NONE:
            return jail + ["--"]
        if self.mode == USERNS:
            return jail + ["--processes", str(_tasks_of(os.getuid()) + MAX_PROCESSES), "--"] + \
                _bwrap(self.hidden, self.visible, workdir)
        options = ["--uid", str(slot.uid), "--give", str(workdir / ".kernel.json"), f"--keep={workdir}"]
        options += [f"--hide={p}" for p in self.hidden] + [f"--show={p}" for p in self.visible]
        # setpriv: unshare dies with the worker that started it; --kill-child: the kernel dies with unshare.
        return (["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--net", "--mount", "--pid", "--fork",
                 "--kill-child", "--mount-proc"] + jail + options + ["--", ])

    def clear(self, slot: Slot) -> None:
        """Kill whatever the slot's last submission left running: its cgroups' processes, its user's, and (in a
        worker that adopts orphans) this process's children. In root and userns mode the end of the kernel's PID
        namespace already killed them; in none mode this is all there is."""
        for _ in range(50):
            pids = {pid for group in slot.cgroups for pid in _cgroup_pids(group)}
            if slot.uid is not None:
                pids |= _processes_of(slot.uid)
            if _adopts_orphans():
                pids |= _children_of(os.getpid())
            pids = {pid for pid in pids if not _reaped_or_dead(pid)}
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)


def _reaped_or_dead(pid: int) -> bool:
    """Whether `pid` is gone or a zombie (reaped here when it is this process's child)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def adopt_orphans() -> None:
    """Make this process (a grading worker) the parent of every process its kernels leave behind, however
    detached (new session, double fork), so that `Sandbox.clear` finds and kills them in every mode."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _adopts_orphans() -> bool:
    flag = ctypes.c_int()
    return _libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) == 0 and bool(flag.value)


def _children_of(parent: int) -> set[int]:
    children = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat", "rb") as stat:
            if int(stat.read().rsplit(b")", 1)[1].split()[1]) == parent:
                children.add(int(pid))
    return children


def _bwrap(hidden: tuple[Path, ...], visible: tuple[Path, ...], workdir: Path) -> list[str]:
    # --as-pid-1: the kernel is the PID namespace's first process, as in root mode: everything it leaves
    # behind dies with it, and ipykernel does not take a parent with pid 1 (bwrap's init) for a dead one.
    command = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--as-pid-1", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in _outermost(hidden):
        command += ["--size", str(HIDING_TMPFS_BYTES), "--perms", "0755", "--tmpfs", str(path)]
    for path in _outermost(visible):
        command += ["--ro-bind", str(path), str(path)]
    return command + ["--bind", str(workdir), str(workdir), "--chdir", str(workdir), "--"]


@contextlib.contextmanager
def open_sandbox(mode: str, jobs: int, hidden: tuple[Path, ...], run_root: Path, memory_bytes: int) -> Iterator[Sandbox]:
    """This run's sandbox: its users reserved (root mode) and its cgroups made, all released on the way out."""
    with contextlib.ExitStack() as stack:
        uids = stack.enter_context(_reserved_uids(jobs)) if mode == ROOT else [None] * jobs
        if mode == ROOT:
            parents = _root_cgroup_parents()
        elif mode == USERNS:
            parents = own_writable_cgroups()
        else:
            parents = []
        slots = []
        for index, uid in enumerate(uids):
            name = f"sandbox-{uid}" if uid is not None else f"assignkit-{os.getpid()}-{index}"
            groups = [_make_cgroup(parent / name, memory_bytes) for parent in parents]
            slots.append(Slot(index, uid, tuple(g for g in groups if g)))
        hidden = hidden if mode != NONE else ()
        visible = tuple(p for p in python_folders() if any(p.is_relative_to(h) for h in hidden))
        sandbox = Sandbox(mode, tuple(slots), hidden, visible, run_root / "slots")
        for slot in sandbox.slots:
            sandbox.clear(slot)  # whatever a crashed earlier run left in this user or cgroup
            stack.callback(_remove_cgroups, sandbox, slot)
        yield sandbox


def _remove_cgroups(sandbox: Sandbox, slot: Slot) -> None:
    sandbox.clear(slot)
    for group in slot.cgroups:
        with contextlib.suppress(OSError):
            os.rmdir(group)


@contextlib.contextmanager
def _reserved_uids(count: int) -> Iterator[list[int]]:
    """`count` users no other run holds: each one's lock file is locked by this process until the run ends (the
    kernel drops the lock when the process dies, so a crashed run frees its users)."""
    UID_LOCKS.mkdir(parents=True, exist_ok=True)
    held: dict[int, int] = {}
    try:
        for uid in range(FIRST_UID, LAST_UID + 1):
            if len(held) == count:
                break
            fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held[uid] = fd
        if len(held) < count:
            raise SandboxUnavailable(f"all sandbox users {FIRST_UID}-{LAST_UID} are held by other runs")
        yield list(held)
    finally:
        for fd in held.values():
            os.close(fd)


def _root_cgroup_parents() -> list[Path]:
    if (CGROUP_ROOT / "cgroup.controllers").exists():  # cgroup v2
        parent = CGROUP_ROOT / "assignkit"
        with contextlib.suppress(OSError):
            parent.mkdir(exist_ok=True)
            (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory +pids")
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
        return [parent]
    return [CGROUP_ROOT / "memory" / "assignkit", CGROUP_ROOT / "pids" / "assignkit"]


def own_writable_cgroups() -> list[Path]:
    """The cgroups this process is in that it may make groups under (a systemd user session delegates one)."""
    folders = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "" and (CGROUP_ROOT / "cgroup.controllers").exists():
                folders.append(CGROUP_ROOT / path.lstrip("/"))
            elif controllers in ("memory", "pids"):
                folders.append(CGROUP_ROOT / controllers / path.lstrip("/"))
    return [f for f in folders if f.is_dir() and os.access(f, os.W_OK)]


def _make_cgroup(group: Path, memory_bytes: int) -> str | None:
    """The cgroup made and limited, or None when this machine does not let the grader make it."""
    settings = {"memory.max": memory_bytes, "memory.limit_in_bytes": memory_bytes, "pids.max": MAX_PROCESSES}
    try:
        group.mkdir(parents=True, exist_ok=True)
        written = 0
        for name, value in settings.items():
            if (group / name).exists():
                (group / name).write_text(str(value))
                written += 1
        if not written:
            group.rmdir()
            return None
        return str(group)
    except OSError:
        return None


def _cgroup_pids(group: str) -> set[int]:
    try:
        return {int(line) for line in Path(group, "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


def _processes_of(uid: int) -> set[int]:
    pids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.add(int(status.parent.name))
                    break
    return pids


def _tasks_of(uid: int) -> int:
    """Processes and threads of `uid` now: RLIMIT_NPROC counts them all, so a limit is this plus a margin."""
    return sum(len(list(Path("/proc", str(pid), "task").glob("*"))) for pid in _processes_of(uid))


def python_folders() -> tuple[Path, ...]:
    """The folders of the Python installation a kernel imports from: the prefixes and whatever the interpreter
    puts on sys.path by itself (site-packages, .pth files: an editable install's source). Asked of a fresh
    interpreter in isolated mode, so neither the current folder nor PYTHONPATH (a test's folder) is shown."""
    found = subprocess.run([sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    folders = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *found]
    real = [Path(os.path.realpath(f)) for f in folders if f and os.path.isdir(f)]
    return tuple(dict.fromkeys([*(Path(os.path.abspath(f)) for f in folders if f and os.path.isdir(f)), *real]))


def _outermost(paths: tuple[Path, ...]) -> list[Path]:
    """`paths` without those inside another of them."""
    return [p for p in dict.fromkeys(paths) if not any(p != q and p.is_relative_to(q) for q in paths)]
