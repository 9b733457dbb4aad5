"""Run the Gradescope autograder (`run_autograder`) locally on the sample submissions, under Gradescope's default
CPU share (0.5 CPU, through a cgroup v1 cpu quota when this machine allows one), and print per sample: wall
seconds, the peak memory of the whole process tree (grader + kernel: PSS and RSS summed; sampled every 0.1 s), the
peak address space of the biggest process, the score, and whether it fits Gradescope's defaults (768 MB, 10 min).

    .venv/bin/python benchmarks/gradescope_limits.py [HW...] [--memory MB] [--cpu 0.5] [--container-memory 768]

--container-memory MB enforces a container's memory limit as Gradescope's Docker does: the run goes into a
cgroup v1 memory group of that size, in a private mount namespace where that group is bind-mounted over
/sys/fs/cgroup/memory, so the sandbox's own memory group (jail.py) is created inside it and counts against it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
ASSIGNKIT = Path(sys.executable).parent / "assignkit"
GRADESCOPE_MB, GRADESCOPE_SECONDS = 768, 600


def cpu_quota_group(share: float) -> Path | None:
    group = Path(f"/sys/fs/cgroup/cpu/assignkit-bench-{os.getpid()}")
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text(str(int(share * 100000)))
        return group
    except OSError:
        return None


def memory_group(megabytes: int) -> Path | None:
    group = Path(f"/sys/fs/cgroup/memory/assignkit-bench-{os.getpid()}")
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(megabytes * 2**20))
        return group
    except OSError:
        return None


def remove_group(group: Path) -> None:
    for child in sorted(group.rglob("*"), reverse=True):  # nested groups the sandbox made, deepest first
        if child.is_dir():
            child.rmdir()
    group.rmdir()


def _container_figures(memory: Path) -> str:
    """Peak usage of the group (page cache included) and how many processes its OOM killer killed."""
    peak = int((memory / "memory.max_usage_in_bytes").read_text()) / 2**20
    control = dict(line.split() for line in (memory / "memory.oom_control").read_text().splitlines())
    return f"  container peak {peak:.0f} MB (page cache included), OOM kills {control.get('oom_kill', '?')}"


def tree_memory(process: psutil.Process) -> tuple[int, int, int]:
    """(sum of PSS, sum of RSS, largest VMS) over the process and its descendants, in bytes. PSS splits a shared
    page (libtorch, mapped by the grader, its worker and the kernel) among the processes that map it, so its sum is
    what the tree holds; the RSS sum counts such pages once per process."""
    pss, rss, vms = 0, 0, 0
    for p in [process, *process.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        pss += info.pss
        rss += info.rss
        vms = max(vms, info.vms)
    return pss, rss, vms


def kill_group(group: Path) -> None:
    """Kill every process left in `group` and the groups inside it (a run stopped at its time limit)."""
    for procs in group.rglob("cgroup.procs"):
        for pid in procs.read_text().split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass


def run_one(zip_path: Path, sample: Path, homework: str, group: Path | None, memory: Path | None,
            timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        root = Path(scratch)
        (root / "source").mkdir()
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        os.chmod(root / "run_autograder", 0o755)
        (root / "submission").mkdir()
        shutil.copy(sample, root / "submission" / f"{homework}.ipynb")
        env = dict(os.environ, AUTOGRADER_ROOT=str(root), ASSIGNKIT=str(ASSIGNKIT))
        def join_groups() -> None:
            for g in (group, memory):
                if g:
                    (g / "cgroup.procs").write_text(str(os.getpid()))

        command = [str(root / "run_autograder")]
        if memory:
            command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                       f'mount --bind "{memory}" /sys/fs/cgroup/memory && exec "$0"', *command]
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 preexec_fn=join_groups)
        watched = psutil.Process(child.pid)
        peak_pss = peak_rss = peak_vms = 0
        finished = True
        while child.poll() is None:
            if time.monotonic() - started > timeout:
                finished = False
                for g in (group, memory):
                    if g:
                        kill_group(g)
                child.kill()
                child.wait()
                break
            pss, rss, vms = tree_memory(watched)
            peak_pss, peak_rss, peak_vms = max(peak_pss, pss), max(peak_rss, rss), max(peak_vms, vms)
            time.sleep(0.1)
        seconds = time.monotonic() - started
        results = root / "results" / "results.json"

        score = json.loads(results.read_text())["score"] if results.is_file() else None
        container = _container_figures(memory) if memory else ""
        rows = sorted((root / "work" / "out" / "results").glob("*.json"))
        status = (lambda r: f"{r['status']} {r['reason'][:120]}".strip())(json.loads(rows[0].read_text())) \
            if rows else "no result"
        if not finished:
            status = f"STOPPED after {timeout:.0f} s: did not finish"
        return {"container": container, "status": status, "sample": sample.stem, "seconds": seconds, "pss_mb": peak_pss / 2**20, "rss_mb": peak_rss / 2**20, "vms_mb": peak_vms / 2**20,
                "score": score, "rc": child.returncode, "log": child.stdout.read().decode(errors="replace")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("homeworks", nargs="*", default=["hw1_loss_comparison", "hw2_dnn"])
    parser.add_argument("--memory", type=int, default=2048, help="kernel address-space limit passed to grading, MB")
    parser.add_argument("--cpu", type=float, default=0.5, help="CPU share (cgroup cpu quota)")
    parser.add_argument("--samples", nargs="*", default=None, help="sample names (default: all)")
    parser.add_argument("--container-memory", type=int, default=None, help="enforce a container memory limit, MB")
    parser.add_argument("--sample-timeout", type=float, default=660.0,
                        help="stop a sample after this many seconds (Gradescope stops at 600 by default)")
    args = parser.parse_args()
    group = cpu_quota_group(args.cpu)
    print(f"load average {open('/proc/loadavg').read().split()[:3]}; cpu quota "
          f"{args.cpu if group else 'not available (unlimited)'}; kernel address-space limit {args.memory} MB; "
          f"container memory limit {args.container_memory or 'none'} MB")
    try:
        for homework in args.homeworks:
            with tempfile.TemporaryDirectory() as scratch:
                zip_path = Path(scratch) / "autograder.zip"
                subprocess.run([str(ASSIGNKIT), "gradescope", homework, "--out", str(zip_path), "--memory",
                                str(args.memory), "--course", str(ROOT)], check=True, capture_output=True)
                samples = sorted((ROOT / "examples" / "submissions" / homework).glob("*.ipynb"))
                for sample in samples:
                    if args.samples and sample.stem not in args.samples:
                        continue
                    memory = memory_group(args.container_memory) if args.container_memory else None
                    if args.container_memory and memory is None:
                        sys.exit("cannot make a cgroup v1 memory group here; run as root on a cgroup v1 machine")
                    try:
                        r = run_one(zip_path, sample, homework, group, memory, args.sample_timeout)
                    finally:
                        if memory:
                            kill_group(memory)
                            time.sleep(1)
                            remove_group(memory)
                    fits = r["pss_mb"] <= GRADESCOPE_MB and r["seconds"] <= GRADESCOPE_SECONDS
                    print(f"{homework:<20} {r['sample']:<11} {r['seconds']:6.1f} s  peak PSS (tree) "
                          f"{r['pss_mb']:5.0f} MB  peak RSS sum {r['rss_mb']:5.0f} MB  peak VMS (one process) "
                          f"{r['vms_mb']:5.0f} MB  score {r['score']}  "
                          f"rc {r['rc']}  {'fits' if fits else 'DOES NOT FIT'} 768 MB / 10 min"
                          + r["container"] + f"  [{r['status']}]", flush=True)
                    if r["rc"] != 0:
                        print(r["log"][-2000:])
    finally:
        if group:
            kill_group(group)
            time.sleep(1)
            group.rmdir()


if __name__ == "__main__":
    main()
