"""`python -m assignkit.jail [options] -- COMMAND...`: the last step before a student's kernel starts.

Root mode: run as root inside `unshare --net --mount --pid --fork --kill-child --mount-proc`, it hides folders
behind empty tmpfs mounts (bringing back the sandbox folder, and the Python installation read-only), hands the
connection file to the sandbox user, sets resource limits, joins the slot's cgroups, drops to that user and
execs the kernel. Otherwise (userns, none) it sets the limits, joins the cgroups given and execs COMMAND
(bubblewrap, in userns mode). sandbox.py builds its command line.

The fork executor (forkexec.py) takes the same steps in process, with the namespace functions below in place of
`unshare` and bubblewrap: `unshare`, `map_own_user`, `mount_proc`, `read_only_root`, `drop_capabilities`.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x2, 0x4, 0x20, 0x1000, 0x4000, 0x40000
MS_NOEXEC, MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 0x8, 0x400, 0x800, 0x200000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 38, 24, 47, 4
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000)
SYS_MOUNT_SETATTR, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, 0x8000, 0x1  # the same number on x86_64 and arm64
# statvfs flags of a mount -> the mount(2) flags that keep them on a remount (a user namespace may not drop them)
KEPT_FLAGS = {os.ST_RDONLY: MS_RDONLY, os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
              os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME, os.ST_RELATIME: MS_RELATIME}
MAX_PROCESSES = 64  # processes and threads of one sandbox; a kernel with torch uses about 10
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def hide(paths: list[str], keep: list[str], show: list[str] = ()) -> None:
    """Cover each of `paths` with an empty tmpfs, then bind back each of `keep` (writable) and `show`
    (read-only)."""
    private_mounts()
    paths = [p for p in dict.fromkeys(paths) if not any(p != q and _within(p, q) for q in paths)]
    back = [(path, False) for path in keep] + [(path, True) for path in show]
    kept = [(path, read_only, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path, read_only in back]
    for path in paths:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for path, read_only, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
        if read_only or _is_read_only(path):  # a folder to keep writable may lie under read_only_root's mounts
            _remount(path, read_only)


def private_mounts() -> None:
    """Nothing mounted in this mount namespace from now on reaches the host's, nor the other way round."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)


def _is_read_only(path: str) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def _remount(path: str, read_only: bool) -> None:
    """Make the bind mount at `path` read-only or writable, keeping its other flags (in a user namespace the
    kernel refuses a remount that would drop one it locked)."""
    flags = sum(ms for st, ms in KEPT_FLAGS.items() if os.statvfs(path).f_flag & st and ms != MS_RDONLY)
    flags |= MS_RDONLY | MS_NOSUID | MS_NODEV if read_only else 0
    _mount("none", path, None, MS_BIND | MS_REMOUNT | flags)


def _within(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def limit(memory_bytes: int, file_bytes: int) -> None:
    """Limits of each process: address space, file size, no core dumps."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def confine(processes: int | None, cgroups: list[str]) -> None:
    """Limits of the whole sandbox, forked children included: processes and threads of its user (RLIMIT_NPROC
    counts per user), and memory and processes through the slot's cgroups (sandbox.py made and limited them)."""
    if processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    for group in cgroups:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    # Changing the user clears the parent-death signal `unshare --kill-child` set: set it again, so the
    # kernel (and with it its whole PID namespace) dies when the grader kills or loses the unshare process.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def unshare(flags: int) -> None:
    if _libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare({flags:#x}): {os.strerror(errno)}")


def map_own_user() -> None:
    """In a new user namespace, map this process's user and group to themselves (setgroups denied), the one
    mapping an unprivileged process may write for itself."""
    uid, gid = os.geteuid(), os.getegid()
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def mount_proc() -> None:
    """A /proc of this PID namespace (call it in the namespace's first process, after making mounts private)."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def read_only_root() -> None:
    """Every mount of this mount namespace read-only (mount_setattr, Linux 5.12+); tmpfs and binds made after it
    are not."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    if _libc.syscall(SYS_MOUNT_SETATTR, -100, b"/", AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount_setattr(/, read-only, recursive): {os.strerror(errno)}")


def drop_capabilities() -> None:
    """No capability left, none to gain back: the bounding and ambient sets emptied, no_new_privs, and the
    effective, permitted and inheritable sets cleared (capset)."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    if _libc.capset(header, data) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"capset: {os.strerror(errno)}")


def die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m assignkit.jail")
    parser.add_argument("--uid", type=int)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[], help="folder brought back writable")
    parser.add_argument("--show", action="append", default=[], help="folder brought back read-only")
    parser.add_argument("--cgroup", action="append", default=[], help="cgroup folder the kernel joins")
    parser.add_argument("--processes", type=int, help="RLIMIT_NPROC (default: none unless --uid)")
    parser.add_argument("--give", action="append", default=[], help="file handed to the sandbox user")
    parser.add_argument("--memory", type=int, required=True, help="address-space limit in bytes")
    parser.add_argument("--file-size", type=int, required=True, help="largest file the kernel may write, bytes")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.uid is not None:
        hide([os.path.realpath(p) for p in args.hide], [os.path.realpath(p) for p in args.keep],
             [os.path.realpath(p) for p in args.show])
        for path in args.give:
            os.chown(path, args.uid, args.uid)
    limit(args.memory, args.file_size)
    confine(args.processes or (MAX_PROCESSES if args.uid is not None else None), args.cgroup)
    if args.uid is not None:
        become(args.uid)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
