"""Run one prepared notebook in a child forked from a warm interpreter (docs/fork.md says why and how).

Three processes per worker:
- the **worker** (grade.py) runs `ForkExecutor.run` and the hidden checks; it never forks a student child itself,
  because its memory holds what the checks loaded (check code, other students' answers);
- the **zygote**, forked from the worker once, right after the warm-up (`warm_up`: torch, numpy, pandas,
  matplotlib, IPython imported, one tiny Adam step run, one thread), before any submission or check; it holds
  nothing of any student and only forks on request;
- per submission, the zygote forks **the keeper** (it joins the slot's cgroups and enters the namespaces), which
  forks **the runner**: the first process of the new PID namespace, which hides folders, limits itself, drops to
  the sandbox's user or capabilities, and runs the cells in an IPython shell, sending each output to the worker
  over a pipe as length-prefixed JSON. Everything the runner starts dies with it (PID namespace) and nothing it
  changes reaches the zygote or the next submission: they are separate processes.

The worker enforces the cell and notebook timeouts (it has the keeper killed), the output cap, and takes each
question's harvest out after its harvest cell while the runner waits.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from assignkit import jail
from assignkit.execute import (FORK, Execution, Isolation, Job, Limits, _cells_with_harvests, _kernel_env,
                               _prepare_workdir, _ran_out_of_memory, _student_cells, _where, cell_timed_out,
                               kernel_did_not_start, kernel_died_in, memory_exceeded_in, notebook_timed_out)
from assignkit.harvest import take_out
from assignkit.poolserver import WARM_STACK
from assignkit.sandbox import NONE, ROOT, USERNS, MAX_PROCESSES, _children_of, _outermost, _tasks_of, adopt_orphans

_wall_clock = time.time  # the runner's own reference: a student who replaces time.time changes only theirs
MAX_MESSAGE_BYTES = 64 * 2**20  # one output; a longer length prefix is a broken or forged stream
STREAM_FLUSH_SECONDS = 0.2
STREAM_FLUSH_CHARS = 65536
GO = b"g"  # the worker's answer to a harvest cell: the artifacts are out, run on
NAMESPACES = {ROOT: jail.CLONE_NEWNS | jail.CLONE_NEWNET | jail.CLONE_NEWPID | jail.CLONE_NEWIPC | jail.CLONE_NEWUTS,
              USERNS: jail.CLONE_NEWUSER | jail.CLONE_NEWNS | jail.CLONE_NEWNET | jail.CLONE_NEWPID
              | jail.CLONE_NEWIPC | jail.CLONE_NEWUTS,
              NONE: 0}


class SandboxEntryFailed(RuntimeError):
    """The child could not enter the sandbox: the grader's failure, never the student's."""


def userns_entry_problem() -> str | None:
    """Why a forked child cannot enter userns mode here (user namespace, ID maps, a PID namespace's /proc, a
    read-only root, dropping capabilities), or None when it can. Tried once, in a throwaway child (~20 ms)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _never_return(_try_userns_entry, write)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        problem = answer.read(2000).decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0 and not problem:
        problem = f"the trial child ended with status {status}"
    return problem or None


def _try_userns_entry(write: int) -> None:
    try:
        jail.unshare(NAMESPACES[USERNS])
        jail.map_own_user()
        inner = os.fork()
        if inner == 0:
            try:
                jail.private_mounts()
                jail.mount_proc()
                jail.read_only_root()
                jail.drop_capabilities()
            except BaseException as error:  # noqa: BLE001 - the answer to the parent
                os.write(write, str(error).encode())
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(inner, 0)
        os._exit(0 if status == 0 else 1)
    except BaseException as error:  # noqa: BLE001
        os.write(write, str(error).encode())
        os._exit(1)


# --- the warm interpreter and the zygote (in the worker) ---------------------------------------------------------

# What every child imported for itself before they were imported here (sys.modules after a run of the hw1 solution,
# less the zygote's): the shell's lazily registered magics and its completer, the inline backend (pyplot loads it at
# the first figure), torch.save's configuration. Each child paid 20-40 ms for them.
CHILD_IMPORTS = ("IPython.core.magics.execution", "IPython.core.completer", "IPython.core.completerlib",
                 "IPython.core.oinspect", "IPython.core.pylabtools", "IPython.core.application", "IPython.core.logger",
                 "matplotlib_inline.backend_inline", "matplotlib.animation", "torch.utils.serialization")


@functools.cache
def warm_up() -> None:
    """Import the stack a notebook uses and run one tiny training step, so no child pays for torch's lazy imports.
    Once per process: a pool worker inherits it from the forkserver, which ran it (warm_stack)."""
    import importlib

    import matplotlib

    matplotlib.use("module://matplotlib_inline.backend_inline")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import torch
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401

    for name in CHILD_IMPORTS:
        importlib.import_module(name)
    _format_one_traceback()
    _draw_one_figure()
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1), torch.nn.Sigmoid())
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss = torch.nn.functional.binary_cross_entropy(net(torch.ones(3, 2)), torch.ones(3, 1))
    loss.backward()
    optimizer.step()


def _draw_one_figure() -> None:
    """Draw a figure with text to PNG, outside pyplot (whose figure numbers a child must find untouched): the first
    PNG loads PIL's image plugins and the first text its font, in every child that shows a plot."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], label="warm-up")
    FigureCanvasAgg(figure).print_png(io.BytesIO())


def _format_one_traceback() -> None:
    """Format an error as the child's shell will: IPython's first traceback compiles pygments' lexers and fills
    `inspect`'s module caches (0.05 s); a blank notebook's every answer cell raises one."""
    from IPython.core.ultratb import AutoFormattedTB

    try:
        raise NotImplementedError("warm-up")
    except NotImplementedError:
        AutoFormattedTB(mode="Context").structured_traceback(*sys.exc_info())


@dataclass(frozen=True)
class _Start:
    """What the zygote needs to start one submission's child; no student data (the cells are read from a file by
    the child)."""

    cells_file: str
    workdir: str
    limits: Limits
    mode: str
    uid: int | None
    cgroups: tuple[str, ...]
    hidden: tuple[str, ...]
    visible: tuple[str, ...]
    processes: int | None  # RLIMIT_NPROC


@dataclass(frozen=True)
class _Reap:
    pid: int


class Zygote:
    """The worker's handle on its zygote: start a child, reap it."""

    def __init__(self) -> None:
        if threading.active_count() != 1:
            raise RuntimeError("the warm interpreter has threads; forking it is not safe")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _never_return(_zygote_main, theirs, worker)
        theirs.close()
        self.pid, self.socket = pid, ours

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def start(self, request: _Start, fds: list[int]) -> int:
        socket.send_fds(self.socket, [pickle.dumps(request)], fds)
        return int(self.socket.recv(64))

    def reap(self, pid: int) -> None:
        self.socket.send(pickle.dumps(_Reap(pid)))
        self.socket.recv(64)


def _never_return(main, *args) -> None:
    """Run a forked child's `main` and end the process, whatever happens: an exception must never unwind into the
    worker's code that the child inherited (it would go on as a second pool worker)."""
    try:
        main(*args)
    finally:
        os._exit(1)


def _zygote_main(channel: socket.socket, worker: int) -> None:
    jail.die_with_parent()
    if os.getppid() != worker:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker, which ends the zygote
    adopt_orphans()  # what a child leaves behind (none mode) becomes the zygote's, killed at the next reap
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(channel, 1 << 20, 4)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        request = pickle.loads(data)
        if isinstance(request, _Reap):
            _kill_children()
            channel.send(b"reaped")
            continue
        pid = os.fork()
        if pid == 0:
            channel.close()
            _never_return(_keeper_main, request, fds)
        for fd in fds:
            os.close(fd)
        channel.send(str(pid).encode())


def _kill_children() -> None:
    """Kill and reap every child of the zygote: the keeper, and what the runner left behind in none mode."""
    for _ in range(100):
        children = _children_of(os.getpid())
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


# --- the child: keeper and runner --------------------------------------------------------------------------------

def _keeper_main(request: _Start, fds: list[int]) -> None:
    """Join the cgroups, set the process limit, enter the namespaces, and fork the runner; exit with it."""
    results_fd, go_fd = fds
    try:
        jail.die_with_parent()
        cells = json.loads(Path(request.cells_file).read_text())
        jail.confine(request.processes, list(request.cgroups))
        jail.unshare(NAMESPACES[request.mode])
        if request.mode == USERNS:
            jail.map_own_user()
        jail.die_with_parent()  # entering a user namespace cleared it
    except BaseException as error:  # noqa: BLE001 - reported to the worker, which makes it a grader error
        _send(results_fd, {"kind": "failed", "error": f"{type(error).__name__}: {error}"})
        os._exit(1)
    runner = os.fork()
    if runner == 0:
        _never_return(_runner_main, request, cells, results_fd, go_fd)
    os.close(results_fd)
    os.close(go_fd)
    while True:
        try:
            os.waitpid(runner, 0)
            os._exit(0)
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue


def _runner_main(request: _Start, cells: list[dict], results_fd: int, go_fd: int) -> None:
    try:
        _enter_sandbox(request)
        shell = _make_shell(results_fd)
    except BaseException as error:  # noqa: BLE001
        _send(results_fd, {"kind": "failed", "error": f"{type(error).__name__}: {error}"})
        os._exit(1)
    _send(results_fd, {"kind": "ready"})
    for cell in cells:
        began = _wall_clock()
        result = shell.run_cell(cell["source"], store_history=True)
        shell.streams_flush()
        _send(results_fd, {"kind": "done", "count": result.execution_count, "began": began, "ended": _wall_clock()})
        if cell["harvest"] and os.read(go_fd, 1) != GO:
            break
    os._exit(0)


def _enter_sandbox(request: _Start) -> None:
    """The jail's steps, in process: in the runner, the first process of its PID namespace."""
    jail.die_with_parent()
    if request.mode != NONE:
        jail.private_mounts()
        jail.mount_proc()
        if request.mode == USERNS:
            jail.read_only_root()
        jail.hide(list(request.hidden), [request.workdir], list(request.visible))
    jail.limit(_address_space() + request.limits.memory_mb * 2**20, request.limits.file_mb * 2**20)
    if request.mode == ROOT:
        jail.become(request.uid)
    elif request.mode == USERNS:
        jail.drop_capabilities()
        jail.die_with_parent()
    os.chdir(request.workdir)
    os.environ.clear()
    os.environ.update(_kernel_env(Path(request.workdir)))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    if "" not in sys.path:
        sys.path.insert(0, "")


def _address_space() -> int:
    """Bytes of address space this process already has (the warm interpreter's): the memory limit comes on top."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _make_shell(results_fd: int):
    """An IPython shell whose outputs (streams, displays, results, errors) go to the worker as nbformat outputs."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    streams: dict[str, _Stream] = {}

    def flush() -> None:
        for stream in streams.values():
            stream.flush()

    def send_output(output: dict) -> None:
        flush()
        _send(results_fd, {"kind": "output", "output": output})

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
            send_output({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait=False) -> None:
            flush()
            _send(results_fd, {"kind": "clear"})

    class ResultHook(DisplayHook):
        def start_displayhook(self) -> None:
            self.pending = {"output_type": "execute_result", "data": {}, "metadata": {}}

        def write_output_prompt(self) -> None:
            self.pending["execution_count"] = self.prompt_count

        def write_format_data(self, format_dict, md_dict=None) -> None:
            self.pending["data"], self.pending["metadata"] = format_dict, md_dict or {}

        def finish_displayhook(self) -> None:
            send_output(self.pending)

    class Shell(InteractiveShell):
        displayhook_class = ResultHook
        display_pub_class = Publisher

        def enable_gui(self, gui=None) -> None:
            pass  # the inline backend needs no event loop

        def _showtraceback(self, etype, evalue, stb) -> None:
            send_output({"output_type": "error", "ename": str(etype.__name__), "evalue": str(evalue),
                         "traceback": list(stb)})

        def streams_flush(self) -> None:
            flush()

        def _format_exception_for_storage(self, exception, filename=None, running_compiled_code=False) -> dict:
            return {}  # IPython formats every error a second time for its history database, which is off here

    config = Config()
    config.HistoryManager.enabled = False  # no history file, no saving thread
    shell = Shell.instance(config=config)
    shell.enable_matplotlib("inline")
    for name in ("stdout", "stderr"):
        streams[name] = _Stream(name, results_fd)
        setattr(sys, name, streams[name])
    return shell


def _json_default(value: object) -> str:
    """Bytes (a PNG) as base64, as jupyter_client sends them; anything else as its str."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


class _Stream:
    """sys.stdout or sys.stderr of the runner: text goes to the worker as stream outputs, in batches."""

    def __init__(self, name: str, fd: int) -> None:
        self.name, self.fd, self.parts, self.size, self.sent = name, fd, [], 0, time.monotonic()
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.parts.append(text)
        self.size += len(text)
        if self.size >= STREAM_FLUSH_CHARS or time.monotonic() - self.sent > STREAM_FLUSH_SECONDS:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            text, self.parts, self.size = "".join(self.parts), [], 0
            _send(self.fd, {"kind": "output", "output": {"output_type": "stream", "name": self.name, "text": text}})
        self.sent = time.monotonic()

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("the grader's output stream has no file descriptor")


def _send(fd: int, message: dict) -> None:
    data = json.dumps(message, default=_json_default).encode()
    data = struct.pack("<I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


# --- the worker's side ---------------------------------------------------------------------------------------

class _Gone(Exception):
    """The child's stream ended (it died or was killed) or broke."""


class _Channel:
    """The worker's end of the child's output pipe: one message at a time, until a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, bytearray()

    def read(self, deadline: float) -> dict | None:
        """The next message, None when the deadline passed first; _Gone when the stream ended or broke."""
        while True:
            message = self._take()
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise _Gone("the stream ended")
            self.buffer += chunk

    def _take(self) -> dict | None:
        if len(self.buffer) < 4:
            return None
        (size,) = struct.unpack("<I", self.buffer[:4])
        if size > MAX_MESSAGE_BYTES:
            raise _Gone(f"a message of {size} bytes")
        if len(self.buffer) < 4 + size:
            return None
        data, self.buffer = bytes(self.buffer[4:4 + size]), self.buffer[4 + size:]
        try:
            message = json.loads(data)
        except ValueError:
            raise _Gone("a message that is not JSON") from None
        if not isinstance(message, dict):
            raise _Gone("a message that is not an object")
        return message


_zygote: Zygote | None = None  # this worker process's, made by start_zygote (the pool's initializer)


def start_zygote() -> None:
    """Warm this worker up and fork its zygote (once per worker, before it grades anything)."""
    global _zygote
    warm_up()
    _zygote = Zygote()


@dataclass(frozen=True)
class ForkExecutors:
    """A child of this worker's warm interpreter per submission."""

    name: str = FORK
    preload: tuple[str, ...] = (WARM_STACK,)  # so the workers forked from the pool's forkserver start warm

    def warm(self) -> None:
        start_zygote()

    def __call__(self, limits: Limits, isolation: Isolation) -> "ForkExecutor":
        return ForkExecutor(limits, isolation)


@dataclass
class ForkExecutor:
    limits: Limits
    isolation: Isolation

    def run(self, job: Job) -> Execution:
        if _zygote is None or not _zygote.alive():
            raise RuntimeError("this worker has no warm interpreter to fork (start_zygote did not run, or it died)")
        started = time.monotonic()
        _prepare_workdir(job, self.isolation)
        cells = _cells_with_harvests(job)
        cells_file = job.workdir.parent / "cells.json"
        # "harvest": the runner waits after this cell while the worker takes its artifacts out (not after the
        # recorder, the other cell of the grader's own, whose question id is empty)
        cells_file.write_text(json.dumps([{"source": c.source, "harvest": bool(c.metadata.get("assignkit_harvest"))}
                                          for c in cells if c.cell_type == "code"]))
        results_read, results_write = os.pipe()
        go_read, go_write = os.pipe()
        keeper = _zygote.start(self._start_request(job, cells_file), [results_write, go_read])
        os.close(results_write)
        os.close(go_read)
        execution = Execution("graded")
        try:
            self._follow(_Channel(results_read), go_write, job, cells, execution, started)
        finally:
            _zygote.reap(keeper)
            os.close(results_read)
            os.close(go_write)
        execution.seconds = time.monotonic() - started
        execution.notebook = nbformat.v4.new_notebook(cells=_student_cells(cells), metadata=job.notebook.metadata)
        return execution

    def _start_request(self, job: Job, cells_file: Path) -> _Start:
        sandbox, slot = self.isolation.sandbox, self.isolation.slot
        processes = {ROOT: MAX_PROCESSES, USERNS: _tasks_of(os.getuid()) + MAX_PROCESSES}.get(sandbox.mode)
        return _Start(str(cells_file), str(job.workdir), self.limits, sandbox.mode, slot.uid, slot.cgroups,
                      tuple(os.path.realpath(p) for p in _outermost(sandbox.hidden)),
                      tuple(os.path.realpath(p) for p in sandbox.visible), processes)

    def _follow(self, channel: _Channel, go_fd: int, job: Job, cells: list, execution: Execution,
                started: float) -> None:
        """Read the child's outputs cell by cell, with the timeouts, the output cap and the harvests."""
        notebook_deadline = started + self.limits.notebook_seconds
        try:
            first = channel.read(min(notebook_deadline, time.monotonic() + 60))
        except _Gone as gone:
            execution.status, execution.reason = "kernel_died", kernel_did_not_start(str(gone))
            return
        if first is None or first.get("kind") == "failed":
            raise SandboxEntryFailed(f"the forked child did not start: {first and first.get('error')}")
        cap = _OutputCap(self.limits.output_bytes)
        for cell in cells:
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            # As nbclient's record_timing: a cell that never ends keeps when it began (the worker's clock here; the
            # child's own pair replaces it when the cell ends)
            cell.metadata["execution"] = {"iopub.execute_input": _iso(time.time())}
            cell_started = time.monotonic()
            deadline = min(cell_started + self.limits.cell_seconds, notebook_deadline)
            try:
                done = self._outputs_until_done(channel, cell, cap, deadline)
            except _Gone:
                execution.status, execution.reason = "kernel_died", kernel_died_in(_where(cell))
                return
            if done is None:
                execution.status = "timeout"
                execution.reason = (cell_timed_out(_where(cell), self.limits.cell_seconds)
                                    if deadline - cell_started >= self.limits.cell_seconds else
                                    notebook_timed_out(_where(cell), self.limits.notebook_seconds))
                return
            cell.execution_count = done.get("count") if isinstance(done.get("count"), int) else None
            if timing := cell_timing(done):
                cell.metadata["execution"] = timing
            if _ran_out_of_memory(cell):
                execution.status = "memory_exceeded"
                execution.reason = memory_exceeded_in(_where(cell), self.limits.memory_mb)
                return
            question = cell.metadata.get("assignkit_harvest")
            if question:
                take_out(job.workdir, question, job.artifacts_dir / question)
                execution.harvested.append(question)
                try:
                    os.write(go_fd, GO)
                except BrokenPipeError:
                    pass  # the child is gone: the next cell says so

    @staticmethod
    def _outputs_until_done(channel: _Channel, cell, cap: "_OutputCap", deadline: float) -> dict | None:
        while True:
            message = channel.read(deadline)
            if message is None:
                return None
            kind = message.get("kind")
            if kind == "done":
                return message
            if kind == "clear":
                cell.outputs = []
            elif kind == "output" and isinstance(message.get("output"), dict):
                cap.add(cell, message["output"])


def cell_timing(done: dict) -> dict[str, str]:
    """When the cell began and ended in the child, under the names nbclient's record_timing gives a kernel's
    (`metadata.execution`); nothing unless the child sent two finite times in order (it shares its process with the
    student's code, so the times are shown, never trusted)."""
    began, ended = done.get("began"), done.get("ended")
    if not (type(began) is type(ended) is float and math.isfinite(began) and math.isfinite(ended) and began <= ended):
        return {}
    try:
        return {"iopub.execute_input": _iso(began), "shell.execute_reply": _iso(ended)}
    except (OverflowError, OSError, ValueError):  # beyond the dates datetime can hold
        return {}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


class _OutputCap:
    """At most `limit` bytes of a notebook's outputs (errors always kept), as the kernel executor's CappedClient."""

    def __init__(self, limit: int) -> None:
        self.limit, self.seen = limit, 0

    def add(self, cell, content: dict) -> None:
        output = _output_of(content)
        if output is None:
            return
        is_error = output.output_type == "error"
        if not is_error:
            self.seen += len(str(content))
        if self.seen > self.limit and not is_error:
            note = f"[output past {self.limit} bytes dropped by the grader]"
            if not any(out.get("text") == note for out in cell.outputs):
                cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
            return
        last = cell.outputs[-1] if cell.outputs else None
        if output.output_type == "stream" and last is not None and last.get("output_type") == "stream" \
                and last.get("name") == output.get("name"):
            last["text"] += output["text"]
        else:
            cell.outputs.append(output)


OUTPUT_FIELDS = {"stream": ("name", "text"), "display_data": ("data", "metadata"),
                 "execute_result": ("data", "metadata", "execution_count"), "error": ("ename", "evalue", "traceback")}


def _output_of(content: dict) -> nbformat.NotebookNode | None:
    """The nbformat output a message carries; None when it is not a valid one (dropped, as nbclient would)."""
    fields = OUTPUT_FIELDS.get(content.get("output_type"))
    if fields is None:
        return None
    try:
        return nbformat.v4.new_output(content["output_type"], **{k: content[k] for k in fields if k in content})
    except Exception:  # noqa: BLE001 - nbformat's ValidationError, or a field of the wrong type
        return None
