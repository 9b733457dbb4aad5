"""Run the Gradescope autograder (`run_autograder`) locally on the sample submissions, under Gradescope's default
CPU share (0.5 CPU, through a cgroup v1 cpu quota when this machine allows one), and print per sample: wall
seconds, the peak memory of the whole process tree (grader + kernel: PSS and RSS summed; sampled every 0.1 s), the
peak address space of the biggest process, the score, and whether it fits Gradescope's defaults (768 MB, 10 min).

    .venv/bin/python benchmarks/gradescope_limits.py [HW...] [--memory MB] [--cpu 0.5]
"""

from __future__ import annotations

import argparse
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


def run_one(zip_path: Path, sample: Path, homework: str, group: Path | None) -> dict:
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
        preexec = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
        started = time.monotonic()
        child = subprocess.Popen([str(root / "run_autograder")], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, preexec_fn=preexec)
        watched = psutil.Process(child.pid)
        peak_pss = peak_rss = peak_vms = 0
        while child.poll() is None:
            pss, rss, vms = tree_memory(watched)
            peak_pss, peak_rss, peak_vms = max(peak_pss, pss), max(peak_rss, rss), max(peak_vms, vms)
            time.sleep(0.1)
        seconds = time.monotonic() - started
        results = root / "results" / "results.json"
        import json

        score = json.loads(results.read_text())["score"] if results.is_file() else None
        return {"sample": sample.stem, "seconds": seconds, "pss_mb": peak_pss / 2**20, "rss_mb": peak_rss / 2**20, "vms_mb": peak_vms / 2**20,
                "score": score, "rc": child.returncode, "log": child.stdout.read().decode(errors="replace")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("homeworks", nargs="*", default=["hw1_loss_comparison", "hw2_dnn"])
    parser.add_argument("--memory", type=int, default=2048, help="kernel address-space limit passed to grading, MB")
    parser.add_argument("--cpu", type=float, default=0.5, help="CPU share (cgroup cpu quota)")
    parser.add_argument("--samples", nargs="*", default=None, help="sample names (default: all)")
    args = parser.parse_args()
    group = cpu_quota_group(args.cpu)
    print(f"load average {open('/proc/loadavg').read().split()[:3]}; cpu quota "
          f"{args.cpu if group else 'not available (unlimited)'}; kernel address-space limit {args.memory} MB")
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
                    r = run_one(zip_path, sample, homework, group)
                    fits = r["pss_mb"] <= GRADESCOPE_MB and r["seconds"] <= GRADESCOPE_SECONDS
                    print(f"{homework:<20} {r['sample']:<11} {r['seconds']:6.1f} s  peak PSS (tree) "
                          f"{r['pss_mb']:5.0f} MB  peak RSS sum {r['rss_mb']:5.0f} MB  peak VMS (one process) "
                          f"{r['vms_mb']:5.0f} MB  score {r['score']}  "
                          f"rc {r['rc']}  {'fits' if fits else 'DOES NOT FIT'} 768 MB / 10 min", flush=True)
                    if r["rc"] != 0:
                        print(r["log"][-2000:])
    finally:
        if group:
            group.rmdir()


if __name__ == "__main__":
    main()
