"""Grade a class-like batch of K submissions per homework every way there is, in one run; print seconds per
submission, ratios, the students' own compute, the grader's overhead and peak memory. Figures only, no assertions.

The K submissions of a homework cycle through three kinds, in this order: the solution (the source notebook),
a sample from examples/submissions/<hw>/ (full marks, partial, blank, crashed, broken) or the blank release, and a
wrong answer of tests/ (tests/hw1/mutants.py, tests/hw2/mutants.py; tiny's from tests/test_grade.py and
tests/test_grade_hostile.py); so about a third of a class is right, a third is the samples, a third is wrong.

Configurations (--configs; the default order is in the usage line below):
  plain     nbclient in this process, a fresh kernel per notebook, in a folder holding the release's data files,
            nothing else: kernel start + the student's code (torch on one thread, as the grader's kernels)
  compute   the students' own compute: a fresh kernel per notebook, first an untimed warm-up cell (the stack
            imported, one Adam step: what a warm interpreter has done before it forks), then the notebook's
            cells; the sum over its cells of (shell.execute_reply - iopub.execute_input), the kernel's own
            timestamps from nbclient's record_timing, i.e. the time the cells ran inside the kernel
  fork-N    `assignkit grade --executor fork --jobs N` as a command, wall time / K
  kernel-N  `assignkit grade --executor kernel --jobs N` (without --executor where grade has no such option)
  nbgrader  `nbgrader autograde --force` in a scratch nbgrader course (one submission at a time, its own
            gradebook; cell timeout 120 s as assignkit's)
A configuration named more than once runs again at that place in the order, and its figures are the mean of its
runs: the default runs each configuration a bar compares once before and once after the middle of the run, so that a
machine whose speed drifts steadily during the run (seen here: 2x within 90 minutes, 17 % within 10) moves both sides
of every ratio alike.
Overhead per submission = fork-1 (else the first assignkit config at one job) per submission - compute; and for
fork-N also against the students' compute inside its own children (issue 9's "sum of cell times inside the child"),
read from the cell times the executed notebooks carry: the same run on both sides, so the machine's drift cancels.
Cores busy: the share of all the machine's cores that were not idle during the run (/proc/stat; every process on
the machine counts, so run it on a quiet machine); at --jobs 2 on 2 cores, what a perfect grader would bring to 100 %.
Peak memory (--memory, by default fork-2's): the largest sum, over the command's process tree (workers, kernels,
forked children), of the proportional set size (PSS, /proc/<pid>/smaps_rollup), sampled every 0.2 s in a second run
of that configuration, untimed: one sample of a grading tree costs ≈ 60 ms of kernel CPU (measured at fork-2 on
hw1, 15 processes), which would slow the timed run it samples by about a third of a core.

    .venv/bin/python benchmarks/grade_vs_nbgrader.py [--k 32] [--homeworks tiny,hw1_loss_comparison,hw2_dnn]
                                                     [--configs plain,compute,fork-1,fork-2,nbgrader,fork-2,kernel-2,fork-1,compute,plain]
                                                     [--memory fork-2]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
BIN = Path(sys.executable).parent  # the venv's bin: assignkit, nbgrader, and the alembic nbgrader calls via PATH
CELL_TIMEOUT = 120  # assignkit's default per-cell timeout; given to nbgrader too (its own default is 30 s)
HOMEWORKS = ("tiny", "hw1_loss_comparison", "hw2_dnn")
# Each configuration a bar compares runs once in the first half and once, in reverse order, in the second; fork-2 right
# before and right after nbgrader. A steady drift of the machine's speed then moves both sides of every ratio alike.
CONFIGS = ("plain", "compute", "fork-1", "fork-2", "nbgrader", "fork-2", "kernel-2", "fork-1", "compute", "plain")
# Every kernel gets ASSIGNKIT_GRADING=1, as assignkit sets it (the homeworks then skip their pictures), so every
# configuration runs the same student code; plain and compute kernels also get the grader's one torch thread.
GRADING = {"ASSIGNKIT_GRADING": "1"}
AS_GRADED = {**os.environ, **GRADING, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WARM_UP = """import matplotlib, numpy, pandas, torch
import matplotlib.pyplot
torch.set_num_threads(1)
_net = torch.nn.Linear(1, 1)
_opt = torch.optim.Adam(_net.parameters())
_net(torch.ones(1, 1)).sum().backward()
_opt.step()
del _net, _opt"""


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ---------------------------------------------------------------- the class


def course_for(homework: str, scratch: Path) -> Path:
    """The course folder: the repository, or for `tiny` a copy of tests/course released into scratch."""
    if homework != "tiny":
        return ROOT
    from assignkit.layout import Course
    from assignkit.release import release

    root = scratch / "tiny-course"
    shutil.copytree(TESTS / "course", root, ignore=shutil.ignore_patterns("release", ".nbgrader", "__pycache__"))
    release(Course(root), "tiny")
    return root


def pools(course: Path, homework: str) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(samples, wrong answers) of a homework as (name, notebook bytes)."""
    from assignkit.layout import Course

    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))  # tests' own modules import each other by name (conftest, mutation)
    blank = ("blank_release", Course(course).release_notebook(homework).read_bytes())
    if homework == "tiny":
        from conftest import tiny_notebook
        from test_grade import WRONG_WEIGHTS
        from test_grade_hostile import CORRECT_Q2

        tiny = Course(course)
        wrong = {"wrong_weights": WRONG_WEIGHTS,
                 "partly_right": {"q2_net_answer": CORRECT_Q2.replace("fill_(2.0)", "fill_(3.0)")},
                 "q1_times_3": {"q1_tensor_answer": "t = x * 3"},
                 "q3_adds": {"q3_double_answer": "def double(v):\n    return v + v + 1"}}
        return [blank], [(name, tiny_notebook(tiny, answers).encode()) for name, answers in wrong.items()]
    samples = [(p.stem, p.read_bytes()) for p in sorted((ROOT / "examples" / "submissions" / homework).glob("*.ipynb"))]
    from mutation import make_mutant, mutants_of

    source = Course(course).source_notebook(homework)
    wrong = [(m.name, nbformat.writes(make_mutant(source, m)).encode()) for m in mutants_of(ROOT, homework)]
    return samples + [blank], wrong


def make_class(course: Path, homework: str, k: int, submitted: Path) -> list[tuple[str, Path]]:
    """K notebooks in nbgrader's layout submitted/<student>/<hw>/<hw>.ipynb; (kind, path) of each, the kind
    being solution, sample or wrong."""
    from assignkit.layout import Course

    samples, wrong = pools(course, homework)
    made = []
    for i in range(k):
        kind = ("solution", "sample", "wrong")[i % 3]
        content = {"solution": Course(course).source_notebook(homework).read_bytes(),
                   "sample": samples[(i // 3) % len(samples)][1], "wrong": wrong[(i // 3) % len(wrong)][1]}[kind]
        path = submitted / f"student{i + 1:02d}" / homework / f"{homework}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        made.append((kind, path))
    return made


# ---------------------------------------------------------------- the ways of running it


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time so far, all cores, in seconds (the first line of /proc/stat)."""
    busy: float
    idle: float  # idle and waiting for input/output
    steal: float  # a virtual machine's time that its host gave to others

    @classmethod
    def now(cls) -> "CpuTimes | None":
        try:
            ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None  # not Linux
        user, nice, system, idle, iowait, irq, softirq, steal = ticks + [0] * (8 - len(ticks))
        hz = os.sysconf("SC_CLK_TCK")
        return cls((user + nice + system + irq + softirq) / hz, (idle + iowait) / hz, steal / hz)

    def share_busy_since(self, earlier: "CpuTimes") -> float | None:
        busy, idle, steal = self.busy - earlier.busy, self.idle - earlier.idle, self.steal - earlier.steal
        return busy / (busy + idle + steal) if busy + idle + steal else None


@dataclass
class Row:
    config: str
    seconds: float  # wall seconds for the whole batch
    load_before: str
    load_after: str
    note: str = ""
    peak_mb: float | None = None
    statuses: Counter = field(default_factory=Counter)
    cores_busy: float | None = None  # share of the machine's cores busy during the run
    # fork-N: the students' cells, summed over the executed notebooks. Not for kernel-N: a fork child starts warm, as
    # the compute row's kernels do, while a fresh kernel's first cells also pay the imports
    cells_seconds: float | None = None


def _execute(path: Path, data_folder: Path, warm_up: bool) -> tuple[float, float, str]:
    """(wall seconds, seconds the notebook's cells ran inside the kernel, outcome) of one notebook in a fresh
    kernel; the kernel is stopped at once, as assignkit does (nbclient's default graceful shutdown adds ~0.7 s)."""
    try:
        nb = nbformat.reads(path.read_text(), as_version=4)
    except Exception:  # the broken sample: no notebook to run, as in assignkit (not_gradable)
        return 0.0, 0.0, "not a notebook"
    if warm_up:
        nb.cells.insert(0, nbformat.v4.new_code_cell(WARM_UP))
    outcome = "ran"
    with tempfile.TemporaryDirectory(prefix="plain-") as workdir:
        for data in data_folder.iterdir():
            if data.is_file() and data.suffix != ".ipynb":
                shutil.copy(data, workdir)
        client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT, allow_errors=True,
                                shutdown_kernel="immediate", record_timing=True,
                                resources={"metadata": {"path": workdir}})
        started = time.monotonic()
        try:
            client.execute(env=AS_GRADED, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (CellTimeoutError, DeadKernelError) as error:
            outcome = type(error).__name__
        wall = time.monotonic() - started
    cells = [c for c in nb.cells[1 if warm_up else 0:] if c.cell_type == "code"]
    return wall, sum(_cell_seconds(c) for c in cells), outcome


def _cell_seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not began or not ended:
        return 0.0  # did not run, or never ended (a dead kernel, a timeout)
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(ended) - parse(began)).total_seconds()


def run_plain(notebooks: list[Path], data_folder: Path, warm_up: bool) -> tuple[Row, float]:
    """The plain (or, with warm_up, the compute) row, and the total seconds of the cells inside the kernels."""
    before, cpu, outcomes, wall, inside = load(), CpuTimes.now(), Counter(), 0.0, 0.0
    for path in notebooks:
        seconds, cells, outcome = _execute(path, data_folder, warm_up)
        wall, inside = wall + seconds, inside + cells
        outcomes[outcome] += 1
    note = f"(wall time, warm-up included; the cells ran {inside / len(notebooks):.2f} s/submission)" if warm_up else ""
    row = Row("compute" if warm_up else "plain", wall, before, load(), note, statuses=outcomes,
              cores_busy=_now_share_busy(cpu))
    return row, inside


def _now_share_busy(since: CpuTimes | None) -> float | None:
    now = CpuTimes.now()
    return now.share_busy_since(since) if now and since else None


class PeakMemory:
    """The largest PSS sum over a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in _tree(self.pid)))


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_assignkit(config: str, course: Path, homework: str, submitted: Path, out: Path, has_executor: bool,
                  sample_memory: bool = False) -> Row:
    """One timed run; with `sample_memory`, its peak memory instead (the sampling slows it: its time is not a
    figure)."""
    executor, jobs = config.split("-")
    command = [str(BIN / "assignkit"), "grade", homework, str(submitted), "--out", str(out), "--course", str(course),
               "--jobs", jobs]
    if has_executor:
        command += ["--executor", executor]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    before, cpu, started = load(), CpuTimes.now(), time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) if sample_memory else contextlib.nullcontext() as memory:
        stdout, stderr = process.communicate()
    seconds, cores_busy = time.monotonic() - started, _now_share_busy(cpu)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stdout}\n{stderr}")
    with open(out / "grades.csv", newline="") as grades:
        statuses = Counter(row["status"] for row in csv.DictReader(grades))
    note = stdout.strip().splitlines()[0] if stdout.strip() else ""
    return Row(config, seconds, before, load(), note, memory.peak_kb / 1024 if memory else None, statuses, cores_busy,
               _executed_cells_seconds(out / "executed") if executor == "fork" else None)


def _executed_cells_seconds(folder: Path) -> float:
    """The time the students' cells ran inside the grader's children, from the executed notebooks' cell timing
    (metadata.execution, written by the fork executor as nbclient's record_timing writes a kernel's)."""
    return sum(_cell_seconds(cell) for path in folder.glob("*.ipynb")
               for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


def make_nbgrader_course(course: Path, homework: str, made: list[tuple[str, Path]], scratch: Path) -> None:
    """A scratch nbgrader course: source/<hw> copied, released by nbgrader, and the class in submitted/."""
    shutil.copytree(course / "source" / homework, scratch / "source" / homework)  # symlinked data copied as files
    config = (course / "nbgrader_config.py").read_text() if (course / "nbgrader_config.py").is_file() else \
        "c = get_config()  # noqa: F821\n"
    config += f"\nc.CourseDirectory.root = {str(scratch)!r}\nc.CourseDirectory.db_url = " \
              f"{'sqlite:///' + str(scratch / 'gradebook.db')!r}\nc.Execute.timeout = {CELL_TIMEOUT}\n"
    (scratch / "nbgrader_config.py").write_text(config)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", homework, "--force"], cwd=scratch, env=env,
                   check=True, capture_output=True)
    shutil.copytree(made[0][1].parents[2], scratch / "submitted")


def run_nbgrader(scratch: Path, homework: str) -> Row:
    env = {**os.environ, **GRADING, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    before, cpu, started = load(), CpuTimes.now(), time.monotonic()
    # nbgrader exits non-zero when a submission fails (the broken sample); the others are autograded all the same
    subprocess.run([str(BIN / "nbgrader"), "autograde", homework, "--force"], cwd=scratch, env=env,
                   capture_output=True, text=True)
    seconds, cores_busy = time.monotonic() - started, _now_share_busy(cpu)
    graded = list((scratch / "autograded").glob(f"*/{homework}/{homework}.ipynb"))
    submitted = list((scratch / "submitted").glob(f"*/{homework}/{homework}.ipynb"))
    timeouts = sum("CellTimeoutError" in path.read_text() for path in graded)
    note = f"{len(graded)} of {len(submitted)} autograded" \
        + (" (nbgrader gives up on a broken notebook and on a dead kernel)" if len(graded) < len(submitted) else "") \
        + (f", {timeouts} hit the cell timeout" if timeouts else "")
    return Row("nbgrader", seconds, before, load(), note, statuses=Counter(autograded=len(graded)),
               cores_busy=cores_busy)


# ---------------------------------------------------------------- one homework


def bench(homework: str, k: int, configs: list[str], memory: list[str], has_executor: bool, scratch: Path) -> None:
    course = course_for(homework, scratch)
    made = make_class(course, homework, k, scratch / "class" / "submitted")
    notebooks = [path for _, path in made]
    data_folder = course / "release" / homework
    kinds = Counter(kind for kind, _ in made)
    print(f"\n## {homework}: K = {k} ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}), "
          f"{os.cpu_count()} cores", flush=True)
    _execute(notebooks[0], data_folder, False)  # warm-up: disk caches, the first kernel start
    runs: dict[str, list[Row]] = {}
    compute_inside: list[float] = []
    for config in configs:
        if config in ("plain", "compute"):
            row, inside = run_plain(notebooks, data_folder, warm_up=config == "compute")
            if config == "compute":
                compute_inside.append(inside)
        elif config == "nbgrader":
            if not (scratch / "nbgrader").exists():
                make_nbgrader_course(course, homework, made, scratch / "nbgrader")
            row = run_nbgrader(scratch / "nbgrader", homework)
        elif config.startswith("fork") and not has_executor:
            print(f"  {config}: skipped: `assignkit grade` has no --executor here (the fork executor is not "
                  "merged); the kernel rows use the only executor there is", flush=True)
            continue
        else:
            row = run_assignkit(config, course, homework, scratch / "class" / "submitted",
                                scratch / f"out-{config}-{len(runs.get(config, []))}", has_executor)
        runs.setdefault(config, []).append(row)
        busy = f"   cores busy {row.cores_busy:.1%}" if row.cores_busy is not None else ""
        print(f"  {config:9} {row.seconds / k:7.2f} s/submission   load {row.load_before} -> {row.load_after}{busy}   "
              f"{dict(row.statuses)}{'   ' + row.note if row.note else ''}", flush=True)
    peaks = {}
    for config in (c for c in memory if c in runs and c not in ("plain", "compute", "nbgrader")):
        sampled = run_assignkit(config, course, homework, scratch / "class" / "submitted",
                                scratch / f"out-{config}-memory", has_executor, sample_memory=True)
        peaks[config] = sampled.peak_mb
        print(f"  {config:9} peak {sampled.peak_mb:.0f} MB (a second run, sampled; load {sampled.load_before} -> "
              f"{sampled.load_after})", flush=True)
    report(k, runs, peaks, sum(compute_inside) / len(compute_inside) if compute_inside else None)


def report(k: int, runs: dict[str, list[Row]], peaks: dict[str, float], compute_inside: float | None) -> None:
    """The table: each configuration's mean over its runs."""
    per = {name: sum(row.seconds for row in rows) / len(rows) / k for name, rows in runs.items()}
    print(f"\n  {'seconds per submission':24}{'s':>8}{'/ nbgrader':>12}{'/ plain':>10}{'peak MB':>10}{'cores busy':>12}"
          "   runs (s/submission), load after each (1, 5, 15 min)")
    for name, rows in runs.items():
        ratio = lambda base: f"{per[name] / per[base]:.2f}" if base in per and per[base] else "n/a"  # noqa: E731
        peak = f"{peaks[name]:.0f}" if name in peaks else ""
        shares = [row.cores_busy for row in rows if row.cores_busy is not None]
        busy = f"{sum(shares) / len(shares):.1%}" if shares else "n/a"
        each = "; ".join(f"{row.seconds / k:.2f} ({row.load_after})" for row in rows)
        print(f"  {name:24}{per[name]:8.2f}{ratio('nbgrader'):>12}{ratio('plain'):>10}{peak:>10}{busy:>12}   {each}")
    inside = {name: sum(r.cells_seconds for r in rows) / len(rows) / k for name, rows in runs.items()
              if all(r.cells_seconds is not None for r in rows)}
    if inside:
        print("  students' compute inside the fork children (their executed notebooks' cell times): "
              + ", ".join(f"{name} {seconds:.2f}" for name, seconds in inside.items()) + " s/submission")
    compute = compute_inside / k if compute_inside is not None else None
    if compute is not None:
        print(f"  students' own compute (cells inside a warmed kernel) {compute:.2f} s/submission")
    single = next((name for name in ("fork-1", "kernel-1") if name in per), None)
    if single:
        against = [f"compute = {per[single] - compute:.2f}"] if compute is not None else []
        if single in inside:
            against.append(f"its own children's cells (the same run) = {per[single] - inside[single]:.2f}")
        if against:
            print(f"  grader's overhead = {single} - " + f"; {single} - ".join(against) + " s/submission")
    for name in (n for n in per if n.endswith("-2")):
        print(f"  {name}: {per[name]:.2f} s/submission"
              + (f" against 0.55 x compute + 0.3 s = {0.55 * compute + 0.3:.2f}" if compute is not None else "")
              + (f", against 0.55 x its own children's cells + 0.3 s = {0.55 * inside[name] + 0.3:.2f}"
                 if name in inside else "")
              + (f"; throughput {per['nbgrader'] / per[name]:.2f}x nbgrader's" if "nbgrader" in per else ""))
    if "fork-1" in per and "plain" in per:
        print(f"  fork-1 / plain = {per['fork-1'] / per['plain']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=32, help="submissions per homework (default 32)")
    parser.add_argument("--homeworks", default=",".join(HOMEWORKS), help=f"comma-separated (default {','.join(HOMEWORKS)})")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, any of plain, compute, nbgrader, fork-N, kernel-N (default {','.join(CONFIGS)})")
    parser.add_argument("--memory", default="fork-2",
                        help="comma-separated configs whose peak memory a second, untimed run measures (default "
                             "fork-2; empty for none)")
    args = parser.parse_args()
    homeworks, configs = args.homeworks.split(","), args.configs.split(",")
    memory = [c for c in args.memory.split(",") if c]
    unknown = [c for c in configs if c not in ("plain", "compute", "nbgrader") and
               not (c.partition("-")[0] in ("fork", "kernel") and c.partition("-")[2].isdigit())]
    if unknown or not set(homeworks) <= set(HOMEWORKS):
        sys.exit(f"unknown configs {unknown} or homeworks {sorted(set(homeworks) - set(HOMEWORKS))}")
    help_text = subprocess.run([str(BIN / "assignkit"), "grade", "--help"], capture_output=True, text=True).stdout
    has_executor = "--executor" in help_text
    print(f"load average before the run: {load()}; {os.cpu_count()} cores; assignkit grade "
          + ("has --executor" if has_executor else "has no --executor: fork rows are skipped, kernel rows run "
             "without the option"), flush=True)
    with tempfile.TemporaryDirectory(prefix="assignkit-bench-") as tmp:
        for homework in homeworks:
            scratch = Path(tmp) / homework
            scratch.mkdir()
            bench(homework, args.k, configs, memory, has_executor, scratch)
    print(f"\nload average after the run: {load()}")


if __name__ == "__main__":
    main()
