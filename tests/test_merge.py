"""merge: shards merged give the unsharded run's tables; mixed fingerprints and missing students are refused."""

import json
import shutil

import pytest
from click.testing import CliRunner

import assignkit.grade as grade
from assignkit.cli import main
from assignkit.grade import grade_batch
from assignkit.merge import MergeError, merge
from assignkit.shards import Shard
from conftest import tiny_notebook
from test_grade import (LIMITS, WRONG_WEIGHTS, InProcessExecutors, _rows, _serial_pool, _without_seconds,  # noqa: F401
                        _write, in_process)

STUDENTS = ["kim", "lee", "park", "choi", "김민수"]


@pytest.fixture(scope="module")
def graded(tiny_course, tmp_path_factory):
    """The class graded whole, and in three shards on three "machines" (folders); graded once per module."""
    root = tmp_path_factory.mktemp("merge")
    folder = _write(root / "submissions", {
        "kim": tiny_notebook(tiny_course), "lee": tiny_notebook(tiny_course, WRONG_WEIGHTS), "park": b"",
        "choi": tiny_notebook(tiny_course, blank=True), "김민수": "{not json"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(grade, "_run_pool", _serial_pool)
        grade_batch(tiny_course, "tiny", [folder], root / "whole", jobs=1, limits=LIMITS,
                    executor=InProcessExecutors())
        for k in (1, 2, 3):
            grade_batch(tiny_course, "tiny", [folder], root / f"machine{k}", jobs=1, limits=LIMITS,
                        shard=Shard(k, 3), executor=InProcessExecutors())
    return root


def _one_folder(graded, out):
    """The three shards as if they had written into one shared --out."""
    for k in (1, 2, 3):
        shutil.copytree(graded / f"machine{k}", out, dirs_exist_ok=True)
    return out


def test_merged_shards_equal_the_unsharded_run_and_merging_twice_changes_nothing(graded, tmp_path):
    out = _one_folder(graded, tmp_path / "out")
    assert not (out / "grades.csv").exists()
    merged = merge([out], out, "en")
    assert merged.missing == [] and len(merged.results) == len(STUDENTS)
    assert _without_seconds(_rows(out)) == _without_seconds(_rows(graded / "whole"))
    assert len(_rows(out)) == len(STUDENTS)
    first = {name: (out / name).read_bytes() for name in ("grades.csv", "summary.html")}
    merge([out], out, "en")
    assert {name: (out / name).read_bytes() for name in first} == first


def test_merge_of_folders_from_several_machines(graded, tmp_path):
    out = tmp_path / "merged"
    result = CliRunner().invoke(main, ["merge", *(str(graded / f"machine{k}") for k in (1, 2, 3)),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{len(STUDENTS)} results" in result.output
    assert _without_seconds(_rows(out)) == _without_seconds(_rows(graded / "whole"))
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == sorted(STUDENTS)
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == sorted(STUDENTS)
    assert sorted(p.stem for p in (out / "executed").glob("*.ipynb")) == ["choi", "kim", "lee"]


def test_missing_students_are_listed_and_nothing_is_written(graded, tmp_path):
    out = _one_folder(graded, tmp_path / "out")
    (out / "results" / "lee.json").unlink()
    (out / "results" / "김민수.json").unlink()
    assert merge([out], out, "en").missing == ["lee", "김민수"]
    assert not (out / "grades.csv").exists()
    result = CliRunner().invoke(main, ["merge", str(out)])
    assert result.exit_code == 1
    assert "2 students were given to a shard but have no result" in result.output
    assert "lee, 김민수" in result.output


def test_results_of_different_checks_are_refused_and_named(tiny_course, graded, tmp_path, in_process):
    changed = type(tiny_course)(tmp_path / "course")
    shutil.copytree(tiny_course.root, changed.root)
    checks = changed.autograder_folder("tiny") / "test_tiny.py"
    checks.write_text(checks.read_text() + "\n# a changed tolerance\n")
    out = _one_folder(graded, tmp_path / "out")
    regraded = grade_batch(changed, "tiny", [graded / "submissions"], out, jobs=1, limits=LIMITS, shard=Shard(2, 3),
                           executor=in_process)
    assert regraded, "shard 2 of 3 holds no student: pick other names"
    with pytest.raises(MergeError, match="graded with different homeworks, checks, releases or graders") as error:
        merge([out], out, "en")
    assert ", ".join(r.student for r in regraded) in str(error.value)
    assert not (out / "grades.csv").exists()
    result = CliRunner().invoke(main, ["merge", str(out)])
    assert result.exit_code == 1 and "cannot be merged" in result.output


def test_a_result_of_another_schema_is_refused_with_its_file(graded, tmp_path):
    out = _one_folder(graded, tmp_path / "out")
    path = out / "results" / "kim.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"schema_version": 0}))
    with pytest.raises(MergeError, match=f"{path}: results schema version 0"):
        merge([out], out, "en")


def test_merge_of_nothing_says_where_it_looked(tmp_path):
    with pytest.raises(MergeError, match=f"no results found in {tmp_path / 'results'}"):
        merge([tmp_path], tmp_path, "en")
