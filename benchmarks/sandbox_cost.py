"""Added cost per submission of each sandbox mode: the same submissions graded in root, userns (bubblewrap) and
none mode, in one run, and the start-up of each mode's wrapper alone. Prints figures with the load average.

    .venv/bin/python benchmarks/sandbox_cost.py [--submissions 4] [--rounds 2]

Root mode needs root. Run as root, userns mode runs bubblewrap as root (the same namespaces, mounts and
processes as for an ordinary user; only the uid mapping differs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from assignkit.execute import Limits
from assignkit.grade import _hidden_folders, grade_batch
from assignkit.layout import Course
from assignkit.release import release
from assignkit.sandbox import NONE, ROOT, USERNS, choose_mode, open_sandbox, userns_problem

COURSE = Path(__file__).resolve().parent.parent / "tests" / "course"


def _modes() -> list[str]:
    modes = [NONE]
    if userns_problem() is None:
        modes.append(USERNS)
    if choose_mode(no_sandbox=False) == ROOT:
        modes.append(ROOT)
    return modes


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def wrapper_start(mode: str, scratch: Path, reps: int) -> float:
    """Median seconds to start `python -c pass` behind the mode's wrapper (jail, unshare or bwrap)."""
    course = Course(scratch / "course")
    run_root = scratch / f"wrap-{mode}"
    run_root.mkdir()
    hidden = _hidden_folders(course, [scratch], scratch / "out", run_root)
    times = []
    with open_sandbox(mode, 1, hidden, run_root, 2**31) as box:
        workdir = run_root / "wd"
        workdir.mkdir()
        (workdir / ".kernel.json").write_text("{}")
        if box.slots[0].uid is not None:
            shutil.chown(workdir, box.slots[0].uid, box.slots[0].uid)
        prefix = box.kernel_prefix(box.slots[0], workdir, 2**31, 2**27)
        for _ in range(reps):
            started = time.perf_counter()
            subprocess.run(prefix + [sys.executable, "-S", "-c", "pass"], check=True)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assignkit-bench-") as tmp:
        scratch = Path(tmp)
        shutil.copytree(COURSE, scratch / "course", ignore=shutil.ignore_patterns("release", ".nbgrader"))
        course = Course(scratch / "course")
        release(course, "tiny")
        folder = scratch / "submissions"
        folder.mkdir()
        solution = nbformat.read(course.source_notebook("tiny"), as_version=4)
        for index in range(args.submissions):
            nbformat.write(solution, folder / f"s{index}.ipynb")
        modes = _modes()
        print(f"load average before: {_load()}; modes: {modes}; {args.submissions} submissions x {args.rounds} rounds")
        for mode in modes:
            print(f"{mode:>7}: wrapper start-up (python -S -c pass) {wrapper_start(mode, scratch, 10) * 1000:.0f} ms")
        seconds: dict[str, list[float]] = {mode: [] for mode in modes}
        for round_ in range(args.rounds):
            for mode in modes:
                started = time.monotonic()
                results = grade_batch(course, "tiny", [folder], scratch / f"out-{mode}-{round_}", jobs=1,
                                      limits=Limits(), force=True, on_note=lambda note: None, mode=mode)
                assert all(r["status"] == "graded" and r["score"] == 4 for r in results), results
                seconds[mode].append((time.monotonic() - started) / args.submissions)
        for mode in modes:
            extra = statistics.mean(seconds[mode]) - statistics.mean(seconds[NONE])
            print(f"{mode:>7}: {statistics.mean(seconds[mode]):.2f} s per submission "
                  f"(rounds: {', '.join(f'{s:.2f}' for s in seconds[mode])}); vs none: {extra:+.2f} s")
        print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
