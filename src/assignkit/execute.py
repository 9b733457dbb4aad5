"""Run one prepared notebook in a sandboxed kernel, harvesting each question's artifacts as it finishes.

`Executor` is the whole interface the grader uses; an `ExecutorFactory` (injected into grade_batch) warms each
worker up once and makes one executor per submission. `KernelExecutor` runs a fresh Jupyter kernel per submission
through nbclient; `forkexec.ForkExecutor` forks a child of a warm interpreter. `choose_executor` picks one by name.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from assignkit.harvest import Question, harvest_source, recorder_source, take_out
from assignkit.i18n import N_, Message
from assignkit.sandbox import USERNS, Sandbox, Slot, adopt_orphans

MEMORY_ERRORS = ("MemoryError", "OutOfMemoryError")
MEMORY_MESSAGES = ("can't allocate memory", "cannot allocate memory", "std::bad_alloc")


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 120.0
    notebook_seconds: float = 900.0
    memory_mb: int = 2048
    output_bytes: int = 2_000_000
    file_mb: int = 200


@dataclass(frozen=True)
class Isolation:
    """Where a kernel runs: the run's sandbox and the slot (user, cgroups) this submission holds."""

    sandbox: Sandbox
    slot: Slot


Reason = Message  # why a run stopped; every executor states it with the constructors below


def in_cell(position: int, grade_id: str | None) -> Reason:
    """Where a run stopped: a cell of the student's notebook, numbered from 0, with its nbgrader id if any."""
    if grade_id:
        return Reason(N_("cell {position} ({grade_id})"), {"position": position, "grade_id": grade_id})
    return Reason(N_("cell {position}"), {"position": position})


def in_harvest(question: str) -> Reason:
    """Where a run stopped: the grader's own cell collecting the answers of `question`."""
    return Reason(N_("collecting the answers of {question}"), {"question": question})


def in_recorder() -> Reason:
    """Where a run stopped: the grader's own cell, before the student's first, that records how nets are trained."""
    return Reason(N_("the grader's recorder, before the first cell"), {})


def cell_timed_out(where: Reason, seconds: float) -> Reason:
    return Reason(N_("{where} was still running after {seconds} s"), {"where": where, "seconds": f"{seconds:g}"})


def notebook_timed_out(where: Reason, seconds: float) -> Reason:
    return Reason(N_("the notebook ran past {seconds} s, in {where}"), {"where": where, "seconds": f"{seconds:g}"})


def kernel_died_in(where: Reason) -> Reason:
    return Reason(N_("the kernel died in {where}"), {"where": where})


def kernel_died_outside_cells() -> Reason:
    return Reason(N_("the kernel died while starting or stopping"))


def kernel_did_not_start(error: str) -> Reason:
    return Reason(N_("the kernel did not start: {error}"), {"error": error})


def memory_exceeded_in(where: Reason, memory_mb: int) -> Reason:
    return Reason(N_("{where} used more than {memory_mb} MB"), {"where": where, "memory_mb": memory_mb})


@dataclass
class Execution:
    status: str  # graded, timeout, kernel_died, memory_exceeded
    reason: Reason | None = None  # why the run stopped; None when it ran to the end
    harvested: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notebook: nbformat.NotebookNode | None = None  # as executed, without the harvest cells


@dataclass(frozen=True)
class Job:
    notebook: nbformat.NotebookNode
    questions: list[Question]
    release_folder: Path  # its data files are copied into the sandbox
    workdir: Path  # the sandbox folder: the kernel's cwd and home
    artifacts_dir: Path  # outside the sandbox: artifacts land in <artifacts_dir>/<question id>/


class Executor(Protocol):
    def run(self, job: Job) -> Execution: ...


class ExecutorFactory(Protocol):
    """What grade_batch is given: picklable (it travels to the worker processes), named in every result."""

    name: str
    preload: tuple[str, ...]  # modules the pool's forkserver imports before it forks the workers (poolserver)

    def warm(self) -> None:
        """Once in each worker process, before it grades anything."""

    def __call__(self, limits: Limits, isolation: Isolation) -> Executor: ...


FORK, KERNEL = "fork", "kernel"
EXECUTORS = (FORK, KERNEL)


@dataclass(frozen=True)
class KernelExecutors:
    """A fresh Jupyter kernel per submission (nbclient)."""

    name: str = KERNEL
    preload: tuple[str, ...] = ()

    def warm(self) -> None:
        import torch  # the hidden checks need it; imported once per worker rather than per submission

        torch.set_num_threads(1)
        adopt_orphans()

    def __call__(self, limits: Limits, isolation: Isolation) -> "KernelExecutor":
        return KernelExecutor(limits, isolation)


def choose_executor(name: str | None, on_note: Callable[[str], None] = print,
                    mode: str | None = None) -> ExecutorFactory:
    """The executor called `name` (fork or kernel); by default fork on Linux. Where fork is not available (not
    Linux; in userns `mode`, a kernel that will not let a forked child enter the namespaces) the kernel executor
    runs instead, with a note saying why."""
    if name not in (None, *EXECUTORS):
        raise ValueError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")
    if name == KERNEL:
        return KernelExecutors()
    if sys.platform != "linux":
        on_note(f"executor: kernel (the fork executor needs Linux; this is {sys.platform})")
        return KernelExecutors()
    from assignkit.forkexec import ForkExecutors, userns_entry_problem

    problem = userns_entry_problem() if mode == USERNS else None
    if problem:
        on_note(f"executor: kernel (a forked child cannot enter the userns sandbox here: {problem})")
        return KernelExecutors()
    return ForkExecutors()


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command starts behind the jail."""

    jail_prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self.jail_prefix + super().format_kernel_cmd(extra_arguments)


class CappedClient(NotebookClient):
    """nbclient's client, keeping at most `output_cap` bytes of a notebook's outputs (errors always kept)."""

    output_cap: int = 2_000_000
    output_seen: int = 0

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] != "error":
            self.output_seen += len(str(msg.get("content", "")))
        if self.output_seen <= self.output_cap or msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        note = f"[output past {self.output_cap} bytes dropped by the grader]"
        if not any(out.get("text") == note for out in outs):
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        return None


@dataclass
class KernelExecutor:
    limits: Limits
    isolation: Isolation

    def run(self, job: Job) -> Execution:
        started = time.monotonic()
        _prepare_workdir(job, self.isolation)
        cells = _cells_with_harvests(job)
        client = self._client(job, cells)
        execution = Execution("graded")
        try:
            # cleanup_kc: shut the kernel down on the way out, although the client did not create its manager
            with client.setup_kernel(cwd=str(job.workdir), env=_kernel_env(job.workdir), cleanup_kc=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                self._run_cells(client, job, cells, execution, started)
        except DeadKernelError:
            execution.status, execution.reason = "kernel_died", kernel_died_outside_cells()
        except RuntimeError as error:  # nbclient/jupyter_client: "Kernel died before replying to kernel_info"
            if "kernel" not in str(error).lower():
                raise
            execution.status, execution.reason = "kernel_died", kernel_did_not_start(str(error))
        execution.seconds = time.monotonic() - started
        execution.notebook = nbformat.v4.new_notebook(cells=_student_cells(client.nb.cells),
                                                      metadata=job.notebook.metadata)
        return execution

    def _client(self, job: Job, cells: list[nbformat.NotebookNode]) -> CappedClient:
        km = SandboxKernelManager(kernel_name="python3", transport="ipc", ip=str(job.workdir / ".kernel"))
        km.connection_file = str(job.workdir / ".kernel.json")
        km.jail_prefix = _jail_prefix(job, self.limits, self.isolation)
        notebook = nbformat.v4.new_notebook(cells=cells, metadata=job.notebook.metadata)
        client = CappedClient(notebook, km=km, allow_errors=True, timeout=int(self.limits.cell_seconds),
                              startup_timeout=60, shutdown_kernel="immediate")
        client.output_cap = self.limits.output_bytes
        return client

    def _run_cells(self, client: CappedClient, job: Job, cells: list, execution: Execution, started: float) -> None:
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            remaining = self.limits.notebook_seconds - (time.monotonic() - started)
            client.timeout = max(1, int(min(self.limits.cell_seconds, remaining)))
            question = cell.metadata.get("assignkit_harvest")
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                execution.status = "timeout"
                execution.reason = (cell_timed_out(_where(cell), client.timeout)
                                    if client.timeout >= self.limits.cell_seconds else
                                    notebook_timed_out(_where(cell), self.limits.notebook_seconds))
                return
            except DeadKernelError:
                execution.status, execution.reason = "kernel_died", kernel_died_in(_where(cell))
                return
            if _ran_out_of_memory(cell):
                execution.status = "memory_exceeded"
                execution.reason = memory_exceeded_in(_where(cell), self.limits.memory_mb)
                return
            if question:
                take_out(job.workdir, question, job.artifacts_dir / question)
                execution.harvested.append(question)


def _where(cell: nbformat.NotebookNode) -> Reason:
    if "assignkit_harvest" in cell.metadata:
        question = cell.metadata["assignkit_harvest"]
        return in_harvest(question) if question else in_recorder()
    return in_cell(cell.metadata["assignkit_position"], cell.metadata.get("nbgrader", {}).get("grade_id"))


def _ran_out_of_memory(cell: nbformat.NotebookNode) -> bool:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
            if output.get("ename") in MEMORY_ERRORS or any(m in text for m in MEMORY_MESSAGES):
                return True
    return False


def _student_cells(cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    kept = [c for c in cells if "assignkit_harvest" not in c.metadata]
    for cell in kept:
        cell.metadata.pop("assignkit_position", None)
    return kept


def _cells_with_harvests(job: Job) -> list[nbformat.NotebookNode]:
    """The notebook's cells with one harvest cell after each question's `after` cell (at the end if it is gone)."""
    after: dict[str, list[Question]] = {}
    for question in job.questions:
        after.setdefault(question.after, []).append(question)
    cells, placed = [], set()
    recorder = recorder_source(job.questions)
    if recorder:
        cells.append(nbformat.v4.new_code_cell(recorder, metadata={"assignkit_harvest": ""}))
    for position, cell in enumerate(job.notebook.cells):
        cells.append(copy.deepcopy(cell))
        cells[-1].metadata["assignkit_position"] = position  # the cell's number in the student's notebook
        for question in after.get(cell.metadata.get("nbgrader", {}).get("grade_id"), []):
            cells.append(_harvest_cell(job, question))
            placed.add(question.id)
    cells += [_harvest_cell(job, q) for q in job.questions if q.id not in placed]
    return cells


def _harvest_cell(job: Job, question: Question) -> nbformat.NotebookNode:
    source = harvest_source(question, str(job.workdir / ".harvest" / question.id))
    return nbformat.v4.new_code_cell(source, metadata={"assignkit_harvest": question.id})


def _prepare_workdir(job: Job, isolation: Isolation) -> None:
    job.workdir.mkdir(parents=True)
    for path in job.release_folder.iterdir():
        if path.is_file() and path.suffix != ".ipynb":
            shutil.copy(path, job.workdir / path.name)
    for sub in (".harvest", ".home", ".tmp"):
        (job.workdir / sub).mkdir()
    uid = isolation.slot.uid
    if uid is not None:
        for path in [job.workdir, *job.workdir.rglob("*")]:
            os.chown(path, uid, uid)
        job.workdir.chmod(0o700)


def _kernel_env(workdir: Path) -> dict[str, str]:
    home = str(workdir / ".home")
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": home, "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter", "TMPDIR": str(workdir / ".tmp"),
        "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "MALLOC_ARENA_MAX": "2",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ASSIGNKIT_GRADING": "1",
    }


def _jail_prefix(job: Job, limits: Limits, isolation: Isolation) -> list[str]:
    return isolation.sandbox.kernel_prefix(isolation.slot, job.workdir, limits.memory_mb * 2**20,
                                           limits.file_mb * 2**20)
