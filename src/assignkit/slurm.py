"""Grading a class on a Slurm cluster: a job array of shards, then one merge job that runs only when every shard
succeeded (`--dependency=afterok`).

Task K of N runs `assignkit grade ... --shard K/N` with the same assignkit (the absolute path of this venv's),
into the same --out folder, which must be on a file system every node shares. The scripts are written to
`OUT/slurm/`, the logs too.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assignkit.fileio import atomic_write_text

Run = Callable[..., subprocess.CompletedProcess]
FINISHED_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
                   "BOOT_FAIL", "DEADLINE"}


class SlurmError(RuntimeError):
    """Slurm refused or failed something; the message says what and which task."""


@dataclass(frozen=True)
class SlurmPlan:
    homework: str
    submissions: tuple[Path, ...]  # absolute
    out_dir: Path  # absolute, on a file system every node sees
    course_root: Path
    assignkit: Path  # the assignkit command every task runs
    tasks: int
    cpus_per_task: int = 1
    partition: str | None = None
    time_limit: str | None = None  # as sbatch --time takes it: "30", "1:00:00"
    mem_mb: int | None = None
    grade_options: tuple[str, ...] = ()  # --timeout, --notebook-timeout, --memory, --force, passed on

    @property
    def folder(self) -> Path:
        return self.out_dir / "slurm"

    def _header(self, name: str, log: str, cpus: int) -> list[str]:
        lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", f"#SBATCH --output={self.folder / log}",
                 f"#SBATCH --cpus-per-task={cpus}", "#SBATCH --nodes=1", "#SBATCH --ntasks=1"]
        if self.partition:
            lines.append(f"#SBATCH --partition={self.partition}")
        if self.time_limit:
            lines.append(f"#SBATCH --time={self.time_limit}")
        if self.mem_mb:
            lines.append(f"#SBATCH --mem={self.mem_mb}")
        return lines

    def grade_script(self) -> str:
        command = [str(self.assignkit), "grade", self.homework, *map(str, self.submissions),
                   "--out", str(self.out_dir), "--course", str(self.course_root), "--jobs", str(self.cpus_per_task),
                   *self.grade_options]
        lines = self._header(f"assignkit-grade-{self.homework}", "grade-%A_%a.log", self.cpus_per_task)
        lines += [f"#SBATCH --array=1-{self.tasks}", "set -euo pipefail",
                  f'exec {shlex.join(command)} --shard "${{SLURM_ARRAY_TASK_ID}}/{self.tasks}"']
        return "\n".join(lines) + "\n"

    def merge_script(self) -> str:
        command = [str(self.assignkit), "merge", str(self.out_dir)]
        lines = self._header(f"assignkit-merge-{self.homework}", "merge-%j.log", 1)
        lines += ["set -euo pipefail", f"exec {shlex.join(command)}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Submitted:
    grade_job: str  # the array's job id
    merge_job: str


@dataclass(frozen=True)
class Finished:
    state: str  # the merge job's final state; DEPENDENCY_FAILED when a task failed and the merge never ran
    exit_code: int
    failed_tasks: tuple[str, ...] = ()  # "task 2: FAILED, exit code 1, log …"

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED" and self.exit_code == 0


def submit(plan: SlurmPlan, run: Run = subprocess.run) -> Submitted:
    grade_path, merge_path = plan.folder / "grade.sbatch", plan.folder / "merge.sbatch"
    atomic_write_text(grade_path, plan.grade_script())
    atomic_write_text(merge_path, plan.merge_script())
    grade_job = _sbatch(run, [str(grade_path)])
    merge_job = _sbatch(run, [f"--dependency=afterok:{grade_job}", str(merge_path)])
    return Submitted(grade_job, merge_job)


def _sbatch(run: Run, arguments: list[str]) -> str:
    done = run(["sbatch", "--parsable", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SlurmError(f"sbatch {' '.join(arguments)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().split(";")[0]


def wait(plan: SlurmPlan, submitted: Submitted, run: Run = subprocess.run, poll_seconds: float = 2.0,
         sleep: Callable[[float], None] = time.sleep) -> Finished:
    """Block until the merge job has finished, or will never run because a task failed (then it is cancelled)."""
    while True:
        job = _job_records(run, submitted.merge_job)[0]
        state, reason = job.get("JobState", ""), job.get("Reason", "")
        if state in FINISHED_STATES:
            return Finished(state, _exit_code(job))
        if state == "PENDING" and reason == "DependencyNeverSatisfied":
            run(["scancel", submitted.merge_job], capture_output=True, text=True)
            return Finished("DEPENDENCY_FAILED", 1, failed_tasks(plan, submitted, run))
        sleep(poll_seconds)


def failed_tasks(plan: SlurmPlan, submitted: Submitted, run: Run = subprocess.run) -> tuple[str, ...]:
    failed = []
    for task in _job_records(run, submitted.grade_job):
        state = task.get("JobState", "")
        if state in FINISHED_STATES and (state != "COMPLETED" or _exit_code(task) != 0):
            index = task.get("ArrayTaskId", "?")
            log = plan.folder / f"grade-{submitted.grade_job}_{index}.log"
            failed.append(f"task {index}: {state}, exit code {_exit_code(task)}, log {log}")
    return tuple(sorted(failed))


def _job_records(run: Run, job_id: str) -> list[dict[str, str]]:
    """`scontrol show job -o`: one line per job (per task of an array), `Key=Value` separated by spaces.
    sacct needs slurmdbd, which a small cluster may not run; scontrol keeps finished jobs for MinJobAge (300 s)."""
    done = run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise SlurmError(f"scontrol show job {job_id} failed: {done.stderr.strip() or done.stdout.strip()}")
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in done.stdout.splitlines() if line.strip()]


def _exit_code(job: dict[str, str]) -> int:
    """The job's exit status: `ExitCode=status:signal`; killed by a signal counts as 128 + signal."""
    status, _, signal = job.get("ExitCode", "0:0").partition(":")
    status_code, signal_number = int(status or 0), int(signal or 0)
    return status_code if status_code or not signal_number else 128 + signal_number
