"""`assignkit slurm` on a real one-node Slurm cluster (tests/slurm_cluster.py): a job array of shards, then the
merge job; skipped with the reason where Slurm cannot start."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assignkit.cli import main
from assignkit.layout import Course
from assignkit.slurm import SlurmPlan, submit, wait
from slurm_cluster import Unavailable, running_cluster

ROOT = Path(__file__).resolve().parents[1]
ASSIGNKIT = Path(sys.executable).parent / "assignkit"


@pytest.fixture(scope="module")
def cluster():
    try:
        with running_cluster() as started:
            yield started
    except Unavailable as reason:
        pytest.skip(str(reason))


def _rows_without_seconds(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_dry_run_prints_both_scripts_and_submits_nothing(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["slurm", "hw2_dnn", str(ROOT / "examples/submissions/hw2_dnn"), "--out",
                                       str(out), "--tasks", "3", "--cpus-per-task", "2", "--partition", "gpu-free",
                                       "--time", "30", "--mem", "4000", "--dry-run", "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "#SBATCH --array=1-3" in text and "#SBATCH --cpus-per-task=2" in text
    assert "#SBATCH --partition=gpu-free" in text and "#SBATCH --time=30" in text and "#SBATCH --mem=4000" in text
    assert f'{ASSIGNKIT} grade hw2_dnn {ROOT / "examples/submissions/hw2_dnn"} --out {out.resolve()}' in text
    assert '--jobs 2' in text and '--shard "${SLURM_ARRAY_TASK_ID}/3"' in text
    assert f"{ASSIGNKIT} merge {out.resolve()}" in text
    assert "--dependency=afterok" in text
    assert not out.exists()


def test_a_failed_task_leaves_the_merge_unrun_and_is_named(cluster, tmp_path):
    fake = tmp_path / "assignkit"  # fails as shard 2, succeeds otherwise; the merge would write a marker
    fake.write_text('#!/bin/bash\ncase "$*" in *"--shard 2/2"*) echo "shard 2 broke" >&2; exit 3;; '
                    f'*merge*) touch {tmp_path}/merged;; esac\n')
    fake.chmod(0o755)
    out = tmp_path / "out"
    plan = SlurmPlan("tiny", (tmp_path,), out, tmp_path, fake, tasks=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLURM_CONF", str(cluster.config))
        submitted = submit(plan)
        finished = wait(plan, submitted, poll_seconds=0.5)
    assert finished.state == "DEPENDENCY_FAILED" and not finished.ok
    assert finished.failed_tasks == (f"task 2: FAILED, exit code 3, log {out}/slurm/grade-{submitted.grade_job}_2.log",)
    assert "shard 2 broke" in (out / "slurm" / f"grade-{submitted.grade_job}_2.log").read_text()
    assert not (tmp_path / "merged").exists()


@pytest.mark.slow
def test_two_tasks_on_slurm_give_the_unsharded_grades(cluster, tmp_path):
    course = Course(ROOT)
    timings = []
    for homework in course.homeworks():
        examples = course.examples_folder(homework)
        whole, sharded = tmp_path / homework / "whole", tmp_path / homework / "slurm"
        started = time.monotonic()
        subprocess.run([ASSIGNKIT, "grade", homework, examples, "--out", whole, "--jobs", "2",
                        "--course", ROOT], check=True, capture_output=True)
        unsharded = time.monotonic() - started
        started = time.monotonic()
        done = subprocess.run([ASSIGNKIT, "slurm", homework, examples, "--out", sharded, "--tasks", "2", "--wait",
                               "--course", ROOT], capture_output=True, text=True, env=cluster.env)
        on_slurm = time.monotonic() - started
        assert done.returncode == 0, done.stdout + done.stderr
        assert "merge job" in done.stdout and "COMPLETED, exit code 0" in done.stdout
        assert _rows_without_seconds(sharded / "grades.csv") == _rows_without_seconds(whole / "grades.csv")
        assert len(list((sharded / "shards").glob("*of2.json"))) == 2
        timings.append(f"{homework}: unsharded --jobs 2 {unsharded:.1f} s, slurm --tasks 2 {on_slurm:.1f} s")
    print("\n".join(timings), f"(load {os.getloadavg()[0]:.2f})")
