"""`python -m assignkit.jail [options] -- COMMAND...`: the last step before a student's kernel starts.

Root mode: run as root inside `unshare --net --mount --pid --fork --kill-child --mount-proc`, it hides folders
behind empty tmpfs mounts (bringing back the sandbox folder, and the Python installation read-only), hands the
connection file to the sandbox user, sets resource limits, joins the slot's cgroups, drops to that user and
execs the kernel. Otherwise (userns, none) it sets the limits, joins the cgroups given and execs COMMAND
(bubblewrap, in userns mode). sandbox.py builds its command line.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x2, 0x4, 0x20, 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
MAX_PROCESSES = 64  # processes and threads of one sandbox; a kernel with torch uses about 10
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def hide(paths: list[str], keep: list[str], show: list[str] = ()) -> None:
    """Cover each of `paths` with an empty tmpfs, then bind back each of `keep` (writable) and `show`
    (read-only) that lay beneath one."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    paths = [p for p in dict.fromkeys(paths) if not any(p != q and _within(p, q) for q in paths)]
    back = [(path, False) for path in keep] + [(path, True) for path in show]
    kept = [(path, read_only, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path, read_only in back
            if any(_within(path, hidden) for hidden in paths)]
    for path in paths:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for path, read_only, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if read_only:
            _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


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
