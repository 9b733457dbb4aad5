"""What `assignkit merge` costs for a large class: writes N synthetic results (hw2_dnn's six questions, one check
each failing at random, one curve picture per result) into a temp folder as K shards, then times merge (reading
every results JSON, checking fingerprints and manifests, writing grades.csv and summary.html) and prints it.

    .venv/bin/python benchmarks/merge_1000.py [--n 1000] [--shards 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from assignkit.fileio import atomic_write_text
from assignkit.merge import merge
from assignkit.results import Check, Figure, Question, Status, SubmissionResult
from assignkit.shards import Manifest, Shard

QUESTIONS = [("q1_limit", 5.0), ("q2_kink_by_hand", 5.0), ("q3_learn_kink", 6.0), ("q4_example1", 5.0),
             ("q5_example2", 7.0), ("q6_example3", 6.0)]


def synthetic(student: str, rng: random.Random) -> SubmissionResult:
    checks = tuple(Check(qid, f"test_{qid}", points if (passed := rng.random() < 0.8) else 0.0, points, passed,
                         "" if passed else f"{qid}: the fit is off by {rng.random():.3f}")
                   for qid, points in QUESTIONS)
    questions = tuple(Question(qid, qid, True, c.points, points) for (qid, points), c in zip(QUESTIONS, checks))
    xs = [i / 50 for i in range(-100, 101)]
    figure = Figure("q5_example2", "test_q5_example2", "curve", "your fit", x=xs,
                    series={"underlying": [x * x for x in xs], "your fit": [x * x + rng.gauss(0, 0.1) for x in xs]})
    return SubmissionResult(
        student=student, homework="hw2_dnn", origin=f"class.zip:{student}.ipynb", status=Status.GRADED, reason="",
        score=sum(q.score for q in questions), max_score=sum(q.max_score for q in questions),
        seconds=round(rng.uniform(5, 15), 1), fingerprint=f"{rng.getrandbits(256):064x}",
        homework_fingerprint="0" * 64, questions=questions, checks=checks, figures=(figure,), sandbox="root")


def write_class(out: Path, n: int, shards: int) -> None:
    rng = random.Random(0)
    students = [f"2026{i:05d}" for i in range(n)]
    for k in range(1, shards + 1):
        shard = Shard(k, shards)
        Manifest("hw2_dnn", str(shard), tuple(s for s in students if shard.holds(s))).write(shard.manifest_path(out))
    for student in students:
        atomic_write_text(out / "results" / f"{student}.json", synthetic(student, rng).to_json())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="assignkit-merge-bench-") as scratch:
        out = Path(scratch)
        write_class(out, args.n, args.shards)
        size = sum(p.stat().st_size for p in (out / "results").iterdir())
        print(f"{args.n} results in {args.shards} shards, {size / 2**20:.1f} MB of JSON")
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            merged = merge([out], out)
            seconds.append(time.perf_counter() - started)
            assert not merged.missing and len(merged.results) == args.n
        print(f"merge: best {min(seconds):.2f} s, all {', '.join(f'{s:.2f}' for s in seconds)} s "
              f"({min(seconds) / args.n * 1000:.2f} ms per result); grades.csv "
              f"{(out / 'grades.csv').stat().st_size / 1024:.0f} KB, summary.html "
              f"{(out / 'summary.html').stat().st_size / 1024:.0f} KB")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
